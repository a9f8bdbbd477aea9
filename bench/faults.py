"""Fault catalogue: injects every fault of the reliability issue into real runs of the command-line tools and
classifies each outcome.

    python bench/faults.py [--seed 0] [--keep DIR]

Faults: kills (SIGKILL, SIGTERM, Ctrl-C) at random points of a search, then --resume; torn and repeated journal
tails; damaged configs and tables; two resumes of one run at once; hostile data files (a CIFAR pickle that runs code,
a decompression-bomb PNG, a one-class image folder, a truncated gzipped MNIST file); budgets nothing fits; a genome
too large for memory; a genome file with a byte-order mark; a full disk (a small tmpfs, where root may mount one).

Each outcome is one of: recovered (the command succeeded, and no trial of the run was lost or trained twice),
refused (exit code 1 or 2 with exactly one `error:` line), traceback (a Python traceback on stderr), or lost (a
trial of the run lost, or a genome trained twice). The last line is
`faults: <n> injected, <k> recovered with nothing lost, <e> refused with one line, <t> tracebacks, <l> lost or
repeated trials` (on one line).
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import pickle
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from nasbench.record import trained_rows

SEARCH = [sys.executable, "-m", "runners.search"]
TINY = ["--trials", "4", "--epochs", "1", "--limit", "64", "--batch-size", "32", "--concurrency", "1"]


def run(command: list[str], timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def outcome_of(done: subprocess.CompletedProcess) -> str:
    """recovered | refused | traceback, from a finished command (nothing-lost checks are separate)."""
    if "Traceback (most recent call last)" in done.stderr:
        return "traceback"
    if done.returncode == 0:
        return "recovered"
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    return "refused" if done.returncode in (1, 2) and len(errors) == 1 else "traceback"


def table(run_dir: Path) -> pd.DataFrame:
    return pd.read_parquet(run_dir / "trials.parquet")


def nothing_lost(before: pd.DataFrame, after: pd.DataFrame, trials: int) -> bool:
    """Every trial finished before is kept unchanged, no trial number or Ray trial repeats, the count is reached."""
    kept = after.set_index("number").reindex(before["number"])
    trained = trained_rows(after)
    return (len(trained) >= trials and after["number"].is_unique and trained["trial_id"].is_unique
            and list(kept["key"]) == list(before["key"]))


class Catalogue:
    """Runs faults in a scratch folder and tallies their outcomes."""

    def __init__(self, root: Path, rng: random.Random):
        self.root, self.rng, self.tally = root, rng, Counter()
        self._finished: Path | None = None

    def record(self, name: str, outcome: str) -> None:
        self.tally[outcome] += 1
        print(f"  {name:55s} {outcome}", flush=True)

    def finished_run(self) -> Path:
        """A finished 4-trial run, made once; faults damage copies of it."""
        if self._finished is None:
            results = self.root / "finished"
            done = run([*SEARCH, *TINY, "--results-dir", str(results)])
            if done.returncode:
                raise SystemExit(f"the reference run failed:\n{done.stderr[-2000:]}")
            self._finished = next(results.glob("resnet_family/*"))
        return self._finished

    def copy(self, name: str) -> Path:
        target = self.root / name
        shutil.copytree(self.finished_run(), target, ignore=shutil.ignore_patterns("ray"))
        return target

    # ---- interrupted searches --------------------------------------------------------------------------------
    def kill_and_resume(self, sig: int) -> None:
        results = self.root / f"kill-{sig}-{self.rng.randrange(10**6)}"
        driver = subprocess.Popen([*SEARCH, *TINY, "--results-dir", str(results)], start_new_session=True,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 300
        wait_rows = self.rng.randint(1, 3)
        while time.monotonic() < deadline:
            folders = list(results.glob("resnet_family/*/trials.csv"))
            if folders and len(pd.read_csv(folders[0])) >= wait_rows:
                break
            time.sleep(0.2)
        time.sleep(self.rng.uniform(0, 2))  # a random point inside the next trial
        os.killpg(driver.pid, sig)
        _, stderr = driver.communicate(timeout=300)
        run_dir = next(results.glob("resnet_family/*"))
        if "Traceback (most recent call last)" in stderr:
            self.record(f"{signal.Signals(sig).name} mid-run", "traceback")
            return
        before = trained_rows(table(run_dir)) if (run_dir / "trials.parquet").exists() else pd.DataFrame(
            columns=["number", "key"])
        done = run([*SEARCH, "--resume", str(run_dir)])
        outcome = outcome_of(done)
        if outcome == "recovered" and not nothing_lost(before, table(run_dir), 4):
            outcome = "lost"
        self.record(f"{signal.Signals(sig).name} after {wait_rows} trial(s), then --resume", outcome)

    # ---- journal and run folder ----------------------------------------------------------------------------------
    def resume_damaged(self, name: str, damage) -> None:
        run_dir = self.copy(name)
        damage(run_dir)
        before = readable_trials(run_dir)
        done = run([*SEARCH, "--resume", str(run_dir)])
        outcome = outcome_of(done)
        if outcome == "recovered" and not nothing_lost(before, table(run_dir), 4):
            outcome = "lost"
        self.record(name, outcome)

    def concurrent_resumes(self) -> None:
        run_dir = self.copy("two-resumes")
        first = subprocess.Popen([*SEARCH, "--resume", str(run_dir), "--trials", "6"], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        time.sleep(6)  # the first holds the run folder by now (it is loading torch and Ray)
        second = run([*SEARCH, "--resume", str(run_dir), "--trials", "6"])
        out, err = first.communicate(timeout=600)
        first_done = subprocess.CompletedProcess(first.args, first.returncode, out, err)
        after = table(run_dir)
        fine = outcome_of(first_done) == "recovered" and len(trained_rows(after)) == 6 and after["number"].is_unique
        self.record("second --resume of a running run", outcome_of(second) if fine else "lost")

    # ---- inputs ------------------------------------------------------------------------------------------------
    def command(self, name: str, command: list[str]) -> None:
        self.record(name, outcome_of(run(command)))

    def hostile_cifar(self) -> None:
        folder = self.root / "cifar" / "cifar-10-batches-py"
        folder.mkdir(parents=True)
        marker = self.root / "cifar-payload-ran"

        class Payload:
            def __reduce__(self):
                return os.system, (f"touch {marker}",)

        (folder / "data_batch_1").write_bytes(pickle.dumps({b"data": Payload(), b"labels": [0]}))
        done = run([*SEARCH, "--dataset", "cifar10", "--data-dir", str(folder.parent), "--results-dir",
                    str(self.root / "r")])
        self.record("CIFAR batch with an os.system payload", "lost" if marker.exists() else outcome_of(done))

    def image_folder(self, name: str, build) -> None:
        root = self.root / name
        build(root)
        self.command(name, [*SEARCH, *TINY, "--dataset", "imagefolder", "--data-dir", str(root), "--results-dir",
                            str(self.root / "r")])

    def truncated_mnist(self) -> None:
        raw = self.root / "mnist" / "MNIST" / "raw"
        raw.mkdir(parents=True)
        images = np.zeros((4, 28, 28), np.uint8)
        header = np.array([2051, 4, 28, 28], ">i4").tobytes()
        for stem, body in (("train-images-idx3-ubyte", header + images.tobytes()),
                           ("train-labels-idx1-ubyte", np.array([2049, 4], ">i4").tobytes() + bytes(4)),
                           ("t10k-images-idx3-ubyte", header + images.tobytes()),
                           ("t10k-labels-idx1-ubyte", np.array([2049, 4], ">i4").tobytes() + bytes(4))):
            data = gzip.compress(body)
            (raw / f"{stem}.gz").write_bytes(data[: len(data) // 2] if stem.startswith("train-images") else data)
        self.command("truncated gzipped MNIST file", [*SEARCH, "--dataset", "mnist", "--data-dir",
                                                      str(raw.parent.parent), "--results-dir", str(self.root / "r")])

    def full_disk(self) -> None:
        folder = self.root / "small"
        folder.mkdir()
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(folder)],
                          capture_output=True).returncode:
            print("  full disk: skipped (cannot mount a tmpfs here)")
            return
        try:
            self.command("disk full mid-run (3 MB tmpfs)", [*SEARCH, *TINY, "--trials", "6", "--results-dir",
                                                            str(folder)])
        finally:
            subprocess.run(["umount", str(folder)], check=False)


def readable_trials(run_dir: Path) -> pd.DataFrame:
    """The trained trials a damaged run still holds: what Optuna reads from a copy of its journal (nothing when it
    cannot be read). A fault loses a trial when the tool drops one of these, not when the damage itself did."""
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    from nasbench.search.results import trials_frame

    empty = pd.DataFrame(columns=["number", "key", "state", "trial_id"])
    try:
        config = json.loads((run_dir / "config.json").read_text())
        with tempfile.TemporaryDirectory() as folder:
            copy = Path(folder) / "optuna.journal"
            shutil.copyfile(run_dir / "optuna.journal", copy)
            study = optuna.load_study(study_name=config["study_name"], storage=JournalStorage(JournalFileBackend(
                str(copy))))
            return trained_rows(trials_frame(study, run_dir.name))
    except Exception:  # the damage made it unreadable: nothing is readable, so nothing can be lost
        return empty


def torn(fraction: float):
    def damage(run_dir: Path) -> None:
        journal = run_dir / "optuna.journal"
        data = journal.read_bytes()
        cut = len(data) - 5 if fraction >= 1 else int(len(data) * fraction)
        journal.write_bytes(data[:cut])
    return damage


def repeated_tail(run_dir: Path) -> None:
    journal = run_dir / "optuna.journal"
    lines = journal.read_bytes().splitlines(keepends=True)
    journal.write_bytes(b"".join(lines + lines[-12:]))


def repeated_middle(run_dir: Path) -> None:
    journal = run_dir / "optuna.journal"
    lines = journal.read_bytes().splitlines(keepends=True)
    journal.write_bytes(b"".join(lines[:10] + lines[5:10] + lines[10:]))


def config_edit(change):
    def damage(run_dir: Path) -> None:
        path = run_dir / "config.json"
        path.write_text(json.dumps(change(json.loads(path.read_text()))))
    return damage


def corrupt_table(run_dir: Path) -> None:
    (run_dir / "trials.parquet").write_bytes(b"not parquet")
    (run_dir / "trials.csv").write_text("garbage\n")


def one_class(root: Path) -> None:
    from PIL import Image

    (root / "cat").mkdir(parents=True)
    for i in range(8):
        Image.new("L", (8, 8), i * 20).save(root / "cat" / f"{i}.png")


def bomb(root: Path) -> None:
    from PIL import Image

    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
        for i in range(4):
            Image.new("L", (8, 8), i).save(root / name / f"{i}.png")
    Image.new("1", (14000, 14000)).save(root / "a" / "bomb.png")  # 196 Mpixel (PIL's limit: 179), 25 KB on disk


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=0, help="seeds the kill points")
    p.add_argument("--keep", type=Path, help="keep the scratch runs in this folder (default: a temporary one)")
    args = p.parse_args()
    root = Path(args.keep or tempfile.mkdtemp(prefix="nasbench-faults-"))
    root.mkdir(parents=True, exist_ok=True)
    faults = Catalogue(root, random.Random(args.seed))
    print("kills:")
    for sig in (signal.SIGKILL, signal.SIGKILL, signal.SIGTERM, signal.SIGINT):
        faults.kill_and_resume(sig)
    print("journal and run folder:")
    for fraction in (0.5, 0.999, 1.0):
        faults.resume_damaged(f"journal cut at {fraction:.1%} (torn last record)", torn(fraction))
    faults.resume_damaged("journal tail of 12 records written twice", repeated_tail)
    faults.resume_damaged("journal records repeated in the middle", repeated_middle)
    faults.resume_damaged("config.json is a list", config_edit(lambda c: [c]))
    faults.resume_damaged('config.json "epochs": "two"', config_edit(
        lambda c: {**c, "settings": {**c["settings"], "epochs": "two"}}))
    faults.resume_damaged("config.json names another study", config_edit(lambda c: {**c, "study_name": "x"}))
    faults.resume_damaged("trials.parquet and trials.csv corrupted", corrupt_table)
    faults.resume_damaged("optuna.journal deleted", lambda run_dir: (run_dir / "optuna.journal").unlink())
    faults.concurrent_resumes()
    print("inputs:")
    faults.hostile_cifar()
    faults.image_folder("image folder with one class", one_class)
    faults.image_folder("image folder with a decompression-bomb PNG", bomb)
    faults.truncated_mnist()
    faults.command("--max-params 10 (nothing fits)", [*SEARCH, "--max-params", "10", "--results-dir",
                                                       str(root / "r")])
    faults.command("zoo --genome of 9e10 parameters with --fvcore", [
        sys.executable, "-m", "runners.zoo", "--fvcore", "--genome",
        "i=3,r=32,n=10|body:conv(c=100000)+conv(c=100000)"])
    bom = root / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + run([sys.executable, "-m", "runners.zoo", "--name", "resnet20"]).stdout.encode())
    faults.command("genome file with a byte-order mark", [sys.executable, "-m", "runners.zoo", "--genome", str(bom)])
    faults.full_disk()
    n = sum(faults.tally.values())
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    print(f"faults: {n} injected, {faults.tally['recovered']} recovered with nothing lost, {faults.tally['refused']} "
          f"refused with one line, {faults.tally['traceback']} tracebacks, {faults.tally['lost']} lost or repeated "
          "trials")


if __name__ == "__main__":
    main()
