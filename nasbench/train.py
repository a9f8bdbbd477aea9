"""Train and evaluate a genome on an in-memory dataset; training failures end the trial with a recorded reason.

The data stays on the device as tensors and is batched by indexing with a seeded permutation (no per-sample
DataLoader). Same genome, data, config and CPU give identical metrics: the model's initialisation, the batch order,
the augmentation and dropout all draw from `config.seed`. A run can hand out its whole state after every epoch and
be resumed from it with the same numbers as a run that was never stopped.
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import time
from collections.abc import Callable, Iterator

import torch
import torch.nn.functional as F
from timm.utils import ModelEmaV3
from torch import nn

from nasbench.augment import AUGMENTATIONS, augmenter
from nasbench.build import build
from nasbench.data import Dataset, Split
from nasbench.genome import Genome

SCHEDULES = ("cosine", "onecycle", "constant")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Optimiser, schedule and runtime settings of one training run."""

    epochs: int = 10
    batch_size: int = 128
    lr: float = 0.05                 # peak learning rate
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    schedule: str = "cosine"         # per step: cosine decay to 0, onecycle (30% warm-up, cosine down), constant
    warmup_epochs: int = 0           # cosine only: linear warm-up to `lr` over these epochs, then the cosine decay
    label_smoothing: float = 0.0
    ema_decay: float = 0.0           # > 0: an EMA of the weights (timm ModelEmaV3, decay warm-up) is validated and
                                     # returned instead of the trained weights
    augment: str = "none"            # training-batch augmentation: none, crop_flip, affine (nasbench.augment)
    seed: int = 0                    # initialisation, batch order and dropout
    device: str = "auto"             # "auto": cuda when available, else cpu
    bf16: bool = True                # bfloat16 autocast (CUDA only)
    channels_last: bool = True       # channels-last memory format (CPU too: measured 1.0-1.5x faster there)
    compile: bool = False            # torch.compile the model
    threads: int | None = None       # torch CPU threads; None: $OMP_NUM_THREADS (Ray sets it to the trial's CPUs)
    eval_batch_size: int = 512

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "eval_batch_size"):
            _require(self, name, _is_int(getattr(self, name)) and getattr(self, name) >= 1, "an integer >= 1")
        _require(self, "warmup_epochs", _is_int(self.warmup_epochs) and 0 <= self.warmup_epochs < self.epochs,
                 f"an integer from 0 to epochs - 1 ({self.epochs - 1})")
        _require(self, "warmup_epochs", self.warmup_epochs == 0 or self.schedule == "cosine",
                 "0 unless the schedule is cosine")
        _require(self, "seed", _is_int(self.seed), "an integer")
        _require(self, "threads", self.threads is None or (_is_int(self.threads) and self.threads >= 1),
                 "None or an integer >= 1")
        for name in ("lr", "momentum", "weight_decay", "label_smoothing", "ema_decay"):
            value = getattr(self, name)
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            _require(self, name, number and math.isfinite(value) and value >= 0, "a finite number >= 0")
        _require(self, "label_smoothing", self.label_smoothing < 1, "below 1")
        _require(self, "ema_decay", self.ema_decay < 1, "below 1")
        _require(self, "augment", self.augment in AUGMENTATIONS, f"one of {', '.join(AUGMENTATIONS)}")
        _require(self, "schedule", self.schedule in SCHEDULES, f"one of {', '.join(SCHEDULES)}")
        _require(self, "nesterov", not self.nesterov or self.momentum > 0, "False when momentum is 0")
        for name in ("nesterov", "bf16", "channels_last", "compile"):
            _require(self, name, isinstance(getattr(self, name), bool), "true or false")
        parse_device(self.device)


