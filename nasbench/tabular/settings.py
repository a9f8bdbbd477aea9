"""How a table is built; stored in its manifest. Options it shares with a search take the search's defaults and help
(`nasbench.search.settings.SearchSettings`), so a table is trained the way a search trains."""
from __future__ import annotations

import dataclasses
from typing import Any

from nasbench.config import describe, setting
from nasbench.errors import SettingError
from nasbench.search.settings import SearchSettings

# the settings that decide what a row holds: a table is extended only under the same ones
TRAINING = ("space", "dataset", "resolution", "limit", "seed", "epochs", "batch_size", "lr", "weight_decay",
            "label_smoothing", "max_flops", "max_params")


def shared(name: str) -> Any:
    """A field with the default and help of the search setting `name`."""
    return setting(*describe(SearchSettings, name))


@dataclasses.dataclass(frozen=True)
class TabulateSettings:
    """A table build: every member of a space (or a seeded sample), each trained once per seed."""

    space: str = setting("resnet_compact", "search space to tabulate (the families of search_spaces)")
    dataset: str = shared("dataset")
    data_dir: str | None = shared("data_dir")
    resolution: int | None = shared("resolution")
    limit: int | None = shared("limit")
    seed: int = setting(0, "seed of the data splits and of the member sample")
    epochs: int = shared("epochs")
    batch_size: int = shared("batch_size")
    lr: float = shared("lr")
    weight_decay: float = shared("weight_decay")
    label_smoothing: float = shared("label_smoothing")
    seeds: int = setting(2, "training seeds per member (0 .. seeds-1)")
    members: int | None = setting(None, "train a seeded sample of this many members (default: every member of "
                                        "the space's grid; required for spaces without one)")
    max_flops: float | None = setting(None, "FLOP budget of the members (analytic cost); none by default")
    max_params: float | None = setting(None, "parameter budget of the members")
    out: str | None = setting(None, "the table's Parquet file (default: results/tabular/<space>-<dataset>.parquet); "
                                    "its manifest is written beside it")
    cpus_per_trial: float = shared("cpus_per_trial")
    gpus_per_trial: float = shared("gpus_per_trial")
    concurrency: int = shared("concurrency")
    reuse_actors: bool = shared("reuse_actors")
    address: str | None = shared("address")
    storage_path: str | None = setting(None, "Ray Tune storage shared by all nodes (default: a temporary folder; "
                                             "rows are collected by the driver)")
    max_failures: int = shared("max_failures")

    def __post_init__(self) -> None:
        for name in ("epochs", "seeds", "batch_size"):
            if getattr(self, name) < 1:
                raise SettingError(f"{name} must be at least 1 (got {getattr(self, name)!r})", name)
        if self.members is not None and self.members < 1:
            raise SettingError(f"members must be at least 1 (got {self.members!r})", "members")

    @property
    def out_path(self) -> str:
        return self.out or f"results/tabular/{self.space}-{self.dataset}.parquet"

    def search_settings(self, trials: int) -> SearchSettings:
        """The search settings of a run with this data, training and cluster: resources are checked and trials
        placed as a search does."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(SearchSettings) if hasattr(self, f.name)}
        values.update(trials=max(1, trials), max_flops=self.max_flops or "none")
        return SearchSettings(**values)

    def training(self) -> dict[str, Any]:
        """The settings that decide what a row holds (a table grows only under the same ones)."""
        return {name: getattr(self, name) for name in TRAINING}

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
