"""python -m runners.zoo: the lecture zoo with exact parameter and FLOP counts (analytic; `--fvcore` cross-checks)."""
from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path

import torch

from nasbench import Genome, GenomeError, zoo
from nasbench.cost import analytic_cost, count_params, fvcore_cost, fvcore_flops_by_operator
from nasbench.cost_table import flops_by_operator, layer_table, type_summary
from nasbench.errors import did_you_mean
from runners.cli import fail, parser

REFERENCE_WIDTH = 44  # the table's last column, the reference, wraps at word boundaries to this width
RIGHT_ALIGNED = ("input", "params", "FLOPs", "ref params")
NOT_BUILT = "not built"  # `match` of a torchvision/timm reference that was not built (no --fvcore)


def genome_costs(genome: Genome, use_fvcore: bool) -> dict:
    """`params` and `flops` (analytic, equal to fvcore's by construction); with `use_fvcore` also fvcore's counts
    on the built model, its activation count and whether it agrees with the analytic one."""
    resolved = genome.resolved()
    analytic = analytic_cost(resolved)
    costs = {"params": analytic.params, "flops": analytic.flops}
    if use_fvcore:
        measured = fvcore_cost(resolved)
        costs.update(fvcore_params=measured.params, fvcore_flops=measured.flops, activations=measured.activations,
                     fvcore_agrees=(measured.params, measured.flops) == (analytic.params, analytic.flops))
    return costs


def reference_params(ref: zoo.Reference, build_models: bool) -> int | None:
    """The reference's parameter count: the paper's stated figure as a number (None where it states none), or,
    when `build_models`, that of the torchvision/timm model built without weights on the meta device."""
    if ref.source == "paper":
        return zoo.stated_figure(ref.stated)[0] if ref.stated else None
    if not build_models:
        return None
    with torch.device("meta"):
        return count_params(zoo.reference_model(ref))


def match(params: int, ref_params: int | None, ref: zoo.Reference) -> str:
    """Against a built model: 'exact', the difference ('+1,024') or NOT_BUILT. Against a paper's figure: the
    difference in percent, 'within rounding' when the figure is ours rounded as the paper rounds; 'n/a' without one.
    Only a built, independent implementation can make a count exact."""
    if ref.source != "paper":
        if ref_params is None:
            return NOT_BUILT
        return "exact" if ref_params == params else f"{params - ref_params:+,d}"
    if ref_params is None:
        return "n/a"
    value, step = zoo.stated_figure(ref.stated)
    percent = f"{100 * (params - value) / value:+.1f} %"
    return f"within rounding ({percent})" if 2 * abs(params - value) <= step else percent


def zoo_row(entry: zoo.ZooEntry, use_fvcore: bool = False) -> dict:
    """One table row: the genome's costs beside its reference's parameter count (for a paper, as stated)."""
    genome = entry.genome.resolved()
    row = {"name": entry.name, "family": entry.family, "in_chans": genome.in_chans,
           "resolution": genome.resolution, "num_classes": genome.num_classes, **genome_costs(genome, use_fvcore)}
    ref = entry.reference
    ref_params = reference_params(ref, build_models=use_fvcore)
    return {**row, "reference": ref.label, "reference_params": ref_params, "reference_stated": ref.stated or None,
            "match": match(row["params"], ref_params, ref), "note": ref.note}


def read_genome(text: str) -> Genome:
    """A genome from a JSON file, JSON text or a `Genome.to_str()` id (parsed as data, never evaluated)."""
    if not text.lstrip().startswith("{") and text.endswith(".json"):
        try:
            text = Path(text).read_text(encoding="utf-8-sig")  # a byte-order mark is not part of the JSON
        except (OSError, UnicodeDecodeError) as exc:
            raise GenomeError("genome", f"cannot read {text}: {getattr(exc, 'strerror', None) or exc}") from None
    text = text.removeprefix("\ufeff")
    return Genome.from_json(text) if text.lstrip().startswith("{") else Genome.from_str(text)


def genome_row(genome: Genome, use_fvcore: bool = False) -> dict:
    """Costs of one genome (see `genome_costs`)."""
    resolved = genome.resolved()
    return {"genome": genome.to_str(), "key": genome.key(), "in_chans": resolved.in_chans,
            "resolution": resolved.resolution, "num_classes": resolved.num_classes,
            **genome_costs(resolved, use_fvcore)}


def _field(name: str, value: object) -> str:
    """'          params: 269,722'."""
    shown = f"{value:,d}" if isinstance(value, int) and not isinstance(value, bool) else str(value)
    return f"{name:>16s}: {shown}"