@dataclasses.dataclass(frozen=True)
class EpochMetrics:
    """What `report` receives after each epoch (losses are means per image; wall_time_s counts from the start)."""

    epoch: int
    train_loss: float
    train_accuracy: float
    val_loss: float
    val_accuracy: float
    lr: float
    wall_time_s: float
    test_loss: float | None = None      # on the test split, only when `evaluate(..., test_each_epoch=True)`
    test_accuracy: float | None = None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class TrainResult:
    """status "ok" or "failed" (failure_reason: one line); `model` is the trained network (None on failure)."""

    status: str
    failure_reason: str
    history: tuple[EpochMetrics, ...]
    wall_time_s: float
    device: str
    test_accuracy: float | None = None
    model: nn.Module | None = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def val_accuracy(self) -> float:
        """Validation accuracy after the last completed epoch (0.0 when none completed)."""
        return self.history[-1].val_accuracy if self.history else 0.0

    @property
    def epochs(self) -> int:
        return len(self.history)

    def to_dict(self) -> dict:
        """Plain-data summary (no model), e.g. for a results table."""
        return {"status": self.status, "failure_reason": self.failure_reason, "epochs": self.epochs,
                "val_accuracy": self.val_accuracy, "test_accuracy": self.test_accuracy,
                "wall_time_s": self.wall_time_s, "device": self.device,
                "history": [m.to_dict() for m in self.history]}


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite."""


Report = Callable[[EpochMetrics], object]
Checkpoint = Callable[[EpochMetrics, dict], object]
Prepare = Callable[[nn.Module], object]


def evaluate(genome: Genome, dataset: Dataset, config: TrainConfig | None = None, report: Report | None = None,
             *, test: bool = False, test_each_epoch: bool = False, checkpoint: Checkpoint | None = None,
             resume: dict | None = None, prepare: Prepare | None = None) -> TrainResult:
    """Train `genome` on `dataset.train` for `config.epochs`, validating after each epoch.

    `report(metrics)` is called after every epoch; whatever it raises (Optuna's TrialPruned, a stop signal, an
    interrupt) propagates unchanged, since it is the caller's decision, not a training failure. A NaN/inf loss,
    running out of memory or any exception while training ends the run with status "failed" and a one-line
    `failure_reason`; arguments that cannot work (unknown schedule, genome not matching the data) raise ValueError.
    test=True also measures test accuracy of the final model (for reports on Pareto members, never for search);
    test_each_epoch=True measures test loss and accuracy after every epoch (tabular benchmarks record the curves),
    outside the epochs' wall time.
    `checkpoint(metrics, state)` is called after `report` with the run's whole state (plain tensors and numbers,
    loadable with torch.load(weights_only=True); its tensors are the live ones, so save it during the call); what it
    raises propagates as `report`'s does. `resume=state` continues the run that state was taken from (same genome,
    data and config) after its epoch, with the numbers of a run that was never stopped.
    `prepare(model)` runs on the freshly built model before the optimiser is made (to load pre-trained weights, or
    to freeze parameters with requires_grad=False: SGD then leaves them as they are).
    """
    if not isinstance(genome, Genome) or not isinstance(dataset, Dataset):
        raise ValueError(f"evaluate takes a Genome and a Dataset, got {type(genome).__name__} and "
                         f"{type(dataset).__name__}")
    check_compatible(genome, dataset)
    config = TrainConfig() if config is None else config
    if not isinstance(config, TrainConfig):
        raise ValueError(f"config must be a TrainConfig, got {type(config).__name__}")
    device = resolve_device(config.device)
    start = time.perf_counter()
    history: list[EpochMetrics] = []
    with torch_threads(config.threads), seeded(config.seed, device):
        model, test_acc, failure = _train(genome, dataset, config, device, start, history,
                                          _Hooks(report, checkpoint, test, test_each_epoch, resume, prepare))
    if failure is not None:
        _release(device)
    return TrainResult(status="ok" if failure is None else "failed", failure_reason=failure or "",
                       history=tuple(history), wall_time_s=time.perf_counter() - start, device=str(device),
                       test_accuracy=test_acc, model=model)


@dataclasses.dataclass(frozen=True)
class _Hooks:
    """What `evaluate` was asked to do beside training."""

    report: Report | None
    checkpoint: Checkpoint | None
    test: bool
    test_each_epoch: bool
    resume: dict | None
    prepare: Prepare | None


def _train(genome: Genome, dataset: Dataset, config: TrainConfig, device: torch.device, start: float,
           history: list[EpochMetrics], hooks: _Hooks):
    """(model, test accuracy or None, None), or (None, None, failure reason); appends to `history` as it goes."""
    run, failure = _attempt(lambda: _Run(genome, dataset, config, device, hooks.test_each_epoch, hooks.resume,
                                         hooks.prepare))
    if failure is not None:
        return None, None, failure
    history.extend(run.history)
    epochs = run.epochs(start)
    while True:
        metrics, failure = _attempt(lambda: next(epochs, None))
        if failure is not None:
            return None, None, failure
        if metrics is None:
            break
        history.append(metrics)
        if hooks.report is not None:
            hooks.report(metrics)
        if hooks.checkpoint is not None:
            hooks.checkpoint(metrics, run.state(history))
    if not hooks.test:
        return run.final, None, None
    test_acc, failure = _attempt(lambda: measure(run.final, dataset.test, config, device)[1])
    return (run.final, test_acc, None) if failure is None else (None, None, failure)


def test_accuracy(model: nn.Module, dataset: Dataset, config: TrainConfig | None = None) -> float:
    """Top-1 accuracy of a trained model on the test split (on the device holding the model)."""
    config = TrainConfig() if config is None else config
    device = next(model.parameters()).device
    with torch_threads(config.threads):
        return measure(model, dataset.test, config, device)[1]


def check_compatible(genome: Genome, dataset: Dataset) -> None:
    """ValueError unless the (resolved) genome takes the dataset's images and predicts its classes."""
    resolved = genome.resolved()
    wanted = (resolved.in_chans, resolved.resolution, resolved.num_classes)
    given = (dataset.in_chans, dataset.resolution, dataset.num_classes)
    if wanted != given:
        raise ValueError(f"genome takes {wanted[0]}x{wanted[1]}x{wanted[1]} images into {wanted[2]} classes but "
                         f"{dataset.name} has {given[0]}x{given[1]}x{given[1]} images in {given[2]} classes; use "
                         f"genome.with_input(...) or load the dataset with resolution={wanted[1]}")


