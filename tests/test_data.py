"""Dataset loaders on tiny files written in the real on-disk formats, the digits splits, and the error messages."""
import collections
import gzip
import pickle
import struct

import numpy as np
import pytest
import torch
from PIL import Image

from nasbench.data import DATASETS, DatasetError, clear_cache, load_dataset


def unnormalised(dataset, split):
    """Pixel values in 0..255 again, from a normalised split."""
    mean = torch.tensor(dataset.mean)[None, :, None, None]
    std = torch.tensor(dataset.std)[None, :, None, None]
    return (getattr(dataset, split).images * std + mean) * 255


# ---- digits ---------------------------------------------------------------------------------------------------


def test_digits_splits_are_60_20_20_and_stratified():
    from sklearn.datasets import load_digits

    data = load_dataset("digits")
    assert (len(data.train), len(data.val), len(data.test)) == (1077, 360, 360)
    assert (data.name, data.in_chans, data.resolution, data.num_classes) == ("digits", 1, 16, 10)
    assert repr(data) == "Dataset('digits', 1x16x16, 10 classes, train/val/test 1077/360/360)"
    assert data.train.images.shape == (1077, 1, 16, 16) and data.train.images.dtype == torch.float32
    assert data.train.labels.dtype == torch.int64
    everything = collections.Counter(load_digits().target.tolist())
    for split, fraction in (("train", 0.6), ("val", 0.2), ("test", 0.2)):
        counts = collections.Counter(getattr(data, split).labels.tolist())
        for label, total in everything.items():
            assert abs(counts[label] - fraction * total) <= 1.0, (split, label)
    merged = sum((collections.Counter(s.labels.tolist()) for s in data.splits().values()), collections.Counter())
    assert merged == everything


def test_digits_is_normalised_with_train_statistics():
    data = load_dataset("digits", resolution=32)
    assert data.train.images.shape[1:] == (1, 32, 32)
    assert abs(float(data.train.images.mean())) < 1e-4
    assert abs(float(data.train.images.std()) - 1) < 1e-3
    assert 0.25 < data.mean[0] < 0.35  # an 8x8 digit covers about 30% ink


def test_splits_are_fixed_by_the_seed_and_cached():
    a, b = load_dataset("digits"), load_dataset("digits", seed=0)
    assert a is b  # per-process cache
    other = load_dataset("digits", seed=1)
    assert not torch.equal(a.test.labels, other.test.labels)
    clear_cache()
    again = load_dataset("digits")
    assert again is not a
    for name in ("train", "val", "test"):
        assert torch.equal(getattr(a, name).images, getattr(again, name).images)
        assert torch.equal(getattr(a, name).labels, getattr(again, name).labels)


def test_limit_keeps_a_seeded_subset_of_each_split():
    data = load_dataset("digits", limit=50)
    assert (len(data.train), len(data.val), len(data.test)) == (50, 50, 50)
    assert torch.equal(data.train.labels, load_dataset("digits", limit=50).train.labels)


def test_unknown_dataset_and_bad_arguments_raise_dataset_error():
    assert DATASETS == ("digits", "cifar10", "cifar100", "mnist", "fashion_mnist", "imagefolder")
    with pytest.raises(DatasetError, match="unknown dataset 'svhn'; known datasets: digits, cifar10"):
        load_dataset("svhn")
    with pytest.raises(ValueError, match="resolution must be an integer >= 1, got 0"):
        load_dataset("digits", resolution=0)
    with pytest.raises(DatasetError, match="imagefolder needs data_dir"):
        load_dataset("imagefolder")


# ---- CIFAR ----------------------------------------------------------------------------------------------------


def cifar_rows(labels):
    """CIFAR rows (3072 bytes, channel-major): red = 20 x label, green = 100, blue = 200."""
    rows = np.empty((len(labels), 3, 32, 32), dtype=np.uint8)
    rows[:, 0] = (np.asarray(labels) * 20)[:, None, None]
    rows[:, 1], rows[:, 2] = 100, 200
    return rows.reshape(len(labels), 3072)


def write_pickle(path, entry):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(entry, f)


