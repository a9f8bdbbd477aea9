"""Per-layer cost tables: analytic (nothing built), summing to the genome's totals, equal to fvcore by operator and
in activations, and MobileNet's Table 2 read off them."""
from __future__ import annotations

import pytest

from nasbench import zoo
from nasbench.cost import analytic_cost, fvcore_cost, fvcore_flops_by_operator
from nasbench.cost_table import flops_by_operator, layer_table, type_summary
from nasbench.zoo.inceptions import inception_network


@pytest.mark.parametrize("name", zoo.names())
def test_a_layer_table_sums_to_the_totals(name):
    table = layer_table(zoo.get(name))
    assert (int(table.params.sum()), int(table.flops.sum())) == analytic_cost(zoo.get(name))
    summary = type_summary(table)
    assert summary.params_share.sum() == pytest.approx(100) and summary.flops_share.sum() == pytest.approx(100)


SMALL_IRV2 = inception_network("resnet_v2", (1, 1, 1), "cifar").with_input(resolution=16)


@pytest.mark.parametrize("genome", [
    zoo.get("mobilenet_v1").with_input(resolution=32), zoo.get("cbam_resnet50").with_input(resolution=32),
    zoo.get("ecaresnet50").with_input(resolution=32), zoo.get("densenet121").with_input(resolution=32),
    zoo.get("mobilenet_v3_small").with_input(resolution=32), zoo.get("shufflenet_v1_g3").with_input(resolution=32),
    SMALL_IRV2, zoo.get("vgg11_bn").with_input(resolution=32)],
    ids=["mobilenet_v1", "cbam_resnet50", "ecaresnet50", "densenet121", "mobilenet_v3_small", "shufflenet_v1_g3",
         "inception_resnet_v2_small", "vgg11_bn"])
def test_flops_by_operator_and_activations_equal_fvcore(genome):
    table = layer_table(genome)
    measured = fvcore_flops_by_operator(genome)
    assert flops_by_operator(table) == {op: flops for op, flops in measured.items() if flops}
    assert int(table.activations.sum()) == fvcore_cost(genome).activations


def test_mobilenet_table_2_from_the_layer_shapes():
    """Howard et al. 2017, Table 2: 1x1 conv 94.86 % of mult-adds / 74.59 % of params, depthwise 3.06 / 1.06, FC
    0.18 / 24.33, full 3x3 conv 1.19 / 0.02. The layers give 1.91 % for the 3x3 conv (the table's 1.19 transposes
    its digits: only 1.91 makes the four shares add to 100) and 74.57 / 24.35 % for the params."""
    summary = type_summary(layer_table(zoo.get("mobilenet_v1"))).set_index("type").round(2)
    shares = summary[["weight_flops_share", "weight_params_share"]]
    assert shares.loc["conv 1x1"].tolist() == [94.86, 74.57]
    assert shares.loc["depthwise"].tolist() == [3.06, 1.06]
    assert shares.loc["conv kxk"].tolist() == [1.91, 0.02]
    assert shares.loc["fully connected"].tolist() == [0.18, 24.35]
    assert summary.loc["norm", "weight_flops_share"] == 0 and summary.loc["norm", "flops"] == 10_085_376


def test_layers_record_output_shapes_and_kinds():
    table = layer_table(zoo.get("googlenet"))
    first = table.iloc[0]
    assert (first.block, first.type, first.channels, first.height, first.width) == ("stem[0]", "conv kxk", 64, 112,
                                                                                     112)
    assert table[table.type == "pool"].iloc[0][["channels", "height", "width"]].tolist() == [64, 56, 56]
    assert set(table.type) <= {"conv 1x1", "conv kxk", "pool", "norm", "fully connected"}
