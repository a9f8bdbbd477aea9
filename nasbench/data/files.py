"""Readers for torchvision's on-disk dataset formats (CIFAR python pickles, MNIST idx files) and ImageFolder."""
from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import numpy as np
import torch

from nasbench.data.dataset import DatasetError, RawSplit

IDX_UBYTE = 0x08


def read_cifar_batches(paths: list[Path], label_key: str) -> RawSplit:
    """CIFAR python-version batches: pickled dicts with `data` (N x 3072 uint8, CHW order) and `label_key`."""
    images, labels = [], []
    for path in paths:
        with open(path, "rb") as f:
            try:
                entry = pickle.load(f, encoding="bytes")
            except (pickle.UnpicklingError, EOFError, ValueError) as exc:
                raise DatasetError(f"{path} is not a CIFAR python batch ({exc})") from None
        entry = {k.decode() if isinstance(k, bytes) else k: v for k, v in entry.items()}
        if "data" not in entry or label_key not in entry:
            raise DatasetError(f"{path} lacks 'data' or {label_key!r} (found {', '.join(map(str, entry))})")
        data = np.asarray(entry["data"], dtype=np.uint8)
        if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(data) != len(entry[label_key]):
            raise DatasetError(f"{path}: expected N x 3072 image rows and N labels, got {data.shape} and "
                               f"{len(entry[label_key])} labels")
        images.append(data.reshape(-1, 3, 32, 32))
        labels.append(np.asarray(entry[label_key], dtype=np.int64))
    return RawSplit(torch.from_numpy(np.concatenate(images)), torch.from_numpy(np.concatenate(labels)))


def read_pickled_names(path: Path, key: str) -> tuple[str, ...] | None:
    """Class names from a CIFAR meta pickle, None when the file is absent."""
    if not path.exists():
        return None
    with open(path, "rb") as f:
        entry = pickle.load(f, encoding="bytes")
    entry = {k.decode() if isinstance(k, bytes) else k: v for k, v in entry.items()}
    return tuple(n.decode() if isinstance(n, bytes) else str(n) for n in entry.get(key, ())) or None


def read_idx(path: Path) -> np.ndarray:
    """An idx file of unsigned bytes (MNIST format), optionally gzipped."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != IDX_UBYTE or not 1 <= data[3] <= 4:
        raise DatasetError(f"{path} is not an idx ubyte file (magic {data[:4].hex()})")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    offset = 4 + 4 * ndim
    if len(data) - offset != int(np.prod(shape)):
        raise DatasetError(f"{path}: header says {shape} but holds {len(data) - offset} bytes")
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(shape)


def read_mnist_pair(images: Path, labels: Path) -> RawSplit:
    x, y = read_idx(images), read_idx(labels)
    if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
        raise DatasetError(f"{images} and {labels}: expected N x H x W images and N labels, got {x.shape}, {y.shape}")
    return RawSplit(torch.from_numpy(x.copy())[:, None], torch.from_numpy(y.astype(np.int64)))


def read_image_folder(root: Path, resolution: int) -> tuple[RawSplit, tuple[str, ...]]:
    """A torchvision ImageFolder tree (root/<class>/<image>), as RGB uint8 resized to resolution x resolution."""
    from torchvision.datasets import ImageFolder
    from torchvision.transforms import v2

    resize = v2.Compose([v2.PILToTensor(), v2.Resize((resolution, resolution), antialias=True)])
    try:
        folder = ImageFolder(str(root), transform=resize, loader=_rgb)
    except (FileNotFoundError, OSError) as exc:
        raise DatasetError(f"{root}: expected an ImageFolder tree <root>/<class name>/<image file> ({exc})") from None
    images = torch.stack([folder[i][0] for i in range(len(folder))])
    labels = torch.tensor(folder.targets, dtype=torch.int64)
    return RawSplit(images, labels), tuple(folder.classes)


def _rgb(path: str):
    from PIL import Image

    with Image.open(path) as image:
        return image.convert("RGB")
