"""ResNet family: ImageNet ResNets, Wide ResNet, ResNeXt, attention ResNets, CIFAR ResNets, pre-activation orderings."""
from __future__ import annotations

from nasbench.blocks.residual import ORDERS, BasicGene, BottleneckGene
from nasbench.genome import Genome, Stage
from nasbench.head import Head
from nasbench.zoo.entry import Reference, ZooEntry
from nasbench.zoo.stems import cifar_stem, imagenet_stem

FAMILY = "resnet"
BASIC_DEPTHS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}
BOTTLENECK_DEPTHS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}
WIDTHS = (64, 128, 256, 512)


def basic_stages(depths, widths=WIDTHS, **gene) -> tuple[Stage, ...]:
    return tuple(Stage(BasicGene(channels=w, **gene), d, 1 if i == 0 else 2)
                 for i, (d, w) in enumerate(zip(depths, widths)))


def bottleneck_stages(depths, mid_factor: float = 1.0, groups: int = 1, **gene) -> tuple[Stage, ...]:
    """torchvision's bottleneck stages: output 4w, bottleneck width w * mid_factor (x groups for ResNeXt)."""
    return tuple(Stage(BottleneckGene(channels=4 * w, mid=int(w * mid_factor) * groups, groups=groups, **gene), d,
                       1 if i == 0 else 2)
                 for i, (d, w) in enumerate(zip(depths, WIDTHS)))


def imagenet_resnet(stages: tuple[Stage, ...], head: Head = Head()) -> Genome:
    return Genome(stem=imagenet_stem(), stages=stages, head=head)


def cifar_resnet(n: int) -> Genome:
    """He et al. 2015, Sec. 4.2: 6n+2 layers, 16/32/64 filters, option A (zero-padded identity) shortcuts."""
    stages = basic_stages((n, n, n), (16, 32, 64), shortcut="zero_pad")
    return Genome(stem=cifar_stem(16), stages=stages, resolution=32, num_classes=10)


def wide_resnet_cifar(depth: int, k: int, dropout: float = 0.0) -> Genome:
    """Zagoruyko & Komodakis 2016: pre-activation basic blocks, widths 16k/32k/64k."""
    n = (depth - 4) // 6
    stages = basic_stages((n, n, n), (16 * k, 32 * k, 64 * k), order="full_preact", dropout=dropout)
    return Genome(stem=cifar_stem(16, norm_act=False), stages=stages, head=Head(pre_act=True),
                  resolution=32, num_classes=10)


def _tv(name: str, genome: Genome, **kwargs) -> ZooEntry:
    return ZooEntry(name, genome, Reference("torchvision", name, tuple(kwargs.items())), FAMILY)


def _timm_attn(name: str, attn: str) -> ZooEntry:
    genome = imagenet_resnet(bottleneck_stages(BOTTLENECK_DEPTHS[50], attn=attn))
    ref = Reference("timm", "resnet50", (("block_args", {"attn_layer": attn}),),
                    note=f"timm ResNet-50 with its '{attn}' attention layer after the last BN of each block")
    return ZooEntry(name, genome, ref, FAMILY)


PREACT_NAMES = {
    "bn_after_add": "preact_resnet18_bn_after_add",
    "relu_before_add": "preact_resnet18_relu_before_add",
    "relu_preact": "preact_resnet18_relu_only",
    "full_preact": "preact_resnet18",
}


def _preact(order: str) -> ZooEntry:
    genome = imagenet_resnet(basic_stages(BASIC_DEPTHS[18], order=order), Head(pre_act=order == "full_preact"))
    ref = Reference("paper", citation="He et al. 2016, Identity Mappings in Deep Residual Networks, Fig. 4",
                    note=f"ResNet-18 with the '{order}' ordering; full pre-activation adds a final BN-ReLU before "
                         "pooling and uses unnormalised 1x1 projections, so counts differ from resnet18")
    return ZooEntry(PREACT_NAMES[order], genome, ref, FAMILY)


def entries() -> list[ZooEntry]:
    out = [_tv(f"resnet{d}", imagenet_resnet(basic_stages(depths))) for d, depths in BASIC_DEPTHS.items()]
    out += [_tv(f"resnet{d}", imagenet_resnet(bottleneck_stages(depths))) for d, depths in BOTTLENECK_DEPTHS.items()]
    out += [
        _tv("wide_resnet50_2", imagenet_resnet(bottleneck_stages(BOTTLENECK_DEPTHS[50], mid_factor=2))),
        _tv("wide_resnet101_2", imagenet_resnet(bottleneck_stages(BOTTLENECK_DEPTHS[101], mid_factor=2))),
        _tv("resnext50_32x4d", imagenet_resnet(bottleneck_stages(BOTTLENECK_DEPTHS[50], mid_factor=4 / 64, groups=32))),
        _timm_attn("seresnet50", "se"),
        _timm_attn("ecaresnet50", "eca"),
        _timm_attn("cbam_resnet50", "cbam"),
    ]
    cifar_params = {20: ("0.27M", 269_722), 32: ("0.46M", 464_154), 44: ("0.66M", 658_586),
                    56: ("0.85M", 853_018), 110: ("1.7M", 1_727_962)}  # Table 6, and our count of the network
    for depth, (stated, counted) in cifar_params.items():
        out.append(ZooEntry(f"resnet{depth}", cifar_resnet((depth - 2) // 6), Reference(
            "paper", stated=stated, counted=counted, citation="He et al. 2015, Table 6 (CIFAR-10, option A shortcuts)",
            note="option-A (zero-padding) shortcuts add no parameters"), FAMILY))
    out.append(ZooEntry("wrn28_10", wide_resnet_cifar(28, 10, dropout=0.3), Reference(
        "paper", stated="36.5M", counted=36_479_194, citation="Zagoruyko & Komodakis 2016, WRN-28-10 (CIFAR-10)"),
        FAMILY))
    out += [_preact(order) for order in ORDERS if order != "original"]  # original = resnet18
    out.append(ZooEntry("resnet50_v1", imagenet_resnet(bottleneck_stages(BOTTLENECK_DEPTHS[50], stride_1x1=True)),
                        Reference("paper", counted=25_557_032, citation="He et al. 2015, Table 1 (50-layer)",
                                  note="the original ResNet-50 (v1): each downsampling bottleneck strides its first "
                                       "1x1 conv; torchvision's resnet50 (v1.5) strides the 3x3. Same params; "
                                       "3.88 GFLOPs (v1.5: 4.11) against the paper's 3.8"),
                        FAMILY, variant_of="resnet50"))
    return out
