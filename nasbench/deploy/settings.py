"""Everything a retrain is configured by; stored in the retrain folder's retrain.json. The command line takes its
defaults and help from here; options it shares with a search take the search's (`SearchSettings`)."""
from __future__ import annotations

import dataclasses
import math
from typing import Any

from nasbench.augment import AUGMENTATIONS
from nasbench.config import describe, setting
from nasbench.errors import SettingError
from nasbench.search.settings import SearchSettings

AUGMENT_CHOICES = ("auto", *AUGMENTATIONS)


def shared(name: str) -> Any:
    """A field with the default and help of the search setting `name`."""
    return setting(*describe(SearchSettings, name))


@dataclasses.dataclass(frozen=True)
class RetrainSettings:
    """A retrain: one genome trained from scratch with the full recipe, once per seed, the seeds in parallel."""

    dataset: str = shared("dataset")
    data_dir: str | None = shared("data_dir")
    resolution: int | None = setting(None, "input resolution (default: the genome's own; a zoo architecture's: "
                                           "the dataset's)")
    limit: int | None = shared("limit")
    seed: int = setting(0, "seed of the data splits (a front member's: its search's, unless given)")
    seeds: int = setting(3, "training seeds (0 .. seeds-1), trained in parallel as Ray Tune trials")
    epochs: int = setting(30, "training epochs")
    batch_size: int = shared("batch_size")
    lr: float = setting(0.05, "peak learning rate (SGD, Nesterov momentum 0.9), reached after the warm-up")
    weight_decay: float = shared("weight_decay")
    warmup_epochs: int = setting(2, "epochs of linear learning-rate warm-up before the cosine decay to 0")
    label_smoothing: float = setting(0.1, "label smoothing of the training loss")
    ema_decay: float = setting(0.999, "decay of the exponential moving average of the weights that is validated "
                                      "and shipped (timm ModelEmaV3, decay warmed up from 0); 0: no EMA")
    augment: str = setting("auto", "training augmentation: auto (crop_flip for CIFAR and image folders, affine for "
                                   "the digit sets), crop_flip, affine or none")
    latency_batch: int = setting(64, "the throughput batch of the model card's latency (besides batch 1)")
    out: str | None = setting(None, "the retrain folder (default: a new results/retrain/<run-id>/)")
    cpus_per_trial: float = shared("cpus_per_trial")
    gpus_per_trial: float = shared("gpus_per_trial")
    concurrency: int = setting(0, "seeds trained at once (0: as many as the cluster's CPUs and GPUs allow)")
    address: str | None = shared("address")
    storage_path: str | None = setting(None, "Ray Tune storage shared by all nodes, which holds the checkpoints "
                                             "(default: the retrain folder's ray/)")
    max_failures: int = shared("max_failures")

    def __post_init__(self) -> None:
        checks = [
            (self.seeds >= 1, "seeds", "must be at least 1"),
            (self.epochs >= 1, "epochs", "must be at least 1"),
            (self.batch_size >= 1, "batch_size", "must be at least 1"),
            (self.latency_batch >= 1, "latency_batch", "must be at least 1"),
            (_finite(self.lr) and self.lr > 0, "lr", "must be positive"),
            (_finite(self.weight_decay) and self.weight_decay >= 0, "weight_decay", "must be zero or positive"),
            (0 <= self.warmup_epochs < self.epochs, "warmup_epochs", "must be at least 0 and below epochs"),
            (_finite(self.label_smoothing) and 0 <= self.label_smoothing < 1, "label_smoothing",
             "must be at least 0 and below 1"),
            (_finite(self.ema_decay) and 0 <= self.ema_decay < 1, "ema_decay", "must be at least 0 and below 1"),
            (self.augment in AUGMENT_CHOICES, "augment", f"must be one of {', '.join(AUGMENT_CHOICES)}"),
            (self.limit is None or self.limit >= 1, "limit", "must be at least 1"),
            (self.seed >= 0, "seed", "must be zero or positive"),
        ]
        for ok, name, message in checks:
            if not ok:
                raise SettingError(f"{name} {message} (got {getattr(self, name)!r})", name)
        self.search_settings()  # resources and cluster settings are checked as a search checks them

    def search_settings(self) -> SearchSettings:
        """The search settings of a run with this data and cluster: resources are checked and seeds placed as a
        search places its trials."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(SearchSettings) if hasattr(self, f.name)}
        return SearchSettings(**{**values, "trials": self.seeds})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RetrainSettings:
        unknown = sorted(set(data) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ValueError(f"unknown retrain settings {', '.join(unknown)}")
        return cls(**data)


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