def parse_device(name: str) -> torch.device | None:
    """The torch device a config names (None for "auto"); ValueError when it names none."""
    if name == "auto":
        return None
    try:
        return torch.device(name)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"TrainConfig.device {name!r} is not a torch device ({exc})") from None


def resolve_device(name: str) -> torch.device:
    """"auto" -> cuda when available, else cpu; ValueError for a device this machine lacks."""
    device = parse_device(name)
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} requested but CUDA is not available")
    return device


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[int]:
    """Use `threads` torch CPU threads (None: $OMP_NUM_THREADS), at most the CPUs this process may run on."""
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    wanted = threads if threads is not None else _env_threads() or torch.get_num_threads()
    count = max(1, min(wanted, available))
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield count
    finally:
        torch.set_num_threads(previous)


@contextlib.contextmanager
def seeded(seed: int, device: torch.device) -> Iterator[None]:
    """Seed torch's generators (CPU and the CUDA device) for the block, restoring their state afterwards."""
    devices = [device.index if device.index is not None else torch.cuda.current_device()] \
        if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


@torch.inference_mode()
def measure(model: nn.Module, split: Split, config: TrainConfig, device: torch.device) -> tuple[float, float]:
    """(mean cross-entropy, top-1 accuracy) of the model on a split, in eval mode."""
    model.eval()
    total_loss = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.int64)
    for images, labels in zip(split.images.split(config.eval_batch_size), split.labels.split(config.eval_batch_size)):
        images, labels = _to_device(images, device, config), labels.to(device, non_blocking=True)
        with _autocast(device, config):
            logits = model(images)
        total_loss += F.cross_entropy(logits.float(), labels, reduction="sum")
        correct += (logits.argmax(1) == labels).sum()
    n = max(len(split), 1)
    return total_loss.item() / n, correct.item() / n


