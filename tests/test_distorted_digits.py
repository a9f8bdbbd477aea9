"""The embedded distorted_digits task: deterministic, split before distortion, shaped like digits, and harder."""
import collections
import hashlib
import subprocess
import sys

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.neighbors import NearestCentroid

from nasbench.data import DATASETS, EMBEDDED, load_dataset
from nasbench.data.distorted import DISTORTED_DIGITS, Distortion, distorted_digits
from nasbench.search import SearchSettings

FINGERPRINT = """
import hashlib, sys
from nasbench.data.distorted import distorted_digits
digest = hashlib.sha256()
for split in distorted_digits(int(sys.argv[1])):
    digest.update(split.images.numpy().tobytes()); digest.update(split.labels.numpy().tobytes())
print(digest.hexdigest())
"""


def fingerprint(seed: int) -> str:
    digest = hashlib.sha256()
    for split in distorted_digits(seed):
        digest.update(split.images.numpy().tobytes())
        digest.update(split.labels.numpy().tobytes())
    return digest.hexdigest()


def test_generation_is_deterministic_across_processes_and_leaves_the_global_rng_alone():
    torch.manual_seed(7)
    expected_next = torch.rand(3)
    torch.manual_seed(7)
    here = fingerprint(0)
    assert torch.equal(torch.rand(3), expected_next)  # the generator has its own seeded stream
    other_process = subprocess.run([sys.executable, "-c", FINGERPRINT, "0"], capture_output=True, text=True,
                                   check=True).stdout.strip()
    assert other_process == here
    assert fingerprint(1) != here  # the seed picks another split (and other draws)


def test_splits_are_5x_the_digits_splits_stratified_and_shaped_like_digits():
    data = load_dataset("distorted_digits")
    digits = load_dataset("digits")
    assert repr(data) == "Dataset('distorted_digits', 1x16x16, 10 classes, train/val/test 5385/1800/1800)"
    assert data.train.images.shape == (5385, 1, 16, 16) and data.train.images.dtype == torch.float32
    assert data.classes == digits.classes == tuple("0123456789")
    for name in ("train", "val", "test"):
        ours = collections.Counter(getattr(data, name).labels.tolist())
        assert ours == {label: 5 * n for label, n in collections.Counter(getattr(digits, name).labels.tolist()).items()}
    assert abs(float(data.train.images.mean())) < 1e-4 and abs(float(data.train.images.std()) - 1) < 1e-3
    raw = distorted_digits(0)
    assert all(float(s.images.min()) >= 0 and float(s.images.max()) <= 1 for s in raw)
    assert load_dataset("distorted_digits", resolution=32).train.images.shape[1:] == (1, 32, 32)


def test_every_source_digit_lands_in_exactly_one_split():
    """With the distortions switched off each draw is its upsampled source image: the splits' sources are the digits
    split of the same seed, disjoint, and together every image of scikit-learn's digits exactly once."""
    plain = Distortion(copies=(1, 1, 1), rotation=0, scale=(1, 1), shear=0, shift=0, elastic=0, noise=0)
    splits = distorted_digits(0, plain)
    sources = torch.nn.functional.interpolate(torch.from_numpy(load_digits().images.astype(np.float32) / 16)[:, None],
                                              size=(16, 16), mode="bilinear", align_corners=False)
    found = []
    for split in splits:
        distance = torch.cdist(split.images.flatten(1), sources.flatten(1))
        nearest = distance.min(dim=1)
        assert float(nearest.values.max()) < 0.01  # the identity warp reproduces its source (distinct digits: > 0.3)
        found.append(nearest.indices.tolist())
    assert sorted(i for split in found for i in split) == list(range(1797))  # each source once


def test_draws_of_one_source_differ_and_the_task_is_harder_than_digits():
    raw = distorted_digits(0)[0]
    n = len(raw.labels) // DISTORTED_DIGITS.copies[0]
    first, second = raw.images[:n], raw.images[n:2 * n]
    assert torch.equal(raw.labels[:n], raw.labels[n:2 * n])
    assert float((first - second).abs().mean()) > 0.1  # two draws of one digit are far apart
    scores = {}
    for name in EMBEDDED:
        data = load_dataset(name)
        model = NearestCentroid().fit(data.train.images.flatten(1).numpy(), data.train.labels.numpy())
        scores[name] = model.score(data.test.images.flatten(1).numpy(), data.test.labels.numpy())
    assert scores["digits"] > 0.85 and scores["distorted_digits"] < 0.45, scores


def test_usable_wherever_a_dataset_is_named():
    assert "distorted_digits" in DATASETS
    settings = SearchSettings(dataset="distorted_digits")
    assert settings.flops_budget == 2e7


def test_the_search_and_scaling_commands_take_it(capsys):
    from runners import scale, search

    args = search.build_parser().parse_args(["--dataset", "distorted_digits"])
    assert search.settings_from(args).dataset == "distorted_digits"
    assert scale.build_parser().parse_args(["--empirical", "--dataset", "distorted_digits"]).dataset == \
        "distorted_digits"
    with pytest.raises(SystemExit) as info:
        search.main(["--dataset", "distorted_digit"])
    assert info.value.code == 2 and "did you mean distorted_digits?" in capsys.readouterr().err
