"""Compound against single-dimension scaling over seeds: the numbers and outcomes of a hand-built set of runs."""
from __future__ import annotations

import pandas as pd
import pytest

from nasbench.analysis.seeds import CONTRADICTED, REPRODUCED, WITHIN_SPREAD
from nasbench.scaling.compare import comparison_markdown, strategy_comparison


def runs() -> pd.DataFrame:
    accuracy = {("compound", 2.0): [0.90, 0.91, 0.92], ("depth", 2.0): [0.80, 0.81, 0.82],
                ("width", 2.0): [0.88, 0.90, 0.92], ("compound", 4.0): [0.90, 0.90, 0.90],
                ("resolution", 4.0): [0.95, 0.96, 0.97], ("baseline", 1.0): [0.5, 0.5, 0.5]}
    rows = [{"baseline": "resnet", "strategy": s, "target": t, "seed": seed, "status": "ok", "test_accuracy": value}
            for (s, t), values in accuracy.items() for seed, value in enumerate(values)]
    rows.append({"baseline": "resnet", "strategy": "depth", "target": 2.0, "seed": 3, "status": "failed",
                 "test_accuracy": 0.0})
    return pd.DataFrame(rows)


def test_compound_is_compared_with_every_strategy_and_the_best_is_marked():
    table = strategy_comparison(runs()).set_index(["target", "strategy"])
    assert list(table.index) == [(2.0, "depth"), (2.0, "width"), (4.0, "resolution")]
    depth, width, resolution = table.loc[(2.0, "depth")], table.loc[(2.0, "width")], table.loc[(4.0, "resolution")]
    assert depth["strategy_mean"] == pytest.approx(0.81) and depth["strategy_std"] == pytest.approx(0.01)
    assert depth["compound_higher"] == REPRODUCED and not depth["best_single"]
    assert width["compound_higher"] == WITHIN_SPREAD and width["best_single"]
    assert width["difference"] == pytest.approx(0.01)
    assert resolution["compound_higher"] == CONTRADICTED and resolution["difference"] == pytest.approx(-0.06)


def test_the_markdown_shows_the_best_single_dimension_only():
    text = comparison_markdown(strategy_comparison(runs()))
    assert "| resnet | 2x | 0.9100 ± 0.0100 | width | 0.9000 ± 0.0200 |" in text
    assert "depth" not in text.split("\n\n")[0]
