"""Readers for torchvision's on-disk dataset formats (CIFAR python pickles, MNIST idx files) and ImageFolder.

A malformed file raises a one-line DatasetError that names it, with setting "data_dir" (the data folder is at fault).
"""
from __future__ import annotations

import gzip
import io
import math
import pickle
import zlib
from pathlib import Path

import numpy as np
import torch

from nasbench.data.dataset import DatasetError, RawSplit, error_reason

IDX_UBYTE = 0x08
CIFAR_CONTENT = "a CIFAR file holds only dicts, lists, bytes, strings, numbers and numpy arrays"
# The only globals a CIFAR pickle may name. Dicts, lists, str and int pickle without any; these rebuild numpy arrays
# and, in Python 3's protocols 0-2, bytes. None of them runs code or touches files.
CIFAR_GLOBALS = frozenset({
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),  # arrays pickled by numpy < 2: the official files (Python 2 cPickle)
    ("numpy._core.multiarray", "_reconstruct"),  # arrays pickled by numpy >= 2
    ("numpy.core.numeric", "_frombuffer"),  # arrays pickled with protocol 5, numpy < 2
    ("numpy._core.numeric", "_frombuffer"),  # arrays pickled with protocol 5, numpy >= 2
    ("_codecs", "encode"),  # bytes pickled by Python 3 with protocol 0, 1 or 2
})


class RefusedGlobal(pickle.UnpicklingError):
    """A pickle names a global outside CIFAR_GLOBALS; the message is its dotted name."""


class CifarUnpickler(pickle.Unpickler):
    """Unpickles only what CIFAR's python files hold, so loading a hostile file cannot run code."""

    def find_class(self, module: str, name: str):
        if (module, name) not in CIFAR_GLOBALS:
            raise RefusedGlobal(f"{module}.{name}")
        return super().find_class(module, name)


def read_cifar_batches(paths: list[Path], label_key: str, num_classes: int) -> RawSplit:
    """CIFAR python-version batches: pickled dicts with `data` (N x 3072 uint8, CHW order) and `label_key`."""
    batches = [read_cifar_batch(path, label_key, num_classes) for path in paths]
    return RawSplit(torch.from_numpy(np.concatenate([images for images, _ in batches])),
                    torch.from_numpy(np.concatenate([labels for _, labels in batches])))


