"""The in-memory dataset: normalised float32 image tensors in fixed, seeded train/val/test splits."""
from __future__ import annotations

import dataclasses

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.model_selection import train_test_split

from nasbench.errors import SettingError


class DatasetError(SettingError):
    """A dataset that cannot be loaded: unknown name, missing or malformed files, too few images to split.

    The message is always one line (a command line prints it as `error: <line>`): line breaks become spaces."""

    def __init__(self, message: str, setting: str = "dataset"):
        super().__init__(" ".join(message.splitlines()), setting)


def error_reason(exc: BaseException) -> str:
    """'TypeName: first line of its message' for quoting an exception in a DatasetError (an OSError's without its
    path, which the DatasetError names already; lower-case names such as zlib's `error` with their module)."""
    kind = type(exc)
    name = kind.__name__ if kind.__name__[0].isupper() else f"{kind.__module__}.{kind.__name__}"
    lines = (exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)).strip().splitlines()
    return f"{name}: {lines[0]}" if lines else name


@dataclasses.dataclass(frozen=True, eq=False)
class Split:
    """Images float32 [N, C, R, R] (normalised) and labels int64 [N]."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.labels)


@dataclasses.dataclass(frozen=True, eq=False)
class Dataset:
    """A classification dataset held in memory; `mean`/`std` are the per-channel train statistics removed."""

    name: str
    in_chans: int
    resolution: int
    num_classes: int
    train: Split
    val: Split
    test: Split
    classes: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]

    def splits(self) -> dict[str, Split]:
        return {"train": self.train, "val": self.val, "test": self.test}

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}, {self.in_chans}x{self.resolution}x{self.resolution}, {self.num_classes} "
                f"classes, train/val/test {len(self.train)}/{len(self.val)}/{len(self.test)})")


@dataclasses.dataclass(frozen=True, eq=False)
class RawSplit:
    """Unnormalised images [N, C, H, W], any H x W: uint8 in 0..255 or float in [0, 1]; labels int64 [N]."""

    images: torch.Tensor
    labels: torch.Tensor


def to_float(images: torch.Tensor, resolution: int, chunk: int = 4096) -> torch.Tensor:
    """Float32 in [0, 1] at resolution x resolution: bilinear, antialiased when shrinking; chunked to bound memory."""
    shrinking = resolution < max(images.shape[-2:])
    parts = []
    for part in images.split(chunk):
        part = part.float() / 255 if part.dtype == torch.uint8 else part.float()
        if part.shape[-2:] != (resolution, resolution):
            part = F.interpolate(part, size=(resolution, resolution), mode="bilinear", align_corners=False,
                                 antialias=shrinking)
        parts.append(part)
    return torch.cat(parts)


def split_indices(labels: np.ndarray, holdout: float, seed: int, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Seeded, stratified (keep, holdout) index split; DatasetError when a class is too small to stratify."""
    indices = np.arange(len(labels))
    try:
        keep, held = train_test_split(indices, test_size=holdout, random_state=seed, stratify=labels)
    except ValueError as exc:
        raise DatasetError(f"cannot split {len(labels)} images into {what} with every class on both sides "
                           f"({exc}); add images") from None
    return keep, held


def subset(split: RawSplit, indices: np.ndarray) -> RawSplit:
    index = torch.from_numpy(np.asarray(indices, dtype=np.int64))
    return RawSplit(split.images[index], split.labels[index])


def limited(split: RawSplit, limit: int | None, seed: int) -> RawSplit:
    """At most `limit` images: a seeded random subset (the whole split when it is no larger)."""
    if limit is None or len(split.labels) <= limit:
        return split
    order = torch.randperm(len(split.labels), generator=torch.Generator().manual_seed(seed))[:limit]
    return RawSplit(split.images[order], split.labels[order])


def three_way(pool: RawSplit, seed: int) -> tuple[RawSplit, RawSplit, RawSplit]:
    """60/20/20 stratified train/val/test of one pool of images."""
    labels = pool.labels.numpy()
    rest, test = split_indices(labels, 0.2, seed, "80% train+val / 20% test")
    train, val = split_indices(labels[rest], 0.25, seed, "60% train / 20% val")
    return subset(pool, rest[train]), subset(pool, rest[val]), subset(pool, test)


def train_val(train: RawSplit, seed: int) -> tuple[RawSplit, RawSplit]:
    """Official train set -> 90% train / a seeded, stratified 10% validation."""
    keep, held = split_indices(train.labels.numpy(), 0.1, seed, "90% train / 10% val")
    return subset(train, keep), subset(train, held)


def assemble(name: str, classes: tuple[str, ...], resolution: int, splits: tuple[RawSplit, RawSplit, RawSplit],
             limit: int | None, seed: int) -> Dataset:
    """Limit, resize and normalise (per-channel mean/std of the train split) three raw splits into a Dataset."""
    splits = tuple(limited(s, limit, seed + i) for i, s in enumerate(splits))
    images = [to_float(s.images, resolution) for s in splits]
    mean = images[0].mean(dim=(0, 2, 3))
    std = images[0].std(dim=(0, 2, 3)).clamp_min(1e-6)
    for x in images:
        x.sub_(mean[None, :, None, None]).div_(std[None, :, None, None])
    train, val, test = (Split(x.contiguous(), s.labels.to(torch.int64)) for x, s in zip(images, splits))
    return Dataset(name=name, in_chans=images[0].shape[1], resolution=resolution, num_classes=len(classes),
                   train=train, val=val, test=test, classes=classes,
                   mean=tuple(mean.tolist()), std=tuple(std.tolist()))
