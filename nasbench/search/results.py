"""The run folder's outputs, derived from the Optuna study: trials table, Pareto front, genomes, plot."""
from __future__ import annotations

import shutil
from pathlib import Path

import optuna
import pandas as pd
from optuna.trial import TrialState

from nasbench import atomic
from nasbench.analysis.fronts import pareto_front
from nasbench.objectives import COLUMNS, as_columns, quality
from nasbench.record import TrialRecord, records_frame, state_counts, trained, upgrade

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


def finished_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """Trials that ran to an end (not in flight, not abandoned by an interrupted run)."""
    return [t for t in study.get_trials(deepcopy=False)
            if t.state in FINISHED and not t.user_attrs.get("interrupted")]


def trial_record(trial: optuna.trial.FrozenTrial, run_id: str) -> TrialRecord:
    """A finished trial's record, from the user attributes the searcher stored (`epoch`: runs before 0.2)."""
    attrs = trial.user_attrs
    state = attrs.get("state", trial.state.name)
    return TrialRecord.from_mapping({"epochs": attrs.get("epoch", 0), **attrs}, run_id=run_id, number=trial.number,
                                    state=state)


def trials_frame(study: optuna.Study, run_id: str) -> pd.DataFrame:
    """The trials table of a run: one `TrialRecord` row per finished trial."""
    return upgrade(records_frame(trial_record(t, run_id) for t in finished_trials(study)))


def trained_trials(study: optuna.Study) -> int:
    """Finished trials that count towards the run's trial target (INFEASIBLE samples do not)."""
    return trained(state_counts(trials_frame(study, "")))


def write_outputs(run_dir: Path, frame: pd.DataFrame, objectives: dict[str, str],
                  checkpoints: Path | None = None, plot: bool = True) -> pd.DataFrame:
    """Write trials.parquet/csv, pareto.csv, genomes/<key>.json (+ <key>.pt weights found under `checkpoints`)
    and, if `plot`, pareto.png (0.2 s of matplotlib, so not after every trial), each atomically; return the front."""
    with atomic.atomic_path(run_dir / "trials.parquet") as tmp:
        frame.to_parquet(tmp, index=False)
    with atomic.atomic_path(run_dir / "trials.csv") as tmp:
        frame.to_csv(tmp, index=False)
    front = pareto_front(frame, as_columns(objectives)).sort_values("flops") if len(frame) else frame
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
        from nasbench.analysis.plots import plot_fronts

        cost = next(COLUMNS[o] for o, direction in objectives.items() if direction == "min")
        with atomic.atomic_path(run_dir / "pareto.png") as tmp:
            plot_fronts({frame["run_id"].iloc[0]: frame}, tmp, x=cost, y=quality(objectives),
                        objectives=as_columns(objectives))
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
