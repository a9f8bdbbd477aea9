"""pandas over search results: load run folders, Pareto fronts, hypervolume, run comparison, EDFs, attribute effects.

Objectives are a dict column -> "max" | "min" (`{"accuracy": "max", "flops": "min"}`). Unless told otherwise,
only COMPLETE trials (when the table has a `state` column) with finite objective values are eligible for
fronts and hypervolumes. Internally every objective is minimised: "max" columns are negated.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from nasbench.genome import STAGE_KEYS, Genome

COMPLETE, PRUNED, FAIL = "COMPLETE", "PRUNED", "FAIL"
DEFAULT_OBJECTIVES = {"accuracy": "max", "flops": "min"}
RUN_METADATA = ("run_id", "space", "sampler", "seed")
PRODUCER = "python -m runners.search"
STAGE_LISTS = ("stem", "stages")


# ---- objectives ------------------------------------------------------------------------------------------
def parse_objectives(text: str) -> dict[str, str]:
    """`"accuracy:max,flops:min"` -> `{"accuracy": "max", "flops": "min"}`."""
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, direction = part.partition(":")
        if not sep or not name or direction not in ("max", "min"):
            raise ValueError(f"objective {part!r} is not name:max or name:min")
        if name in out:
            raise ValueError(f"objective {name!r} given twice")
        out[name] = direction
    if not out:
        raise ValueError(f"no objectives in {text!r}; expected e.g. accuracy:max,flops:min")
    return out


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


# ---- loading ---------------------------------------------------------------------------------------------
def _not_a_run(folder: Path, missing: str) -> ValueError:
    return ValueError(f"{folder} is not a run folder: {missing} is missing (run folders are written by {PRODUCER})")


def load_run(path: str | Path) -> pd.DataFrame:
    """One run folder -> its trials table with the genome expanded into dotted columns and run metadata
    (`run_id`, and `space`, `sampler`, `seed` from config.json's settings).

    Genome columns follow the genome JSON: `resolution`, `stem.0.channels`, `stages.2.block`, `head.dropout`,
    `scaling.width`; integer-list fields (`head.hidden`) stay tuples. Rows without a genome get NaN there.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise ValueError(f"{folder}: no such folder")
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise _not_a_run(folder, "config.json")
    try:
        config = json.loads(config_path.read_text())
    except ValueError as exc:
        raise ValueError(f"{config_path} is not valid JSON ({exc})") from None
    if not isinstance(config, dict):
        raise ValueError(f"{config_path} holds no JSON object")
    if (folder / "trials.parquet").is_file():
        trials = pd.read_parquet(folder / "trials.parquet")
    elif (folder / "trials.csv").is_file():
        text_columns = {"zoo_name": str, "failure_reason": str, "trial_id": str}
        trials = pd.read_csv(folder / "trials.csv", dtype=text_columns).fillna({"zoo_name": "", "failure_reason": ""})
    else:
        raise _not_a_run(folder, "trials.parquet (or trials.csv)")
    if "genome_json" not in trials.columns:
        raise ValueError(f"{folder}: the trials table has no genome_json column")
    settings = config.get("settings") or {}  # runners.search stores its flags there
    metadata = {"run_id": config.get("run_id") or folder.name,
                **{name: settings.get(name) for name in RUN_METADATA if name != "run_id"}}
    for name in RUN_METADATA:
        if name not in trials.columns:
            trials[name] = metadata[name]
    order = [*RUN_METADATA, *(c for c in trials.columns if c not in RUN_METADATA)]
    try:
        genomes = expand_genomes(trials["genome_json"])
    except ValueError as exc:
        raise ValueError(f"{folder}: {exc}") from None
    return pd.concat([trials[order].reset_index(drop=True), genomes], axis=1)


def load_runs(paths: Iterable[str | Path]) -> pd.DataFrame:
    """Several run folders -> one table (run ids must differ)."""
    frames = [load_run(p) for p in paths]
    if not frames:
        raise ValueError("no run folders given")
    ids = [frame["run_id"].iloc[0] if len(frame) else None for frame in frames]
    seen = {run_id for run_id in ids if ids.count(run_id) > 1 and run_id is not None}
    if seen:
        raise ValueError(f"run id(s) {', '.join(map(str, sorted(seen)))} appear in more than one folder")
    return pd.concat(frames, ignore_index=True)


def _flatten(value: object, name: str, out: dict) -> dict:
    """Nested genome JSON -> {"stages.0.block": ..., "head.dropout": ...}; integer lists become tuples."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list) and (name in STAGE_LISTS or (value and all(isinstance(v, dict) for v in value))):
        items = enumerate(value)
    else:
        out[name] = tuple(value) if isinstance(value, list) else value
        return out
    for key, item in items:
        _flatten(item, f"{name}.{key}" if name else str(key), out)
    return out


def _column_order(name: str) -> tuple:
    parts = name.split(".")
    top = Genome.TOP_KEYS.index(parts[0]) if parts[0] in Genome.TOP_KEYS else len(Genome.TOP_KEYS)
    index = int(parts[1]) if len(parts) > 2 and parts[1].isdigit() else -1
    return top, index, 0 if parts[-1] in STAGE_KEYS else 1


def expand_genomes(genome_json: pd.Series) -> pd.DataFrame:
    """A column of genome JSON texts -> one dotted column per genome field (each distinct genome parsed once)."""
    texts = genome_json.where(genome_json.astype(str).str.len() > 0)
    codes, uniques = pd.factorize(texts)
    records = []
    for text in uniques:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"genome_json {str(text)[:60]!r} is not JSON ({exc})") from None
        if not isinstance(data, dict):
            raise ValueError(f"genome_json {str(text)[:60]!r} is not a JSON object")
        records.append(_flatten(data, "", {}))
    flat = pd.DataFrame.from_records(records) if records else pd.DataFrame()
    flat = flat[sorted(flat.columns, key=_column_order)]
    return flat.reindex(codes).reset_index(drop=True)


def genome_columns(df: pd.DataFrame) -> list[str]:
    """The columns that came from the genome (`resolution`, `stages.0.block`, `head.dropout`, ...)."""
    return [c for c in df.columns if isinstance(c, str) and c.split(".")[0] in Genome.TOP_KEYS]


# ---- Pareto fronts ---------------------------------------------------------------------------------------
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


# ---- hypervolume -----------------------------------------------------------------------------------------
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


def default_reference(frames: Iterable[pd.DataFrame], objectives: Mapping[str, str],
                      complete_only: bool | None = None, margin: float = 0.1) -> dict[str, float]:
    """A shared reference: the worst eligible value of each objective over all frames, pushed outwards by
    `margin` x its range (x |value|, or 1, when the range is 0), so every eligible point counts."""
    stacked = [minimised(f, objectives)[eligible_mask(f, objectives, complete_only)] for f in frames]
    points = np.vstack(stacked) if stacked else np.empty((0, len(objectives)))
    if len(points) == 0:
        raise ValueError("no eligible trials to derive a hypervolume reference from; pass one")
    worst, best = points.max(axis=0), points.min(axis=0)
    spread = np.where(worst > best, worst - best, np.where(worst != 0, np.abs(worst), 1.0))
    ref = worst + margin * spread
    return {name: float(-r if d == "max" else r) for (name, d), r in zip(objectives.items(), ref)}


# ---- several runs ----------------------------------------------------------------------------------------
def split_runs(runs: Mapping[str, pd.DataFrame] | Iterable[pd.DataFrame] | pd.DataFrame) -> dict[str, pd.DataFrame]:
    """A dict run_id -> table, a list of single-run tables, or one table with a run_id column -> dict."""
    if isinstance(runs, Mapping):
        return {str(k): v for k, v in runs.items()}
    if isinstance(runs, pd.DataFrame):
        if "run_id" not in runs.columns:
            raise ValueError("a combined table needs a 'run_id' column")
        return {str(k): g for k, g in runs.groupby("run_id", sort=False)}
    out: dict[str, pd.DataFrame] = {}
    for frame in runs:
        ids = frame["run_id"].unique() if "run_id" in frame.columns else []
        if len(ids) != 1:
            raise ValueError(f"each table in a list must hold exactly one run_id, got {list(ids)}")
        if str(ids[0]) in out:
            raise ValueError(f"run {ids[0]!r} given twice")
        out[str(ids[0])] = frame
    return out


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
        states = table["state"].value_counts() if "state" in table.columns else pd.Series(dtype=int)
        eligible = table[eligible_mask(table, objectives, complete_only)]
        row = {"run_id": run_id, "trials": len(table), "complete": int(states.get(COMPLETE, 0)),
               "pruned": int(states.get(PRUNED, 0)), "failed": int(states.get(FAIL, 0)),
               "front_size": len(fronts[run_id]),
               "hypervolume": hypervolume(table, objectives, reference, complete_only)}
        for name, direction in objectives.items():
            values = eligible[name]
            row[f"best_{name}"] = (values.max() if direction == "max" else values.min()) if len(values) else np.nan
        for other in tables:
            if other != run_id:
                row[f"dominated_by:{other}"] = dominated_share(fronts[run_id], fronts[other])
        rows.append(row)
    return pd.DataFrame(rows).set_index("run_id")


# ---- distributions and attributes ------------------------------------------------------------------------
def edf(df: pd.DataFrame, metric: str = "accuracy", complete_only: bool | None = None) -> pd.DataFrame:
    """Empirical distribution of error = 1 - `metric` (Radosavovic et al. 2019): columns `error` (sorted) and
    `fraction` (share of models with error <= this one)."""
    eligible = df[eligible_mask(df, {metric: "max"}, complete_only)]
    error = np.sort(1.0 - eligible[metric].to_numpy(dtype=float))
    fraction = np.searchsorted(error, error, side="right") / max(len(error), 1)
    return pd.DataFrame({"error": error, "fraction": fraction})


def attribute_effects(df: pd.DataFrame, accuracy: str = "accuracy", cost: str = "flops", max_values: int = 12,
                      complete_only: bool | None = None) -> pd.DataFrame:
    """For each genome column with 2..`max_values` distinct values (absent = NaN counts as one): per value the
    count, mean/median accuracy and cost, `accuracy_shift` (median - overall median) and `cost_ratio` (median /
    overall median). Attributes are ordered by `effect` (the spread of their accuracy shifts), largest first;
    columns that split the trials identically are reported once, the others named in `also`."""
    table = df[eligible_mask(df, {accuracy: "max", cost: "min"}, complete_only)]
    columns = ["attribute", "value", "count", f"{accuracy}_mean", f"{accuracy}_median", f"{accuracy}_shift",
               f"{cost}_mean", f"{cost}_median", f"{cost}_ratio", "effect", "also"]
    overall_acc, overall_cost = table[accuracy].median(), table[cost].median()
    same_split: dict[bytes, list[str]] = {}
    for name in genome_columns(table):
        codes = pd.factorize(table[name], use_na_sentinel=False)[0]
        if 2 <= codes.max(initial=0) + 1 <= max_values:
            same_split.setdefault(codes.tobytes(), []).append(name)
    parts = []
    for name, *others in same_split.values():
        stats = table.groupby(name, dropna=False, sort=True).agg(
            count=(accuracy, "size"), acc_mean=(accuracy, "mean"), acc_median=(accuracy, "median"),
            cost_mean=(cost, "mean"), cost_median=(cost, "median"))
        shift = stats["acc_median"] - overall_acc
        parts.append(pd.DataFrame(dict(zip(columns, [
            name, stats.index.to_list(), stats["count"].to_numpy(), stats["acc_mean"].to_numpy(),
            stats["acc_median"].to_numpy(), shift.to_numpy(), stats["cost_mean"].to_numpy(),
            stats["cost_median"].to_numpy(), (stats["cost_median"] / overall_cost).to_numpy(),
            shift.max() - shift.min(), ", ".join(others)]))))
    if not parts:
        return pd.DataFrame(columns=columns)
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["effect", "attribute", columns[5]], ascending=[False, True, False],
                           kind="stable").reset_index(drop=True)
