"""Every zoo entry: parameter count equals its reference, and analytic cost equals fvcore on the built model."""
import pytest
import torch

from nasbench import build, zoo
from nasbench.cost import analytic_cost, count_params, fvcore_module_cost

ENTRIES = zoo.all_entries()
IDS = [e.name for e in ENTRIES]
MODEL_REFERENCES = [e for e in ENTRIES if e.reference.source != "paper"]

REQUIRED = (
    "lenet5 alexnet alexnet_grouped alexnet_torchvision zfnet vgg11 vgg13 vgg16 vgg19 vgg11_bn vgg13_bn vgg16_bn "
    "vgg19_bn nin all_cnn_c strided_cnn_c convpool_cnn_c googlenet inception_v3 xception resnet18 resnet34 resnet50 "
    "resnet101 resnet152 preact_resnet18 resnet20 resnet32 resnet44 resnet56 resnet110 wide_resnet50_2 "
    "wide_resnet101_2 wrn28_10 resnext50_32x4d densenet121 densenet169 densenet201 mobilenet_v1 mobilenet_v2 "
    "shufflenet_v1_g3 shufflenet_v2_x1_0 seresnet50 ecaresnet50 cbam_resnet50 "
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


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.reference.params], ids=lambda e: e.name)
def test_params_equal_paper(entry):
    assert analytic_cost(entry.genome).params == entry.reference.params


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_analytic_equals_fvcore_on_built_model(entry):
    genome = entry.genome.resolved()
    model = build(genome)
    measured = fvcore_module_cost(model, genome.in_chans, genome.resolution, activations=False)
    assert analytic_cost(entry.genome) == (measured.params, measured.flops)


@pytest.mark.parametrize("entry", MODEL_REFERENCES, ids=[e.name for e in MODEL_REFERENCES])
def test_flops_equal_reference_model(entry):
    genome = entry.genome.resolved()
    reference = zoo.reference_model(entry.reference)
    measured = fvcore_module_cost(reference, genome.in_chans, genome.resolution, activations=False)
    assert analytic_cost(entry.genome).flops == measured.flops
