"""Pareto fronts, exact hypervolume and run comparison: pure functions on trials tables.

Objectives are a dict column -> "max" | "min" (`{"accuracy": "max", "flops": "min"}`). Unless told otherwise, only
COMPLETE trials (when the table has a `state` column) with finite objective values are eligible for fronts and
hypervolumes. Internally every objective is minimised: "max" columns are negated.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from nasbench.analysis.frames import split_runs
from nasbench.record import COMPLETE, COUNT_COLUMNS, state_counts, trained

DEFAULT_OBJECTIVES = {"accuracy": "max", "flops": "min"}
REFERENCE_MARGIN = 0.1  # the default reference lies this share of each objective's range beyond its worst value


def parse_reference(text: str) -> dict[str, float]:
    """`"accuracy=0,flops=5e8"` -> `{"accuracy": 0.0, "flops": 5e8}`."""
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        try:
            out[name] = float(value)
        except ValueError:
            raise ValueError(f"reference {part!r} is not name=number") from None
        if not sep or not name or not np.isfinite(out[name]):
            raise ValueError(f"reference {part!r} is not name=number")
    return out


def _check_objectives(df: pd.DataFrame, objectives: Mapping[str, str]) -> None:
    if not objectives:
        raise ValueError("no objectives given")
    for name, direction in objectives.items():
        if direction not in ("max", "min"):
            raise ValueError(f"objective {name!r}: direction {direction!r} is neither 'max' nor 'min'")
        if name not in df.columns:
            raise ValueError(f"objective {name!r} is not a column; columns: {', '.join(map(str, df.columns))}")


def minimised(df: pd.DataFrame, objectives: Mapping[str, str]) -> np.ndarray:
    """The objective values as a float matrix (rows x objectives) in which smaller is better."""
    _check_objectives(df, objectives)
    sign = np.array([-1.0 if d == "max" else 1.0 for d in objectives.values()])
    values = df[list(objectives)].to_numpy(dtype=float, na_value=np.nan).reshape(len(df), len(objectives))
    return values * sign


def eligible_mask(df: pd.DataFrame, objectives: Mapping[str, str], complete_only: bool | None = None) -> np.ndarray:
    """Rows with finite values in every objective and, when `complete_only` (default: a `state` column exists),
    state COMPLETE."""
    mask = np.isfinite(minimised(df, objectives)).all(axis=1)
    if complete_only is None:
        complete_only = "state" in df.columns
    if complete_only:
        if "state" not in df.columns:
            raise ValueError("complete_only=True needs a 'state' column")
        mask &= (df["state"] == COMPLETE).to_numpy(dtype=bool, na_value=False)
    return mask


def nondominated(points: np.ndarray) -> np.ndarray:
    """Boolean mask of the non-dominated rows of a (n, k) matrix, all objectives minimised.

    A row is dominated when another is <= in every objective and < in one; rows equal in every objective are
    all kept. Two objectives: one sort, O(n log n). More: one vectorised pass over the survivors per front
    member, O(n x front size).
    """
    points = np.asarray(points, dtype=float)
    n = len(points)
    if n == 0:
        return np.zeros(0, dtype=bool)
    if points.ndim != 2:
        raise ValueError(f"expected a (rows, objectives) matrix, got shape {points.shape}")
    order = np.lexsort(points.T[::-1])
    ranked = points[order]
    keep = np.zeros(n, dtype=bool)
    if points.shape[1] == 2:
        first_of_group = np.r_[True, (ranked[1:] != ranked[:-1]).any(axis=1)]
        group_start = np.maximum.accumulate(np.where(first_of_group, np.arange(n), 0))
        best_before = np.r_[np.inf, np.minimum.accumulate(ranked[:-1, 1])]
        keep[order] = best_before[group_start] > ranked[:, 1]
        return keep
    # Lexicographic order: no row is dominated by a later one, so each survivor removes what it dominates.
    alive, rows, i = np.arange(n), ranked, 0
    while i < len(alive):
        survives = ~((rows >= rows[i]).all(axis=1) & (rows > rows[i]).any(axis=1))
        alive, rows, i = alive[survives], rows[survives], i + 1
    keep[order[alive]] = True
    return keep


def nondominated_ranks(points: np.ndarray) -> np.ndarray:
    """Non-dominated sorting: 0 for the front of `points` (minimised), 1 for the front of the rest, and so on."""
    points = np.asarray(points, dtype=float)
    ranks = np.full(len(points), -1)
    remaining, rank = np.arange(len(points)), 0
    while len(remaining):
        front = nondominated(points[remaining])
        ranks[remaining[front]] = rank
        remaining, rank = remaining[~front], rank + 1
    return ranks


def crowding_distances(points: np.ndarray) -> np.ndarray:
    """NSGA-II's crowding distance of each row among `points` (one front): the normalised side lengths of the
    cuboid its neighbours span, summed over objectives; the extremes of every objective get infinity."""
    points = np.asarray(points, dtype=float)
    n = len(points)
    distance = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for column in points.T:
        order = np.argsort(column, kind="stable")
        spread = column[order[-1]] - column[order[0]]
        distance[order[[0, -1]]] = np.inf
        if spread > 0:
            distance[order[1:-1]] += (column[order[2:]] - column[order[:-2]]) / spread
    return distance


def pareto_mask(df: pd.DataFrame, objectives: Mapping[str, str] = DEFAULT_OBJECTIVES,
                complete_only: bool | None = None) -> np.ndarray:
    """Boolean mask of the rows on the Pareto front of the eligible rows."""
    eligible = eligible_mask(df, objectives, complete_only)
    mask = np.zeros(len(df), dtype=bool)
    mask[np.flatnonzero(eligible)] = nondominated(minimised(df, objectives)[eligible])
    return mask


def pareto_front(df: pd.DataFrame, objectives: Mapping[str, str] = DEFAULT_OBJECTIVES,
                 complete_only: bool | None = None) -> pd.DataFrame:
    """The non-dominated eligible rows, in their original order."""
    return df[pareto_mask(df, objectives, complete_only)]


def _reference_vector(objectives: Mapping[str, str], reference: Mapping[str, float]) -> np.ndarray:
    missing = [name for name in objectives if name not in reference]
    if missing:
        raise ValueError(f"the reference has no value for {', '.join(missing)}")
    return np.array([-reference[n] if d == "max" else reference[n] for n, d in objectives.items()], dtype=float)


def hypervolume_of(points: np.ndarray, ref: np.ndarray) -> float:
    """Exact volume dominated by `points` (minimised) and bounded by `ref`; points not strictly better than
    `ref` in every objective add nothing. 2 objectives: a sweep; more: slices along the last objective."""
    points = np.asarray(points, dtype=float).reshape(-1, len(ref))
    points = points[(points < ref).all(axis=1)]
    if len(points) == 0:
        return 0.0
    if len(ref) == 1:
        return float(ref[0] - points[:, 0].min())
    if len(ref) == 2:
        ranked = points[np.lexsort((points[:, 1], points[:, 0]))]
        lowest_before = np.r_[ref[1], np.minimum.accumulate(ranked[:-1, 1])]
        return float(((ref[0] - ranked[:, 0]) * np.clip(lowest_before - ranked[:, 1], 0.0, None)).sum())
    points = points[nondominated(points)]
    points = points[np.argsort(points[:, -1], kind="stable")]
    tops = np.r_[points[1:, -1], ref[-1]]
    volume = 0.0
    for i in np.flatnonzero(tops > points[:, -1]):
        volume += (tops[i] - points[i, -1]) * hypervolume_of(points[: i + 1, :-1], ref[:-1])
    return float(volume)


def hypervolume(df: pd.DataFrame, objectives: Mapping[str, str], reference: Mapping[str, float],
                complete_only: bool | None = None) -> float:
    """Hypervolume of the eligible rows w.r.t. `reference` (objective -> value), in objective units."""
    ref = _reference_vector(objectives, reference)
    return hypervolume_of(minimised(df, objectives)[eligible_mask(df, objectives, complete_only)], ref)


def hypervolume_over_trials(df: pd.DataFrame, objectives: Mapping[str, str], reference: Mapping[str, float],
                            complete_only: bool | None = None) -> pd.DataFrame:
    """Hypervolume of the front of the first n trials (ordered by `number`), for every n.

    Returns columns `number`, `trials` (n) and `hypervolume`; the front is kept incrementally.
    """
    if "number" not in df.columns:
        raise ValueError("hypervolume over trials needs a 'number' column (the Optuna trial number)")
    ref = _reference_vector(objectives, reference)
    ordered = df.sort_values("number", kind="stable")
    points = minimised(ordered, objectives)
    useful = eligible_mask(ordered, objectives, complete_only) & (points < ref).all(axis=1)
    front = np.empty((0, len(ref)))
    volume, volumes = 0.0, np.zeros(len(ordered))
    for i in range(len(ordered)):
        point = points[i]
        if useful[i] and not (front <= point).all(axis=1).any():
            front = np.vstack([front[~(front >= point).all(axis=1)], point])
            volume = hypervolume_of(front, ref)
        volumes[i] = volume
    return pd.DataFrame({"number": ordered["number"].to_numpy(), "trials": np.arange(1, len(ordered) + 1),
                         "hypervolume": volumes})


def _without_values(frames: list[pd.DataFrame], objectives: Mapping[str, str]) -> list[str]:
    """The objectives that no row of any frame has a finite value for."""
    finite = np.zeros(len(objectives), dtype=bool)
    for frame in frames:
        finite |= np.isfinite(minimised(frame, objectives)).any(axis=0)
    return [name for name, has_values in zip(objectives, finite) if not has_values]


def default_reference(frames: Iterable[pd.DataFrame], objectives: Mapping[str, str],
                      complete_only: bool | None = None, margin: float = REFERENCE_MARGIN) -> dict[str, float]:
    """A shared reference: the worst eligible value of each objective over all frames, pushed outwards by
    `margin` x its range (x |value|, or 1, when the range is 0), so every eligible point counts."""
    frames = list(frames)
    stacked = [minimised(f, objectives)[eligible_mask(f, objectives, complete_only)] for f in frames]
    points = np.vstack(stacked) if stacked else np.empty((0, len(objectives)))
    if len(points) == 0:
        empty = _without_values(frames, objectives)
        if empty:
            raise ValueError(f"no trial has a value for {', '.join(empty)}, so it cannot be an objective of these runs")
        raise ValueError("no eligible trials to derive a hypervolume reference from; pass one")
    worst, best = points.max(axis=0), points.min(axis=0)
    spread = np.where(worst > best, worst - best, np.where(worst != 0, np.abs(worst), 1.0))
    ref = worst + margin * spread
    return {name: float(-r if d == "max" else r) for (name, d), r in zip(objectives.items(), ref)}


def dominated_share(front: np.ndarray, other: np.ndarray) -> float:
    """Share of the rows of `front` dominated (<= everywhere, < somewhere) by a row of `other` (minimised)."""
    if len(front) == 0:
        return float("nan")
    if len(other) == 0:
        return 0.0
    a, b = front[:, None, :], other[None, :, :]
    return float(((b <= a).all(axis=2) & (b < a).any(axis=2)).any(axis=1).mean())


def compare(runs, objectives: Mapping[str, str] = DEFAULT_OBJECTIVES, reference: Mapping[str, float] | None = None,
            complete_only: bool | None = None) -> pd.DataFrame:
    """One row per run: trial counts by state, front size, hypervolume (shared reference: `reference`, or
    `default_reference` over all runs), best value of each objective, and `dominated_by:<other>` - the share
    of this run's front dominated by the other run's front."""
    tables = split_runs(runs)
    if reference is None:
        reference = default_reference(tables.values(), objectives, complete_only)
    fronts = {k: minimised(pareto_front(t, objectives, complete_only), objectives) for k, t in tables.items()}
    rows = []
    for run_id, table in tables.items():
        counts = state_counts(table)
        eligible = table[eligible_mask(table, objectives, complete_only)]
        row = {"run_id": run_id, "trials": trained(counts),
               **{COUNT_COLUMNS[state]: n for state, n in counts.items()}, "front_size": len(fronts[run_id]),
               "hypervolume": hypervolume(table, objectives, reference, complete_only)}
        for name, direction in objectives.items():
            values = eligible[name]
            row[f"best_{name}"] = (values.max() if direction == "max" else values.min()) if len(values) else np.nan
        for other in tables:
            if other != run_id:
                row[f"dominated_by:{other}"] = dominated_share(fronts[run_id], fronts[other])
        rows.append(row)
    return pd.DataFrame(rows).set_index("run_id")
