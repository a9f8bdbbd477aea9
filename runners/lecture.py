"""python -m runners.lecture: every quantitative claim of the course decks about an architecture, beside the figure
this project computes for it (analytic, from the zoo's genomes: nothing typed in), and how they compare."""
from __future__ import annotations

import argparse
import json
import textwrap

from nasbench.lecture.check import compare, shown
from nasbench.lecture.claims import CLAIMS
from runners.cli import parser

QUOTE_WIDTH = 48
MATCH_WIDTH = 28  # wider cells (a deck's inconsistency explained) push the source column right on their line


def rows() -> list[dict]:
    """One row per claim: deck, quote, the deck's figure, ours, the match, and where ours comes from."""
    out = []
    for claim in CLAIMS:
        ours = claim.ours()
        out.append({"deck": claim.deck, "quote": claim.quote, "deck_figure": claim.figure, "ours": shown(ours),
                    "match": compare(claim, ours), "source": claim.source})
    return out


def table(found: list[dict]) -> str:
    """Fixed-width columns; the quote wraps at word boundaries."""
    widths = {key: min(MATCH_WIDTH, max(len(key), *(len(r[key]) for r in found)))
              for key in ("deck_figure", "ours", "match")}
    header = f"{'#':>3} {'deck':<8} {'quote':<{QUOTE_WIDTH}} " + " ".join(f"{k:<{w}}" for k, w in widths.items())
    lines = [header + " source", "-" * (len(header) + 7)]
    for i, row in enumerate(found, 1):
        first, *more = textwrap.wrap(row["quote"], QUOTE_WIDTH) or [""]
        cells = " ".join(f"{row[k]:<{w}}" for k, w in widths.items())
        lines.append(f"{i:>3} {row['deck'][:8]:<8} {first:<{QUOTE_WIDTH}} {cells} {row['source']}")
        lines += [f"{'':>3} {'':<8} {part}" for part in more]
    exact = sum(r["match"] == "exact" for r in found)
    rounded = sum(r["match"].startswith("within rounding") for r in found)
    inconsistent = sum(r["match"].startswith("deck inconsistent") for r in found)
    lines += ["", f"{len(found)} claims: {exact} exact, {rounded} within the deck's rounding, {inconsistent} where the "
                  f"deck disagrees with its own rows, {len(found) - exact - rounded - inconsistent} other "
                  "differences (the percent is ours against the deck's)."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = parser("lecture", "The course decks' quantitative claims about architectures (parameter totals, per-layer "
                          "params, output shapes, operation counts, shares, ratios), each beside ours.")
    p.add_argument("--format", choices=("table", "json"), default="table")
    args: argparse.Namespace = p.parse_args(argv)
    found = rows()
    print(json.dumps(found, indent=2) if args.format == "json" else table(found))


if __name__ == "__main__":
    main()
