"""Cost of a genome: fvcore counts on the built model, the exact analytic twin, and measured latency."""
from __future__ import annotations

import functools
import logging
import statistics
import time
import warnings
from contextlib import contextmanager, nullcontext
from typing import NamedTuple

import torch
from torch import nn

from nasbench.blocks import Tally
from nasbench.genome import Genome, trace


class Cost(NamedTuple):
    params: int
    flops: int  # fvcore convention: one multiply-add = one FLOP


class FvcoreCost(NamedTuple):
    params: int
    flops: int
    activations: int


@functools.lru_cache(maxsize=4096)
def analytic_cost(genome: Genome) -> Cost:
    """Params and FLOPs from the genome alone (no torch modules); equals `fvcore_cost` exactly. Remembered for the
    last 4096 genomes (they are immutable): a search asks for a sample's cost several times."""
    t = Tally()
    trace(genome.resolved(), t)
    return Cost(t.params, t.flops)


@contextmanager
def _quiet_fvcore():
    """fvcore's log lines, torch's deprecation of the torch.jit.script fvcore runs on import, and tracer warnings."""
    logger = logging.getLogger("fvcore")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"`torch\.jit\.script` is deprecated", category=FutureWarning)
            warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
            yield
    finally:
        logger.setLevel(level)


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def fvcore_module_cost(model: nn.Module, in_chans: int, resolution: int, activations: bool = True) -> FvcoreCost:
    """fvcore FLOPs (and activations, unless `activations=False`: -1) of a module on one input, in eval mode."""
    was_training = model.training
    model.eval()
    x = torch.zeros(1, in_chans, resolution, resolution)
    try:
        with _quiet_fvcore(), torch.no_grad():
            from fvcore.nn import ActivationCountAnalysis, FlopCountAnalysis

            flops = FlopCountAnalysis(model, x).unsupported_ops_warnings(False).uncalled_modules_warnings(False)
            total_flops, total_acts = int(flops.total()), -1
            if activations:
                acts = (ActivationCountAnalysis(model, x).unsupported_ops_warnings(False)
                        .uncalled_modules_warnings(False))
                total_acts = int(acts.total())
    finally:
        model.train(was_training)
    return FvcoreCost(count_params(model), total_flops, total_acts)


def fvcore_cost(genome: Genome) -> FvcoreCost:
    """Params, fvcore FLOPs and activation count of the built model at the genome's (resolved) resolution."""
    from nasbench.build import build

    resolved = genome.resolved()
    return fvcore_module_cost(build(resolved), resolved.in_chans, resolved.resolution)


def fvcore_flops_by_operator(genome: Genome) -> dict[str, int]:
    """fvcore's FLOPs of the built model (eval mode, one input) by operator: conv, batch_norm, linear,
    adaptive_avg_pool2d, ..."""
    from nasbench.build import build

    resolved = genome.resolved()
    model = build(resolved).eval()
    x = torch.zeros(1, resolved.in_chans, resolved.resolution, resolved.resolution)
    with _quiet_fvcore(), torch.no_grad():
        from fvcore.nn import FlopCountAnalysis

        flops = FlopCountAnalysis(model, x).unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        return {operator: int(count) for operator, count in flops.by_operator().items()}


def measure_latency(genome_or_module: Genome | nn.Module, device: str = "cpu", batch: int = 1,
                    resolution: int | None = None, in_chans: int | None = None, warmup: int = 3, repeats: int = 10,
                    channels_last: bool = False, bf16: bool = False) -> float:
    """Median forward latency in milliseconds (eval mode, no grad), CUDA-synchronised."""
    from nasbench.build import build

    if isinstance(genome_or_module, Genome):
        resolved = genome_or_module.resolved()
        model = build(resolved)
        resolution = resolution or resolved.resolution
        in_chans = in_chans or resolved.in_chans
    else:
        model = genome_or_module
        if resolution is None or in_chans is None:
            raise ValueError("measure_latency(module) needs resolution= and in_chans=")
    dev = torch.device(device)
    model = model.to(dev).eval()
    x = torch.randn(batch, in_chans, resolution, resolution, device=dev)
    if channels_last:
        model, x = model.to(memory_format=torch.channels_last), x.to(memory_format=torch.channels_last)
    autocast = torch.autocast(dev.type, dtype=torch.bfloat16) if bf16 else nullcontext()
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    times = []
    with torch.no_grad(), autocast:
        for i in range(warmup + repeats):
            sync()
            start = time.perf_counter()
            model(x)
            sync()
            if i >= warmup:
                times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)
