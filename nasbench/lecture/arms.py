"""What one arm of a lecture experiment trains: a genome, its training overrides and its task, and the networks the
experiments compare (CIFAR-style plain and residual ResNets, a four-layer CNN, a VGG-style stack, All-CNN variants).
"""
from __future__ import annotations

import dataclasses
from typing import NamedTuple

import torch
from torch import nn

from nasbench import zoo
from nasbench.blocks.conv import ConvGene, PoolGene
from nasbench.data import Dataset, Split
from nasbench.genome import Genome, Scaling, Stage
from nasbench.head import Head
from nasbench.zoo import resnets

HEAD = "head."  # the built model's classifier parameters


class Shape(NamedTuple):
    """The input and output a network is built for."""

    in_chans: int
    resolution: int
    num_classes: int


@dataclasses.dataclass(frozen=True)
class Task:
    """The data an arm trains on: only `classes` of the dataset (relabelled 0..k-1 in that order; None: all), and of
    the training split only the first `per_class` images of each class (None: all). Validation and test splits keep
    every image of the chosen classes."""

    classes: tuple[int, ...] | None = None
    per_class: int | None = None


def task_data(dataset: Dataset, task: Task) -> Dataset:
    """`dataset` restricted to the task's classes and training labels."""
    if task.classes is None and task.per_class is None:
        return dataset
    classes = tuple(range(dataset.num_classes)) if task.classes is None else task.classes
    relabel = torch.full((dataset.num_classes,), -1, dtype=torch.int64)
    relabel[list(classes)] = torch.arange(len(classes))

    def subset(split: Split, per_class: int | None) -> Split:
        labels = relabel[split.labels]
        keep = labels >= 0
        if per_class is not None:
            rank = torch.zeros_like(labels)
            for label in range(len(classes)):
                mine = labels == label
                rank[mine] = torch.arange(int(mine.sum()))
            keep &= rank < per_class
        return Split(split.images[keep], labels[keep])

    return dataclasses.replace(dataset, num_classes=len(classes), classes=tuple(dataset.classes[c] for c in classes),
                               train=subset(dataset.train, task.per_class), val=subset(dataset.val, None),
                               test=subset(dataset.test, None))


def start_from(weights: dict[str, torch.Tensor], freeze: bool, model: nn.Module) -> None:
    """Load `weights` (a trained model's state) into `model` except its head, which keeps its fresh initialisation;
    with `freeze`, every parameter outside the head stops learning (requires_grad=False)."""
    body = {name: value for name, value in weights.items() if not name.startswith(HEAD)}
    missing = [name for name in model.state_dict() if not name.startswith(HEAD) and name not in body]
    if missing:
        raise ValueError(f"the pre-trained weights lack {missing[0]}: they come from another network")
    model.load_state_dict(body, strict=False)
    if freeze:
        for name, parameter in model.named_parameters():
            parameter.requires_grad_(name.startswith(HEAD))


@dataclasses.dataclass(frozen=True)
class Arm:
    """One network and training recipe of an experiment, trained once per seed.

    `factors` are what the arm varies, written as columns of the results (e.g. layers=20, shortcut="none");
    `train` overrides TrainConfig fields; `start_from` names the arm whose trained weights (all but the head) this
    arm starts from, for the same seed; `freeze` trains the head alone (a linear probe); `epochs_scale` multiplies
    the experiment's epochs (few-label arms take few steps per epoch)."""

    name: str
    genome: Genome
    factors: dict
    train: dict = dataclasses.field(default_factory=dict)
    task: Task = Task()
    start_from: str | None = None
    freeze: bool = False
    epochs_scale: int = 1


def cifar_resnet(units: int, plain: bool, shape: Shape) -> Genome:
    """He et al.'s CIFAR ResNet of 6 * units + 2 layers (the zoo's resnet20..resnet110) for the input; `plain` drops
    every shortcut, leaving the plain network of the same depth and parameters (its shortcuts are zero-padded
    identities)."""
    genome = resnets.cifar_resnet(units).with_input(in_chans=shape.in_chans, resolution=shape.resolution,
                                                    num_classes=shape.num_classes)
    if not plain:
        return genome
    stages = tuple(dataclasses.replace(s, block=dataclasses.replace(s.block, shortcut="none")) for s in genome.stages)
    return dataclasses.replace(genome, stages=stages)


def small_cnn(act: str, norm: str, shape: Shape, width: int = 32) -> Genome:
    """AlexNet's four-layer CNN of its ReLU/tanh figure, in small: three 3x3 convs (w, 2w, 2w channels, the first two
    followed by 2x2 max pooling) and a linear classifier on the globally pooled features."""
    def conv(channels: int) -> Stage:
        return Stage(ConvGene(channels=channels, kernel=3, norm=norm, act=act, bias=norm == "none"), 1, 1)

    def pool() -> Stage:
        return Stage(PoolGene(mode="max", kernel=2), 1, 2)

    stages = (conv(width), pool(), conv(2 * width), pool(), conv(2 * width))
    return Genome(stages=stages, head=Head(act=act, norm=norm), in_chans=shape.in_chans, resolution=shape.resolution,
                  num_classes=shape.num_classes)


def vgg_stack(norm: str, shape: Shape, width: int = 16) -> Genome:
    """A VGG-style plain stack: two 3x3 convs at w, 2w and 4w channels, each pair followed by 2x2 max pooling."""
    def conv(channels: int) -> Stage:
        return Stage(ConvGene(channels=channels, kernel=3, norm=norm, act="relu", bias=norm == "none"), 2, 1)

    stages = tuple(s for i in range(3) for s in (conv(width * 2**i), Stage(PoolGene(mode="max", kernel=2), 1, 2)))
    return Genome(stages=stages, head=Head(norm=norm), in_chans=shape.in_chans, resolution=shape.resolution,
                  num_classes=shape.num_classes)


def all_cnn(name: str, width: float, shape: Shape) -> Genome:
    """A zoo network of Springenberg et al.'s comparison (model_c, strided_cnn_c, convpool_cnn_c, all_cnn_c) for the
    input, at `width` times its channels, with BN after every convolution (without it none of the four leaves chance
    accuracy on distorted digits in 6 epochs at lr 0.01, 0.02 or 0.05; with it All-CNN-C reaches 7.6 % test error)."""
    genome = zoo.get(name).with_input(in_chans=shape.in_chans, resolution=shape.resolution,
                                      num_classes=shape.num_classes)
    stages = tuple(dataclasses.replace(s, block=dataclasses.replace(s.block, norm="batch", bias=False))
                   if s.block.kind == "conv" else s for s in genome.stages)
    return dataclasses.replace(genome, stages=stages, scaling=Scaling(width=width)).resolved()
