"""Everything a search run is configured by; stored verbatim in the run's config.json."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from nasbench.search.objectives import OBJECTIVES

SAMPLERS = ("nsga2", "tpe", "random", "gp", "grid")
SCHEDULERS = ("fifo", "asha")


@dataclasses.dataclass(frozen=True)
class SearchSettings:
    """A search run. Defaults finish in a few minutes on a 2-core laptop on the embedded digits data."""

    space: str = "resnet_family"
    dataset: str = "digits"
    data_dir: str | None = None
    resolution: int | None = None  # None: the dataset's default
    objectives: tuple[str, ...] = ("accuracy", "flops")
    trials: int = 24
    epochs: int = 4
    seed: int = 0
    sampler: str = "nsga2"
    scheduler: str = "fifo"
    cpus_per_trial: float = 1.0
    gpus_per_trial: float = 0.0
    concurrency: int = 0  # 0: as many trials at once as the cluster's CPUs/GPUs allow
    reuse_actors: bool = True  # False: a fresh Ray worker process per trial (isolation, ~2 s more per trial)
    max_flops: float | None = None
    max_params: float | None = None
    seed_zoo: bool = False
    results_dir: str = "results"
    address: str | None = None
    storage_path: str | None = None
    optuna_storage: str | None = None
    batch_size: int = 64
    lr: float = 0.05
    weight_decay: float = 5e-4
    label_smoothing: float = 0.0
    max_failures: int = 2
    limit: int | None = None  # cap on training examples (quick experiments)

    def __post_init__(self) -> None:
        checks = [
            (self.trials >= 1, "trials must be at least 1"),
            (self.epochs >= 1, "epochs must be at least 1"),
            (self.sampler in SAMPLERS, f"sampler must be one of {', '.join(SAMPLERS)}"),
            (self.scheduler in SCHEDULERS, f"scheduler must be one of {', '.join(SCHEDULERS)}"),
            (self.cpus_per_trial > 0, "cpus per trial must be positive"),
            (self.gpus_per_trial >= 0, "gpus per trial must be zero or positive"),
            (self.concurrency >= 0, "concurrency must be zero (automatic) or positive"),
            (all(o in OBJECTIVES for o in self.objectives), f"objectives must be among {', '.join(OBJECTIVES)}"),
            (self.max_flops is None or self.max_flops > 0, "max flops must be positive"),
            (self.max_params is None or self.max_params > 0, "max params must be positive"),
            (self.batch_size >= 1 and self.lr > 0, "batch size and learning rate must be positive"),
            (self.max_failures >= 0, "max failures must be zero or positive"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    @property
    def directions(self) -> dict[str, str]:
        return {name: OBJECTIVES[name] for name in self.objectives}

    def ray_storage(self, run_dir: Path) -> Path:
        """Where Ray Tune keeps a run's experiments (trial logs, checkpoints): shared storage or the run folder."""
        return (Path(self.storage_path) / run_dir.name if self.storage_path else run_dir / "ray").resolve()

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["objectives"] = list(self.objectives)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SearchSettings":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown settings {', '.join(unknown)}")
        values = dict(data)
        if "objectives" in values:
            values["objectives"] = tuple(values["objectives"])
        return cls(**values)
