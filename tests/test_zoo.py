"""Every zoo entry: parameter count equals its reference, and analytic cost equals fvcore on the built model."""
import functools
import itertools

import pytest
import torch
import torch.nn.functional as F

from nasbench import build, zoo
from nasbench.cost import analytic_cost, count_params, fvcore_module_cost
from nasbench.cost_table import layer_table
from nasbench.zoo.resnets import BOTTLENECK_DEPTHS, bottleneck_stages, imagenet_resnet
from nasbench.zoo.stems import STEM_KINDS, StemLayout, make_stem, read_stem
from search_spaces import get_space

ENTRIES = zoo.all_entries()
IDS = [e.name for e in ENTRIES]
MODEL_REFERENCES = [e for e in ENTRIES if e.reference.source != "paper"]


def heavy(entry) -> bool:
    """fvcore traces these in seconds each (large inputs, many blocks or GFLOPs): the slow tier checks them."""
    genome = entry.genome.resolved()
    return (analytic_cost(genome).flops > 1e9 or genome.resolution > 224
            or sum(stage.depth for stage in genome.stages) > 17)


def by_weight(entries) -> list:
    return [pytest.param(e, id=e.name, marks=[pytest.mark.slow] if heavy(e) else []) for e in entries]


def uninitialised(make) -> torch.nn.Module:
    """The module `make()` builds, its parameters and buffers zeros instead of initialised: counting FLOPs and
    parameters needs only shapes, and initialising is most of the time building a large model takes (vgg11: 1 s)."""
    with torch.device("meta"):
        model = make()
    model = model.to_empty(device="cpu")
    with torch.no_grad():
        for tensor in itertools.chain(model.parameters(), model.buffers()):
            tensor.zero_()
    return model


REQUIRED = (
    "lenet5 alexnet alexnet_grouped alexnet_torchvision zfnet vgg11 vgg13 vgg16 vgg19 vgg11_bn vgg13_bn vgg16_bn "
    "vgg19_bn nin nin_cifar all_cnn_c strided_cnn_c convpool_cnn_c googlenet inception_v3 xception resnet18 resnet34 "
    "resnet50 resnet101 resnet152 preact_resnet18 resnet20 resnet32 resnet44 resnet56 resnet110 wide_resnet50_2 "
    "wide_resnet101_2 wrn28_10 resnext50_32x4d densenet121 densenet169 densenet201 mobilenet_v1 mobilenet_v2 "
    "shufflenet_v1_g3 shufflenet_v2_x1_0 seresnet50 ecaresnet50 cbam_resnet50 inception_bn inception_v4 "
    "inception_resnet_v1 inception_resnet_v2 mobilenet_v3_large mobilenet_v3_small lenet5_c3_table resnet50_v1 "
    "squeezenet1_0 squeezenet1_1 "
    "model_a strided_cnn_a convpool_cnn_a all_cnn_a model_b strided_cnn_b convpool_cnn_b all_cnn_b model_c "
    + " ".join(f"efficientnet_b{i}" for i in range(8))
).split()


def test_zoo_has_every_lecture_architecture():
    missing = sorted(set(REQUIRED) - set(zoo.names()))
    assert not missing, f"missing zoo entries: {missing}"


@pytest.mark.parametrize("entry", MODEL_REFERENCES, ids=[e.name for e in MODEL_REFERENCES])
def test_params_equal_reference_model(entry):
    with torch.device("meta"):  # counts parameters without allocating or running anything
        reference = zoo.reference_model(entry.reference)
    assert analytic_cost(entry.genome).params == count_params(reference)


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.reference.counted], ids=lambda e: e.name)
def test_params_equal_our_count_of_the_paper(entry):
    assert analytic_cost(entry.genome).params == entry.reference.counted


@pytest.mark.parametrize("entry", by_weight(ENTRIES))
def test_analytic_equals_fvcore_on_built_model(entry):
    genome = entry.genome.resolved()
    model = uninitialised(lambda: build(genome))
    measured = fvcore_module_cost(model, genome.in_chans, genome.resolution, activations=False)
    assert analytic_cost(entry.genome) == (measured.params, measured.flops)


@pytest.mark.parametrize("entry", by_weight(MODEL_REFERENCES))
def test_flops_equal_reference_model(entry):
    genome = entry.genome.resolved()
    reference = uninitialised(lambda: zoo.reference_model(entry.reference))
    measured = fvcore_module_cost(reference, genome.in_chans, genome.resolution, activations=False)
    assert analytic_cost(entry.genome).flops == measured.flops


