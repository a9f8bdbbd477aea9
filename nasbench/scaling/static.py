"""EfficientNet's compound scaling reproduced on paper: B1..B7 from the B0 genome, and the pure alpha/beta/gamma ladder.

Every count is exact and analytic (== fvcore; one multiply-add = one FLOP, the paper's convention), beside the
paper's Table 2 and, for the official models, timm's parameter count.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from nasbench import atomic
from nasbench.cost import analytic_cost
from nasbench.genome import Genome, Scaling
from nasbench.zoo.efficientnets import COEFFICIENTS, efficientnet_b0_genome, efficientnet_genome

# Tan & Le 2019, Table 2: (params, FLOPs) as printed (5.3M, 0.39B, ...)
PAPER_TABLE2 = {
    "efficientnet_b0": (5.3e6, 0.39e9),
    "efficientnet_b1": (7.8e6, 0.70e9),
    "efficientnet_b2": (9.2e6, 1.0e9),
    "efficientnet_b3": (12e6, 1.8e9),
    "efficientnet_b4": (19e6, 4.2e9),
    "efficientnet_b5": (30e6, 9.9e9),
    "efficientnet_b6": (43e6, 19e9),
    "efficientnet_b7": (66e6, 37e9),
}
PAPER_COEFFICIENTS = (1.2, 1.1, 1.15)  # alpha (depth), beta (width), gamma (resolution): the paper's grid search
LADDER_PHIS = tuple(range(8))
COLUMNS = ("name", "kind", "phi", "width", "depth", "resolution", "params", "flops", "flops_ratio", "paper_params",
           "paper_flops", "timm_params", "timm_match")


def official_genomes() -> dict[str, Genome]:
    """efficientnet_b0..b7: the B0 genome under the official (width, depth, resolution) coefficients."""
    return {name: efficientnet_genome(name) for name in COEFFICIENTS}


def ladder_genomes(coefficients: tuple[float, float, float] = PAPER_COEFFICIENTS,
                   phis: tuple[int, ...] = LADDER_PHIS) -> dict[str, Genome]:
    """ladder_phi<k>: the B0 genome under Scaling(alpha, beta, gamma, phi=k)."""
    alpha, beta, gamma = coefficients
    return {f"ladder_phi{phi}": efficientnet_b0_genome(Scaling(alpha=alpha, beta=beta, gamma=gamma, phi=phi))
            for phi in phis}


def timm_params(name: str) -> int:
    """Parameters of timm's model of that name, built on the meta device (nothing allocated)."""
    import timm
    import torch

    from nasbench.cost import count_params

    with torch.device("meta"):
        return count_params(timm.create_model(name, pretrained=False))


def _row(name: str, kind: str, genome: Genome, base_flops: int, with_timm: bool) -> dict:
    cost = analytic_cost(genome)
    scaling = genome.scaling
    paper = PAPER_TABLE2.get(name, (None, None))
    reference = timm_params(name) if with_timm and kind == "official" else None
    return {
        "name": name, "kind": kind, "phi": scaling.phi if kind == "ladder" else None,
        "width": round(scaling.width_factor, 6), "depth": round(scaling.depth_factor, 6),
        "resolution": genome.resolved().resolution, "params": cost.params, "flops": cost.flops,
        "flops_ratio": cost.flops / base_flops, "paper_params": paper[0], "paper_flops": paper[1],
        "timm_params": reference, "timm_match": None if reference is None else reference == cost.params,
    }


def static_rows(with_timm: bool = True, coefficients: tuple[float, float, float] = PAPER_COEFFICIENTS) -> list[dict]:
    """The official B0..B7 rows (with timm's counts unless with_timm=False), then the ladder phi=0..7."""
    official = official_genomes()
    base_flops = analytic_cost(official["efficientnet_b0"]).flops
    rows = [_row(name, "official", g, base_flops, with_timm) for name, g in official.items()]
    rows += [_row(name, "ladder", g, base_flops, with_timm) for name, g in ladder_genomes(coefficients).items()]
    return rows


def _millions(value: float | None, unit: float, digits: int) -> str:
    return "" if value is None else f"{value / unit:.{digits}f}"


def to_markdown(rows: list[dict]) -> str:
    header = ("| model | phi | width | depth | resolution | params (M) | paper params (M) | FLOPs (B) "
              "| paper FLOPs (B) | FLOPs / B0 | timm params |\n|---|---|---|---|---|---|---|---|---|---|---|")
    lines = [header]
    for r in rows:
        timm_cell = ""
        if r["timm_params"] is not None:
            timm_cell = f"{r['timm_params']:,} " + ("(equal)" if r["timm_match"] else "(DIFFERS)")
        phi = "" if r["phi"] is None else f"{r['phi']:g}"
        lines.append(f"| {r['name']} | {phi} | {r['width']:.3f} | {r['depth']:.3f} | {r['resolution']} "
                     f"| {r['params'] / 1e6:.2f} | {_millions(r['paper_params'], 1e6, 1)} | {r['flops'] / 1e9:.3f} "
                     f"| {_millions(r['paper_flops'], 1e9, 2)} | {r['flops_ratio']:.2f} | {timm_cell} |")
    note = ("\nFLOPs: analytic, equal to fvcore on the built model (one multiply-add = one FLOP, as in the paper). "
            "Official rows: B0 under the official width/depth coefficients and resolution; ladder rows: B0 under "
            "Scaling(alpha=1.2, beta=1.1, gamma=1.15, phi). Paper: Tan & Le 2019, Table 2.\n")
    return "\n".join(lines) + "\n" + note


def to_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in rows)
    return out.getvalue()


def write_static(rows: list[dict], folder: str | Path) -> list[Path]:
    """static.csv and static.md in `folder` (atomically); returns their paths."""
    folder = atomic.writable_folder(folder)
    paths = [folder / "static.csv", folder / "static.md"]
    atomic.write_text(paths[0], to_csv(rows))
    atomic.write_text(paths[1], "# EfficientNet compound scaling: static reproduction\n\n" + to_markdown(rows))
    return paths
