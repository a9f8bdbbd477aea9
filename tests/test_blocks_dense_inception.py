"""DenseNet and Inception blocks: channels, equality with torchvision's modules, cost twins, errors, codec, scaling."""
import importlib

import pytest
import torch

from nasbench import Genome, GenomeError, Head, Scaling, Stage, build
from nasbench.blocks import Shape, Tally
from nasbench.blocks.conv import ConvGene
from nasbench.blocks.dense import DenseGene, TransitionGene
from nasbench.blocks.inception import (
    InceptionAGene,
    InceptionBGene,
    InceptionCGene,
    InceptionDGene,
    InceptionEGene,
    InceptionV1Gene,
)
from nasbench.cost import analytic_cost, fvcore_module_cost

# the submodules, not the same-named model functions torchvision.models exports
tv_densenet = importlib.import_module("torchvision.models.densenet")
tv_googlenet = importlib.import_module("torchvision.models.googlenet")
tv_inception = importlib.import_module("torchvision.models.inception")


def _copy_weights(source: torch.nn.Module, target: torch.nn.Module) -> None:
    """Load source's parameters and buffers into target by registration order (shapes must agree)."""
    src, dst = source.state_dict(), target.state_dict()
    assert [v.shape for v in src.values()] == [v.shape for v in dst.values()]
    target.load_state_dict(dict(zip(dst, src.values())))


def _same_outputs(ours: torch.nn.Module, reference: torch.nn.Module, x: torch.Tensor) -> None:
    _copy_weights(reference, ours)
    ours.eval(), reference.eval()
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x), rtol=1e-5, atol=1e-5)


def _randomise_norms(module: torch.nn.Module) -> None:
    """Non-trivial BN statistics, so that a wrong eps or a misplaced BN shows in the outputs."""
    generator = torch.Generator().manual_seed(0)
    for m in module.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=generator))
            m.running_var.copy_(torch.rand(m.num_features, generator=generator) * 1e-2 + 1e-4)


# ---- output channels --------------------------------------------------------------------------------


@pytest.mark.parametrize("gene, in_chans, out", [
    (DenseGene(growth=32), 64, 96),
    (DenseGene(growth=12, bn_size=0), 24, 36),
    (TransitionGene(compression=0.5), 256, 128),
    (TransitionGene(compression=0.5), 1025, 512),
    (TransitionGene(compression=0.29), 100, 29),
    (TransitionGene(compression=1.0), 7, 7),
    (InceptionV1Gene(), 192, 256),  # GoogLeNet 3a: 64 + 128 + 32 + 32
    (InceptionAGene(pool_features=32), 192, 256),
    (InceptionAGene(pool_features=64), 256, 288),
    (InceptionBGene(), 288, 768),  # 384 + 96 + 288 (pooled input)
    (InceptionCGene(channels_7x7=160), 768, 768),
    (InceptionDGene(), 768, 1280),  # 320 + 192 + 768
    (InceptionEGene(), 1280, 2048),  # 320 + 2 x 384 + 2 x 384 + 192
])
def test_out_chans(gene, in_chans, out):
    assert gene.out_chans(in_chans) == out
    t = Tally()
    assert gene.cost(t, Shape(in_chans, 9, 9), 1).c == out


# ---- the same modules as torchvision ----------------------------------------------------------------


@pytest.mark.parametrize("gene, reference, in_chans, size", [
    (InceptionV1Gene(ch1x1=8, ch3x3red=4, ch3x3=8, ch5x5red=2, ch5x5=4, pool_proj=4, kernel=3),
     tv_googlenet.Inception(12, 8, 4, 8, 2, 4, 4), 12, 7),
    (InceptionAGene(pool_features=16), tv_inception.InceptionA(16, pool_features=16), 16, 5),
    (InceptionBGene(), tv_inception.InceptionB(16), 16, 7),
    (InceptionCGene(channels_7x7=8), tv_inception.InceptionC(16, channels_7x7=8), 16, 5),
    (InceptionDGene(), tv_inception.InceptionD(16), 16, 7),
    (InceptionEGene(), tv_inception.InceptionE(16), 16, 3),
])
def test_inception_modules_equal_torchvision(gene, reference, in_chans, size):
    stride = 2 if gene.kind in ("inception_b", "inception_d") else 1
    ours = gene.build(in_chans, stride)
    _randomise_norms(reference)
    x = torch.randn(2, in_chans, size, size)
    _same_outputs(ours, reference, x)
    expected = gene.cost(Tally(), Shape(in_chans, size, size), stride)
    assert tuple(ours(x).shape[1:]) == expected


def test_dense_stage_and_transition_equal_torchvision():
    layers = [DenseGene(growth=4, bn_size=4, dropout=0.2).build(8 + 4 * i, 1) for i in range(3)]
    ours = torch.nn.Sequential(*layers, TransitionGene().build(20, 2))
    reference = torch.nn.Sequential(tv_densenet._DenseBlock(3, 8, bn_size=4, growth_rate=4, drop_rate=0.2),
                                    tv_densenet._Transition(20, 10))
    _randomise_norms(reference)
    x = torch.randn(2, 8, 6, 6)
    _same_outputs(ours, reference, x)
    assert ours(x).shape == (2, 10, 3, 3)