@pytest.mark.parametrize("norm_act", [True, False])
@pytest.mark.parametrize("kind", STEM_KINDS)
def test_read_stem_inverts_make_stem(kind, norm_act):
    assert read_stem(make_stem(kind, 32, "silu", norm_act)) == StemLayout(kind, 32, norm_act)


@pytest.mark.parametrize("name, layout", [
    ("resnet50", StemLayout("imagenet", 64, True)), ("resnet20", StemLayout("cifar", 16, True)),
    ("wrn28_10", StemLayout("cifar", 16, False)), ("densenet121", StemLayout("imagenet", 64, True))])
def test_zoo_stems_are_the_shared_stems(name, layout):
    assert zoo.get(name).stem == make_stem(layout.kind, layout.width, norm_act=layout.norm_act)
    assert read_stem(zoo.get(name).stem) == layout


SMALL_INPUT = [e for e in ENTRIES if e.genome.resolution <= 32]


@pytest.mark.parametrize("entry", by_weight(SMALL_INPUT))
def test_small_input_entries_train_one_step(entry):
    """Forward + backward on a batch of 2 at the entry's own input: right output shape, finite gradients everywhere."""
    _assert_trains(build(entry.genome), entry.genome)


@functools.cache
def digits_members() -> dict:
    """The `lecture` space's members on 1x16x16 digits (genomes are immutable: one dict serves every test)."""
    return get_space("lecture", in_chans=1, resolution=16, num_classes=10).members()


@pytest.mark.parametrize("entry", by_weight([e for e in ENTRIES if not e.variant_of]))
def test_every_entry_adapted_to_digits_trains_one_step(entry):
    """Every lecture network as the `lecture` space adapts it to 1x16x16 digits (CIFAR-style stem, 10 classes)."""
    genome = digits_members()[entry.name]
    _assert_trains(build(genome.resolved()), genome.resolved())


def _assert_trains(model, genome):
    torch.manual_seed(0)
    model.train()
    x = torch.randn(2, genome.in_chans, genome.resolution, genome.resolution)
    out = model(x)
    assert out.shape == (2, genome.num_classes)
    F.cross_entropy(out, torch.tensor([0, 1])).backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None for g in grads)
    # every gradient finite: a sum is inf or NaN as soon as one element is (and a finite sum is never wrongly
    # passed, only a sum that overflows is wrongly failed); isfinite per element allocates a mask as large as the
    # weights (vgg16 on digits: 134 M parameters, 0.8 s)
    assert torch.isfinite(torch.stack([g.sum() for g in grads])).all()


def test_resnet50_v1_strides_the_first_1x1_and_is_near_the_papers_flops():
    """He et al. 2015 (Table 1: 3.8 x 10^9 FLOPs) put the stride on the first 1x1 of a bottleneck; torchvision's
    resnet50 (v1.5) strides the 3x3, which costs 6 % more mult-adds at the same parameters."""
    v1 = zoo.get("resnet50_v1")
    assert v1 == imagenet_resnet(bottleneck_stages(BOTTLENECK_DEPTHS[50], stride_1x1=True))
    measured = fvcore_module_cost(uninitialised(lambda: build(v1)), 3, 224, activations=False)
    assert analytic_cost(v1) == (measured.params, measured.flops) == (25_557_032, 3_879_247_872)
    assert analytic_cost(zoo.get("resnet50")) == (25_557_032, 4_111_512_576)
    assert abs(3_879_247_872 / 3.8e9 - 1) < 0.021 and 4_111_512_576 / 3.8e9 - 1 > 0.08


def test_lenet5_with_the_papers_c3_table_has_1516_params_at_c3():
    """LeCun et al. 1998, Table I: 60 connections of 5x5 weights plus 16 biases = 1,516 (full connections: 2,416)."""
    table = layer_table(zoo.get("lenet5_c3_table"))
    c3 = table[table.block == "stages[2]"]
    assert int(c3.params.sum()) == 1_516 and len(c3[c3.type == "conv kxk"]) == 16
    assert analytic_cost(zoo.get("lenet5_c3_table")).params == analytic_cost(zoo.get("lenet5")).params - 900
    measured = fvcore_module_cost(build(zoo.get("lenet5_c3_table")), 1, 32, activations=False)
    assert (measured.params, measured.flops) == analytic_cost(zoo.get("lenet5_c3_table"))
