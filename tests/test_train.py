"""The trainer: it learns, it is deterministic, and failures end a run with a recorded reason."""
import dataclasses
import os

import pytest
import torch

from nasbench import Genome, Head, Stage, train
from nasbench.blocks.conv import ConvGene
from nasbench.blocks.residual import BasicGene
from nasbench.data import Split, load_dataset
from nasbench.train import EpochMetrics, TrainConfig, _attempt, evaluate, torch_threads

TINY = Genome(stem=(Stage(ConvGene(channels=8), 1, 1),), stages=(Stage(BasicGene(channels=16), 1, 2),),
              head=Head(dropout=0.2), in_chans=1, resolution=16, num_classes=10)
FAST = TrainConfig(epochs=3, batch_size=32, lr=0.1, threads=1)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


@pytest.fixture(scope="module")
def trained(digits):
    return evaluate(TINY, digits, FAST, test=True)


def test_accuracy_rises_well_above_chance_in_three_epochs(trained):
    assert trained.status == "ok" and trained.failure_reason == ""
    assert [m.epoch for m in trained.history] == [1, 2, 3]
    assert trained.val_accuracy > 0.8  # measured 0.89; chance is 0.1
    assert trained.history[-1].train_loss < trained.history[0].train_loss
    assert trained.test_accuracy > 0.8


def test_test_accuracy_matches_the_returned_model(trained, digits):
    assert trained.model is not None and not trained.model.training
    assert train.test_accuracy(trained.model, digits, FAST) == trained.test_accuracy


def test_same_seed_gives_identical_numbers(trained, digits):
    again = evaluate(TINY, digits, FAST, test=True)
    untimed = [dataclasses.replace(m, wall_time_s=0.0) for m in trained.history]
    assert [dataclasses.replace(m, wall_time_s=0.0) for m in again.history] == untimed
    assert again.test_accuracy == trained.test_accuracy
    for (name, a), (_, b) in zip(trained.model.state_dict().items(), again.model.state_dict().items()):
        assert torch.equal(a, b), name
    other = evaluate(TINY, digits, dataclasses.replace(FAST, seed=1, epochs=1))
    assert other.history[0].train_loss != trained.history[0].train_loss


def test_global_random_state_is_left_alone(digits):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    evaluate(TINY, digits, dataclasses.replace(FAST, epochs=1))
    assert torch.equal(torch.rand(3), expected)


def test_report_sees_every_epoch(digits):
    seen = []
    result = evaluate(TINY, digits, dataclasses.replace(FAST, epochs=2), report=seen.append)
    assert seen == list(result.history) and all(isinstance(m, EpochMetrics) for m in seen)
    assert 0 < seen[0].wall_time_s < seen[1].wall_time_s <= result.wall_time_s
    assert set(seen[0].to_dict()) == {"epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr",
                                      "wall_time_s", "test_loss", "test_accuracy"}
    assert seen[0].test_accuracy is None  # measured only when asked for (test_each_epoch)


class StopTrial(Exception):
    pass


def test_an_exception_from_report_propagates(digits):
    """Raising in `report` is the caller's way to stop (Optuna's TrialPruned): it is not a training failure."""
    seen = []

    def stop_after_two(metrics):
        seen.append(metrics.epoch)
        if metrics.epoch == 2:
            raise StopTrial

    with pytest.raises(StopTrial):
        evaluate(TINY, digits, FAST, report=stop_after_two)
    assert seen == [1, 2]


def test_diverging_loss_fails_with_the_step(digits):
    result = evaluate(TINY, digits, dataclasses.replace(FAST, lr=1e30, epochs=2))
    assert result.status == "failed" and not result.ok
    assert result.failure_reason == "non-finite loss at epoch 1, step 2"
    assert result.history == () and result.model is None and result.val_accuracy == 0.0


def test_a_training_exception_is_recorded_not_raised(digits):
    labels = digits.train.labels.clone()
    labels[5] = 12  # a label the 10-class network cannot have
    broken = dataclasses.replace(digits, train=Split(digits.train.images, labels))
    result = evaluate(TINY, broken, dataclasses.replace(FAST, epochs=1))
    assert result.status == "failed" and result.model is None
    assert result.failure_reason == "IndexError: Target 12 is out of bounds."


@pytest.mark.parametrize("schedule,first_lrs", [("constant", [0.1, 0.1, 0.1]), ("cosine", [0.1, 0.075, 0.025]),
                                                ("onecycle", [0.004, 0.0978, 0.0389])])
def test_schedules_step_per_batch(digits, schedule, first_lrs):
    config = dataclasses.replace(FAST, schedule=schedule, epochs=3)
    result = evaluate(TINY, load_dataset("digits", limit=320), config)
    assert [m.lr for m in result.history] == pytest.approx(first_lrs, abs=1e-4)


@pytest.mark.parametrize("changes,message", [
    ({"schedule": "step"}, "TrainConfig.schedule must be one of cosine, onecycle, constant, got 'step'"),
    ({"momentum": 0.0}, "TrainConfig.nesterov must be False when momentum is 0"),
    ({"epochs": 0}, "TrainConfig.epochs must be an integer >= 1, got 0"),
    ({"lr": float("nan")}, "TrainConfig.lr must be a finite number >= 0"),
    ({"device": "gpu7"}, "TrainConfig.device 'gpu7' is not a torch device"),
    ({"threads": 0}, "TrainConfig.threads must be None or an integer >= 1"),
])
def test_impossible_configs_raise(changes, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        TrainConfig(**changes)


def test_a_genome_that_does_not_fit_the_data_raises(digits):
    with pytest.raises(ValueError, match="genome takes 3x16x16 images into 10 classes but digits has 1x16x16"):
        evaluate(TINY.with_input(in_chans=3), digits, FAST)


def test_threads_come_from_omp_num_threads_and_are_restored(monkeypatch):
    before = torch.get_num_threads()
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    with torch_threads(None) as count:
        assert count == 1 == torch.get_num_threads()
    assert torch.get_num_threads() == before
    with torch_threads(10_000) as count:  # never more threads than CPUs
        assert count == len(os.sched_getaffinity(0))


def test_out_of_memory_is_a_recorded_reason_not_a_crash():
    """What a CUDA allocation failure raises inside a training step becomes the trial's one-line failure reason."""
    def step():
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB (GPU 0; 79.1 GiB total)\nmore")

    assert _attempt(step) == (None, "CUDA out of memory. Tried to allocate 20.00 GiB (GPU 0; 79.1 GiB total)")
    def raises_oom():
        raise torch.OutOfMemoryError()

    assert _attempt(raises_oom) == (None, "CUDA out of memory: (no message)")
    assert _attempt(lambda: 7) == (7, None)
