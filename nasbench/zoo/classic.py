"""Plain convolutional networks: LeNet-5, AlexNet (paper, two-tower, torchvision), ZFNet, VGG, NiN and the
All-CNN family, built from `conv`, `pool` and `mlpconv` blocks."""
from __future__ import annotations

import dataclasses

from nasbench.blocks.branch import BranchGene
from nasbench.blocks.conv import ConvGene, PoolGene
from nasbench.blocks.nin import MlpConvGene
from nasbench.blocks.select import SelectGene
from nasbench.genome import Genome, Stage
from nasbench.head import Head
from nasbench.zoo.entry import Reference, ZooEntry

FAMILY = "classic"
FC_HEAD = dict(hidden=(4096, 4096), dropout=0.5)
VGG_CONFIGS = {  # torchvision `cfgs`: conv widths, "M" = 2x2/2 max pool
    11: (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    13: (64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    16: (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"),
    19: (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"),
}


def conv(channels: int, kernel: int, stride: int = 1, padding: int = -1, groups: int = 1, depth: int = 1,
         act: str = "relu") -> Stage:
    """Conv with bias -> act, no normalisation (the pre-BN networks)."""
    gene = ConvGene(channels=channels, kernel=kernel, padding=padding, groups=groups, bias=True, norm="none", act=act)
    return Stage(gene, depth, stride)


def pool(kernel: int, stride: int, mode: str = "max", padding: int = 0, ceil_mode: bool = False) -> Stage:
    return Stage(PoolGene(mode=mode, kernel=kernel, padding=padding, ceil_mode=ceil_mode), 1, stride)


def lenet5(act: str = "tanh") -> Genome:
    """C1 6@5x5 -> S2 2x2 avg pool -> C3 16@5x5 -> S4 -> C5/F6 FC 120, 84 -> FC 10 on 32x32 grey images."""
    stages = (conv(6, 5, padding=0, act=act), pool(2, 2, "avg"), conv(16, 5, padding=0, act=act), pool(2, 2, "avg"))
    return Genome(stages=stages, head=Head(pool="flatten", hidden=(120, 84), act=act), in_chans=1, resolution=32,
                  num_classes=10)


# LeCun et al. 1998, Table I: the S2 maps each C3 map reads
C3_TABLE = ((0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1), (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5),
            (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2), (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5), (0, 1, 2, 3, 4, 5))


def lenet5_c3_table(act: str = "tanh") -> Genome:
    """LeNet-5 with the paper's C3: each of its 16 maps a 5x5 conv over its own S2 maps (a `branch` of channel
    selections and one-map convs, joined, then the squashing function): 1,516 params at C3 instead of 2,416."""
    maps = tuple((SelectGene(channels=inputs), ConvGene(channels=1, kernel=5, padding=0, bias=True, norm="none",
                                                        act="none")) for inputs in C3_TABLE)
    genome = lenet5(act)
    c3 = Stage(BranchGene(branches=maps, act=act))
    return dataclasses.replace(genome, stages=(genome.stages[0], genome.stages[1], c3, genome.stages[3]))


def alexnet(groups: int = 1) -> Genome:
    """Krizhevsky et al. 2012 at 227x227; groups=2 keeps conv2/4/5 within one GPU's tower as in the paper."""
    stages = (conv(96, 11, 4, padding=0), pool(3, 2), conv(256, 5, groups=groups), pool(3, 2), conv(384, 3),
              conv(384, 3, groups=groups), conv(256, 3, groups=groups), pool(3, 2))
    return Genome(stages=stages, head=Head(pool="flatten", **FC_HEAD), resolution=227)


def alexnet_torchvision() -> Genome:
    """torchvision's one-tower variant (64/192/384/256/256 filters, adaptive 6x6 average pool)."""
    stages = (conv(64, 11, 4, padding=2), pool(3, 2), conv(192, 5), pool(3, 2), conv(384, 3), conv(256, 3),
              conv(256, 3), pool(3, 2))
    return Genome(stages=stages, head=Head(pool_size=6, **FC_HEAD))


def zfnet() -> Genome:
    """Zeiler & Fergus 2014, Fig. 3: maps of 110, 55, 26, 13, 13, 13, 6 at 224x224."""
    stages = (conv(96, 7, 2, padding=1), pool(3, 2, ceil_mode=True), conv(256, 5, 2, padding=0),
              pool(3, 2, ceil_mode=True), conv(384, 3), conv(384, 3), conv(256, 3), pool(3, 2, ceil_mode=True))
    return Genome(stages=stages, head=Head(pool="flatten", **FC_HEAD))


def vgg(depth: int, batch_norm: bool = False) -> Genome:
    """torchvision's VGG: 3x3 convs with bias (also before BN), 2x2/2 max pools, adaptive 7x7 pool, FC 4096 x 2."""
    stages = []
    for item in VGG_CONFIGS[depth]:
        if item == "M":
            stages.append(pool(2, 2))
        else:
            gene = ConvGene(channels=item, kernel=3, bias=True, norm="batch" if batch_norm else "none")
            stages.append(Stage(gene, 1, 1))
    return Genome(stages=tuple(stages), head=Head(pool_size=7, **FC_HEAD))


def nin() -> Genome:
    """The course notes' NiN (d2l.ai) on 1x224x224 Fashion-MNIST: mlpconv 96 (11x11/4, no padding), 256 (5x5),
    384 (3x3), each followed by a 3x3/2 max pool, dropout 0.5, then mlpconv 10 (3x3) whose last 1x1 conv + ReLU is
    the head, and global average pooling."""
    stages = (
        Stage(MlpConvGene(channels=(96, 96, 96), kernel=11, padding=0), 1, 4),
        pool(3, 2),
        Stage(MlpConvGene(channels=(256, 256, 256), kernel=5)),
        pool(3, 2),
        Stage(MlpConvGene(channels=(384, 384, 384), kernel=3, dropout=0.5)),
        pool(3, 2),
        Stage(MlpConvGene(channels=(10, 10), kernel=3)),
    )
    return Genome(stages=stages, head=Head(classifier="conv"), in_chans=1, resolution=224, num_classes=10)


def nin_cifar() -> Genome:
    """Lin et al. 2014, CIFAR-10: three mlpconv layers, Caffe (ceil-mode) pools, the last 1x1 conv to the 10
    classes + ReLU in the head, then global average pooling."""
    stages = (
        Stage(MlpConvGene(channels=(192, 160, 96), kernel=5, dropout=0.5)),
        pool(3, 2, ceil_mode=True),
        Stage(MlpConvGene(channels=(192, 192, 192), kernel=5, dropout=0.5)),
        pool(3, 2, "avg", ceil_mode=True),
        Stage(MlpConvGene(channels=(192, 192), kernel=3)),
    )
    return Genome(stages=stages, head=Head(classifier="conv"), resolution=32, num_classes=10)


ALL_CNN_LAYERS = {"a": ((5,),), "b": ((5,), (1,)), "c": ((3,), (3,))}  # each stage's kernels before downsampling


def all_cnn(variant: str, model: str = "c") -> Genome:
    """Springenberg et al. 2015, models A, B, C on 32x32 CIFAR-10 (Table 1) and their variants (Table 2).

    base: each stage's convs, then a 3x3/2 max pool (padding 1); strided: the stage's last conv gets stride 2 and
    the pool goes; convpool: an extra 3x3 conv before each pool; all: that extra conv has stride 2 and the pool goes.
    """
    stages = []
    for width in (96, 192):
        layers = [conv(width, kernel) for (kernel,) in ALL_CNN_LAYERS[model]]
        if variant == "strided":
            last = layers[-1]
            stages += layers[:-1] + [Stage(last.block, 1, 2)]
        elif variant == "convpool":
            stages += layers + [conv(width, 3), pool(3, 2, padding=1)]
        elif variant == "all":
            stages += layers + [conv(width, 3, 2)]
        else:
            stages += layers + [pool(3, 2, padding=1)]
    stages += [conv(192, 3, padding=0), conv(192, 1)]
    return Genome(stages=tuple(merge_repeats(stages)), head=Head(classifier="conv"), resolution=32, num_classes=10)


def merge_repeats(stages: list[Stage]) -> list[Stage]:
    """Consecutive stride-1 stages of one block as one stage of greater depth (the zoo's way of writing C's pairs)."""
    merged: list[Stage] = []
    for stage in stages:
        if merged and stage.stride == 1 and merged[-1].block == stage.block:
            merged[-1] = Stage(stage.block, merged[-1].depth + stage.depth, merged[-1].stride)
        else:
            merged.append(stage)
    return merged


# Springenberg et al. 2015, Table 3: the A and B families and model C (the C variants are entries of their own)
# name: variant, model, Table 3's figure, our count of the layers
ALL_CNN_VARIANTS = {"model_a": ("base", "a", "0.9M", 839_242), "strided_cnn_a": ("strided", "a", "0.9M", 839_242),
                    "convpool_cnn_a": ("convpool", "a", "1.28M", 1_254_250),
                    "all_cnn_a": ("all", "a", "1.28M", 1_254_250),
                    "model_b": ("base", "b", "1M", 885_610), "strided_cnn_b": ("strided", "b", "1M", 885_610),
                    "convpool_cnn_b": ("convpool", "b", "1.35M", 1_300_618),
                    "all_cnn_b": ("all", "b", "1.35M", 1_300_618), "model_c": ("base", "c", "1.3M", 954_730)}


NOTES = {
    "lenet5": "modern LeNet-5 (tanh, 2x2 average pooling, 32x32 input). Differs from LeCun et al. 1998: its S2/S4 "
              "subsampling had a trainable coefficient and bias per map before the squashing function (here "
              "parameter-free average pooling); C3 connected each of its 16 maps to a subset of S2's 6 maps (1,516 "
              "params; here full connections, 2,416); the output layer was 10 Euclidean RBF units (here a linear "
              "layer, 850 params). The paper gives about 60,000 trainable params.",
    "alexnet": "single-tower AlexNet with the paper's 96/256/384/384/256 filters at 227x227 (the paper's '224' "
               "does not give its 55/27/13/6 maps with an unpadded 11x11/4 conv1); overlapping 3x3/2 max pools, "
               "dropout 0.5 in the FC layers. Local response normalisation after conv1/conv2 is omitted (no "
               "parameters, no fvcore FLOPs). The paper gives 60 million params for the two-tower network.",
    "alexnet_grouped": "the paper's two-GPU AlexNet: conv2, conv4 and conv5 see only their own tower's maps "
                       "(groups=2), conv3 and the FC layers both. LRN omitted as in alexnet. Paper: 60 million.",
    "zfnet": "Zeiler & Fergus 2014, Fig. 3 at 224x224. The paper gives no paddings and no parameter count: conv1 "
             "padding 1 and ceil-mode 3x3/2 max pools reproduce its 110/55/26/13/6 maps, and its layers have "
             "62,357,608 params. Contrast normalisation of layers 1-2 omitted (no parameters).",
    "nin": "the course notes' NiN (d2l.ai, Fashion-MNIST resized to 224x224): stage outputs 96x54x54, 96x26x26, "
           "256x26x26, 256x12x12, 384x12x12, 384x5x5, 10x5x5 -> 10, as listed in the notes. The notes apply "
           "dropout 0.5 after the third pool; here it closes the third mlpconv, before that pool (same shapes and "
           "counts). Params: those of the notes' code, 1,992,166.",
    "nin_cifar": "Lin et al. 2014, CIFAR-10 model (the authors' Caffe definition): mlpconv 192-160-96 (5x5), 3x3/2 max "
           "pool, mlpconv 192-192-192 (5x5), 3x3/2 avg pool, mlpconv 192-192-10 (3x3) whose last 1x1 conv + ReLU "
           "is the head, global average pooling; dropout 0.5 after the first two mlpconvs. Stage outputs: "
           "96x32x32, 96x16x16, 192x16x16, 192x8x8, 192x8x8, head 10x8x8 -> 10. The paper gives no parameter "
           "count; its layers have 966,986.",
    "all_cnn_c": "All-CNN-C (Table 2): the max pools of model C replaced by 3x3/2 convs. Paper: about 1.4M params "
                 "(Table 3). Its dropout (20% on the input, 50% after each downsampling layer) is not part of the "
                 "genome (no effect on counts).",
    "strided_cnn_c": "Strided-CNN-C (Table 2): the conv before each pool of model C gets stride 2, pools removed. "
                     "The paper's Table 3 says about 1.3M params; its layers give 954,730 (the same as model C).",
    "convpool_cnn_c": "ConvPool-CNN-C (Table 2): model C with an extra 3x3 conv before each 3x3/2 max pool "
                      "(padding 1). Paper: about 1.4M params (Table 3).",
}


def _paper(name: str, genome: Genome, citation: str, stated: str, counted: int | None) -> ZooEntry:
    """An entry checked against a paper: its stated count and our count of its layers."""
    return ZooEntry(name, genome, Reference("paper", stated=stated, counted=counted, citation=citation,
                                            note=NOTES[name]), FAMILY)


def entries() -> list[ZooEntry]:
    springenberg = "Springenberg et al. 2015, Striving for Simplicity: The All Convolutional Net"
    out = [
        _paper("lenet5", lenet5(), "LeCun et al. 1998, Gradient-Based Learning Applied to Document Recognition",
               "60,000", 61_706),
        ZooEntry("lenet5_c3_table", lenet5_c3_table(), Reference(
            "paper", stated="60,000", counted=60_806, citation="LeCun et al. 1998, Table I (C3's connections)",
            note="lenet5 with the paper's C3 connection table: 1,516 params at C3 (60 connections of 25 weights, "
                 "16 biases); the S2/S4 coefficients and the RBF output stay as in lenet5"), FAMILY,
            variant_of="lenet5"),
        _paper("alexnet", alexnet(), "Krizhevsky et al. 2012, ImageNet Classification with Deep CNNs", "60M",
               62_378_344),
        _paper("alexnet_grouped", alexnet(groups=2), "Krizhevsky et al. 2012, Fig. 2 (two GPUs)", "60M", 60_965_224),
        ZooEntry("alexnet_torchvision", alexnet_torchvision(), Reference("torchvision", "alexnet"), FAMILY),
        _paper("zfnet", zfnet(), "Zeiler & Fergus 2014, Visualizing and Understanding CNNs, Fig. 3", "", 62_357_608),
        _paper("nin", nin(), "course notes: NiN of d2l.ai (Lin et al. 2014's mlpconv on AlexNet's layout)", "",
               1_992_166),
        _paper("nin_cifar", nin_cifar(), "Lin et al. 2014, Network In Network (CIFAR-10)", "", 966_986),
        _paper("all_cnn_c", all_cnn("all"), springenberg, "1.4M", 1_369_738),
        _paper("strided_cnn_c", all_cnn("strided"), springenberg, "1.3M", 954_730),
        _paper("convpool_cnn_c", all_cnn("convpool"), springenberg, "1.4M", 1_369_738),
    ]
    for name, (variant, model, stated, counted) in ALL_CNN_VARIANTS.items():
        out.append(ZooEntry(name, all_cnn(variant, model), Reference(
            "paper", stated=stated, counted=counted, citation=f"{springenberg}, Tables 1-3",
            note=f"model {model.upper()} (Table 1) as the {variant} variant of Table 2 (3x3/2 max pools padded by 1, "
                 "extra and strided convs 3x3, as for C); Table 3 gives only approximate counts"),
            FAMILY, variant_of="all_cnn_c"))
    for depth in VGG_CONFIGS:
        for suffix, batch_norm in (("", False), ("_bn", True)):
            name = f"vgg{depth}{suffix}"
            out.append(ZooEntry(name, vgg(depth, batch_norm), Reference("torchvision", name), FAMILY))
    return out