def test_cifar10_reads_the_python_batches(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    for i in range(1, 6):
        labels = list(range(10)) * 2
        write_pickle(folder / f"data_batch_{i}", {b"batch_label": b"x", b"labels": labels, b"data": cifar_rows(labels),
                                                  b"filenames": [b"f"] * 20})
    write_pickle(folder / "test_batch", {b"labels": list(range(10)), b"data": cifar_rows(list(range(10)))})
    names = [f"class{i}" for i in range(10)]
    write_pickle(folder / "batches.meta", {b"label_names": [n.encode() for n in names]})

    data = load_dataset("cifar10", data_dir=tmp_path)
    assert (len(data.train), len(data.val), len(data.test)) == (90, 10, 10)
    assert sorted(data.val.labels.tolist()) == list(range(10))  # stratified 10% of the official train set
    assert (data.in_chans, data.resolution, data.num_classes, data.classes) == (3, 32, 10, tuple(names))
    for split in ("train", "val", "test"):
        pixels = unnormalised(data, split)
        labels = getattr(data, split).labels.float()
        assert torch.allclose(pixels[:, 0].mean(dim=(1, 2)), labels * 20, atol=1e-3)
        assert torch.allclose(pixels[:, 1:].mean(dim=(2, 3)), torch.tensor([100.0, 200.0]), atol=1e-3)


def test_cifar100_reads_fine_labels_and_resizes(tmp_path):
    folder = tmp_path / "cifar-100-python"
    labels = [7, 42, 99] * 10
    write_pickle(folder / "train", {b"fine_labels": labels, b"coarse_labels": [0] * 30, b"data": cifar_rows(labels)})
    write_pickle(folder / "test", {b"fine_labels": [7, 42, 99], b"coarse_labels": [0] * 3,
                                   b"data": cifar_rows([7, 42, 99])})

    data = load_dataset("cifar100", data_dir=tmp_path, resolution=16, limit=27)
    assert data.num_classes == 100 and data.classes[99] == "99"  # no meta file: class numbers as names
    assert (len(data.train), len(data.val), len(data.test)) == (27, 3, 3)
    assert data.test.images.shape == (3, 3, 16, 16)
    assert sorted(data.test.labels.tolist()) == [7, 42, 99]


def test_cifar_missing_files_name_every_file_and_where(tmp_path):
    (tmp_path / "cifar-10-batches-py").mkdir()
    write_pickle(tmp_path / "cifar-10-batches-py" / "data_batch_1", {b"labels": [0], b"data": cifar_rows([0])})
    with pytest.raises(DatasetError) as info:
        load_dataset("cifar10", data_dir=tmp_path)
    message = str(info.value)
    assert message.startswith(f"cifar10: missing cifar-10-batches-py/data_batch_2, cifar-10-batches-py/data_batch_3, "
                              f"cifar-10-batches-py/data_batch_4, cifar-10-batches-py/data_batch_5, "
                              f"cifar-10-batches-py/test_batch under {tmp_path}.")
    assert "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz" in message and "download=True" in message
    assert isinstance(info.value, ValueError)


def test_cifar_batch_without_labels_is_rejected(tmp_path):
    folder = tmp_path / "cifar-100-python"
    write_pickle(folder / "train", {b"labels": [1], b"data": cifar_rows([1])})
    write_pickle(folder / "test", {b"fine_labels": [1], b"data": cifar_rows([1])})
    with pytest.raises(DatasetError, match="lacks 'data' or 'fine_labels'"):
        load_dataset("cifar100", data_dir=tmp_path)


# ---- MNIST ----------------------------------------------------------------------------------------------------


def write_idx(path, array, compress):
    array = np.asarray(array, dtype=np.uint8)
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + b"".join(struct.pack(">I", n) for n in array.shape)
    payload = header + array.tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    if compress:
        with gzip.open(str(path) + ".gz", "wb") as f:
            f.write(payload)
    else:
        path.write_bytes(payload)


def write_mnist(raw, train_labels, test_labels, compress):
    for prefix, labels in (("train", train_labels), ("t10k", test_labels)):
        images = np.broadcast_to((np.asarray(labels) * 25)[:, None, None], (len(labels), 28, 28))
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images, compress)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels, compress)


