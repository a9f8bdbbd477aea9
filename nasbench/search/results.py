"""The run folder's outputs, derived from the Optuna study: trials table, Pareto front, genomes, plot."""
from __future__ import annotations

import math
import shutil
from pathlib import Path

import optuna
import pandas as pd
from optuna.trial import TrialState

from nasbench import atomic
from nasbench.analysis import pareto_front
from nasbench.search.objectives import RESULT_KEYS

COLUMNS = ["run_id", "trial_id", "number", "state", "zoo_name", "genome", "genome_json", "key", "accuracy",
           "test_accuracy", "flops", "params", "latency_ms", "epochs", "wall_time_s", "failure_reason", "node_id"]
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


def finished_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """Trials that ran to an end (not in flight, not abandoned by an interrupted run)."""
    return [t for t in study.get_trials(deepcopy=False)
            if t.state in FINISHED and not t.user_attrs.get("interrupted")]


def is_infeasible(trial: optuna.trial.FrozenTrial) -> bool:
    return trial.state == TrialState.FAIL and str(trial.user_attrs.get("failure_reason", "")).startswith("infeasible")


def counted_trials(study: optuna.Study) -> int:
    """Finished trials that count towards the run's trial target (over-budget samples do not)."""
    return sum(not is_infeasible(t) for t in finished_trials(study))


def trials_frame(study: optuna.Study, run_id: str) -> pd.DataFrame:
    rows = []
    for t in finished_trials(study):
        attrs = t.user_attrs
        rows.append({
            "run_id": run_id, "trial_id": attrs.get("trial_id", ""), "number": t.number, "state": t.state.name,
            "zoo_name": attrs.get("zoo_name", ""), "genome": attrs.get("genome", ""),
            "genome_json": attrs.get("genome_json", ""), "key": attrs.get("key", ""),
            "accuracy": attrs.get("accuracy", math.nan), "test_accuracy": attrs.get("test_accuracy", math.nan),
            "flops": attrs.get("flops", math.nan), "params": attrs.get("params", math.nan),
            "latency_ms": attrs.get("latency_ms", math.nan), "epochs": attrs.get("epoch", 0),
            "wall_time_s": attrs.get("wall_time_s", math.nan), "failure_reason": attrs.get("failure_reason", ""),
            "node_id": attrs.get("node_id", ""),
        })
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.astype({"number": "int64", "epochs": "int64", "accuracy": "float64", "test_accuracy": "float64",
                         "flops": "float64", "params": "float64", "latency_ms": "float64", "wall_time_s": "float64"})


def front_columns(objectives: dict[str, str]) -> dict[str, str]:
    return {RESULT_KEYS[name]: direction for name, direction in objectives.items()}


def write_outputs(run_dir: Path, frame: pd.DataFrame, objectives: dict[str, str],
                  checkpoints: Path | None = None, plot: bool = True) -> pd.DataFrame:
    """Write trials.parquet/csv, pareto.csv, genomes/<key>.json (+ <key>.pt weights found under `checkpoints`)
    and, if `plot`, pareto.png (0.2 s of matplotlib, so not after every trial), each atomically; return the front."""
    with atomic.atomic_path(run_dir / "trials.parquet") as tmp:
        frame.to_parquet(tmp, index=False)
    with atomic.atomic_path(run_dir / "trials.csv") as tmp:
        frame.to_csv(tmp, index=False)
    front = pareto_front(frame, front_columns(objectives)).sort_values("flops") if len(frame) else frame
    with atomic.atomic_path(run_dir / "pareto.csv") as tmp:
        front.to_csv(tmp, index=False)
    _drop_former_members(run_dir / "genomes", set(front["key"]))
    for _, row in front.iterrows():
        atomic.write_text(run_dir / "genomes" / f"{row['key']}.json", row["genome_json"])
        weights = run_dir / "genomes" / f"{row['key']}.pt"
        found = _trial_weights(checkpoints, row["trial_id"], row["key"]) if checkpoints else None
        if found is not None and not weights.exists():
            with atomic.atomic_path(weights) as tmp:
                shutil.copyfile(found, tmp)
    if plot and len(front):
        from nasbench.analysis_plots import plot_fronts

        cost = next(RESULT_KEYS[o] for o in objectives if o != "accuracy")
        with atomic.atomic_path(run_dir / "pareto.png") as tmp:
            plot_fronts({frame["run_id"].iloc[0]: frame}, tmp, x=cost, y="accuracy",
                        objectives=front_columns(objectives))
    return front


def _drop_former_members(folder: Path, keys: set[str]) -> None:
    """genomes/ holds the current front only: files of genomes a later trial dominated are removed."""
    for path in folder.glob("*.*"):
        if path.suffix in (".json", ".pt") and path.stem not in keys:
            path.unlink()


def _trial_weights(root: Path, trial_id: str, key: str) -> Path | None:
    """The weights a trial saved with its final report (Ray names trial folders after the trial id)."""
    matches = sorted(root.glob(f"*/*{trial_id}*/checkpoint_*/{key}.pt"))
    return matches[-1] if matches else None


def load_model(run_dir: str | Path, key: str):
    """A front member's trained network: its genome built and its weights loaded (weights_only, never pickle)."""
    import torch

    from nasbench.build import build
    from nasbench.genome import Genome

    folder = Path(run_dir) / "genomes"
    model = build(Genome.from_json((folder / f"{key}.json").read_text()))
    model.load_state_dict(torch.load(folder / f"{key}.pt", map_location="cpu", weights_only=True))
    return model.eval()