@pytest.mark.parametrize("gene, in_chans, stride, size", [
    (DenseGene(growth=6, bn_size=0), 5, 1, 6),
    (DenseGene(growth=6, bn_size=2, norm="none", act="silu"), 5, 1, 6),
    (TransitionGene(compression=0.75), 8, 1, 5),
    (TransitionGene(compression=0.75, act="prelu"), 8, 3, 7),
    (InceptionV1Gene(ch1x1=4, ch3x3red=2, ch3x3=4, ch5x5red=2, ch5x5=4, pool_proj=2, kernel=7), 6, 1, 9),
    (InceptionAGene(ch1x1=8, ch5x5red=4, ch5x5=8, ch3x3dblred=4, ch3x3dbl=8, pool_features=4), 12, 1, 7),
    (InceptionCGene(ch1x1=2, channels_7x7=3, ch7x7=4, ch7x7dbl=5, pool_features=6, act="relu6"), 6, 1, 8),
    (InceptionDGene(ch3x3red=2, ch3x3=4, ch7x7x3=3), 6, 3, 11),
    (InceptionBGene(ch3x3=4, ch3x3dblred=2, ch3x3dbl=4, norm="none"), 6, 1, 5),
    (InceptionEGene(ch1x1=2, ch3x3=2, ch3x3dblred=2, ch3x3dbl=2, pool_features=2, act="gelu"), 6, 1, 4),
])
def test_cost_twin_equals_fvcore(gene, in_chans, stride, size):
    t = Tally()
    out = gene.cost(t, Shape(in_chans, size, size), stride)
    module = gene.build(in_chans, stride)
    assert fvcore_module_cost(module, in_chans, size, activations=False)[:2] == (t.params, t.flops)
    assert tuple(module.eval()(torch.zeros(1, in_chans, size, size)).shape[1:]) == out


@pytest.mark.parametrize("bn_size", [0, 4])
def test_norm_free_dense_layer_leaves_its_input_intact(bn_size):
    """The layer concatenates its input to its output: without BN, the first activation must not act in place."""
    layer = DenseGene(growth=4, bn_size=bn_size, norm="none").build(8, 1).train()
    x = torch.randn(2, 8, 5, 5, requires_grad=True)
    before = x.detach().clone()
    y = layer(x)
    y.sum().backward()
    assert torch.equal(x.detach(), before) and torch.equal(y[:, :8].detach(), before)


def test_dense_layer_counts():
    """BN(64) + 1x1 64->128 + BN(128) + 3x3 128->32 at 8x8: the first layer of DenseNet-121's first block."""
    t = Tally()
    DenseGene().cost(t, Shape(64, 8, 8), 1)
    assert t.params == 2 * 64 + 64 * 128 + 2 * 128 + 128 * 32 * 9
    assert t.flops == 64 * (2 * 64 + 64 * 128 + 2 * 128 + 128 * 32 * 9)


# ---- whole tiny networks ----------------------------------------------------------------------------


def tiny_densenet(**scaling) -> Genome:
    stages = (Stage(DenseGene(growth=8, bn_size=2), 2), Stage(TransitionGene(), 1, 2),
              Stage(DenseGene(growth=8, bn_size=0, dropout=0.1), 2))
    return Genome(stem=(Stage(ConvGene(channels=16)),), stages=stages, head=Head(pre_act=True), in_chans=1,
                  resolution=16, num_classes=10, scaling=Scaling(**scaling))


def tiny_inception() -> Genome:
    stages = (Stage(InceptionV1Gene(ch1x1=4, ch3x3red=4, ch3x3=8, ch5x5red=2, ch5x5=4, pool_proj=4)),
              Stage(InceptionAGene(ch1x1=4, ch5x5red=4, ch5x5=4, ch3x3dblred=4, ch3x3dbl=4, pool_features=4)),
              Stage(InceptionBGene(ch3x3=8, ch3x3dblred=4, ch3x3dbl=8), 1, 2),
              Stage(InceptionCGene(ch1x1=4, channels_7x7=4, ch7x7=4, ch7x7dbl=4, pool_features=4)),
              Stage(InceptionDGene(ch3x3red=4, ch3x3=8, ch7x7x3=4), 1, 2),
              Stage(InceptionEGene(ch1x1=4, ch3x3=4, ch3x3dblred=4, ch3x3dbl=4, pool_features=4), 2))
    return Genome(stem=(Stage(ConvGene(channels=8)),), stages=stages, head=Head(dropout=0.2), in_chans=1,
                  resolution=16, num_classes=10)


