"""ShuffleNet v1/v2 units, Xception blocks, NiN's mlpconv and the classic zoo: shapes, reference equality,
training, validation, paper counts and codecs."""
import pytest
import torch
from timm.models.xception import Block as TimmXceptionBlock
from torch import nn
from torchvision.models.shufflenetv2 import InvertedResidual

from nasbench import build, zoo
from nasbench.blocks import Shape, Tally
from nasbench.blocks.conv import ConvGene
from nasbench.blocks.nin import MlpConvGene
from nasbench.blocks.residual import ORDERS, SHORTCUTS, BasicGene, BottleneckGene
from nasbench.blocks.shuffle import ShuffleV1Gene, ShuffleV2Gene
from nasbench.blocks.xception import SepConvGene, XceptionGene
from nasbench.cost import analytic_cost, fvcore_module_cost
from nasbench.gene import GenomeError
from nasbench.genome import Genome, Scaling, Stage
from nasbench.head import Head
from nasbench.zoo.classic import nin, nin_cifar
from nasbench.zoo.shufflenets import shufflenet_v2

MIXED = Genome(
    stem=(Stage(ConvGene(channels=12, kernel=3), 1, 2),),
    stages=(
        Stage(ShuffleV1Gene(channels=48, groups=3, group_input=False), 1, 2),
        Stage(ShuffleV1Gene(channels=48, groups=3, kernel=5, act="silu"), 2, 1),
        Stage(ShuffleV2Gene(channels=64), 1, 2),
        Stage(ShuffleV2Gene(channels=64, kernel=5), 2, 1),
        Stage(XceptionGene(channels=96, reps=2, start_with_relu=False), 1, 2),
        Stage(XceptionGene(channels=96, reps=3), 1, 1),
        Stage(XceptionGene(channels=128, reps=2, grow_first=False), 1, 1),
        Stage(SepConvGene(channels=160), 1, 1),
        Stage(MlpConvGene(channels=(64, 32), kernel=3, norm="batch", dropout=0.2), 1, 1),
        Stage(MlpConvGene(channels=(48,), kernel=1)),
    ),
    head=Head(classifier="conv"), in_chans=1, resolution=32, num_classes=10,
)


def stage_shapes(genome: Genome) -> list[tuple[int, int, int]]:
    """Analytic output shape after each stem/body stage."""
    t, x, out = Tally(), Shape(genome.in_chans, genome.resolution, genome.resolution), []
    for stage in genome.stem + genome.stages:
        for j in range(stage.depth):
            x = stage.block.cost(t, x, stage.stride if j == 0 else 1)
        out.append(tuple(x))
    return out


def copy_weights(source_state: list[torch.Tensor], target: torch.nn.Module) -> None:
    """Load tensors into `target`'s state dict in order (shapes must agree one for one)."""
    keys = list(target.state_dict())
    assert [tuple(v.shape) for v in source_state] == [tuple(target.state_dict()[k].shape) for k in keys]
    target.load_state_dict(dict(zip(keys, source_state)))


def test_output_and_inner_channels():
    v1 = ShuffleV1Gene(channels=240, groups=3)
    assert (v1.out_chans(24), v1.mid_chans(), v1.branch_chans(24, 2), v1.branch_chans(240, 1)) == (240, 60, 216, 240)
    assert ShuffleV1Gene(channels=240, groups=3, group_input=False).input_groups() == 1
    assert ShuffleV2Gene(channels=116).out_chans(24) == 116
    assert XceptionGene(channels=128, reps=2).sep_chans(64) == [(64, 128), (128, 128)]
    assert XceptionGene(channels=1024, reps=2, grow_first=False).sep_chans(728) == [(728, 728), (728, 1024)]
    assert XceptionGene(channels=728, reps=3).has_projection(728, 1) is False
    assert SepConvGene(channels=1536).out_chans(1024) == 1536
    assert MlpConvGene(channels=(192, 160, 96)).out_chans(3) == 96