def read_cifar_batch(path: Path, label_key: str, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """One batch's images (N x 3 x 32 x 32 uint8) and labels (N int64 in 0..num_classes - 1)."""
    entry = unpickle_cifar_dict(path, "a CIFAR python batch")
    if "data" not in entry or label_key not in entry:
        raise DatasetError(f"{path} lacks 'data' or {label_key!r} (found {', '.join(map(str, entry))})",
                           setting="data_dir")
    data = integer_array(entry["data"], path, "data")
    labels = integer_array(entry[label_key], path, label_key)
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or labels.ndim != 1 or len(data) != len(labels) or not len(data):
        raise DatasetError(f"{path}: expected N >= 1 image rows of 3072 bytes and N labels, got data of shape "
                           f"{data.shape} and labels of shape {labels.shape}", setting="data_dir")
    check_range(path, "'data'", data, 255)
    check_range(path, repr(label_key), labels, num_classes - 1)
    return data.astype(np.uint8, copy=False).reshape(-1, 3, 32, 32), labels.astype(np.int64)


def read_pickled_names(path: Path, key: str, count: int) -> tuple[str, ...] | None:
    """The `count` class names a CIFAR meta pickle lists under `key`; None when the file or the list is absent."""
    if not path.exists():
        return None
    names = unpickle_cifar_dict(path, "a CIFAR meta file").get(key, ())
    if not isinstance(names, (list, tuple)):
        raise DatasetError(f"{path}: {key!r} is not a list of class names (found {type(names).__name__})",
                           setting="data_dir")
    if not names:
        return None
    if len(names) != count:
        raise DatasetError(f"{path} lists {len(names)} class names under {key!r}, expected {count}",
                           setting="data_dir")
    return tuple(n.decode(errors="replace") if isinstance(n, bytes) else str(n) for n in names)


def unpickle_cifar_dict(path: Path, what: str) -> dict:
    """The dict a CIFAR python file pickles, its bytes keys decoded to str; `what` names the file's kind."""
    entry = unpickle_cifar(path, what)
    if not isinstance(entry, dict):
        raise DatasetError(f"{path}: expected a pickled dict, found {type(entry).__name__}", setting="data_dir")
    return {key.decode("latin-1") if isinstance(key, bytes) else key: value for key, value in entry.items()}


def unpickle_cifar(path: Path, what: str):
    """The object a CIFAR python file pickles (Python 2's str as bytes), unpickled with CifarUnpickler."""
    content = path.read_bytes()
    try:
        return CifarUnpickler(io.BytesIO(content), encoding="bytes").load()
    except RefusedGlobal as exc:
        raise DatasetError(f"{path}: refuses to unpickle {exc} ({CIFAR_CONTENT})", setting="data_dir") from None
    except Exception as exc:  # a malformed pickle raises nearly anything: UnpicklingError, EOFError, KeyError, ...
        raise DatasetError(f"{path} is not {what} ({error_reason(exc)})", setting="data_dir") from None


def integer_array(value, path: Path, key: str) -> np.ndarray:
    """`value` (an integer numpy array or nested lists of ints) as a numpy array; DatasetError for anything else."""
    try:
        array = np.asarray(value)
    except ValueError as exc:  # ragged or too deeply nested lists
        raise DatasetError(f"{path}: {key!r} is not an array of integers ({error_reason(exc)})",
                           setting="data_dir") from None
    if array.size and array.dtype.kind not in "iu":
        raise DatasetError(f"{path}: {key!r} is not an array of integers (found {array.dtype} values)",
                           setting="data_dir")
    return array


def check_range(path: Path, what: str, values: np.ndarray, high: int) -> None:
    """DatasetError naming the file when some of `values` fall outside 0..high."""
    if len(values) and (values.min() < 0 or values.max() > high):
        raise DatasetError(f"{path}: {what} outside 0..{high} (found {int(values.min())}..{int(values.max())})",
                           setting="data_dir")


def read_idx(path: Path) -> np.ndarray:
    """An idx file of unsigned bytes (MNIST format), optionally gzipped."""
    data = idx_content(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != IDX_UBYTE or not 1 <= data[3] <= 4:
        raise DatasetError(f"{path} is not an idx ubyte file (magic {data[:4].hex() or 'missing: the file is empty'})",
                           setting="data_dir")
    ndim = data[3]
    offset = 4 + 4 * ndim
    if len(data) < offset:
        raise DatasetError(f"{path} is truncated: its header takes {offset} bytes, the file holds {len(data)}",
                           setting="data_dir")
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    if len(data) - offset != math.prod(shape):
        raise DatasetError(f"{path}: header says {shape} but holds {len(data) - offset} bytes", setting="data_dir")
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(shape)


def idx_content(path: Path) -> bytes:
    """An idx file's bytes, decompressed when its name ends in .gz."""
    content = path.read_bytes()
    if path.suffix != ".gz":
        return content
    try:
        return gzip.decompress(content)
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise DatasetError(f"{path} is truncated or not gzip data ({error_reason(exc)}); download or copy it again",
                           setting="data_dir") from None


def read_mnist_pair(images: Path, labels: Path, num_classes: int) -> RawSplit:
    x, y = read_idx(images), read_idx(labels)
    if x.ndim != 3 or y.ndim != 1 or len(x) != len(y) or 0 in x.shape:
        raise DatasetError(f"{images} and {labels}: expected N x H x W images (N, H, W >= 1) and N labels, got "
                           f"{x.shape}, {y.shape}", setting="data_dir")
    check_range(labels, "labels", y, num_classes - 1)
    return RawSplit(torch.from_numpy(x.copy())[:, None], torch.from_numpy(y.astype(np.int64)))


def read_image_folder(root: Path, resolution: int) -> tuple[RawSplit, tuple[str, ...]]:
    """A torchvision ImageFolder tree (root/<class>/<image>), as RGB uint8 resized to resolution x resolution."""
    from torchvision.datasets import ImageFolder
    from torchvision.transforms import v2

    resize = v2.Compose([v2.PILToTensor(), v2.Resize((resolution, resolution), antialias=True)])
    try:
        folder = ImageFolder(str(root), transform=resize, loader=rgb_image)
    except OSError as exc:
        raise DatasetError(f"{root}: expected an ImageFolder tree <root>/<class name>/<image file> "
                           f"({error_reason(exc)})", setting="data_dir") from None
    if len(folder.classes) < 2:
        raise DatasetError(f"{root}: found one class folder, {folder.classes[0]!r}; a classifier needs at least 2 "
                           f"(<root>/<class name>/<image file>)", setting="data_dir")
    images = torch.stack([folder[i][0] for i in range(len(folder))])
    labels = torch.tensor(folder.targets, dtype=torch.int64)
    return RawSplit(images, labels), tuple(folder.classes)


def rgb_image(path: str):
    """An image file as an RGB PIL image; DatasetError naming the file when PIL cannot read it."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except Exception as exc:  # PIL raises many types for a bad file: OSError, DecompressionBombError, SyntaxError, ...
        raise DatasetError(f"{path} is not a readable image ({error_reason(exc)}); remove or replace it",
                           setting="data_dir") from None
