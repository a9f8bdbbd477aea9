"""Everything a search run is configured by; stored verbatim in the run's config.json. The command line takes its
defaults and help from here."""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

from nasbench.config import setting, settings_from_dict
from nasbench.data import DATASETS_HELP
from nasbench.errors import SettingError
from nasbench.objectives import OBJECTIVES, ZERO_COST, search_problem
from nasbench.proxies import PROXIES, parse_prefilter
from nasbench.search.surrogate import NAME as SURROGATE
from nasbench.search.surrogate import is_surrogate
from nasbench.train import TrainConfig

SAMPLERS = ("nsga2", "tpe", "random", "gp", "grid", "rea", "reinforce")
SCHEDULERS = ("fifo", "asha", "moasha")
# max_flops="auto": budgets that keep a default run laptop-sized (the digit sets at 16x16, the others at their 28x28 and
# 32x32); imagefolder's images may be any size, so it has none, and the run says so when it starts
DEFAULT_MAX_FLOPS = {"digits": 2e7, "distorted_digits": 2e7, "mnist": 6e7, "fashion_mnist": 6e7, "cifar10": 8e7,
                     "cifar100": 8e7}


@dataclasses.dataclass(frozen=True)
class SearchSettings:
    """A search run. Defaults finish in a few minutes on a 2-core laptop on the embedded digits data."""

    space: str = setting("resnet_family", "search space name (the families of search_spaces)")
    dataset: str = setting("digits", DATASETS_HELP)
    data_dir: str | None = setting(None, "folder with the dataset files (torchvision layout); "
                                         "default: $NASBENCH_DATA, else ./data")
    resolution: int | None = setting(None, "input resolution (default: the dataset's)")
    objectives: tuple[str, ...] = setting(("accuracy", "flops"),
                                          "a quality (max): accuracy, or a zero-cost proxy scored at initialisation "
                                          "(synflow, naswot, snip, grad_norm, fisher; without accuracy nothing is "
                                          "trained: a zero-cost search), and one or more costs (min): flops, params, "
                                          "latency")
    trials: int = setting(24, "trials to train (over-budget samples are not counted)")
    epochs: int = setting(4, "training epochs per trial")
    seed: int = setting(0, "seed of the sampler, the data splits and the training")
    sampler: str = setting("tpe", "Optuna sampler; tpe: multivariate, multi-objective TPE (12 random trials "
                                  "first); nsga2: NSGA-II (population 8); grid: every point of a space without "
                                  "conditional or continuous parameters (compound, lecture), at most one trial each; "
                                  "rea: regularized evolution (population 20, tournament 5); reinforce: a "
                                  "policy-gradient controller (Zoph & Le)")
    scheduler: str = setting("fifo", "asha stops trials of low accuracy early; moasha (multi-objective ASHA) stops "
                                     "those far from the front of all objectives at each rung; stopped trials are "
                                     "recorded as PRUNED, never on the front")
    cpus_per_trial: float = setting(1.0, "CPUs per trial")
    gpus_per_trial: float = setting(0.0, "GPUs per trial; fractions share a GPU between trials")
    concurrency: int = setting(0, "trials at once (0: as many as the cluster's CPUs and GPUs allow; one at a time "
                                  "for a --benchmark replay)")
    reuse_actors: bool = setting(True, "reuse Ray worker processes between trials (False: a fresh process per "
                                       "trial, for isolation; about 2 s more per trial)")
    max_flops: float | str | None = setting("auto", "FLOP budget: costlier samples are recorded as INFEASIBLE, "
                                                    "never trained, and sampled again; auto = 2e7 on "
                                                    "(distorted_)digits, 6e7 on (fashion_)mnist, 8e7 on "
                                                    "cifar10/100, none on imagefolder; "
                                                    "none = no budget")
    max_params: float | None = setting(None, "parameter budget (as the FLOP budget)")
    seed_zoo: bool = setting(False, "evaluate the family's canonical architectures first")
    prefilter: str | None = setting(None, "PROXY:K, e.g. synflow:8: score K samples with a zero-cost proxy "
                                          "(synflow, naswot, snip, grad_norm, fisher, flops, params) on one "
                                          "minibatch at initialisation and train only the best; or hvi:K: train "
                                          "the one with the largest hypervolume improvement per second of "
                                          "training that a surrogate fitted to the trained trials predicts; the "
                                          "other K-1 are recorded as FILTERED with their score, not trained")
    allow_repeats: bool = setting(False, "train a genome again when the sampler proposes one this run already "
                                         "trained (another seed's measurement); by default such a repeat is "
                                         "recorded as REPEAT with the earlier results, not trained, and another "
                                         "genome is sampled")
    benchmark: str | None = setting(None, "a tabular benchmark (python -m runners.tabulate) to search: each trial "
                                          "looks its genome up and replays one seed's recorded curve instead of "
                                          "training; space, data and training settings are the table's")
    results_dir: str = setting("results", "folder that receives <space>/<run-id>/")
    address: str | None = setting(None, "existing Ray cluster (default: $RAY_ADDRESS, else a local instance)")
    storage_path: str | None = setting(None, "Ray Tune storage shared by all nodes (default: inside the run folder)")
    optuna_storage: str | None = setting(None, "database URL for the Optuna study, e.g. postgresql://host/db "
                                               "(default: a journal file in the run folder)")
    batch_size: int = setting(64, "training batch size")
    lr: float = setting(TrainConfig.lr, "peak learning rate (SGD, cosine)")
    weight_decay: float = setting(TrainConfig.weight_decay, "SGD weight decay")
    label_smoothing: float = setting(TrainConfig.label_smoothing, "label smoothing of the training loss")
    max_failures: int = setting(2, "retries of a trial whose Ray worker died")
    limit: int | None = setting(None, "use at most this many images per split (quick experiments)")

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if not _has_type(value, field.type):
                raise SettingError(f"{field.name} must be {_type_words(field.type)}, got {value!r}"[:300], field.name)
        checks = [
            (self.trials >= 1, "trials", "must be at least 1"),
            (self.epochs >= 1, "epochs", "must be at least 1"),
            (self.sampler in SAMPLERS, "sampler", f"must be one of {', '.join(SAMPLERS)}"),
            (self.scheduler in SCHEDULERS, "scheduler", f"must be one of {', '.join(SCHEDULERS)}"),
            (self.cpus_per_trial > 0, "cpus_per_trial", "must be positive"),
            (self.gpus_per_trial >= 0, "gpus_per_trial", "must be zero or positive"),
            (self.concurrency >= 0, "concurrency", "must be zero (automatic) or positive"),
            (self.max_flops in ("auto", "none", None) or _positive(self.max_flops), "max_flops",
             "must be a positive number, auto or none"),
            (self.max_params is None or _positive(self.max_params), "max_params", "must be a positive number"),
            (self.batch_size >= 1, "batch_size", "must be positive"),
            (_positive(self.lr), "lr", "must be positive"),
            (self.max_failures >= 0, "max_failures", "must be zero or positive"),
            (self.limit is None or self.limit >= 1, "limit", "must be at least 1"),
        ]
        for ok, name, message in checks:
            if not ok:
                raise SettingError(f"{name} {message} (got {getattr(self, name)!r})", name)
        problem = search_problem(self.objectives)
        if problem:
            raise SettingError(f"{problem} (got {','.join(map(str, self.objectives))})", "objectives")
        if self.scheduler != "fifo" and not self.trains:
            raise SettingError(f"scheduler {self.scheduler} stops trials by their accuracy: add accuracy to the "
                               f"objectives or use scheduler fifo", "scheduler")
        if self.benchmark is not None and self.proxies:
            raise SettingError(f"a tabular benchmark holds no zero-cost proxy scores: drop {', '.join(self.proxies)} "
                               f"from the objectives (rank a table by proxies with python -m runners.proxies)",
                               "objectives")
        if self.prefilter is not None:
            try:
                parse_prefilter(self.prefilter, (*PROXIES, SURROGATE))
            except ValueError as exc:
                raise SettingError(f"prefilter: {exc}", "prefilter") from None
            if is_surrogate(self.prefilter) and not self.trains:
                raise SettingError(f"prefilter: {self.prefilter} predicts training results from trained trials; add "
                                   f"accuracy to the objectives or prefilter by a proxy", "prefilter")

    @property
    def trains(self) -> bool:
        """Whether trials are trained: accuracy is an objective (otherwise only zero-cost proxies are scored)."""
        return "accuracy" in self.objectives

    @property
    def proxies(self) -> tuple[str, ...]:
        """The zero-cost proxies among the objectives, scored on every trial."""
        return tuple(name for name in self.objectives if name in ZERO_COST)

    @property
    def directions(self) -> dict[str, str]:
        return {name: OBJECTIVES[name] for name in self.objectives}

    @property
    def flops_budget(self) -> float | None:
        """The FLOP budget in force: `max_flops`, with "auto" resolved for the dataset."""
        if self.max_flops == "auto":
            return DEFAULT_MAX_FLOPS.get(self.dataset)
        return None if self.max_flops in ("none", None) else float(self.max_flops)

    def ray_storage(self, run_dir: Path) -> Path:
        """Where Ray Tune keeps a run's experiments (trial logs, checkpoints): shared storage or the run folder."""
        return (Path(self.storage_path) / run_dir.name if self.storage_path else run_dir / "ray").resolve()

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["objectives"] = list(self.objectives)
        return out

    @classmethod
    def from_dict(cls, data: dict) -> SearchSettings:
        """`to_dict`'s output read back from JSON; ValueError on unknown settings."""
        return settings_from_dict(cls, data)


TYPE_WORDS = {"int": "an integer", "float": "a number", "str": "a string", "bool": "true or false", "None": "null",
              "tuple[str, ...]": "a list of names"}


def _has_type(value: Any, annotation: str) -> bool:
    """Whether `value` fits a settings field's annotation ("int", "float | str | None", "tuple[str, ...]")."""
    return any(_is(value, name.strip()) for name in annotation.split("|"))


def _is(value: Any, name: str) -> bool:
    if name == "None":
        return value is None
    if name == "bool":
        return isinstance(value, bool)
    if name == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if name == "str":
        return isinstance(value, str)
    return isinstance(value, (tuple, list)) and all(isinstance(v, str) for v in value)  # tuple[str, ...]


def _type_words(annotation: str) -> str:
    return " or ".join(TYPE_WORDS[name.strip()] for name in annotation.split("|"))


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0
