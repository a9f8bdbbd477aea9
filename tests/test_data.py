"""Dataset loaders on tiny files written in the real on-disk formats, the digits splits, and the error messages."""
import collections
import gzip
import io
import os
import pickle
import shlex
import shutil
import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from nasbench.data import DATASETS, DatasetError, clear_cache, load_dataset


def assert_names_file(error, path):
    """A malformed-file error: one line naming the file, blaming the data folder (a CLI names --data-dir)."""
    message = str(error)
    assert len(message.splitlines()) == 1 and str(path) in message, message
    assert error.setting == "data_dir"


needs_non_root = pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                                    reason="root reads a chmod 000 file, so it cannot be made unreadable")


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
    assert DATASETS == ("digits", "distorted_digits", "cifar10", "cifar100", "mnist", "fashion_mnist", "imagefolder")
    with pytest.raises(DatasetError, match="unknown dataset 'svhn'; known datasets: digits, distorted_digits, cifar10"):
        load_dataset("svhn")
    with pytest.raises(ValueError, match="resolution must be an integer >= 1, got 0"):
        load_dataset("digits", resolution=0)
    with pytest.raises(DatasetError, match="imagefolder needs a data folder") as info:
        load_dataset("imagefolder")
    assert info.value.setting == "data_dir"


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
    assert "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz" in message
    assert message.endswith("or use the data folder that holds cifar-10-batches-py/")
    assert isinstance(info.value, ValueError) and info.value.setting == "data_dir"  # a CLI names its --data-dir


def test_cifar_batch_without_labels_is_rejected(tmp_path):
    folder = tmp_path / "cifar-100-python"
    write_pickle(folder / "train", {b"labels": [1], b"data": cifar_rows([1])})
    write_pickle(folder / "test", {b"fine_labels": [1], b"data": cifar_rows([1])})
    with pytest.raises(DatasetError, match="lacks 'data' or 'fine_labels'"):
        load_dataset("cifar100", data_dir=tmp_path)


def write_cifar10(folder, replaced=None):
    """A valid tiny CIFAR-10 folder (two images per class per batch); `replaced` maps file names to other bytes."""
    for i in range(1, 6):
        labels = list(range(10)) * 2
        write_pickle(folder / f"data_batch_{i}", {b"labels": labels, b"data": cifar_rows(labels)})
    write_pickle(folder / "test_batch", {b"labels": list(range(10)), b"data": cifar_rows(list(range(10)))})
    write_pickle(folder / "batches.meta", {b"label_names": [f"class{i}".encode() for i in range(10)]})
    for name, content in (replaced or {}).items():
        (folder / name).write_bytes(content)


def binstring(data):
    """Python 2 str as cPickle writes it (it unpickles as bytes with encoding='bytes')."""
    if len(data) < 256:
        return pickle.SHORT_BINSTRING + bytes([len(data)]) + data
    return pickle.BINSTRING + struct.pack("<i", len(data)) + data


def binint(number):
    return pickle.BININT + struct.pack("<i", number)


def python2_array(array):
    """A uint8 numpy array as Python 2's cPickle (protocol 2) writes it: numpy.core.multiarray._reconstruct + state."""
    dtype_state = pickle.MARK + binint(3) + binstring(b"|") + pickle.NONE * 3 + binint(-1) + binint(-1) + binint(0)
    dtype = (pickle.GLOBAL + b"numpy\ndtype\n" + binstring(b"u1") + binint(0) + binint(1) + pickle.TUPLE3
             + pickle.REDUCE + dtype_state + pickle.TUPLE + pickle.BUILD)
    shape = pickle.MARK + b"".join(binint(n) for n in array.shape) + pickle.TUPLE
    state = pickle.MARK + binint(1) + shape + dtype + pickle.NEWFALSE + binstring(array.tobytes()) + pickle.TUPLE
    return (pickle.GLOBAL + b"numpy.core.multiarray\n_reconstruct\n" + pickle.GLOBAL + b"numpy\nndarray\n"
            + binint(0) + pickle.TUPLE1 + binstring(b"b") + pickle.TUPLE3 + pickle.REDUCE + state + pickle.BUILD)


