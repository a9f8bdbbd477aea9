"""Loading run folders into pandas: one row per trial (the trial record), the genome expanded into dotted
columns, run metadata beside it."""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from nasbench.genome import STAGE_KEYS, Genome
from nasbench.record import TEXT_COLUMNS, upgrade

RUN_METADATA = ("run_id", "space", "sampler", "seed")
PRODUCER = "python -m runners.search"
STAGE_LISTS = ("stem", "stages")


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
        trials = pd.read_csv(folder / "trials.csv", dtype=dict.fromkeys(TEXT_COLUMNS, str), keep_default_na=False,
                             na_values={c: [""] for c in ("accuracy", "test_accuracy", "flops", "params",
                                                          "latency_ms", "wall_time_s")})
    else:
        raise _not_a_run(folder, "trials.parquet (or trials.csv)")
    trials = upgrade(trials)
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
