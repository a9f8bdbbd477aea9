"""The course decks' five training experiments at small scale: what each compares, and which claims it tests.

Each experiment is a set of arms (networks and recipes) trained with several seeds; its claims are comparisons of a
per-run measure between two arms, judged over the seeds (`nasbench.lecture.verdict`).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable

from nasbench.lecture.arms import Arm, Shape, Task, all_cnn, cifar_resnet, small_cnn, vgg_stack
from nasbench.lecture.metrics import AtEpoch, EpochsTo, Final, Measure

DEPTHS = (3, 5, 7, 9)             # units per stage: 20, 32, 44 and 56 layers
ALL_CNN = ("model_c", "strided_cnn_c", "convpool_cnn_c", "all_cnn_c")
ACTIVATIONS = ("relu", "tanh", "sigmoid")
BN_RATES = (0.01, 0.05, 0.25)
SOURCE_CLASSES, TARGET_CLASSES = (0, 1, 2, 3, 4), (5, 6, 7, 8, 9)
FEW_LABELS = 20                   # training images per class of the transfer target
ALEXNET_THRESHOLD = 0.25          # AlexNet's Figure 1: epochs to a 25 % training error


@dataclasses.dataclass(frozen=True)
class Claim:
    """A deck's claim as a comparison: `measure` of arm `arm` is expected `expect` ("lower", "higher" or "not
    higher") than that of arm `other`; `ratio` also reports other / arm (AlexNet's "six times faster")."""

    text: str
    measure: str
    arm: str
    expect: str
    other: str
    ratio: bool = False


@dataclasses.dataclass(frozen=True)
class Experiment:
    """One deck experiment: its arms for an input shape, the per-run measures, the claims, the default epochs."""

    name: str
    title: str
    deck: str
    quote: str
    epochs: int
    arms: Callable[[Shape], list[Arm]]
    measures: tuple[Measure, ...]
    claims: tuple[Claim, ...]
    panel: str | None = None  # the factor the curves figure splits its panels on

    def measure(self, name: str) -> Measure:
        return next(m for m in self.measures if m.name == name)


def _layers(units: int) -> int:
    return 6 * units + 2


def _degradation_arms(shape: Shape) -> list[Arm]:
    return [Arm(f"{kind}-{_layers(units)}", cifar_resnet(units, kind == "plain", shape),
                {"network": kind, "layers": _layers(units)})
            for kind in ("plain", "residual") for units in DEPTHS]


def _all_cnn_arms(shape: Shape) -> list[Arm]:
    return [Arm(name, all_cnn(name, 0.25, shape), {"network": name}) for name in ALL_CNN]


def _activation_arms(shape: Shape) -> list[Arm]:
    return [Arm(act, small_cnn(act, "none", shape), {"activation": act}, {"schedule": "constant", "weight_decay": 0.0})
            for act in ACTIVATIONS]


def _batchnorm_arms(shape: Shape) -> list[Arm]:
    return [Arm(f"{name}-lr{lr:g}", vgg_stack(norm, shape), {"norm": name, "lr": lr}, {"lr": lr})
            for name, norm in (("bn", "batch"), ("none", "none")) for lr in BN_RATES]


def _transfer_arms(shape: Shape) -> list[Arm]:
    five = Shape(shape.in_chans, shape.resolution, len(TARGET_CLASSES))
    network = small_cnn("relu", "batch", five)
    target = Task(TARGET_CLASSES, FEW_LABELS)
    few = {"batch_size": 16, "lr": 0.02}
    return [Arm("source", network, {"task": "digits 0-4, all labels", "start": "random"}, task=Task(SOURCE_CLASSES)),
            Arm("scratch", network, {"task": f"digits 5-9, {FEW_LABELS} per class", "start": "random"}, few, target,
                epochs_scale=4),
            Arm("fine-tune", network, {"task": f"digits 5-9, {FEW_LABELS} per class", "start": "source, all layers"},
                few, target, start_from="source", epochs_scale=4),
            Arm("linear-probe", network, {"task": f"digits 5-9, {FEW_LABELS} per class", "start": "source, head only"},
                few, target, start_from="source", freeze=True, epochs_scale=4)]


