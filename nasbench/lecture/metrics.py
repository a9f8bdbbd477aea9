"""Per-run measures of a lecture experiment, read from the run's learning curve (one row per epoch, errors as
fractions: train_error is the running error over the epoch's batches in train mode, as He et al. and AlexNet plot)."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

CURVE_ERRORS = ("train_error", "val_error", "test_error")


@dataclasses.dataclass(frozen=True)
class Final:
    """The error after the last epoch."""

    error: str

    @property
    def name(self) -> str:
        return self.error

    @property
    def label(self) -> str:
        return self.error.replace("_", " ")

    def of(self, curve: pd.DataFrame) -> float:
        return float(curve[self.error].iloc[-1])


@dataclasses.dataclass(frozen=True)
class AtEpoch:
    """The error after epoch `epoch`."""

    error: str
    epoch: int

    @property
    def name(self) -> str:
        return f"{self.error}_at_{self.epoch}"

    @property
    def label(self) -> str:
        return f"{self.error.replace('_', ' ')} after epoch {self.epoch}"

    def of(self, curve: pd.DataFrame) -> float:
        return float(curve.loc[curve["epoch"] == self.epoch, self.error].iloc[0])


@dataclasses.dataclass(frozen=True)
class EpochsTo:
    """Epochs until the error first reaches `threshold`, interpolated linearly between epoch ends (at epoch 0 the
    error is `chance`: 0.9 for ten classes); a run that never reaches it counts as epochs + 1, so its mean is a lower
    bound."""

    error: str
    threshold: float
    chance: float = 0.9

    @property
    def name(self) -> str:
        return f"epochs_to_{self.error}_{self.threshold:g}"

    @property
    def label(self) -> str:
        return f"epochs to {self.error.replace('_', ' ')} {self.threshold:g}"

    def of(self, curve: pd.DataFrame) -> float:
        epochs = np.concatenate([[0.0], curve["epoch"].to_numpy(float)])
        errors = np.concatenate([[self.chance], curve[self.error].to_numpy(float)])
        below = np.flatnonzero(errors <= self.threshold)
        if not len(below):
            return float(epochs[-1] + 1)
        i = int(below[0])
        if i == 0:
            return 0.0
        drop = errors[i - 1] - errors[i]
        share = 1.0 if drop <= 0 or not math.isfinite(drop) else (errors[i - 1] - self.threshold) / drop
        return float(epochs[i - 1] + share * (epochs[i] - epochs[i - 1]))


Measure = Final | AtEpoch | EpochsTo