@pytest.mark.parametrize("gene, in_chans, stride, out_shape", [
    (ShuffleV1Gene(channels=48, groups=3, group_input=False), 12, 2, (48, 4, 4)),
    (ShuffleV1Gene(channels=48, groups=4), 48, 1, (48, 8, 8)),
    (ShuffleV1Gene(channels=48, groups=1), 16, 2, (48, 4, 4)),
    (ShuffleV2Gene(channels=32), 12, 2, (32, 4, 4)),
    (ShuffleV2Gene(channels=32), 32, 1, (32, 8, 8)),
    (XceptionGene(channels=32, reps=2, start_with_relu=False), 16, 2, (32, 4, 4)),
    (XceptionGene(channels=16, reps=3), 16, 1, (16, 8, 8)),
    (SepConvGene(channels=24, kernel=5), 16, 2, (24, 4, 4)),
    (MlpConvGene(channels=(24, 16), kernel=3, padding=0), 8, 1, (16, 6, 6)),
])
def test_module_shape_equals_analytic_shape(gene, in_chans, stride, out_shape):
    gene.check(in_chans, stride, "block")
    assert gene.cost(Tally(), Shape(in_chans, 8, 8), stride) == out_shape
    assert gene.build(in_chans, stride).eval()(torch.randn(2, in_chans, 8, 8)).shape == (2, *out_shape)


def test_shuffle_v1_shortcuts():
    """With the branch's last BN zeroed, stride 1 gives act(x) and stride 2 gives [avgpool(x), 0] after act."""
    x = torch.randn(2, 12, 8, 8)
    for stride, expected in ((1, torch.relu(x)), (2, torch.cat((torch.relu(torch.nn.functional.avg_pool2d(
            x, 3, 2, 1)), torch.zeros(2, 36, 4, 4)), 1))):
        gene = ShuffleV1Gene(channels=12 if stride == 1 else 48, groups=3 if stride == 1 else 1, bottleneck=0.5)
        block = gene.build(12, stride).eval()
        torch.nn.init.zeros_(block.branch[-1][1].weight)
        torch.nn.init.zeros_(block.branch[-1][1].bias)
        assert torch.allclose(block(x), expected)


@pytest.mark.parametrize("in_chans, out_chans, stride", [(24, 116, 2), (116, 116, 1)])
def test_shuffle_v2_equals_torchvision_unit(in_chans, out_chans, stride):
    reference = InvertedResidual(in_chans, out_chans, stride).eval()
    ours = ShuffleV2Gene(channels=out_chans).build(in_chans, stride).eval()
    for module in reference.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            torch.nn.init.uniform_(module.running_var, 0.5, 2.0)
            torch.nn.init.normal_(module.running_mean)
    copy_weights(list(reference.state_dict().values()), ours)
    x = torch.randn(2, in_chans, 9, 9)
    assert torch.equal(ours(x), reference(x))


@pytest.mark.parametrize("in_chans, out_chans, reps, stride, start_with_relu, grow_first", [
    (16, 32, 2, 2, False, True), (32, 32, 3, 1, True, True), (32, 48, 2, 2, True, False)])
def test_xception_block_equals_timm_block(in_chans, out_chans, reps, stride, start_with_relu, grow_first):
    reference = TimmXceptionBlock(in_chans, out_chans, reps, stride, start_with_relu, grow_first).eval()
    gene = XceptionGene(channels=out_chans, reps=reps, start_with_relu=start_with_relu, grow_first=grow_first)
    ours = gene.build(in_chans, stride).eval()
    state = reference.state_dict()
    ordered = [v for k, v in state.items() if k.startswith("rep")]
    ordered += [v for k, v in state.items() if k.startswith("skip")]
    copy_weights(ordered, ours)
    x = torch.randn(2, in_chans, 9, 9)
    expected = reference(x.clone())
    assert torch.allclose(ours(x), expected, atol=1e-6)


