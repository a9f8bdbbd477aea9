"""Depthwise-separable and MBConv blocks: shapes, skips, training, validation, codecs and EfficientNet scaling."""
import pytest
import timm
import torch

from nasbench import build
from nasbench.blocks import Shape, Tally
from nasbench.blocks.conv import ConvGene
from nasbench.blocks.mobile import DepthwiseSeparableGene, MBConvGene
from nasbench.cost import analytic_cost, fvcore_module_cost
from nasbench.gene import GenomeError
from nasbench.genome import Genome, Scaling, Stage
from nasbench.head import Head
from nasbench.zoo.efficientnets import COEFFICIENTS, efficientnet_b0_genome, efficientnet_genome
from nasbench.zoo.mobilenets import mobilenet_v1, mobilenet_v2


def small_genome(*stages: Stage, in_chans: int = 1, resolution: int = 16) -> Genome:
    stem = (Stage(ConvGene(channels=8, kernel=3), 1, 2),)
    return Genome(stem=stem, stages=stages, head=Head(conv=32), in_chans=in_chans, resolution=resolution,
                  num_classes=10)


MIXED = small_genome(
    Stage(DepthwiseSeparableGene(channels=8, se=0.25, act="silu", pw_act=False, skip=True), 2, 1),
    Stage(MBConvGene(channels=16, expansion=2.5, kernel=5, se=0.25, act="silu"), 2, 2),
    Stage(MBConvGene(channels=24, expansion=1.0), 1, 1),
    Stage(DepthwiseSeparableGene(channels=24, kernel=5, norm="none", act="hard_swish"), 1, 2),
    Stage(MBConvGene(channels=24, norm="none", drop_path=0.1), 2, 1),
)


def zero_last_norm(block: torch.nn.Module) -> None:
    norm = block.branch[-1][1]
    torch.nn.init.zeros_(norm.weight)
    torch.nn.init.zeros_(norm.bias)


