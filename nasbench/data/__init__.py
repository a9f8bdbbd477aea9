"""Datasets as in-memory tensors with fixed, seeded train/val/test splits.

`digits` (scikit-learn's bundled 8x8 handwritten digits, upsampled) and `distorted_digits` (the same digits under
random affine and elastic distortions and pixel noise, generated on the fly: a task with headroom) need nothing on
disk. `cifar10`, `cifar100`,
`mnist` and `fashion_mnist` read torchvision's on-disk formats under `data_dir`; `imagefolder` reads a user's
images in torchvision's ImageFolder layout. Searches optimise validation accuracy; the test split is for final
reports only.
"""
from __future__ import annotations

import dataclasses
import functools
import os
from pathlib import Path

import numpy as np
import torch

from nasbench.data.dataset import Dataset, DatasetError, RawSplit, Split, assemble, error_reason, three_way, train_val
from nasbench.data.distorted import distorted_digits
from nasbench.data.files import read_cifar_batches, read_image_folder, read_mnist_pair, read_pickled_names

__all__ = ["DATASETS", "DATASETS_HELP", "EMBEDDED", "Dataset", "DatasetError", "Split", "clear_cache",
           "default_resolution", "load_dataset"]

EMBEDDED = ("digits", "distorted_digits")  # generated from scikit-learn's bundled digits: nothing on disk
DATASETS = (*EMBEDDED, "cifar10", "cifar100", "mnist", "fashion_mnist", "imagefolder")
DATASETS_HELP = f"{', '.join(EMBEDDED)} (embedded), {', '.join(DATASETS[len(EMBEDDED):])}"
DATA_DIR_ENV = "NASBENCH_DATA"  # where the file datasets live when no data_dir is given (default ./data)


@dataclasses.dataclass(frozen=True)
class CifarFiles:
    title: str
    folder: str
    train: tuple[str, ...]
    test: tuple[str, ...]
    label_key: str
    meta: tuple[str, str]  # file, key of the class names
    num_classes: int
    url: str


@dataclasses.dataclass(frozen=True)
class MnistFiles:
    title: str
    folder: str
    classes: tuple[str, ...]


CIFAR = {
    "cifar10": CifarFiles("CIFAR-10", "cifar-10-batches-py", tuple(f"data_batch_{i}" for i in range(1, 6)),
                          ("test_batch",), "labels", ("batches.meta", "label_names"), 10,
                          "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"),
    "cifar100": CifarFiles("CIFAR-100", "cifar-100-python", ("train",), ("test",), "fine_labels",
                           ("meta", "fine_label_names"), 100,
                           "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"),
}
MNIST = {
    "mnist": MnistFiles("MNIST", "MNIST", tuple(str(i) for i in range(10))),
    "fashion_mnist": MnistFiles("Fashion-MNIST", "FashionMNIST",
                                ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                                 "Bag", "Ankle boot")),
}
DIGIT_CLASSES = tuple(str(i) for i in range(10))
MNIST_STEMS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
NATIVE_RESOLUTION = {"digits": 16, "distorted_digits": 16, "cifar10": 32,
                      "cifar100": 32, "mnist": 28, "fashion_mnist": 28, "imagefolder": 32}


def default_resolution(name: str) -> int:
    """The resolution a dataset loads at when none is given (digits and distorted_digits: 16, from 8x8 sources)."""
    _check_name(name)
    return NATIVE_RESOLUTION[name]


def load_dataset(name: str, data_dir: str | os.PathLike | None = None, resolution: int | None = None, seed: int = 0,
                 limit: int | None = None, download: bool = False) -> Dataset:
    """Load a dataset into memory, cached per process (the returned tensors are shared: never modify them).

    data_dir: folder holding torchvision's on-disk layout (cifar-10-batches-py/, cifar-100-python/, MNIST/raw/,
    FashionMNIST/raw/), default $NASBENCH_DATA or ./data; for `imagefolder`, the ImageFolder root itself
    (<root>/<class>/<image>, or <root>/train/<class>/... plus <root>/test/<class>/...).
    resolution: images are resized to resolution x resolution. seed: fixes the splits. limit: keep at most this
    many images per split (a seeded random subset), for quick runs. download: let torchvision fetch missing files.
    """
    _check_name(name)
    resolution = NATIVE_RESOLUTION[name] if resolution is None else resolution
    for label, value, low in (("resolution", resolution, 1), ("limit", limit, 1), ("seed", seed, 0)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < low):
            raise DatasetError(f"{label} must be an integer >= {low}, got {value!r}")
    if name == "imagefolder" and data_dir is None:
        raise DatasetError("imagefolder needs a data folder: the root of an ImageFolder tree <root>/<class>/<image>",
                           setting="data_dir")
    if name in EMBEDDED:
        folder = ""
    else:
        folder = str(Path(data_dir if data_dir is not None else os.environ.get(DATA_DIR_ENV, "data")).resolve())
    return _load(name, folder, resolution, seed, limit, bool(download))


def clear_cache() -> None:
    """Forget every dataset loaded in this process (frees their memory)."""
    _load.cache_clear()


def _check_name(name: str) -> None:
    if name not in DATASETS:
        raise DatasetError(f"unknown dataset {name!r}; known datasets: {', '.join(DATASETS)}")