def test_shufflenet_v2_equals_torchvision_network():
    import torchvision

    reference = torchvision.models.shufflenet_v2_x1_0().eval()
    ours = build(shufflenet_v2()).eval()
    copy_weights(list(reference.state_dict().values()), ours)
    x = torch.randn(1, 3, 64, 64)
    assert torch.allclose(ours(x), reference(x), atol=1e-5)


def test_forward_backward_one_input_channel():
    model = build(MIXED).train()
    out = model(torch.randn(2, 1, 32, 32))
    assert out.shape == (2, 10)
    out.square().mean().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


def test_analytic_cost_equals_fvcore_on_mixed_genome():
    measured = fvcore_module_cost(build(MIXED), 1, 32, activations=False)
    assert analytic_cost(MIXED) == (measured.params, measured.flops) == (222_538, 1_503_784)


def test_shuffle_v1_cost_by_hand():
    """24 -> 240 channels at 56x56 -> 28x28, g=3, first 1x1 conv ungrouped: bottleneck 60, branch 216."""
    t = Tally()
    gene = ShuffleV1Gene(channels=240, groups=3, group_input=False)
    assert gene.cost(t, Shape(24, 56, 56), 2) == Shape(240, 28, 28)
    reduce = (24 * 60 + 120, 24 * 60 * 56 * 56 + 2 * 60 * 56 * 56)
    depthwise = (60 * 9 + 120, 60 * 9 * 28 * 28 + 2 * 60 * 28 * 28)
    expand = (20 * 216 + 2 * 216, 20 * 216 * 28 * 28 + 2 * 216 * 28 * 28)
    parts = (reduce, depthwise, expand)
    assert (t.params, t.flops) == (sum(p for p, _ in parts), sum(f for _, f in parts)) == (6_972, 9_135_168)


@pytest.mark.parametrize("make, path", [
    (lambda: ShuffleV1Gene(kernel=4), "kernel"),
    (lambda: ShuffleV1Gene(groups=0), "groups"),
    (lambda: ShuffleV1Gene(bottleneck=0.0), "bottleneck"),
    (lambda: ShuffleV2Gene(channels=115), "channels"),
    (lambda: ShuffleV2Gene(act="swish"), "act"),
    (lambda: XceptionGene(reps=0), "reps"),
    (lambda: XceptionGene(start_with_relu=1), "start_with_relu"),
    (lambda: SepConvGene(kernel=2), "kernel"),
    (lambda: MlpConvGene(channels=()), "channels"),
    (lambda: MlpConvGene(channels=(192, 0)), "channels[1]"),
    (lambda: MlpConvGene(norm="layer"), "norm"),
])
def test_impossible_values_raise(make, path):
    with pytest.raises(GenomeError) as err:
        make()
    assert err.value.path == path


def one_stage(block, stride: int, in_chans: int = 12, resolution: int = 16) -> Genome:
    return Genome(stem=(Stage(ConvGene(channels=in_chans), 1, 1),), stages=(Stage(block, 1, stride),),
                  resolution=resolution, num_classes=10)


@pytest.mark.parametrize("block, stride, in_chans, path, reason", [
    (ShuffleV1Gene(channels=48, groups=5), 2, 12, "groups", "does not divide 12 input channels"),
    (ShuffleV1Gene(channels=48, groups=5, group_input=False, bottleneck=0.5), 2, 12, "groups", "24 bottleneck"),
    (ShuffleV1Gene(channels=60, groups=4), 2, 12, "groups", "15 bottleneck"),
    (ShuffleV1Gene(channels=40, groups=5, group_input=False), 2, 12, "groups", "28 branch"),
    (ShuffleV1Gene(channels=24, groups=3), 1, 12, "channels", "must equal the 12 input"),
    (ShuffleV1Gene(channels=12, groups=3), 2, 12, "channels", "must exceed them"),
    (ShuffleV1Gene(channels=4, groups=1, bottleneck=0.2), 2, 2, "bottleneck", "leaves no bottleneck"),
    (ShuffleV2Gene(channels=24), 1, 12, "channels", "must equal the 12 input"),
])
def test_impossible_combinations_raise(block, stride, in_chans, path, reason):
    with pytest.raises(GenomeError, match=reason) as err:
        one_stage(block, stride, in_chans)
    assert err.value.path == f"stages[0].{path}"