@pytest.mark.parametrize("gene, in_chans, stride, skip", [
    (DepthwiseSeparableGene(channels=16, skip=True), 16, 1, True),
    (DepthwiseSeparableGene(channels=16, skip=False), 16, 1, False),
    (DepthwiseSeparableGene(channels=16, skip=True), 16, 2, False),
    (DepthwiseSeparableGene(channels=16, skip=True), 8, 1, False),
    (MBConvGene(channels=16), 16, 1, True),
    (MBConvGene(channels=16), 16, 2, False),
    (MBConvGene(channels=16, expansion=1.0), 8, 1, False),
])
def test_skip_is_identity_exactly_when_shapes_allow(gene, in_chans, stride, skip):
    block = gene.build(in_chans, stride).eval()
    zero_last_norm(block)  # the branch now outputs zeros
    x = torch.randn(2, in_chans, 8, 8)
    y = block(x)
    assert y.shape == (2, gene.out_chans(in_chans), 8 // stride, 8 // stride)
    assert block.skip is skip
    assert torch.equal(y, x) if skip else torch.count_nonzero(y) == 0


def test_output_channels_and_expanded_widths():
    assert DepthwiseSeparableGene(channels=48).out_chans(7) == 48
    assert MBConvGene(channels=40).out_chans(24) == 40
    assert MBConvGene(expansion=6.0).mid_chans(24) == 144
    assert MBConvGene(expansion=2.5).mid_chans(20) == 48  # make_divisible(50, 8)
    assert MBConvGene(expansion=1.0).mid_chans(20) == 20
    assert MBConvGene(expansion=6.0, se=0.25).squeeze(40, 240, 6.0).reduced == 10  # a quarter of the input, as timm
    assert MBConvGene(expansion=6.0, se=0.25).squeeze(1, 6, 6.0).reduced == 1  # never an empty squeeze


def test_layer_shapes_of_an_se_mbconv():
    block = MBConvGene(channels=40, expansion=6.0, kernel=5, se=0.25, act="silu").build(24, 2)
    shapes = [tuple(p.shape) for p in block.parameters()]
    assert shapes == [(144, 24, 1, 1), (144,), (144,), (144, 1, 5, 5), (144,), (144,), (6, 144, 1, 1), (6,),
                      (144, 6, 1, 1), (144,), (40, 144, 1, 1), (40,), (40,)]


def test_forward_backward_one_input_channel():
    model = build(MIXED).train()
    x = torch.randn(2, 1, 16, 16)
    out = model(x)
    assert out.shape == (2, 10)
    out.square().mean().backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


def test_analytic_cost_equals_fvcore_on_mixed_genome():
    model = build(MIXED)
    measured = fvcore_module_cost(model, 1, 16, activations=False)
    assert analytic_cost(MIXED) == (measured.params, measured.flops) == (24_804, 183_424)


def test_mbconv_cost_by_hand():
    """24 -> 40 channels, 16x16 -> 8x8, expansion 6 (144), 5x5 depthwise, SE to 6 channels."""
    gene = MBConvGene(channels=40, expansion=6.0, kernel=5, se=0.25, act="silu")
    expand = (24 * 144 + 2 * 144, 24 * 144 * 256 + 2 * 144 * 256)
    depthwise = (144 * 25 + 2 * 144, 144 * 25 * 64 + 2 * 144 * 64)
    squeeze = (144 * 6 + 6 + 6 * 144 + 144, 2 * 144 * 6)
    project = (144 * 40 + 2 * 40, 144 * 40 * 64 + 2 * 40 * 64)
    parts = (expand, depthwise, squeeze, project)
    t = Tally()
    assert gene.cost(t, Shape(24, 16, 16), 2) == Shape(40, 8, 8)
    assert (t.params, t.flops) == (sum(p for p, _ in parts), sum(f for _, f in parts)) == (15_350, 1_582_784)
    block = gene.build(24, 2)
    measured = fvcore_module_cost(block, 24, 16, activations=False)
    assert (measured.params, measured.flops) == (t.params, t.flops)


@pytest.mark.parametrize("make, path", [
    (lambda: DepthwiseSeparableGene(kernel=4), "kernel"),
    (lambda: DepthwiseSeparableGene(se=1.5), "se"),
    (lambda: DepthwiseSeparableGene(channels=0), "channels"),
    (lambda: DepthwiseSeparableGene(act="swish"), "act"),
    (lambda: MBConvGene(expansion=0.0), "expansion"),
    (lambda: MBConvGene(kernel=2), "kernel"),
    (lambda: MBConvGene(se=-0.1), "se"),
    (lambda: MBConvGene(drop_path=1.0), "drop_path"),
    (lambda: MBConvGene(expansion="6"), "expansion"),
])
def test_impossible_values_raise(make, path):
    with pytest.raises(GenomeError) as err:
        make()
    assert err.value.path == path


def test_codec_rejects_bad_fields_with_their_path():
    data = MIXED.to_dict()
    data["stages"][1]["expansion"] = 20
    with pytest.raises(GenomeError, match=r"stages\[1\]\.expansion"):
        Genome.from_dict(data)
    data["stages"][1]["expansion"] = 6
    data["stages"][0]["ratio"] = 0.25
    with pytest.raises(GenomeError, match=r"stages\[0\]\.ratio"):
        Genome.from_dict(data)
    with pytest.raises(GenomeError, match=r"stages\[0\]\.kernel"):
        Genome.from_str(MIXED.to_str().replace("dwsep(d=2,", "dwsep(d=2,k=2,"))


@pytest.mark.parametrize("genome", [MIXED, mobilenet_v1(), mobilenet_v2(),
                                    efficientnet_genome("efficientnet_b0"), efficientnet_genome("efficientnet_b7")])
def test_round_trips(genome):
    assert Genome.from_json(genome.to_json()) == genome
    assert Genome.from_str(genome.to_str()) == genome
    assert Genome.from_str(genome.to_str()).key() == genome.key()


def test_compact_string_of_stages():
    assert Stage(MBConvGene(channels=40, kernel=5, se=0.25, act="silu"), 2, 2).to_str() == \
        "mbconv(d=2,s=2,c=40,k=5,se=0.25,act=silu)"
    assert Stage(DepthwiseSeparableGene(channels=16, pw_act=False, skip=True)).to_str() == \
        "dwsep(c=16,pwa=false,skip=true)"


def test_scaled_genome_is_the_baseline_plus_scaling():
    b3 = efficientnet_genome("efficientnet_b3")
    assert b3 == efficientnet_b0_genome(Scaling(width=1.2, depth=1.4), 300)
    assert b3.stages == efficientnet_genome("efficientnet_b0").stages


def timm_table(model) -> list[tuple[int, int]]:
    """(output channels, repeats) of each stage of a timm EfficientNet."""
    return [(stage[0].feature_info("bottleneck")["num_chs"], len(stage)) for stage in model.blocks]


def se_widths(model) -> list[int]:
    """Squeeze widths: timm's EfficientNet SqueezeExcite (conv_reduce) or timm.layers.SEModule (fc1)."""
    return [(getattr(m, "conv_reduce", None) or m.fc1).out_channels for m in model.modules()
            if hasattr(m, "conv_reduce") or type(m).__name__ == "SEModule"]


@pytest.mark.parametrize("name", list(COEFFICIENTS))
def test_resolved_scaling_equals_timm(name):
    resolved = efficientnet_genome(name).resolved()
    with torch.device("meta"):
        reference = timm.create_model(name, pretrained=False)
        ours = build(resolved)
    assert [(s.block.channels, s.depth) for s in resolved.stages] == timm_table(reference)
    assert resolved.stem[0].block.channels == reference.conv_stem.out_channels
    assert resolved.head.conv == reference.conv_head.out_channels
    assert resolved.resolution == COEFFICIENTS[name][2]
    assert se_widths(ours) == se_widths(reference)
    assert [tuple(p.shape) for p in ours.parameters()] == [tuple(p.shape) for p in reference.parameters()]


def test_b7_block_table():
    resolved = efficientnet_genome("efficientnet_b7").resolved()
    assert [(s.block.channels, s.depth) for s in resolved.stages] == \
        [(32, 4), (48, 7), (80, 7), (160, 10), (224, 10), (384, 13), (640, 4)]
    assert (resolved.stem[0].block.channels, resolved.head.conv, resolved.resolution) == (64, 2560, 600)


def test_mobilenet_v3_squeeze_excitation_is_configured_by_the_se_fields():
    """1/4 of the expanded width rounded to a multiple of 8, ReLU inside, hard-sigmoid gate (timm's MobileNetV3)."""
    gene = MBConvGene(channels=40, expansion=3.0, kernel=5, act="relu", se=0.25, se_base="mid", se_divisor=8,
                      se_act="relu", se_gate="hard_sigmoid")
    se = gene.squeeze(24, 72, 3.0)
    assert (se.reduced, se.act, se.gate) == (24, "relu", "hard_sigmoid")  # 72 / 4 = 18 -> 24
    module = se.module(72)
    assert isinstance(module.gate, torch.nn.Hardsigmoid) and isinstance(module.act, torch.nn.ReLU)
    efficientnet = MBConvGene(channels=40, expansion=6.0, se=0.25, act="silu").squeeze(24, 144, 6.0)
    assert (efficientnet.reduced, efficientnet.act, efficientnet.gate) == (6, "silu", "sigmoid")  # 24 / 4


def test_se_fields_without_an_se_are_refused():
    with pytest.raises(GenomeError, match="set se > 0") as caught:
        MBConvGene(se_gate="hard_sigmoid")
    assert caught.value.path == "se"


def test_an_se_at_the_output_shaped_as_attn_se_costs_what_attn_se_costs():
    """se_position=out, se_base=out, 1/16 to a multiple of 8, ReLU, sigmoid: the SE-ResNet module on the output."""
    at_output = MBConvGene(channels=64, expansion=4.0, se=1 / 16, se_base="out", se_position="out", se_divisor=8,
                           se_act="relu")
    attn = MBConvGene(channels=64, expansion=4.0, attn="se")
    genomes = [Genome(stages=(Stage(g),), in_chans=32, resolution=8, num_classes=2) for g in (at_output, attn)]
    assert analytic_cost(genomes[0]) == analytic_cost(genomes[1])
    measured = fvcore_module_cost(build(genomes[0]), 32, 8, activations=False)
    assert (measured.params, measured.flops) == analytic_cost(genomes[0])