def python2_value(value):
    if isinstance(value, np.ndarray):
        return python2_array(value)
    if isinstance(value, bytes):
        return binstring(value)
    if isinstance(value, int):
        return binint(value)
    return pickle.EMPTY_LIST + pickle.MARK + b"".join(map(python2_value, value)) + pickle.APPENDS


def python2_pickle(entry):
    """A dict of bytes keys as the official CIFAR files hold it: Python 2 cPickle, protocol 2."""
    items = b"".join(binstring(key) + python2_value(value) for key, value in entry.items())
    return pickle.PROTO + b"\x02" + pickle.EMPTY_DICT + pickle.MARK + items + pickle.SETITEMS + pickle.STOP


def test_cifar_reads_python2_cpickle_files(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    write_cifar10(folder)
    labels = list(range(10)) * 2
    for i in range(1, 6):
        (folder / f"data_batch_{i}").write_bytes(python2_pickle({b"batch_label": b"training batch", b"labels": labels,
                                                                 b"data": cifar_rows(labels),
                                                                 b"filenames": [b"f.png"] * 20}))
    (folder / "batches.meta").write_bytes(python2_pickle({b"label_names": [b"plane", b"car"] + [b"x"] * 8,
                                                          b"num_vis": 3072}))
    data = load_dataset("cifar10", data_dir=tmp_path)
    assert len(data.train) + len(data.val) == 100 and data.classes[:2] == ("plane", "car")
    assert torch.allclose(unnormalised(data, "train")[:, 0].mean(dim=(1, 2)), data.train.labels.float() * 20, atol=1e-3)


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_cifar_reads_every_pickle_protocol(tmp_path, protocol):
    folder = tmp_path / "cifar-10-batches-py"
    write_cifar10(folder)
    entry = {b"labels": list(range(10)), b"data": cifar_rows(list(range(10)))}
    (folder / "test_batch").write_bytes(pickle.dumps(entry, protocol=protocol))
    assert load_dataset("cifar10", data_dir=tmp_path).test.labels.tolist() == list(range(10))


class WritesAFile:
    """Pickles as a call of os.system that creates `marker`: what a hostile batch runs when unpickled freely."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {shlex.quote(str(self.marker))}",)


@pytest.mark.parametrize("name", ["data_batch_1", "batches.meta"])
def test_cifar_pickle_that_runs_code_is_refused_before_it_runs(tmp_path, name):
    folder = tmp_path / "cifar-10-batches-py"
    marker = tmp_path / "payload-ran"
    write_cifar10(folder)
    write_pickle(folder / name, {b"labels": [0], b"data": WritesAFile(marker), b"label_names": WritesAFile(marker)})
    with pytest.raises(DatasetError) as info:
        load_dataset("cifar10", data_dir=tmp_path)
    assert not marker.exists()
    assert str(info.value) == (f"{folder / name}: refuses to unpickle {os.system.__module__}.system (a CIFAR file "
                               f"holds only dicts, lists, bytes, strings, numbers and numpy arrays)")
    assert_names_file(info.value, folder / name)


def plain_pickle(entry):
    return pickle.dumps(entry, protocol=4)


@pytest.mark.parametrize("content,expected", [
    pytest.param(b"", "is not a CIFAR python batch (EOFError: Ran out of input)", id="empty"),
    pytest.param(b"not a pickle at all", "is not a CIFAR python batch (UnpicklingError: invalid load key, 'n'.)",
                 id="not-a-pickle"),
    pytest.param(plain_pickle({b"labels": [0]})[:-7], "is not a CIFAR python batch", id="cut-short"),
    pytest.param(b"\x80\x02h\x05.", "is not a CIFAR python batch", id="memo-reference-to-nothing"),
    pytest.param(plain_pickle([1, 2, 3]), "expected a pickled dict, found list", id="a-list"),
    pytest.param(plain_pickle({b"\xff": 1}), "lacks 'data' or 'labels' (found \xff)", id="non-utf8-key"),
    pytest.param(plain_pickle({b"labels": 7, b"data": cifar_rows([0])}), "and labels of shape ()",
                 id="labels-a-number"),
    pytest.param(plain_pickle({b"labels": ["cat"], b"data": cifar_rows([0])}),
                 "'labels' is not an array of integers (found <U3 values)", id="labels-text"),
    pytest.param(plain_pickle({b"labels": [2 ** 70], b"data": cifar_rows([0])}),
                 "'labels' is not an array of integers (found object values)", id="label-too-large"),
    pytest.param(plain_pickle({b"labels": [[0], [1, 2]], b"data": cifar_rows([0, 1])}),
                 "'labels' is not an array of integers (ValueError: setting an array element with a sequence.",
                 id="labels-ragged"),
    pytest.param(plain_pickle({b"labels": [[0]], b"data": cifar_rows([0])}),
                 "expected N >= 1 image rows of 3072 bytes and N labels", id="labels-2d"),
    pytest.param(plain_pickle({b"labels": [0], b"data": "pixels"}), "'data' is not an array of integers",
                 id="data-text"),
    pytest.param(plain_pickle({b"labels": [0], b"data": {1: 2}}), "'data' is not an array of integers",
                 id="data-a-dict"),
    pytest.param(plain_pickle({b"labels": [0], b"data": cifar_rows([0]) / 255}),
                 "'data' is not an array of integers (found float64 values)", id="data-floats"),
    pytest.param(plain_pickle({b"labels": [0], b"data": [[300] * 3072]}), "'data' outside 0..255 (found 300..300)",
                 id="pixel-too-large"),
    pytest.param(plain_pickle({b"labels": [0], b"data": cifar_rows([0]).astype(np.int64) - 1}),
                 "'data' outside 0..255 (found -1..199)", id="pixel-negative"),
    pytest.param(plain_pickle({b"labels": [0, 1], b"data": cifar_rows([0])}),
                 "expected N >= 1 image rows of 3072 bytes and N labels", id="more-labels-than-rows"),
    pytest.param(plain_pickle({b"labels": [], b"data": np.zeros((0, 3072), np.uint8)}),
                 "expected N >= 1 image rows of 3072 bytes and N labels, got data of shape (0, 3072)", id="no-images"),
    pytest.param(plain_pickle({b"labels": [10], b"data": cifar_rows([0])}), "'labels' outside 0..9 (found 10..10)",
                 id="label-outside-classes"),
])
def test_malformed_cifar_batch_is_one_line_naming_it(tmp_path, content, expected):
    folder = tmp_path / "cifar-10-batches-py"
    write_cifar10(folder, {"test_batch": content})
    with pytest.raises(DatasetError) as info:
        load_dataset("cifar10", data_dir=tmp_path)
    assert expected in str(info.value)
    assert_names_file(info.value, folder / "test_batch")


@pytest.mark.parametrize("content,expected", [
    pytest.param(b"nonsense", "is not a CIFAR meta file (UnpicklingError: invalid load key, 'n'.)", id="not-a-pickle"),
    pytest.param(plain_pickle(("a", "b")), "expected a pickled dict, found tuple", id="a-tuple"),
    pytest.param(plain_pickle({b"label_names": 10}), "'label_names' is not a list of class names", id="names-a-number"),
    pytest.param(plain_pickle({b"label_names": [b"cat", b"dog"]}),
                 "lists 2 class names under 'label_names', expected 10", id="too-few-names"),
])
def test_malformed_cifar_meta_file_is_one_line_naming_it(tmp_path, content, expected):
    folder = tmp_path / "cifar-10-batches-py"
    write_cifar10(folder, {"batches.meta": content})
    with pytest.raises(DatasetError) as info:
        load_dataset("cifar10", data_dir=tmp_path)
    assert expected in str(info.value)
    assert_names_file(info.value, folder / "batches.meta")


def test_cifar_meta_folder_instead_of_file_is_named(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    write_cifar10(folder)
    (folder / "batches.meta").unlink()
    (folder / "batches.meta").mkdir()
    with pytest.raises(DatasetError, match=r"batches.meta: cannot read it \(IsADirectoryError") as info:
        load_dataset("cifar10", data_dir=tmp_path)
    assert_names_file(info.value, folder / "batches.meta")


@needs_non_root
def test_unlistable_data_folder_is_named(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    write_cifar10(folder)
    folder.chmod(0)
    try:
        with pytest.raises(DatasetError, match=r"cifar-10-batches-py/data_batch_1: cannot read it \(PermissionError"):
            load_dataset("cifar10", data_dir=tmp_path)
    finally:
        folder.chmod(0o755)


@needs_non_root
def test_unreadable_cifar_batch_is_named(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    write_cifar10(folder)
    (folder / "data_batch_3").chmod(0)
    with pytest.raises(DatasetError, match=r"data_batch_3: cannot read it \(PermissionError") as info:
        load_dataset("cifar10", data_dir=tmp_path)
    assert_names_file(info.value, folder / "data_batch_3")


# ---- MNIST ----------------------------------------------------------------------------------------------------


def idx_header(*shape):
    return struct.pack(">BBBB", 0, 0, 0x08, len(shape)) + b"".join(struct.pack(">I", n) for n in shape)


def write_idx(path, array, compress):
    array = np.asarray(array, dtype=np.uint8)
    payload = idx_header(*array.shape) + array.tobytes()
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


def gzipped_idx(array):
    """An idx ubyte file's bytes, gzipped."""
    array = np.asarray(array, dtype=np.uint8)
    return gzip.compress(idx_header(*array.shape) + array.tobytes())


@pytest.mark.parametrize("content,expected", [
    pytest.param(gzipped_idx(np.zeros((20, 28, 28)))[:-40],
                 " is truncated or not gzip data (EOFError: Compressed file ended before the end-of-stream marker",
                 id="truncated"),
    pytest.param(b"not gzip data", " is truncated or not gzip data (BadGzipFile: Not a gzipped file", id="not-gzip"),
    pytest.param(gzip.compress(b"", mtime=0)[:10] + b"\x07" + bytes(8),  # a gzip header, then a reserved block type
                 " is truncated or not gzip data (zlib.error: Error -3 while decompressing data: invalid block type)",
                 id="corrupt"),
    pytest.param(b"", " is not an idx ubyte file (magic missing: the file is empty)", id="empty"),
])
def test_broken_gzipped_idx_file_is_one_line_naming_it(tmp_path, content, expected):
    raw = tmp_path / "MNIST" / "raw"
    write_mnist(raw, list(range(10)) * 2, [0, 9], compress=True)
    path = raw / "train-images-idx3-ubyte.gz"
    path.write_bytes(content)
    with pytest.raises(DatasetError) as info:
        load_dataset("mnist", data_dir=tmp_path)
    assert str(info.value).startswith(f"{path}{expected}")
    assert_names_file(info.value, path)


@pytest.mark.parametrize("content,expected", [
    pytest.param(b"", "is not an idx ubyte file (magic missing: the file is empty)", id="empty"),
    pytest.param(idx_header(20, 28, 28)[:10], "is truncated: its header takes 16 bytes, the file holds 10",
                 id="header-cut-short"),
    pytest.param(idx_header(20, 28, 28) + bytes(100), "header says (20, 28, 28) but holds 100 bytes",
                 id="too-few-pixels"),
    pytest.param(idx_header(1 << 21, 1 << 21, 1 << 22), "header says (2097152, 2097152, 4194304) but holds 0 bytes",
                 id="size-overflowing-int64"),
    pytest.param(idx_header(20, 0, 28), "expected N x H x W images (N, H, W >= 1) and N labels, got (20, 0, 28), (20,)",
                 id="zero-width"),
    pytest.param(idx_header(20, 28 * 28) + bytes(20 * 28 * 28), "expected N x H x W images (N, H, W >= 1) and N labels",
                 id="2d"),
])
def test_idx_file_with_a_lying_header_is_one_line_naming_it(tmp_path, content, expected):
    raw = tmp_path / "MNIST" / "raw"
    write_mnist(raw, list(range(10)) * 2, [0, 9], compress=False)
    path = raw / "train-images-idx3-ubyte"
    path.write_bytes(content)
    with pytest.raises(DatasetError) as info:
        load_dataset("mnist", data_dir=tmp_path)
    assert expected in str(info.value)
    assert_names_file(info.value, path)


def test_mnist_label_outside_the_classes_names_the_file(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    write_mnist(raw, list(range(10)) * 2, [0, 12], compress=False)
    with pytest.raises(DatasetError, match=r"t10k-labels-idx1-ubyte: labels outside 0..9 \(found 0..12\)") as info:
        load_dataset("mnist", data_dir=tmp_path)
    assert_names_file(info.value, raw / "t10k-labels-idx1-ubyte")


def test_empty_mnist_test_set_is_refused(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    write_mnist(raw, list(range(10)) * 2, [], compress=False)
    with pytest.raises(DatasetError) as info:
        load_dataset("mnist", data_dir=tmp_path)
    assert "expected N x H x W images (N, H, W >= 1) and N labels, got (0, 28, 28), (0,)" in str(info.value)
    assert_names_file(info.value, raw / "t10k-images-idx3-ubyte")


@needs_non_root
def test_unreadable_idx_file_is_named(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    write_mnist(raw, list(range(10)) * 2, [0, 9], compress=True)
    (raw / "t10k-images-idx3-ubyte.gz").chmod(0)
    with pytest.raises(DatasetError, match=r"t10k-images-idx3-ubyte.gz: cannot read it \(PermissionError") as info:
        load_dataset("mnist", data_dir=tmp_path)
    assert_names_file(info.value, raw / "t10k-images-idx3-ubyte.gz")


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


def png_claiming_size(width, height):
    """A tiny PNG whose header claims width x height pixels (PIL checks the size before decoding anything)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def half_a_png():
    png = io.BytesIO()
    Image.new("RGB", (64, 64), (1, 2, 3)).save(png, format="PNG", compress_level=0)
    return png.getvalue()[:len(png.getvalue()) // 2]


@pytest.mark.parametrize("content,expected", [
    (png_claiming_size(100_000, 100_000), "is not a readable image (DecompressionBombError: Image size (10000000000 "
                                          "pixels) exceeds limit"),
    (half_a_png(), "is not a readable image (OSError: image file is truncated"),
    (b"hello", "is not a readable image (UnidentifiedImageError: cannot identify image file"),
], ids=["decompression-bomb", "truncated", "not-an-image"])
def test_unreadable_image_is_one_line_naming_it(tmp_path, content, expected):
    write_pngs(tmp_path, 5)
    path = tmp_path / "dog" / "bad.png"
    path.write_bytes(content)
    with pytest.raises(DatasetError) as info:
        load_dataset("imagefolder", data_dir=tmp_path)
    assert str(info.value).startswith(f"{path} {expected}")
    assert_names_file(info.value, path)


def test_imagefolder_with_one_class_is_refused(tmp_path):
    write_pngs(tmp_path, 5)
    shutil.rmtree(tmp_path / "dog")
    with pytest.raises(DatasetError) as info:
        load_dataset("imagefolder", data_dir=tmp_path)
    assert str(info.value) == (f"{tmp_path}: found one class folder, 'cat'; a classifier needs at least 2 "
                               f"(<root>/<class name>/<image file>)")
    assert_names_file(info.value, tmp_path)


def test_error_naming_a_folder_with_a_line_break_stays_one_line(tmp_path):
    root = tmp_path / "my\ndata"
    write_pngs(root, 5)
    with pytest.raises(DatasetError) as info:
        load_dataset("imagefolder", data_dir=root / "cat")
    assert str(info.value).startswith(f"{tmp_path}/my data/cat: expected an ImageFolder tree")
    assert len(str(info.value).splitlines()) == 1 and info.value.setting == "data_dir"