def test_collapsing_spatial_size_raises():
    with pytest.raises(GenomeError, match="spatial size collapses"):
        one_stage(MlpConvGene(channels=(8,), kernel=5, padding=0), 1, resolution=4)


PAPER_COUNTS = {  # exact parameter counts of the paper networks (see each entry's note)
    "lenet5": 61_706, "alexnet": 62_378_344, "alexnet_grouped": 60_965_224, "zfnet": 62_357_608,
    "nin": 1_992_166, "nin_cifar": 966_986,
    "all_cnn_c": 1_369_738, "strided_cnn_c": 954_730, "convpool_cnn_c": 1_369_738, "shufflenet_v1_g3": 1_865_728,
}


@pytest.mark.parametrize("name, params", list(PAPER_COUNTS.items()))
def test_paper_network_params(name, params):
    assert analytic_cost(zoo.get(name)).params == params


def test_shufflenet_v1_flops():
    """Paper: ~140 MFLOPs of multiply-adds; conv + FC here 137,460,672, plus BN and global pool in fvcore."""
    assert analytic_cost(zoo.get("shufflenet_v1_g3")).flops == 143_505_312


def test_lenet5_layer_by_layer():
    t = Tally()
    genome = zoo.get("lenet5")
    x = Shape(1, 32, 32)
    counts = []
    for stage in genome.stages:
        before = t.params
        x = stage.block.cost(t, x, stage.stride)
        counts.append(t.params - before)
    assert counts == [156, 0, 2_416, 0]
    before = t.params
    genome.head.cost(t, x, 10)
    assert t.params - before == 48_120 + 10_164 + 850


@pytest.mark.parametrize("name, shapes", [
    ("zfnet", [(96, 110, 110), (96, 55, 55), (256, 26, 26), (256, 13, 13), (384, 13, 13), (384, 13, 13),
               (256, 13, 13), (256, 6, 6)]),
    ("alexnet", [(96, 55, 55), (96, 27, 27), (256, 27, 27), (256, 13, 13), (384, 13, 13), (384, 13, 13),
                 (256, 13, 13), (256, 6, 6)]),
    ("lenet5", [(6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 5, 5)]),
    ("all_cnn_c", [(96, 32, 32), (96, 16, 16), (192, 16, 16), (192, 8, 8), (192, 6, 6), (192, 6, 6)]),
    ("shufflenet_v1_g3", [(24, 112, 112), (24, 56, 56), (240, 28, 28), (240, 28, 28), (480, 14, 14), (960, 7, 7)]),
    ("xception", [(32, 149, 149), (64, 147, 147), (128, 74, 74), (256, 37, 37), (728, 19, 19), (728, 19, 19),
                  (1024, 10, 10), (1536, 10, 10), (2048, 10, 10)]),
])
def test_paper_feature_map_sizes(name, shapes):
    assert stage_shapes(zoo.get(name)) == shapes


def _measured_stage_shapes(genome: Genome):
    """Each stage's output shape from a forward pass, the model and its last feature map."""
    model = build(genome).eval()
    x = torch.randn(1, genome.in_chans, genome.resolution, genome.resolution)
    shapes = []
    for stage in model.stages:
        x = stage(x)
        shapes.append(tuple(x.shape[1:]))
    return shapes, model, x


def test_nin_cifar_stage_outputs():
    """Analytic and measured: 96x32x32, 96x16x16, 192x16x16, 192x8x8, 192x8x8, then the conv head 10x8x8 -> 10."""
    expected = [(96, 32, 32), (96, 16, 16), (192, 16, 16), (192, 8, 8), (192, 8, 8)]
    assert stage_shapes(nin_cifar()) == expected
    measured, model, x = _measured_stage_shapes(nin_cifar())
    assert measured == expected
    assert tuple(model.head.pool[0](x).shape) == (1, 10, 8, 8)
    assert tuple(model.head(x).shape) == (1, 10)


