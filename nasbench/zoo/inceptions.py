"""Inception family: GoogLeNet (Inception v1) and Inception-v3 as torchvision builds them (no aux heads); Inception-BN
(v2), Inception-v4 and Inception-ResNet-v1/v2 as data of the generic branch block (timm's models and the papers'
tables); the naive and reduced Inception modules of the course notes."""
from __future__ import annotations

from nasbench.blocks.branch import BranchGene
from nasbench.blocks.conv import ConvGene, PoolGene
from nasbench.blocks.inception import (
    InceptionAGene,
    InceptionBGene,
    InceptionCGene,
    InceptionDGene,
    InceptionEGene,
    InceptionV1Gene,
)
from nasbench.genome import Genome, Stage
from nasbench.head import Head
from nasbench.zoo.entry import Reference, ZooEntry

FAMILY = "inception"
BRANCH_FAMILY = "inception_branch"  # the Inceptions made of generic branch blocks
NO_AUX = (("aux_logits", False), ("init_weights", False))
V1_WIDTHS = ("ch1x1", "ch3x3red", "ch3x3", "ch5x5red", "ch5x5", "pool_proj")
# GoogLeNet modules 3a..5b: 1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj (Szegedy et al. 2015, Table 1)
GOOGLENET_MODULES = {
    "3a": (64, 96, 128, 16, 32, 32), "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64), "4b": (160, 112, 224, 24, 64, 64), "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64), "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128), "5b": (384, 192, 384, 48, 128, 128),
}


def _max_pool(kernel: int = 3, ceil_mode: bool = True) -> Stage:
    return Stage(PoolGene(mode="max", kernel=kernel, ceil_mode=ceil_mode), 1, 2)


def googlenet(kernel5: int = 3) -> Genome:
    """torchvision's GoogLeNet; kernel5=5 gives the paper's 5x5 branch (torchvision keeps a 3x3 there)."""
    stem = (Stage(ConvGene(channels=64, kernel=7), 1, 2), _max_pool(),
            Stage(ConvGene(channels=64, kernel=1)), Stage(ConvGene(channels=192, kernel=3)), _max_pool())

    def modules(*names: str) -> list[Stage]:
        return [Stage(InceptionV1Gene(**dict(zip(V1_WIDTHS, GOOGLENET_MODULES[n])), kernel=kernel5)) for n in names]

    stages = (*modules("3a", "3b"), _max_pool(), *modules("4a", "4b", "4c", "4d", "4e"), _max_pool(kernel=2),
              *modules("5a", "5b"))
    return Genome(stem=stem, stages=stages, head=Head(dropout=0.2))


def inception_v3() -> Genome:
    """Szegedy et al. 2016 (torchvision): unpadded 3x3 stem, 3xA, B, 4xC, D, 2xE at 299x299."""
    stem = (Stage(ConvGene(channels=32, kernel=3, padding=0), 1, 2), Stage(ConvGene(channels=32, kernel=3, padding=0)),
            Stage(ConvGene(channels=64, kernel=3)), _max_pool(ceil_mode=False),
            Stage(ConvGene(channels=80, kernel=1)), Stage(ConvGene(channels=192, kernel=3, padding=0)),
            _max_pool(ceil_mode=False))
    stages = (Stage(InceptionAGene(pool_features=32)), Stage(InceptionAGene(pool_features=64), 2),
              Stage(InceptionBGene(), 1, 2),
              Stage(InceptionCGene(channels_7x7=128)), Stage(InceptionCGene(channels_7x7=160), 2),
              Stage(InceptionCGene(channels_7x7=192)),
              Stage(InceptionDGene(), 1, 2), Stage(InceptionEGene(), 2))
    return Genome(stem=stem, stages=stages, head=Head(dropout=0.5), resolution=299)


# ---- branch-block Inceptions ------------------------------------------------------------------------------------
def _c(channels: int, kernel: int = 1, kernel_w: int = 0, padding: int = -1) -> ConvGene:
    """A conv-BN-ReLU; kernel_w makes it rectangular (1x7: kernel=1, kernel_w=7); padding -1 = 'same', 0 = valid."""
    return ConvGene(channels=channels, kernel=kernel, kernel_w=kernel_w, padding=padding)


def _v(channels: int, kernel: int = 3, same: bool = False) -> ConvGene:
    """An unpadded ('valid') conv-BN-ReLU; `same` pads it (small inputs, where valid convs would collapse the map)."""
    return _c(channels, kernel, padding=-1 if same else 0)