@pytest.mark.parametrize("name,folder,compress", [("mnist", "MNIST", False), ("fashion_mnist", "FashionMNIST", True)])
def test_mnist_formats_read_idx_files(tmp_path, name, folder, compress):
    write_mnist(tmp_path / folder / "raw", list(range(10)) * 10, [3, 1, 4, 1, 5], compress)
    data = load_dataset(name, data_dir=tmp_path)
    assert (len(data.train), len(data.val), len(data.test)) == (90, 10, 5)
    assert (data.in_chans, data.resolution, data.num_classes) == (1, 28, 10)
    assert data.test.labels.tolist() == [3, 1, 4, 1, 5]  # the official test set, in file order
    pixels = unnormalised(data, "test")
    assert torch.allclose(pixels.mean(dim=(1, 2, 3)), torch.tensor([75.0, 25, 100, 25, 125]), atol=1e-3)
    if name == "fashion_mnist":
        assert data.classes[9] == "Ankle boot"


def test_mnist_resizes_on_request(tmp_path):
    write_mnist(tmp_path / "MNIST" / "raw", list(range(10)) * 10, [0, 9], compress=True)
    data = load_dataset("mnist", data_dir=tmp_path, resolution=14)
    assert data.train.images.shape == (90, 1, 14, 14)


def test_mnist_missing_files_say_where_to_put_them(tmp_path):
    write_idx(tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte", np.zeros((1, 28, 28)), compress=False)
    with pytest.raises(DatasetError) as info:
        load_dataset("mnist", data_dir=tmp_path)
    assert str(info.value).startswith(
        "mnist: missing MNIST/raw/train-labels-idx1-ubyte, MNIST/raw/t10k-images-idx3-ubyte, "
        f"MNIST/raw/t10k-labels-idx1-ubyte (each may also end in .gz) under {tmp_path}. Put the four MNIST idx files")
    assert f"in {tmp_path / 'MNIST' / 'raw'}/" in str(info.value)


def test_corrupt_idx_file_is_rejected(tmp_path):
    write_mnist(tmp_path / "MNIST" / "raw", list(range(10)) * 2, [0, 9], compress=False)
    (tmp_path / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x0d\x01junk")
    with pytest.raises(DatasetError, match="is not an idx ubyte file"):
        load_dataset("mnist", data_dir=tmp_path)


# ---- ImageFolder ----------------------------------------------------------------------------------------------


def write_pngs(root, per_class):
    colours = {"cat": (255, 0, 0), "dog": (0, 0, 255)}
    for name, colour in colours.items():
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            Image.new("RGB", (20 + i, 12), colour).save(root / name / f"{i}.png")


def test_imagefolder_splits_60_20_20_and_resizes(tmp_path):
    write_pngs(tmp_path, 10)
    data = load_dataset("imagefolder", data_dir=tmp_path, resolution=8)
    assert (len(data.train), len(data.val), len(data.test)) == (12, 4, 4)
    assert (data.classes, data.in_chans, data.num_classes) == (("cat", "dog"), 3, 2)
    assert data.val.labels.tolist().count(0) == 2 and data.test.labels.tolist().count(1) == 2
    pixels = unnormalised(data, "train")
    red = data.train.labels == 0
    assert torch.allclose(pixels[red][:, 0], torch.tensor(255.0), atol=1e-2)
    assert torch.allclose(pixels[~red][:, 0], torch.tensor(0.0), atol=1e-2)
    assert data.train.images.shape == (12, 3, 8, 8)


def test_imagefolder_uses_train_and_test_folders_when_present(tmp_path):
    write_pngs(tmp_path / "train", 10)
    write_pngs(tmp_path / "test", 3)
    data = load_dataset("imagefolder", data_dir=tmp_path, resolution=4)
    assert (len(data.train), len(data.val), len(data.test)) == (18, 2, 6)


def test_imagefolder_without_class_folders_is_explained(tmp_path):
    with pytest.raises(DatasetError, match="expected an ImageFolder tree"):
        load_dataset("imagefolder", data_dir=tmp_path)