def _notes_nin() -> nn.Sequential:
    """The NiN of the course notes, written as there (d2l.ai's nin_block)."""
    def nin_block(in_chans, out_chans, kernel, stride, padding):
        return nn.Sequential(nn.Conv2d(in_chans, out_chans, kernel, stride, padding), nn.ReLU(),
                             nn.Conv2d(out_chans, out_chans, 1), nn.ReLU(), nn.Conv2d(out_chans, out_chans, 1),
                             nn.ReLU())
    return nn.Sequential(nin_block(1, 96, 11, 4, 0), nn.MaxPool2d(3, 2), nin_block(96, 256, 5, 1, 2),
                         nn.MaxPool2d(3, 2), nin_block(256, 384, 3, 1, 1), nn.MaxPool2d(3, 2), nn.Dropout(0.5),
                         nin_block(384, 10, 3, 1, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten())


def test_nin_matches_the_course_notes():
    """The notes list 96x54x54, 96x26x26, 256x26x26, 256x12x12, 384x12x12, 384x5x5, 10x5x5, 10x1x1, 10."""
    expected = [(96, 54, 54), (96, 26, 26), (256, 26, 26), (256, 12, 12), (384, 12, 12), (384, 5, 5), (10, 5, 5)]
    assert stage_shapes(nin()) == expected
    measured, model, x = _measured_stage_shapes(nin())
    assert measured == expected and tuple(model.head(x).shape) == (1, 10)
    notes = _notes_nin()
    params = sum(p.numel() for p in notes.parameters())
    assert analytic_cost(nin()).params == sum(p.numel() for p in model.parameters()) == params == 1_992_166
    assert tuple(notes(torch.randn(1, 1, 224, 224)).shape) == (1, 10)


def test_width_scaling_reaches_mlpconv_tuple():
    resolved = Genome(stages=nin_cifar().stages, head=nin_cifar().head, resolution=32, num_classes=10,
                      scaling=Scaling(width=0.5)).resolved()
    assert [s.block.channels for s in resolved.stages if s.block.kind == "mlpconv"] == \
        [(96, 80, 48), (96, 96, 96), (96, 96)]


def test_mean_head_pool_is_free_and_global():
    x = Shape(1024, 7, 7)
    t_mean, t_avg = Tally(), Tally()
    Head(pool="mean").cost(t_mean, x, 1000)
    Head().cost(t_avg, x, 1000)
    assert (t_mean.params, t_avg.flops - t_mean.flops) == (1_025_000, 1024 * 49)
    with pytest.raises(GenomeError) as err:
        Head(pool="mean", pool_size=2)
    assert err.value.path == "pool_size"


MINE = [
    "lenet5", "alexnet", "alexnet_grouped", "alexnet_torchvision", "zfnet", "vgg11", "vgg13", "vgg16", "vgg19",
    "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn", "nin", "nin_cifar", "all_cnn_c", "strided_cnn_c",
    "convpool_cnn_c", "xception", "shufflenet_v1_g3", "shufflenet_v2_x1_0"]


@pytest.mark.parametrize("genome", [MIXED] + [zoo.get(name) for name in MINE],
                         ids=["mixed"] + MINE)
def test_round_trips(genome):
    assert Genome.from_json(genome.to_json()) == genome
    assert Genome.from_str(genome.to_str()) == genome
    assert Genome.from_str(genome.to_str()).key() == genome.key()


def test_compact_strings():
    assert Stage(ShuffleV1Gene(channels=240, group_input=False), 1, 2).to_str() == "shuffle_v1(s=2,gi=false)"
    assert Stage(XceptionGene(channels=1024, reps=2, grow_first=False), 1, 2).to_str() == \
        "xception(s=2,c=1024,r=2,gf=false)"
    assert Stage(MlpConvGene(channels=(192, 192), kernel=3, dropout=0.5)).to_str() == "mlpconv(c=192/192,k=3,drop=0.5)"
    with pytest.raises(GenomeError, match=r"stages\[0\]\.reps"):
        Genome.from_str("i=3,r=32,n=10|stem:|body:xception(c=32,r=0)|head:")


@pytest.mark.parametrize("norm", ["batch", "none"])
@pytest.mark.parametrize("order", ORDERS)
def test_residual_orderings_leave_the_skip_input_intact(order, norm):
    """The skip adds the unit's *input*: an in-place activation on it would corrupt the sum (and autograd)."""
    gene = BasicGene(channels=8, order=order, norm=norm)
    unit = gene.build(8, 1).train()
    x = torch.randn(2, 8, 6, 6, requires_grad=True)
    before = x.detach().clone()
    unit(x).sum().backward()
    assert torch.equal(x.detach(), before) and torch.isfinite(x.grad).all()


def layer_names(layers) -> str:
    return " ".join(type(layer).__name__ for layer in layers)


@pytest.mark.parametrize("order, pre, branch, post", [
    ("original", "", "Conv Norm Act Conv Norm", "Act"),
    ("bn_after_add", "", "Conv Norm Act Conv", "Norm Act"),
    ("relu_before_add", "", "Conv Norm Act Conv Norm Act", ""),
    ("relu_preact", "", "Act Conv Norm Act Conv Norm", ""),
    ("full_preact", "Norm Act", "Conv Norm Act Conv", ""),
])
def test_residual_plan_places_norm_and_act_as_he_et_al(order, pre, branch, post):
    """He et al. 2016, Fig. 4: the plan of a basic unit, read by both its module and its cost."""
    plan = BasicGene(channels=8, order=order).plan(8, 1)
    assert (layer_names(plan.pre), layer_names(plan.branch), layer_names(plan.post)) == (pre, branch, post)
    assert plan.shortcut == ()
    unit = BasicGene(channels=8, order=order).build(8, 1)
    assert [len(unit.pre), len(unit.branch), len(unit.post)] == [len(plan.pre), len(plan.branch), len(plan.post)]


@pytest.mark.parametrize("shortcut, preact_layers, original_layers", [
    ("projection", "Conv", "Conv Norm"), ("avg_down", "Pool Conv", "Pool Conv Norm"),
    ("zero_pad", "ZeroPad", "ZeroPad"), ("none", None, None)])
def test_residual_plan_shortcuts(shortcut, preact_layers, original_layers):
    """Full pre-activation: a changed-shape shortcut reads the pre-activated input and has no BN of its own."""
    def names(plan):
        return None if plan.shortcut is None else layer_names(plan.shortcut)

    preact = BasicGene(channels=16, order="full_preact", shortcut=shortcut).plan(8, 2)
    original = BasicGene(channels=16, shortcut=shortcut).plan(8, 2)
    assert (names(preact), names(original)) == (preact_layers, original_layers)
    assert (preact.shortcut_reads_pre, original.shortcut_reads_pre) == (shortcut != "none", False)


@pytest.mark.parametrize("shortcut", SHORTCUTS)
@pytest.mark.parametrize("order", ORDERS)
def test_residual_unit_cost_equals_fvcore(order, shortcut):
    """Every ordering and shortcut of a strided, widening bottleneck with attention and dropout."""
    gene = BottleneckGene(channels=32, mid=8, groups=2, order=order, shortcut=shortcut, attn="se", dropout=0.1)
    t = Tally()
    out = gene.cost_with_attn(t, Shape(16, 8, 8), 2)
    module = gene.build_with_attn(16, 2)
    assert fvcore_module_cost(module, 16, 8, activations=False)[:2] == (t.params, t.flops)
    assert tuple(module.eval()(torch.randn(1, 16, 8, 8)).shape[1:]) == out
