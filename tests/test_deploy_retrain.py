"""Retrain -> card -> load_model -> export end to end under Ray Tune on the embedded digits, and a retrain that goes
on after its Ray worker is killed and after its driver is killed mid-training (--resume)."""
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import ray
from ray import tune

import nasbench
from nasbench import Genome, train
from nasbench.data import load_dataset
from nasbench.deploy.card import read_card
from nasbench.deploy.retrain import EXPERIMENTS, retrain
from nasbench.deploy.settings import RetrainSettings
from nasbench.deploy.source import given_genome
from nasbench.deploy.trainable import first_readable, seed_checkpoints
from runners import export as export_cli
from runners import train as train_cli

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("local_ray")]
ROOT = Path(__file__).resolve().parents[1]
GENOME = "i=1,r=16,n=10|stem:conv(c=8)|body:basic(c=16)+basic(s=2,c=32)|head:"


def test_retrain_writes_the_best_seed_and_its_card_which_load_and_export(tmp_path, capsys):
    out = tmp_path / "tiny"
    train_cli.main(["--genome", GENOME, "--limit", "96", "--batch-size", "32", "--epochs", "3", "--warmup-epochs", "1",
                    "--seeds", "2", "--latency-batch", "8", "--out", str(out)])
    printed = capsys.readouterr().out
    assert f"next: python -m runners.export {out}" in printed
    card = read_card(out).fields
    seeds = card["seeds"]
    assert [s["seed"] for s in seeds] == [0, 1] and card["failed_seeds"] == []
    for seed in seeds:
        assert seed["epochs"] == 3 and seed["resumed_from"] == 0 and seed["wall_time_s"] > 0
        assert 0 <= seed["val_accuracy"] <= 1 and 0 <= seed["test_accuracy"] <= 1
    accuracy = card["accuracy"]
    assert accuracy["test"]["mean"] == pytest.approx(sum(s["test_accuracy"] for s in seeds) / 2)
    test = accuracy["test"]
    assert accuracy["val"]["std"] >= 0 and test["min"] <= test["mean"] <= test["max"]
    best = max(seeds, key=lambda s: (s["val_accuracy"], -s["seed"]))
    assert card["model"]["selected_seed"] == best["seed"] and accuracy["selected"]["test"] == best["test_accuracy"]
    assert card["genome"]["string"] == GENOME and card["cost"]["params"] == 18626
    assert card["latency"]["cpu"]["batch"] == 8 and card["latency"]["cpu"]["batch_1_ms"] > 0
    assert (card["dataset"]["name"], card["dataset"]["test"], card["dataset"]["limit"]) == ("digits", 96, 96)
    assert card["recipe"]["augment"] == "affine" and card["recipe"]["ema_decay"] == 0.999
    assert card["origin"] == {"kind": "genome", "given": GENOME}
    assert card["commands"][0].startswith("python -m runners.train --genome ") and card["versions"]["ray"]
    assert (out / "card.md").read_text().startswith(f"# Model card: {Genome.from_str(GENOME).key()}")

    model = nasbench.load_model(out)  # the shipped weights give the selected seed's test accuracy (one image apart)
    shipped = train.test_accuracy(model, load_dataset("digits", limit=96))
    assert shipped == pytest.approx(best["test_accuracy"], abs=1.5 / 96)

    export_cli.main([str(out)])
    exports = read_card(out).fields["exports"]
    assert set(exports) == {"onnx", "torchscript"} and all(e["max_abs_diff"] < 1e-4 for e in exports.values())
    assert (out / "model.onnx").stat().st_size > 0 and (out / "model.ts").stat().st_size > 0


class KillWorkerOnce(tune.Callback):
    """Kills the Ray worker of the first seed whose checkpoint Tune registered (a node crash, in miniature)."""

    def __init__(self):
        self.killed = None

    def on_checkpoint(self, iteration, trials, trial, checkpoint, **info):
        if self.killed is None:
            self.killed = trial.last_result["seed"]
            os.kill(trial.last_result["pid"], signal.SIGKILL)


def test_a_killed_worker_is_restarted_from_its_last_checkpoint(tmp_path):
    killer = KillWorkerOnce()
    settings = RetrainSettings(epochs=4, warmup_epochs=1, seeds=1, limit=480, out=str(tmp_path / "retrain"))
    outcome = retrain(settings, given_genome(Genome.from_str(GENOME), GENOME), log=lambda line: None,
                      callbacks=[killer])
    assert killer.killed == 0 and not outcome.interrupted
    (seed,) = outcome.seeds
    assert seed.status == "ok" and seed.epochs == 4 and seed.resumed_from >= 1  # not trained from scratch again
    assert outcome.card.fields["seeds"][0]["resumed_from"] == seed.resumed_from


def checkpoints_once_written(root: Path, driver: subprocess.Popen, timeout: float) -> bool:
    """Whether a checkpoint appeared under `root` before the driver ended or `timeout` passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and driver.poll() is None:
        if seed_checkpoints(root, EXPERIMENTS):
            return True
        time.sleep(0.1)
    return False


def settled_checkpoints(root: Path, quiet: float = 5.0, timeout: float = 120.0) -> dict:
    """The checkpoints under `root` once none was added for `quiet` seconds: a worker whose driver was killed writes
    at most one more, then waits forever for its report to be taken."""
    seen, since, deadline = seed_checkpoints(root, EXPERIMENTS), time.monotonic(), time.monotonic() + timeout
    while time.monotonic() - since < quiet and time.monotonic() < deadline:
        time.sleep(0.5)
        now = seed_checkpoints(root, EXPERIMENTS)
        if now != seen:
            seen, since = now, time.monotonic()
    return seen


def test_a_retrain_killed_mid_training_resumes_from_its_last_checkpoints(tmp_path, capsys):
    out, epochs = tmp_path / "killed", 6
    command = [sys.executable, "-m", "runners.train", "--genome", GENOME, "--epochs", str(epochs), "--seeds", "2",
               "--warmup-epochs", "1", "--limit", "480", "--out", str(out), "--address",
               ray.get_runtime_context().gcs_address]
    driver = subprocess.Popen(command, cwd=ROOT, start_new_session=True, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        written = checkpoints_once_written(out / "ray", driver, timeout=900)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(driver.pid, signal.SIGKILL)
    output = driver.communicate(timeout=60)[0]
    assert written, f"no checkpoint before the driver ended: {output[-3000:]}"
    newest = {seed: first_readable(paths)["epoch"] for seed, paths in settled_checkpoints(out / "ray").items()}
    assert newest and all(1 <= epoch < epochs for epoch in newest.values()), newest
    assert not (out / "card.json").exists()

    train_cli.main(["--resume", str(out)])
    assert "continuing seed(s)" in capsys.readouterr().out
    card = read_card(out).fields
    assert [s["seed"] for s in card["seeds"]] == [0, 1]
    for seed in card["seeds"]:  # each seed went on from its newest checkpoint, not from scratch
        assert seed["epochs"] == epochs and seed["resumed_from"] == newest.get(seed["seed"], 0)
        assert 0 <= seed["test_accuracy"] <= 1
    assert card["commands"][1] == f"python -m runners.train --resume {out}"
