"""python -m runners.zoo: the lecture zoo with exact parameter and fvcore FLOP counts."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

from nasbench import Genome, GenomeError, zoo
from nasbench.cost import analytic_cost, count_params, fvcore_cost
from runners.cli import fail, parser


def zoo_row(entry, use_fvcore: bool = True) -> dict:
    """One table row: genome costs (fvcore and analytic) beside the reference's parameter count."""
    genome = entry.genome.resolved()
    analytic = analytic_cost(genome)
    measured = fvcore_cost(genome) if use_fvcore else None
    ref = entry.reference
    if ref.source == "paper":
        ref_params = ref.params
    else:
        with torch.device("meta"):
            ref_params = count_params(zoo.reference_model(ref))
    params = measured.params if measured else analytic.params
    return {
        "name": entry.name,
        "family": entry.family,
        "in_chans": genome.in_chans,
        "resolution": genome.resolution,
        "num_classes": genome.num_classes,
        "params": params,
        "flops": measured.flops if measured else analytic.flops,
        "activations": measured.activations if measured else None,
        "analytic_params": analytic.params,
        "analytic_flops": analytic.flops,
        "reference": ref.label,
        "reference_params": ref_params,
        "match": "exact" if ref_params == params else ("n/a" if ref_params is None else f"{params - ref_params:+,d}"),
        "note": ref.note,
    }


def read_genome(text: str) -> Genome:
    """A genome from a JSON file, JSON text or a `Genome.to_str()` id (parsed as data, never evaluated)."""
    if not text.lstrip().startswith("{") and text.endswith(".json"):
        try:
            text = Path(text).read_text()
        except OSError as exc:
            raise GenomeError("genome", f"cannot read {text}: {exc.strerror}") from None
    return Genome.from_json(text) if text.lstrip().startswith("{") else Genome.from_str(text)


def genome_row(genome: Genome, use_fvcore: bool = True) -> dict:
    """Costs of one genome: fvcore (unless use_fvcore=False) and analytic, which must agree."""
    resolved = genome.resolved()
    analytic = analytic_cost(resolved)
    measured = fvcore_cost(resolved) if use_fvcore else None
    return {"genome": genome.to_str(), "key": genome.key(), "in_chans": resolved.in_chans,
            "resolution": resolved.resolution, "num_classes": resolved.num_classes,
            "params": measured.params if measured else analytic.params,
            "flops": measured.flops if measured else analytic.flops,
            "activations": measured.activations if measured else None,
            "analytic_params": analytic.params, "analytic_flops": analytic.flops}


def _table(rows: list[dict]) -> str:
    header = f"{'name':34s} {'input':>11s} {'params':>13s} {'fvcore FLOPs':>16s}  {'reference':32s} {'ref params':>13s}  match"
    lines = [header, "-" * len(header)]
    for r in rows:
        size = f"{r['in_chans']}x{r['resolution']}x{r['resolution']}"
        ref_params = "-" if r["reference_params"] is None else f"{r['reference_params']:,d}"
        lines.append(f"{r['name']:34s} {size:>11s} {r['params']:>13,d} {r['flops']:>16,d}  {r['reference']:32.32s} "
                     f"{ref_params:>13s}  {r['match']}")
    notes = [f"- {r['name']}: {r['note']}" for r in rows if r["note"]]
    return "\n".join(lines + (["", "Notes:"] + notes if notes else []))


def main(argv: list[str] | None = None) -> None:
    p = parser("zoo", "Every lecture architecture as a genome, with exact params and fvcore FLOPs (1 multiply-add = "
                      "1 FLOP) beside the torchvision/timm/paper reference.")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--name", help="print this architecture's genome as JSON (what Genome.from_json reads)")
    p.add_argument("--family", help="only this family (resnet, densenet, ...)")
    p.add_argument("--genome", metavar="JSON_OR_ID",
                   help="cost of one genome instead of the zoo: a .json file, JSON text or a Genome.to_str() id")
    p.add_argument("--analytic", action="store_true", help="skip fvcore and report the analytic counts (fast)")
    args = p.parse_args(argv)
    if args.genome is not None:
        try:
            row = genome_row(read_genome(args.genome), use_fvcore=not args.analytic)
        except GenomeError as exc:
            fail(str(exc))
        print(json.dumps(row, indent=2) if args.format == "json" else
              "\n".join(f"{k:>16s}: {v:,}" if isinstance(v, int) else f"{k:>16s}: {v}" for k, v in row.items()))
        return
    if args.name:
        if args.name not in zoo.names():
            fail(f"unknown architecture {args.name!r}; run `python -m runners.zoo` to list them")
        print(zoo.get(args.name).to_json(indent=2))
        return
    entries = [e for e in zoo.all_entries() if not args.family or e.family == args.family]
    if not entries:
        fail(f"no family {args.family!r}; families: {', '.join(sorted({e.family for e in zoo.all_entries()}))}")
    rows = []
    for i, entry in enumerate(entries, 1):
        if args.format == "table":
            print(f"[{i}/{len(entries)}] {entry.name}", file=sys.stderr, flush=True)
        rows.append(zoo_row(entry, use_fvcore=not args.analytic))
    print(json.dumps(rows, indent=2) if args.format == "json" else _table(rows))


if __name__ == "__main__":
    main()