def _max(kernel: int = 3, padding: int = 0, same: bool = False) -> PoolGene:
    return PoolGene(mode="max", kernel=kernel, padding=kernel // 2 if same else padding)


def _avg_proj(channels: int) -> tuple:
    """Inception's pool branch: 3x3/1 average pooling, then a 1x1 conv."""
    return (PoolGene(mode="avg", kernel=3, padding=1), _c(channels))


def _fork(channels: int) -> BranchGene:
    """Inception-v4's 1x3 and 3x1 convs on one input, concatenated."""
    return BranchGene(branches=((_c(channels, 1, 3),), (_c(channels, 3, 1),)))


def _concat(*branches) -> BranchGene:
    return BranchGene(branches=tuple(b if isinstance(b, tuple) else (b,) for b in branches))


def _residual(scale: float, proj: int, *branches, act: str = "relu") -> BranchGene:
    """Inception-ResNet: act(x + scale * conv1x1(concat(branches))), the 1x1 with a bias and no BN."""
    return BranchGene(branches=tuple(b if isinstance(b, tuple) else (b,) for b in branches), proj=proj,
                      residual=True, scale=scale, act=act)


V4_A = _concat(_c(96), (_c(64), _c(96, 3)), (_c(64), _c(96, 3), _c(96, 3)), _avg_proj(96))
V4_B = _concat(_c(384), (_c(192), _c(224, 1, 7), _c(256, 7, 1)),
               (_c(192), _c(192, 7, 1), _c(224, 1, 7), _c(224, 7, 1), _c(256, 1, 7)), _avg_proj(128))
V4_C = _concat(_c(256), (_c(384), _fork(256)), (_c(384), _c(448, 3, 1), _c(512, 1, 3), _fork(256)), _avg_proj(256))


def _reduction_a(k: int, l_: int, m: int, n: int, same: bool) -> BranchGene:
    """Reduction-A (Szegedy et al. 2016, Fig. 7) with its filter-bank sizes k, l, m, n (Table 1)."""
    return _concat(_v(n, same=same), (_c(k), _c(l_, 3), _v(m, same=same)), _max(same=same))


V4_REPEATS = {"v4": (4, 7, 3), "resnet_v1": (5, 10, 5), "resnet_v2": (10, 20, 10)}  # A, B, C modules
MODULE_INPUT = {"v4": 384, "resnet_v1": 256, "resnet_v2": 320, "bn": 192}  # channels entering the first module
VERSIONS = ("v4", "resnet_v1", "resnet_v2", "bn")
STEMS = ("imagenet", "cifar")  # cifar: one 3x3 conv to the first module's width, for inputs of 32x32 and less


def _imagenet_stem(version: str) -> tuple[Stage, ...]:
    """The paper's (timm's) stem of each version, down to the first module's input."""
    if version == "bn":  # Fig. 5: 7x7/2, 3x3/2 max pool, 1x1 64, 3x3 192, 3x3/2 max pool (pools padded by 1)
        return (Stage(_c(64, 7), 1, 2), Stage(_max(padding=1), 1, 2), Stage(_c(64)), Stage(_c(192, 3)),
                Stage(_max(padding=1), 1, 2))
    start = (Stage(_v(32), 1, 2), Stage(_v(32)), Stage(_c(64, 3)))
    if version == "v4":  # Fig. 3: Mixed 3a, 4a, 5a
        return start + (Stage(_concat(_max(), _v(96)), 1, 2),
                        Stage(_concat((_c(64), _v(96)), (_c(64), _c(64, 1, 7), _c(64, 7, 1), _v(96)))),
                        Stage(_concat(_v(192), _max()), 1, 2))
    start += (Stage(_max(), 1, 2), Stage(_c(80)), Stage(_v(192)))
    if version == "resnet_v1":  # Fig. 14
        return start + (Stage(_v(256), 1, 2),)
    # timm's v2 stem: Inception-v3's, then Mixed-5b
    return start + (Stage(_max(), 1, 2),
                    Stage(_concat(_c(96), (_c(48), _c(64, 5)), (_c(64), _c(96, 3), _c(96, 3)), _avg_proj(64))))


def _v4_modules(repeats: tuple[int, int, int], same: bool) -> tuple[Stage, ...]:
    reduction_b = _concat((_c(192), _v(192, same=same)),
                          (_c(256), _c(256, 1, 7), _c(320, 7, 1), _v(320, same=same)), _max(same=same))
    a, b, c = repeats
    return (Stage(V4_A, a), Stage(_reduction_a(192, 224, 256, 384, same), 1, 2), Stage(V4_B, b),
            Stage(reduction_b, 1, 2), Stage(V4_C, c))


def _resnet_v1_modules(repeats: tuple[int, int, int], same: bool) -> tuple[Stage, ...]:
    block_a = _residual(0.17, 256, _c(32), (_c(32), _c(32, 3)), (_c(32), _c(32, 3), _c(32, 3)))
    block_b = _residual(0.1, 896, _c(128), (_c(128), _c(128, 1, 7), _c(128, 7, 1)))
    block_c = _residual(0.2, 1792, _c(192), (_c(192), _c(192, 1, 3), _c(192, 3, 1)))
    reduction_b = _concat(_max(same=same), (_c(256), _v(384, same=same)), (_c(256), _v(256, same=same)),
                          (_c(256), _c(256, 3), _v(256, same=same)))
    a, b, c = repeats
    return (Stage(block_a, a), Stage(_reduction_a(192, 192, 256, 384, same), 1, 2), Stage(block_b, b),
            Stage(reduction_b, 1, 2), Stage(block_c, c))


def _resnet_v2_modules(repeats: tuple[int, int, int], same: bool) -> tuple[Stage, ...]:
    """block35, Reduction-A, block17, Reduction-B, block8s (the last without ReLU), a 1x1 conv to 1536."""
    block35 = _residual(0.17, 320, _c(32), (_c(32), _c(32, 3)), (_c(32), _c(48, 3), _c(64, 3)))
    block17 = _residual(0.1, 1088, _c(192), (_c(128), _c(160, 1, 7), _c(192, 7, 1)))
    block8 = (_c(192), (_c(192), _c(224, 1, 3), _c(256, 3, 1)))
    reduction_b = _concat((_c(256), _v(384, same=same)), (_c(256), _v(288, same=same)),
                          (_c(256), _c(288, 3), _v(320, same=same)), _max(same=same))
    a, b, c = repeats
    relu_block8 = (Stage(_residual(0.2, 2080, *block8), c - 1),) if c > 1 else ()
    return (Stage(block35, a), Stage(_reduction_a(256, 256, 384, 384, same), 1, 2), Stage(block17, b),
            Stage(reduction_b, 1, 2), *relu_block8, Stage(_residual(1.0, 2080, *block8, act="none")),
            Stage(_c(1536)))


# Inception-BN (Ioffe & Szegedy 2015, Fig. 5): #1x1, #3x3 reduce, #3x3, double #3x3 reduce, double #3x3, pool, proj
BN_MODULES = {
    "3a": (64, 64, 64, 64, 96, "avg", 32), "3b": (64, 64, 96, 64, 96, "avg", 64),
    "3c": (0, 128, 160, 64, 96, "max", 0),
    "4a": (224, 64, 96, 96, 128, "avg", 128), "4b": (192, 96, 128, 96, 128, "avg", 128),
    "4c": (160, 128, 160, 128, 160, "avg", 96), "4d": (96, 128, 192, 160, 192, "avg", 96),
    "4e": (0, 128, 192, 192, 256, "max", 0),
    "5a": (352, 192, 320, 160, 224, "avg", 128), "5b": (352, 192, 320, 192, 224, "max", 128),
}


def _bn_module(name: str) -> Stage:
    """One Inception-BN module: 1x1 | 1x1-3x3 | 1x1-3x3-3x3 | pool(-1x1 proj); the stride-2 modules (no 1x1, no
    projection) pass the pooled input through."""
    ones, reduce3, three, reduce33, three3, pool, proj = BN_MODULES[name]
    pooled = PoolGene(mode=pool, kernel=3, padding=1)
    branches = ([(_c(ones),)] if ones else []) + [(_c(reduce3), _c(three, 3)),
                                                 (_c(reduce33), _c(three3, 3), _c(three3, 3)),
                                                 (pooled, _c(proj)) if proj else (pooled,)]
    return Stage(BranchGene(branches=tuple(branches)), 1, 1 if ones else 2)


def inception_network(version: str, repeats: tuple[int, int, int] = (), stem: str = "imagenet") -> Genome:
    """Inception-BN ("bn", Fig. 5, 224x224), Inception-v4 ("v4"), Inception-ResNet-v1/-v2 ("resnet_v1",
    "resnet_v2") at 299x299, of branch blocks; `repeats`: the A, B, C module counts (default: the paper's). The
    "cifar" stem is one 3x3 conv, and the reductions' unpadded convs and pools are then padded."""
    stem_stages = _imagenet_stem(version) if stem == "imagenet" else (Stage(_c(MODULE_INPUT[version], 3)),)
    if version == "bn":
        return Genome(stem=stem_stages, stages=tuple(_bn_module(name) for name in BN_MODULES))
    modules = {"v4": _v4_modules, "resnet_v1": _resnet_v1_modules, "resnet_v2": _resnet_v2_modules}[version]
    head = Head(dropout=0.2) if version == "resnet_v1" else Head()
    stages = modules(repeats or V4_REPEATS[version], stem == "cifar")
    return Genome(stem=stem_stages, stages=stages, head=head, resolution=299)


def inception_module(reduced: bool, in_chans: int = 256, size: int = 28) -> Genome:
    """The course notes' Inception module on a 28x28x256 input, alone: 1x1 128, 3x3 192, 5x5 96 and a 3x3 max
    pool, with (reduced) or without (naive) 1x1 reductions (64 before the 3x3 and 5x5, a 64 projection after the
    pool). No norm, ReLU, biases, as in the notes' operation counts."""
    def conv(channels: int, kernel: int = 1) -> ConvGene:
        return ConvGene(channels=channels, kernel=kernel, norm="none", bias=False)

    pool = PoolGene(mode="max", kernel=3, padding=1)
    if reduced:
        branches = ((conv(128),), (conv(64), conv(192, 3)), (conv(64), conv(96, 5)), (pool, conv(64)))
    else:
        branches = ((conv(128),), (conv(192, 3),), (conv(96, 5),), (pool,))
    return Genome(stages=(Stage(BranchGene(branches=branches)),), in_chans=in_chans, resolution=size,
                  head=Head(pool="mean"))


def entries() -> list[ZooEntry]:
    return [
        ZooEntry("googlenet", googlenet(), Reference(
            "torchvision", "googlenet", NO_AUX,
            note="torchvision's 3x3 '5x5' branch (pytorch/vision#906); no auxiliary classifiers; transform_input "
                 "only rescales the input and changes no count"), FAMILY),
        ZooEntry("googlenet_paper", googlenet(kernel5=5), Reference(
            "paper", citation="Szegedy et al. 2015, Going Deeper with Convolutions, Table 1",
            note="the paper's 5x5 third branch, with torchvision's BN after every conv and no auxiliary "
                 "classifiers; the paper gives no exact parameter count"), FAMILY),
        ZooEntry("inception_v3", inception_v3(), Reference("torchvision", "inception_v3", NO_AUX,
                                                           note="no auxiliary classifier"), FAMILY),
        ZooEntry("inception_bn", inception_network("bn"), Reference(
            "paper", counted=11_194_984, citation="Ioffe & Szegedy 2015, Batch Normalization, Fig. 5 (Inception-BN)",
            note="the table's modules with a BN after every conv (no biases); the pass-through pools of 3c and 4e "
                 "padded by 1 so that 28->14 and 14->7 as listed; the paper gives no parameter count"), BRANCH_FAMILY),
        ZooEntry("inception_v4", inception_network("v4"), Reference("timm", "inception_v4"), BRANCH_FAMILY),
        ZooEntry("inception_resnet_v1", inception_network("resnet_v1"), Reference(
            "paper", counted=22_756_328,
            citation="Szegedy et al. 2016, Inception-v4, Inception-ResNet and the Impact of Residual Connections, "
                     "Figs. 7, 10-14",
            note="BN after every conv but the residual 1x1 projections (which have a bias), as timm builds v2; "
                 "residual scales 0.17 / 0.1 / 0.2 as in v2 (no effect on counts); the paper gives no parameter "
                 "count"), BRANCH_FAMILY),
        ZooEntry("inception_resnet_v2", inception_network("resnet_v2"), Reference(
            "timm", "inception_resnet_v2", note="timm's stem (Inception-v3's and a Mixed-5b module), not Fig. 3's"),
            BRANCH_FAMILY),
    ]