def _cells(row: dict) -> dict[str, str]:
    """One zoo row as table cells, the reference last (it wraps)."""
    cells = {"name": row["name"], "input": f"{row['in_chans']}x{row['resolution']}x{row['resolution']}",
             "params": f"{row['params']:,d}", "FLOPs": f"{row['flops']:,d}"}
    if "fvcore_agrees" in row:
        cells["fvcore"] = "same" if row["fvcore_agrees"] else "DIFFERS"
    ref_params, stated = row["reference_params"], row["reference_stated"]
    shown = stated or ("-" if ref_params is None else f"{ref_params:,d}")
    return {**cells, "ref params": shown, "match": row["match"],
            "reference": row["reference"]}


def _align(cells: dict[str, str], widths: dict[str, int]) -> str:
    return " ".join(cells[name].rjust(width) if name in RIGHT_ALIGNED else cells[name].ljust(width)
                    for name, width in widths.items())


def _wrap(text: str) -> list[str]:
    """`text` in lines of at most REFERENCE_WIDTH characters, broken at spaces only (a longer word stays whole)."""
    return textwrap.wrap(text, REFERENCE_WIDTH, break_long_words=False, break_on_hyphens=False) or [""]


def _footer(rows: list[dict]) -> list[str]:
    """What the table's words mean, the fvcore verdict and the entries' notes."""
    lines = [""]
    if any(r["match"] == NOT_BUILT for r in rows):
        lines.append(f"{NOT_BUILT}: torchvision/timm references are built (no weights) and counted only with --fvcore; "
                     "tests/test_zoo.py checks that each equals params exactly.")
    if any(r["reference_stated"] for r in rows):
        lines.append("ref params of a paper: its figure as stated; 'within rounding' when ours rounds to it at its "
                     "precision. Only a built torchvision/timm model can make a count 'exact'.")
    checked = [r for r in rows if "fvcore_agrees" in r]
    if checked:
        differing = [r["name"] for r in checked if not r["fvcore_agrees"]]
        verdict = f"; it differs for {', '.join(differing)}." if differing else "."
        lines.append(f"fvcore equals the analytic params and FLOPs for {len(checked) - len(differing)} of "
                     f"{len(checked)} architectures{verdict}")
    notes = [f"- {r['name']}: {r['note']}" for r in rows if r["note"]]
    return lines + (["", "Notes:", *notes] if notes else [])


def _table(rows: list[dict]) -> str:
    """The zoo as a fixed-width table; the reference column wraps onto continuation lines, never inside a word."""
    cells = [_cells(r) for r in rows]
    widths = {name: max(len(name), *(len(c[name]) for c in cells)) for name in cells[0] if name != "reference"}
    header = _align({name: name for name in widths}, widths) + "  reference"
    indent = " " * (len(header) - len("reference"))
    lines = [header, "-" * (len(indent) + REFERENCE_WIDTH)]
    for c in cells:
        first, *more = _wrap(c["reference"])
        lines += [f"{_align(c, widths)}  {first}", *(indent + part for part in more)]
    return "\n".join(lines + _footer(rows))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = parser("zoo", "Every lecture architecture as a genome, with exact params and FLOPs (1 multiply-add = 1 FLOP) "
                      "beside the torchvision/timm/paper reference. The counts are analytic, equal to fvcore's on "
                      "the built model by construction; --fvcore checks that.")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--name", help="print this architecture's genome as JSON (what Genome.from_json reads)")
    p.add_argument("--family", help="only this family (resnet, densenet, ...)")
    p.add_argument("--genome", metavar="JSON_OR_ID",
                   help="cost of one genome instead of the zoo: a .json file, JSON text or a Genome.to_str() id")
    p.add_argument("--layers", nargs="?", const="", metavar="NAME",
                   help="per-layer cost table of this architecture (or, without NAME, of --genome): each layer's "
                        "block, type, output shape, params, FLOPs and activations, then shares by layer type "
                        "(MobileNet's Table 2); --fvcore checks the FLOPs by operator and the activations")
    checks = p.add_mutually_exclusive_group()
    checks.add_argument("--fvcore", action="store_true",
                        help="cross-check, slow (minutes for the whole zoo): count each genome with fvcore on the "
                             "built model beside the analytic count, and build each torchvision/timm reference "
                             "(no weights) to count its params")
    checks.add_argument("--analytic", action="store_true",
                        help="analytic counts only, the default (kept so that older commands still work)")
    return p.parse_args(argv)


def print_genome(args: argparse.Namespace) -> None:
    try:
        row = genome_row(read_genome(args.genome), use_fvcore=args.fvcore)
    except (GenomeError, ValueError) as exc:  # ValueError: too large to build (TooLargeError)
        fail(str(exc))
    print(json.dumps(row, indent=2) if args.format == "json" else "\n".join(_field(k, v) for k, v in row.items()))


