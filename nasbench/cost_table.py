"""Per-layer cost tables from the analytic cost (nothing built): each layer's block, type, output shape, params,
FLOPs and activations, and a summary by layer type in shares of mult-adds and params (MobileNet's Table 2 for any
network). Their sums are the genome's totals, and the FLOPs by type equal fvcore's by operator."""
from __future__ import annotations

import pandas as pd

from nasbench.blocks.tally import LAYER_TYPES, Tally
from nasbench.genome import Genome, trace

LAYER_COLUMNS = ("block", "layer", "type", "channels", "height", "width", "params", "flops", "activations")
WEIGHT_TYPES = ("conv 1x1", "conv kxk", "depthwise", "grouped", "fully connected")  # MobileNet's Table 2 rows
# the fvcore operator each layer type's FLOPs fall under ("other": ECA's 1-d conv, PReLU's zero)
FVCORE_OPERATOR = {"conv 1x1": "conv", "conv kxk": "conv", "depthwise": "conv", "grouped": "conv", "other": "conv",
                   "fully connected": "linear", "norm": "batch_norm", "pool": "adaptive_avg_pool2d"}


def layer_table(genome: Genome) -> pd.DataFrame:
    """One row per layer of the (resolved) genome, in order; `layer` numbers the layers within a block."""
    t = Tally(layers=[])
    trace(genome.resolved(), t)
    rows, within = [], {}
    for cost in t.layers:
        within[cost.block] = within.get(cost.block, -1) + 1
        rows.append({"block": cost.block, "layer": within[cost.block], "type": cost.type, "channels": cost.out.c,
                     "height": cost.out.h, "width": cost.out.w, "params": cost.params, "flops": cost.flops,
                     "activations": cost.activations})
    return pd.DataFrame(rows, columns=list(LAYER_COLUMNS))


def type_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Params, FLOPs and activations by layer type (every type in LAYER_TYPES, in that order), with each type's share
    in percent of all params and FLOPs, and of the conv and FC layers' alone (`weight_*_share`, MobileNet's Table 2,
    which leaves out BN)."""
    sums = table.groupby("type")[["params", "flops", "activations"]].sum().reindex(list(LAYER_TYPES), fill_value=0)
    summary = sums.assign(layers=table.groupby("type").size().reindex(list(LAYER_TYPES), fill_value=0))
    weights = summary.loc[list(WEIGHT_TYPES)]
    for column in ("params", "flops"):
        summary[f"{column}_share"] = 100 * summary[column] / max(int(summary[column].sum()), 1)
        summary[f"weight_{column}_share"] = (100 * summary[column] / max(int(weights[column].sum()), 1)).where(
            summary.index.isin(WEIGHT_TYPES), 0.0)
    return summary.reset_index()[["type", "layers", "params", "params_share", "weight_params_share", "flops",
                                  "flops_share", "weight_flops_share", "activations"]]


def flops_by_operator(table: pd.DataFrame) -> dict[str, int]:
    """The table's FLOPs summed by the fvcore operator they fall under (compare `cost.fvcore_flops_by_operator`)."""
    sums = table.assign(operator=table.type.map(FVCORE_OPERATOR)).groupby("operator").flops.sum()
    return {operator: int(flops) for operator, flops in sums.items() if flops}
