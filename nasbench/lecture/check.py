"""A deck's quantitative claim beside the figure this project computes for it, and how the two compare."""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

from nasbench.zoo.entry import stated_figure


@dataclasses.dataclass(frozen=True)
class Claim:
    """One claim of a deck: where it is (`deck`, a short `quote`), its `figure` as the deck writes it, how to compute
    ours (`ours`, returning a number, or a shape in the deck's notation), and the genome or command that gives it.
    `inconsistent`: why the deck disagrees with its own rows, when it does (the match then says so)."""

    deck: str
    quote: str
    figure: str
    ours: Callable[[], int | float | str]
    source: str
    inconsistent: str = ""


def figure_value(figure: str) -> tuple[float, float]:
    """A deck figure as (value, rounding step): "138M" -> (138e6, 1e6), "94.86%" -> (94.86, 0.01), "1,516" ->
    (1516, 1), "3.8G" -> (3.8e9, 1e8)."""
    text = figure.strip().removeprefix("~").removeprefix("≈").strip()
    text = re.sub(r"\s*million$", "M", re.sub(r"\s*billion$", "G", text)).replace(" M", "M").replace("k", "K")
    if re.fullmatch(r"\d+(?:\s*[x×]\s*\d+)+", text):  # an unevaluated product: 28 x 28 x 128 x 1 x 1 x 256
        product = 1
        for factor in re.split(r"\s*[x×]\s*", text):
            product *= int(factor)
        return float(product), 1.0
    if text.endswith("x") and re.fullmatch(r"\d+(\.\d+)?x", text):  # a ratio: 12x
        return float(text[:-1]), 10.0 ** -len(text[:-1].partition(".")[2])
    if text.endswith("%"):
        number = text[:-1]
        decimals = len(number.partition(".")[2])
        return float(number), 10.0 ** -decimals
    if re.fullmatch(r"\d+(?:,\d{3})+|\d+", text):
        return float(text.replace(",", "")), 1.0
    value, step = stated_figure(text)
    return float(value), float(step)


def compare(claim: Claim, ours: int | float | str) -> str:
    """'exact', 'within rounding (+0.4 %)', the difference in percent, or for a shape 'exact' / 'differs'; prefixed
    with the deck's own inconsistency where there is one."""
    if isinstance(ours, str):  # a shape: the same numbers in the same order, whatever the separators
        verdict = "exact" if re.findall(r"\d+", ours) == re.findall(r"\d+", claim.figure) else "differs"
    else:
        value, step = figure_value(claim.figure)
        percent = 100 * (ours - value) / value if value else 0.0
        if ours == value:
            verdict = "exact"
        elif 2 * abs(ours - value) <= step * (1 + 1e-9):
            verdict = f"within rounding ({percent:+.1f} %)"
        else:
            verdict = f"{percent:+.1f} %"
    return f"deck inconsistent ({claim.inconsistent}); {verdict}" if claim.inconsistent else verdict


def shown(ours: int | float | str) -> str:
    """Our figure as the table shows it."""
    if isinstance(ours, str):
        return ours
    if isinstance(ours, float):
        return f"{ours:.2f}"
    return f"{ours:,d}"