@functools.lru_cache(maxsize=4)
def _load(name: str, folder: str, resolution: int, seed: int, limit: int | None, download: bool) -> Dataset:
    try:
        classes, splits = _read(name, folder, resolution, seed, download)
    except OSError as exc:  # a file or folder this process cannot open, list or stat (a folder, no permission, ...)
        raise DatasetError(f"{exc.filename or folder}: cannot read it ({error_reason(exc)})",
                           setting="data_dir") from None
    return assemble(name, classes, resolution, splits, limit, seed)


def _read(name: str, folder: str, resolution: int, seed: int, download: bool):
    """A dataset's class names and its raw train, val and test splits."""
    if name == "digits":
        return _digits(seed)
    if name == "distorted_digits":
        return DIGIT_CLASSES, distorted_digits(seed)
    if name in CIFAR:
        return _cifar(CIFAR[name], name, Path(folder), seed, download)
    if name in MNIST:
        return _mnist(MNIST[name], name, Path(folder), seed, download)
    return _image_folder(Path(folder), resolution, seed)


def _digits(seed: int) -> tuple[tuple[str, ...], tuple[RawSplit, RawSplit, RawSplit]]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    pool = RawSplit(torch.from_numpy(digits.images.astype(np.float32) / 16.0)[:, None],
                    torch.from_numpy(digits.target.astype(np.int64)))
    return DIGIT_CLASSES, three_way(pool, seed)


def _cifar(spec: CifarFiles, name: str, root: Path, seed: int, download: bool):
    folder = root / spec.folder
    names = spec.train + spec.test
    missing = [n for n in names if not (folder / n).is_file()]
    if missing and download:
        _download(name, root, f"{spec.title}: {_listing(spec.folder, missing)}")
        missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        raise DatasetError(f"{name}: missing {_listing(spec.folder, missing)} under {root}. Extract {spec.url} "
                           f"into {root} (it creates {spec.folder}/ with {', '.join(names)}), "
                           f"or use the data folder that holds {spec.folder}/", setting="data_dir")
    train = read_cifar_batches([folder / n for n in spec.train], spec.label_key, spec.num_classes)
    test = read_cifar_batches([folder / n for n in spec.test], spec.label_key, spec.num_classes)
    classes = (read_pickled_names(folder / spec.meta[0], spec.meta[1], spec.num_classes)
               or tuple(map(str, range(spec.num_classes))))
    return classes, (*train_val(train, seed), test)


def _mnist(spec: MnistFiles, name: str, root: Path, seed: int, download: bool):
    raw = root / spec.folder / "raw"
    found = {stem: _first_file(raw / stem, raw / f"{stem}.gz") for stem in MNIST_STEMS}
    missing = [stem for stem, path in found.items() if path is None]
    if missing and download:
        _download(name, root, f"{spec.title}: {_listing(f'{spec.folder}/raw', missing)}")
        found = {stem: _first_file(raw / stem, raw / f"{stem}.gz") for stem in MNIST_STEMS}
        missing = [stem for stem, path in found.items() if path is None]
    if missing:
        raise DatasetError(f"{name}: missing {_listing(f'{spec.folder}/raw', missing)} (each may also end in .gz) "
                           f"under {root}. Put the four {spec.title} idx files ({', '.join(MNIST_STEMS)}, gzipped or "
                           f"not) in {raw}/, or use the data folder that holds {spec.folder}/", setting="data_dir")
    paths = [found[stem] for stem in MNIST_STEMS]
    train = read_mnist_pair(paths[0], paths[1], len(spec.classes))
    test = read_mnist_pair(paths[2], paths[3], len(spec.classes))
    return spec.classes, (*train_val(train, seed), test)


def _image_folder(root: Path, resolution: int, seed: int):
    if not root.is_dir():
        raise DatasetError(f"imagefolder: {root} is not a folder; expected <root>/<class name>/<image file>",
                           setting="data_dir")
    if (root / "train").is_dir() and (root / "test").is_dir():
        train, classes = read_image_folder(root / "train", resolution)
        test, test_classes = read_image_folder(root / "test", resolution)
        if test_classes != classes:
            raise DatasetError(f"imagefolder: {root}/train and {root}/test hold different class folders "
                               f"({', '.join(classes)} vs {', '.join(test_classes)})", setting="data_dir")
        return classes, (*train_val(train, seed), test)
    pool, classes = read_image_folder(root, resolution)
    return classes, three_way(pool, seed)


def _first_file(*paths: Path) -> Path | None:
    return next((p for p in paths if p.is_file()), None)


def _listing(folder: str, names: list[str]) -> str:
    return ", ".join(f"{folder}/{n}" for n in names)


def _download(name: str, root: Path, what: str) -> None:
    """Fetch a dataset with torchvision; DatasetError naming the files when the network does not allow it."""
    from torchvision import datasets

    cls = {"cifar10": datasets.CIFAR10, "cifar100": datasets.CIFAR100, "mnist": datasets.MNIST,
           "fashion_mnist": datasets.FashionMNIST}[name]
    try:
        for train in (True, False):
            cls(str(root), train=train, download=True)
    except Exception as exc:  # network errors come as URLError, OSError, RuntimeError, ...
        raise DatasetError(f"{name}: download failed ({error_reason(exc)}); missing {what} under {root}") from None