def print_zoo(args: argparse.Namespace) -> None:
    entries = [e for e in zoo.all_entries() if not args.family or e.family == args.family]
    if not entries:
        fail(f"no family {args.family!r}; families: {', '.join(sorted({e.family for e in zoo.all_entries()}))}")
    rows = []
    for i, entry in enumerate(entries, 1):
        if args.fvcore and args.format == "table":
            print(f"[{i}/{len(entries)}] {entry.name}", file=sys.stderr, flush=True)
        rows.append(zoo_row(entry, use_fvcore=args.fvcore))
    print(json.dumps(rows, indent=2) if args.format == "json" else _table(rows))


def layers_genome(args: argparse.Namespace) -> Genome:
    """The genome `--layers NAME` or `--layers --genome X` names; exit 2 with one line otherwise."""
    if args.layers and args.genome is not None:
        fail("give --layers NAME or --layers --genome JSON_OR_ID, not both")
    if args.layers:
        if args.layers not in zoo.names():
            fail(did_you_mean("architecture", args.layers, zoo.names()))
        return zoo.get(args.layers)
    if args.genome is None:
        fail("--layers needs an architecture name (--layers resnet50) or --genome JSON_OR_ID")
    try:
        return read_genome(args.genome)
    except GenomeError as exc:
        fail(str(exc))


def print_layers(args: argparse.Namespace) -> None:
    genome = layers_genome(args)
    table = layer_table(genome)
    summary = type_summary(table)
    check = _fvcore_check(genome, table) if args.fvcore else None
    if args.format == "json":
        out = {"layers": table.to_dict(orient="records"), "summary": summary.to_dict(orient="records")}
        print(json.dumps(out | ({"fvcore": check} if check else {}), indent=2))
        return
    print(_layer_lines(table, summary, check))


def _fvcore_check(genome: Genome, table) -> dict:
    """FLOPs by fvcore operator, ours beside fvcore's, and the activation totals."""
    ours, measured = flops_by_operator(table), fvcore_flops_by_operator(genome)
    operators = sorted(set(ours) | {op for op, flops in measured.items() if flops})
    return {"flops_by_operator": {op: {"analytic": ours.get(op, 0), "fvcore": measured.get(op, 0)}
                                  for op in operators},
            "activations": {"analytic": int(table.activations.sum()), "fvcore": fvcore_cost(genome).activations}}


def _layer_lines(table, summary, check: dict | None) -> str:
    """The layers, then the summary by type, then the totals and the fvcore verdict."""
    header = f"{'block':<24} {'#':>2} {'type':<15} {'output':>14} {'params':>12} {'FLOPs':>15} {'activations':>12}"
    lines = [header, "-" * len(header)]
    for row in table.itertuples():
        output = f"{row.channels}x{row.height}x{row.width}"
        lines.append(f"{row.block:<24} {row.layer:>2} {row.type:<15} {output:>14} {row.params:>12,d} "
                     f"{row.flops:>15,d} {row.activations:>12,d}")
    lines += ["", f"{'type':<15} {'layers':>6} {'params':>12} {'%':>6} {'% weights':>9} {'FLOPs':>15} {'%':>6} "
                  f"{'% weights':>9}"]
    for row in summary.itertuples():
        if row.layers:
            lines.append(f"{row.type:<15} {row.layers:>6} {row.params:>12,d} {row.params_share:>6.2f} "
                         f"{row.weight_params_share:>9.2f} {row.flops:>15,d} {row.flops_share:>6.2f} "
                         f"{row.weight_flops_share:>9.2f}")
    lines += [f"{'total':<15} {len(table):>6} {int(table.params.sum()):>12,d} {'':>6} {'':>9} "
              f"{int(table.flops.sum()):>15,d}",
              "% weights: share of the conv and fully connected layers alone, as MobileNet's Table 2 (no BN)."]
    if check:
        agree = all(v["analytic"] == v["fvcore"] for v in check["flops_by_operator"].values())
        agree = agree and check["activations"]["analytic"] == check["activations"]["fvcore"]
        lines.append("fvcore: FLOPs by operator and activations " + ("equal these." if agree else
                                                                     f"DIFFER: {json.dumps(check)}"))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.layers is not None:
        print_layers(args)
    elif args.genome is not None:
        print_genome(args)
    elif args.name:
        if args.name not in zoo.names():
            fail(did_you_mean("architecture", args.name, zoo.names()))
        print(zoo.get(args.name).to_json(indent=2))
    else:
        print_zoo(args)


if __name__ == "__main__":
    main()