class _Run:
    """One training run: the model (and its EMA), optimiser, schedule and device-resident data."""

    def __init__(self, genome: Genome, dataset: Dataset, config: TrainConfig, device: torch.device,
                 test_each_epoch: bool = False, resume: dict | None = None, prepare: Prepare | None = None):
        self.config, self.device = config, device
        self.model = build(genome)
        if prepare is not None:
            prepare(self.model)
        self.model = self.model.to(device)
        if config.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.forward = torch.compile(self.model) if config.compile else self.model
        self.images = dataset.train.images.to(device)
        self.labels = dataset.train.labels.to(device)
        self.val = Split(dataset.val.images.to(device), dataset.val.labels.to(device))
        self.test = Split(dataset.test.images.to(device), dataset.test.labels.to(device)) if test_each_epoch else None
        n = len(self.labels)
        self.batch = min(config.batch_size, n)
        self.steps = max(1, n // self.batch)  # the last partial batch is dropped; the permutation changes each epoch
        self.order = torch.Generator().manual_seed(config.seed)  # batch order, then augmentation
        self.augment = augmenter(config.augment)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=config.lr, momentum=config.momentum,
                                         nesterov=config.nesterov, weight_decay=config.weight_decay)
        self.scheduler = _scheduler(self.optimizer, config, self.steps)
        self.ema = _ema(self.model, config)
        self.validated = self.forward if self.ema is None else self.ema.module
        self.final = self.model if self.ema is None else self.ema.module  # what is tested and returned
        self.history: list[EpochMetrics] = []
        if resume is not None:
            self._restore(resume)

    def state(self, history: list[EpochMetrics]) -> dict:
        """Everything the run needs to continue after the last epoch of `history` (live tensors)."""
        return {"epoch": history[-1].epoch if history else 0, "history": [m.to_dict() for m in history],
                "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
                "ema": None if self.ema is None else self.ema.module.state_dict(),
                "order": self.order.get_state(), "rng": torch.get_rng_state(),
                "cuda_rng": torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None}

    def _restore(self, state: dict) -> None:
        if not 0 <= state["epoch"] <= self.config.epochs:
            raise ValueError(f"cannot resume after epoch {state['epoch']} of a {self.config.epochs}-epoch run")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        if self.ema is not None:
            self.ema.module.load_state_dict(state["ema"])
        self.order.set_state(state["order"])
        torch.set_rng_state(state["rng"])
        if self.device.type == "cuda" and state["cuda_rng"] is not None:
            torch.cuda.set_rng_state(state["cuda_rng"], self.device)
        self.history = [EpochMetrics(**m) for m in state["history"]]

    def epochs(self, start: float) -> Iterator[EpochMetrics]:
        testing = 0.0  # seconds spent on the test split, left out of the wall time
        before = self.history[-1].wall_time_s if self.history else 0.0  # training time before a resume
        for epoch in range(len(self.history) + 1, self.config.epochs + 1):
            lr = self.optimizer.param_groups[0]["lr"]
            train_loss, train_acc = self._train_epoch(epoch)
            val_loss, val_acc = measure(self.validated, self.val, self.config, self.device)
            if not math.isfinite(val_loss):
                raise TrainingDiverged(f"non-finite validation loss at epoch {epoch}")
            elapsed = time.perf_counter() - start - testing
            test_loss = test_acc = None
            if self.test is not None:
                test_loss, test_acc = measure(self.validated, self.test, self.config, self.device)
                testing = time.perf_counter() - start - elapsed
            yield EpochMetrics(epoch, train_loss, train_acc, val_loss, val_acc, lr, before + elapsed, test_loss,
                               test_acc)

    def _train_epoch(self, epoch: int) -> tuple[float, float]:
        self.forward.train()
        order = torch.randperm(len(self.labels), generator=self.order).to(self.device, non_blocking=True)
        losses = torch.zeros(self.steps, device=self.device)
        correct = torch.zeros((), device=self.device, dtype=torch.int64)
        for step in range(self.steps):
            index = order[step * self.batch:(step + 1) * self.batch]
            images, labels = self.images[index], self.labels[index]
            if self.augment is not None:
                images = self.augment(images, self.order)
            images = _batch_layout(images, self.config)
            with _autocast(self.device, self.config):
                logits = self.forward(images)
            loss = F.cross_entropy(logits.float(), labels, label_smoothing=self.config.label_smoothing)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            if self.scheduler is not None:
                self.scheduler.step()
            if self.ema is not None:
                self.ema.update(self.model, step=(epoch - 1) * self.steps + step + 1)
            losses[step] = loss.detach()
            correct += (logits.detach().argmax(1) == labels).sum()
        bad = (~torch.isfinite(losses)).nonzero()
        if len(bad):
            raise TrainingDiverged(f"non-finite loss at epoch {epoch}, step {int(bad[0]) + 1}")
        return losses.mean().item(), correct.item() / (self.steps * self.batch)


def _scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig, steps_per_epoch: int):
    total_steps = steps_per_epoch * config.epochs
    if config.schedule == "cosine":
        warmup = steps_per_epoch * config.warmup_epochs
        if not warmup:
            return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
        ramp = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=1 / warmup, total_iters=warmup)
        cosine = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps - warmup)
        return torch.optim.lr_scheduler.SequentialLR(optimizer, [ramp, cosine], milestones=[warmup])
    if config.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=total_steps,
                                                   pct_start=0.3, cycle_momentum=False)
    return None


def _ema(model: nn.Module, config: TrainConfig):
    """timm's EMA of the model's weights and buffers, its decay warmed up from 0 (short runs need it), or None."""
    if not config.ema_decay:
        return None
    return ModelEmaV3(model, decay=config.ema_decay, use_warmup=True)


def _attempt(step: Callable[[], object]) -> tuple[object, str | None]:
    """(value, None), or (None, one-line reason) when the training step raised an Exception."""
    try:
        return step(), None
    except TrainingDiverged as exc:
        return None, str(exc)
    except torch.OutOfMemoryError as exc:
        line = _first_line(exc)
        return None, line if line.startswith("CUDA out of memory") else f"CUDA out of memory: {line}"
    except Exception as exc:
        return None, f"{type(exc).__name__}: {_first_line(exc)}"


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0][:300] if lines else "(no message)"


def _release(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.empty_cache()


def _to_device(images: torch.Tensor, device: torch.device, config: TrainConfig) -> torch.Tensor:
    return _batch_layout(images.to(device, non_blocking=True), config)


def _batch_layout(images: torch.Tensor, config: TrainConfig) -> torch.Tensor:
    return images.contiguous(memory_format=torch.channels_last) if config.channels_last else images


def _autocast(device: torch.device, config: TrainConfig):
    if config.bf16 and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _env_threads() -> int | None:
    value = os.environ.get("OMP_NUM_THREADS", "")
    return int(value) if value.isdigit() and int(value) > 0 else None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _require(config: TrainConfig, name: str, ok: bool, what: str) -> None:
    if not ok:
        raise ValueError(f"TrainConfig.{name} must be {what}, got {getattr(config, name)!r}")