DEGRADATION = Experiment(
    "degradation", "Plain vs residual networks at 20, 32, 44 and 56 layers", "000 (ResNet)",
    "56-layer model performs worse on both training and test error", 12, _degradation_arms,
    (Final("train_error"), Final("test_error")),
    (Claim("a deeper plain network trains worse", "train_error", "plain-56", "higher", "plain-20"),
     Claim("a deeper plain network tests worse", "test_error", "plain-56", "higher", "plain-20"),
     Claim("with shortcuts depth does not hurt training", "train_error", "residual-56", "not higher", "residual-20"),
     Claim("with shortcuts depth does not hurt testing", "test_error", "residual-56", "not higher", "residual-20"),
     Claim("at 56 layers shortcuts train better", "train_error", "residual-56", "lower", "plain-56")),
    panel="network")

ALL_CNN_EXPERIMENT = Experiment(
    "all_cnn", "All-CNN: max-pooling vs strided convolution vs ConvPool", "001 (All-CNN)",
    "Model C 9.74 %, Strided-CNN-C 10.19 %, ConvPool-CNN-C 9.31 %, All-CNN-C 9.08 % CIFAR-10 error", 12,
    _all_cnn_arms, (Final("test_error"), Final("train_error")),
    (Claim("strided convolution in place of pooling loses accuracy", "test_error", "strided_cnn_c", "higher",
           "model_c"),
     Claim("a strided convolution layer instead of pooling matches or beats it", "test_error", "all_cnn_c", "lower",
           "model_c"),
     Claim("All-CNN beats the strided network of equal depth", "test_error", "all_cnn_c", "lower", "strided_cnn_c"),
     Claim("All-CNN is no worse than ConvPool with as many parameters", "test_error", "all_cnn_c", "not higher",
           "convpool_cnn_c")))

ACTIVATION_EXPERIMENT = Experiment(
    "activations", "ReLU vs tanh vs sigmoid: epochs to a training error", "003 (ReLU vs. Sigmoid) and AlexNet",
    "a four-layer CNN with ReLUs reaches a 25 % training error six times faster than with tanh", 12,
    _activation_arms, (EpochsTo("train_error", ALEXNET_THRESHOLD), Final("train_error"), Final("test_error")),
    (Claim("ReLU reaches the training error faster than tanh", "epochs_to_train_error_0.25", "relu", "lower", "tanh",
           ratio=True),
     Claim("ReLU reaches the training error faster than sigmoid", "epochs_to_train_error_0.25", "relu", "lower",
           "sigmoid", ratio=True),
     Claim("sigmoid's vanishing gradient: it trains slowest", "train_error", "sigmoid", "higher", "tanh")))

BATCHNORM_EXPERIMENT = Experiment(
    "batchnorm", "Batch normalization vs none: convergence speed and learning-rate tolerance", "004 (Batch Norm)",
    "without it, last layers need to relearn many times: slow convergence", 8, _batchnorm_arms,
    (AtEpoch("train_error", 1), Final("train_error"), Final("test_error")),
    tuple(Claim(f"BN converges faster at lr {lr:g}", "train_error_at_1", f"bn-lr{lr:g}", "lower", f"none-lr{lr:g}")
          for lr in BN_RATES)
    + (Claim(f"BN tolerates lr {BN_RATES[-1]:g}", "test_error", f"bn-lr{BN_RATES[-1]:g}", "lower",
             f"none-lr{BN_RATES[-1]:g}"),
       Claim("BN at the high rate is no worse than no BN at its best rate", "test_error", f"bn-lr{BN_RATES[-1]:g}",
             "not higher", f"none-lr{BN_RATES[1]:g}")),
    panel="norm")

TRANSFER_EXPERIMENT = Experiment(
    "transfer", "Transfer learning: pre-trained on digits 0-4, fine-tuned on digits 5-9 with few labels",
    "003 (Transfer Learning)", "little data, similar task: fine-tune a linear classifier on top", 8, _transfer_arms,
    (Final("test_error"), Final("train_error")),
    (Claim("fine-tuning a pre-trained network beats training from scratch", "test_error", "fine-tune", "lower",
           "scratch"),
     Claim("a linear classifier on pre-trained features beats training from scratch", "test_error", "linear-probe",
           "lower", "scratch")))

EXPERIMENTS = {e.name: e for e in (DEGRADATION, ALL_CNN_EXPERIMENT, ACTIVATION_EXPERIMENT, BATCHNORM_EXPERIMENT,
                                   TRANSFER_EXPERIMENT)}