@pytest.mark.parametrize("make", [tiny_densenet, tiny_inception])
def test_tiny_network_trains_one_step(make):
    genome = make()
    model = build(genome)
    x = torch.randn(2, 1, 16, 16)
    logits = model(x)
    assert logits.shape == (2, 10)
    torch.nn.functional.cross_entropy(logits, torch.tensor([1, 7])).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    measured = fvcore_module_cost(model, 1, 16, activations=False)
    assert analytic_cost(genome) == measured[:2]


def test_tiny_inception_shapes():
    """16 -> B(3x3/2, unpadded) 7 -> D 3; channels: D gives 8 + 4 + 16 in, E gives 4 + 8 + 8 + 4."""
    genome = tiny_inception()
    t = Tally()
    x = Shape(1, 16, 16)
    for stage in genome.stem + genome.stages:
        for j in range(stage.depth):
            x = stage.block.cost(t, x, stage.stride if j == 0 else 1)
            if stage.block.kind == "inception_d":
                assert x == Shape(8 + 4 + 16, 3, 3)
    assert x == Shape(24, 3, 3)


def test_depth_scaling_repeats_dense_layers_only():
    resolved = tiny_densenet(depth=2.0).resolved()
    assert [s.depth for s in resolved.stages] == [4, 1, 4]
    # 16 + 4 x 8 = 48 -> transition 24 -> + 4 x 8 = 56 features into the head
    assert build(resolved).head.features[0].num_features == 56


def test_width_scaling_scales_growth_not_compression():
    resolved = tiny_densenet(width=2.0).resolved()
    assert [s.block for s in resolved.stages] == [DenseGene(growth=16, bn_size=2), TransitionGene(),
                                                  DenseGene(growth=16, bn_size=0, dropout=0.1)]


def test_reductions_are_not_depth_scaled():
    assert not TransitionGene.depth_scalable and not InceptionBGene.depth_scalable
    assert not InceptionDGene.depth_scalable
    assert DenseGene.depth_scalable and InceptionAGene.depth_scalable and InceptionV1Gene.depth_scalable


# ---- errors -----------------------------------------------------------------------------------------


def test_zero_compression_is_rejected():
    with pytest.raises(GenomeError, match="compression: must be above 0"):
        TransitionGene(compression=0.0)
    with pytest.raises(GenomeError, match="compression"):
        TransitionGene(compression=1.5)


def _body(*stages: Stage, resolution: int = 16) -> Genome:
    return Genome(stem=(Stage(ConvGene(channels=4)),), stages=stages, in_chans=1, resolution=resolution,
                  num_classes=10)


@pytest.mark.parametrize("stages, resolution, path, reason", [
    ((Stage(TransitionGene(compression=0.1)),), 16, "stages[0].compression", "leaves none"),
    ((Stage(DenseGene(), 1, 2),), 16, "stages[0].stride", "keeps the spatial size"),
    ((Stage(InceptionAGene(), 1, 2),), 16, "stages[0].stride", "keeps the spatial size"),
    ((Stage(InceptionV1Gene(), 1, 2),), 16, "stages[0].stride", "keeps the spatial size"),
    ((Stage(TransitionGene(compression=1.0), 1, 2),) * 5, 16, "stages[4]", "spatial size collapses"),
    ((Stage(InceptionBGene(), 1, 2), Stage(InceptionDGene(), 1, 2)), 5, "stages[1]", "spatial size collapses"),
])
def test_impossible_genomes_name_the_field(stages, resolution, path, reason):
    with pytest.raises(GenomeError) as info:
        _body(*stages, resolution=resolution)
    assert info.value.path == path and reason in info.value.reason


@pytest.mark.parametrize("text, path", [
    ("i=1,r=16,n=10|stem:|body:dense(k=0)|head:", "stages[0].growth"),
    ("i=1,r=16,n=10|stem:|body:dense(bn=-1)|head:", "stages[0].bn_size"),
    ("i=1,r=16,n=10|stem:|body:inception(k=4)|head:", "stages[0].kernel"),
    ("i=1,r=16,n=10|stem:|body:inception_c(c7=0)|head:", "stages[0].channels_7x7"),
    ("i=1,r=16,n=10|stem:|body:inception_e(c9=3)|head:", "stages[0].c9"),
])
def test_bad_strings_name_the_field(text, path):
    with pytest.raises(GenomeError) as info:
        Genome.from_str(text)
    assert info.value.path == path


# ---- codec ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [tiny_densenet, tiny_inception])
def test_round_trips(make):
    genome = make()
    assert Genome.from_str(genome.to_str()) == genome
    assert Genome.from_json(genome.to_json()) == genome
    assert Genome.from_json(genome.to_json(indent=2)) == genome


def test_compact_string():
    genome = _body(Stage(DenseGene(growth=12, bn_size=0), 3), Stage(TransitionGene(compression=0.5), 1, 2),
                   Stage(InceptionV1Gene(kernel=3)), Stage(InceptionBGene(ch3x3=8), 1, 2))
    assert genome.to_str().split("|")[2] == \
        "body:dense(d=3,k=12,bn=0)+transition(s=2)+inception(k=3)+inception_b(s=2,c3=8)"
