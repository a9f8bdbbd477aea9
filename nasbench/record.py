"""The trial record: one row of a run's `trials.parquet` / `trials.csv`, written by the search and read by the
analysis. Its fields are the table's columns, in order; `state` is one of `STATES`."""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping

import pandas as pd

COMPLETE, PRUNED, FAIL = "COMPLETE", "PRUNED", "FAIL"
INFEASIBLE, REPEAT, FILTERED = "INFEASIBLE", "REPEAT", "FILTERED"
STATES = (COMPLETE, PRUNED, FAIL, INFEASIBLE, REPEAT, FILTERED)
UNTRAINED = (INFEASIBLE, REPEAT, FILTERED)  # samples told to the study without training: no trial of the target
STATE_WORDS = {  # how summaries, progress lines and reports name each state
    COMPLETE: "complete",
    PRUNED: "pruned (stopped early)",
    FAIL: "failed",
    INFEASIBLE: "over budget (not trained)",
    REPEAT: "repeats of a trained genome (not trained again)",
    FILTERED: "prefiltered out by a proxy (not trained)",
}
COUNT_COLUMNS = {COMPLETE: "complete", PRUNED: "pruned", FAIL: "failed", INFEASIBLE: "infeasible",
                 REPEAT: "repeats", FILTERED: "filtered"}  # per-state counts


@dataclasses.dataclass(frozen=True)
class TrialRecord:
    """One trial of a search run. Over-budget samples are INFEASIBLE, samples of a genome the run already trained to
    COMPLETE are REPEAT (carrying that trial's results), and samples a proxy ranked below another (`--prefilter`)
    are FILTERED: none of them is trained or handed to Ray."""

    run_id: str = ""            # the run folder's name
    trial_id: str = ""          # Ray Tune's trial id ("" for the UNTRAINED samples)
    number: int = 0             # Optuna's trial number
    state: str = COMPLETE       # one of STATES
    zoo_name: str = ""          # the zoo architecture this genome is, if it is one
    genome: str = ""            # Genome.to_str()
    genome_json: str = ""       # Genome.to_json()
    key: str = ""               # Genome.key()
    accuracy: float = math.nan  # validation accuracy in [0, 1] (the selection objective)
    test_accuracy: float = math.nan  # test accuracy of the final model (COMPLETE only; never used to select)
    flops: float = math.nan     # analytic FLOPs (== fvcore: one multiply-add is one FLOP)
    params: float = math.nan    # analytic parameter count
    latency_ms: float = math.nan  # measured forward latency (NaN unless latency is an objective)
    synflow: float = math.nan   # zero-cost proxies at initialisation (nasbench.proxies; NaN unless an objective)
    naswot: float = math.nan
    snip: float = math.nan
    grad_norm: float = math.nan
    fisher: float = math.nan
    epochs: int = 0             # epochs completed
    wall_time_s: float = math.nan  # the trial's wall time
    failure_reason: str = ""    # why the trial is not COMPLETE ("" when it is; REPEAT: the trial it repeats;
    #                             FILTERED: its proxy score and the best one)
    node_id: str = ""           # Ray node that ran the trial ("" for the UNTRAINED samples)

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ValueError(f"trial state {self.state!r} is not one of {', '.join(STATES)}")

    @classmethod
    def from_mapping(cls, values: Mapping, **fixed) -> TrialRecord:
        """A record from a mapping holding (some of) its fields; other keys are ignored, None means the default."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{**{k: v for k, v in values.items() if k in known and v is not None}, **fixed})


COLUMNS = tuple(f.name for f in dataclasses.fields(TrialRecord))
PANDAS_DTYPES = {"int": "int64", "float": "float64", "str": "object"}
DTYPES = {f.name: PANDAS_DTYPES[f.type] for f in dataclasses.fields(TrialRecord)}
TEXT_COLUMNS = tuple(name for name, dtype in DTYPES.items() if dtype == "object")


def records_frame(records: Iterable[TrialRecord]) -> pd.DataFrame:
    """The trials table: one row per record, the columns and dtypes of `TrialRecord`."""
    rows = [dataclasses.astuple(r) for r in records]
    return pd.DataFrame(rows, columns=list(COLUMNS)).astype(DTYPES)


LEGACY_INFEASIBLE = "infeasible: "  # how runs before the INFEASIBLE state began an over-budget sample's FAIL reason


def upgrade(frame: pd.DataFrame) -> pd.DataFrame:
    """A trials table written by an older version, in today's record: runs before the INFEASIBLE state wrote
    over-budget samples as FAIL with a reason starting "infeasible"; missing columns get their defaults."""
    frame = frame.copy()
    if "state" in frame.columns and "failure_reason" in frame.columns:
        reasons = frame["failure_reason"].fillna("").astype(str)
        legacy = (frame["state"] == FAIL) & reasons.str.startswith(LEGACY_INFEASIBLE)
        frame.loc[legacy, "state"] = INFEASIBLE
        frame.loc[legacy, "failure_reason"] = reasons[legacy].str.removeprefix(LEGACY_INFEASIBLE)
    defaults = TrialRecord()
    for name in COLUMNS:
        if name not in frame.columns:
            frame[name] = getattr(defaults, name)
    for name in TEXT_COLUMNS:
        frame[name] = frame[name].fillna("").astype(str)
    return frame


def upgrade_record(record: TrialRecord) -> TrialRecord:
    """One record in today's form, as `upgrade` gives a table's rows: an older run's FAIL "infeasible: ..." sample
    is INFEASIBLE."""
    if record.state == FAIL and record.failure_reason.startswith(LEGACY_INFEASIBLE):
        return dataclasses.replace(record, state=INFEASIBLE,
                                   failure_reason=record.failure_reason.removeprefix(LEGACY_INFEASIBLE))
    return record


def state_counts(frame: pd.DataFrame) -> dict[str, int]:
    """Trials per state, every state present (0 where none)."""
    counts = frame["state"].value_counts() if "state" in frame.columns else pd.Series(dtype=int)
    return {state: int(counts.get(state, 0)) for state in STATES}


def trained(counts: Mapping[str, int]) -> int:
    """Trials that were trained (every state but the UNTRAINED ones): what a run's trial target counts."""
    return sum(n for state, n in counts.items() if state not in UNTRAINED)


def trained_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of a trials table that were trained (not the UNTRAINED samples)."""
    return frame[~frame["state"].isin(UNTRAINED)]


def untrained_words(counts: Mapping[str, int]) -> str:
    """'7 over budget (not trained), 3 repeats of a trained genome (not trained again)'; '' when there are none."""
    return ", ".join(f"{counts[s]} {STATE_WORDS[s]}" for s in UNTRAINED if counts.get(s, 0))


def describe_counts(counts: Mapping[str, int], trains: bool = True) -> str:
    """'24 trials trained: 22 complete, 2 pruned (stopped early); samples: 7 over budget (not trained)'; a zero-cost
    search (`trains` False) says 'trials scored at initialisation (none trained)'."""
    parts = [f"{counts.get(s, 0)} {STATE_WORDS[s]}" for s in (COMPLETE, PRUNED, FAIL) if counts.get(s, 0)]
    done = "trained" if trains else "scored at initialisation (none trained)"
    text = f"{trained(counts)} trials {done}" + (f": {', '.join(parts)}" if parts else "")
    untrained = untrained_words(counts)
    return text + (f"; samples: {untrained}" if untrained else "")
