"""Time to cost a genome: the analytic twin vs fvcore on the built model, over the zoo.

    python bench/cost_speed.py [names...] [--repeats 20] [--threads 1]

Per zoo entry: analytic = median over `--repeats` calls of `analytic_cost` uncached (its `__wrapped__`)
(genome alone, nothing built);
fvcore = one call of build + `fvcore_module_cost(..., activations=False)`, the cheapest way to get the same two
numbers from fvcore. Both must agree exactly (the script stops if they do not). The figure is the median over
entries of fvcore time / analytic time.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from nasbench import build, zoo
from nasbench.cost import analytic_cost, fvcore_module_cost


def analytic_seconds(genome, repeats: int) -> tuple[float, tuple[int, int]]:
    times, cost = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        cost = analytic_cost.__wrapped__(genome)  # the trace itself, not the memo of earlier calls
        times.append(time.perf_counter() - start)
    return statistics.median(times), tuple(cost)


def fvcore_seconds(genome) -> tuple[float, tuple[int, int]]:
    start = time.perf_counter()
    resolved = genome.resolved()
    measured = fvcore_module_cost(build(resolved), resolved.in_chans, resolved.resolution, activations=False)
    return time.perf_counter() - start, (measured.params, measured.flops)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="zoo entries (default: all)")
    parser.add_argument("--repeats", type=int, default=20, help="analytic calls timed per entry")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for building and tracing")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    names = args.names or zoo.names()
    speedups = []
    print(f"{'network':24s} {'params':>12s} {'FLOPs':>15s} {'analytic':>11s} {'fvcore':>10s} {'speedup':>9s}")
    for name in names:
        genome = zoo.get(name)
        fvcore_s, measured = fvcore_seconds(genome)
        analytic_s, cost = analytic_seconds(genome, args.repeats)
        if cost != measured:
            raise SystemExit(f"{name}: analytic {cost} != fvcore {measured}")
        speedups.append(fvcore_s / analytic_s)
        print(f"{name:24s} {cost[0]:12,d} {cost[1]:15,d} {analytic_s * 1e3:9.3f}ms {fvcore_s:9.3f}s "
              f"{speedups[-1]:8.0f}x", flush=True)
    print(f"{len(names)} networks; speedup min {min(speedups):.0f}x, max {max(speedups):.0f}x")
    print(f"analytic vs fvcore median speedup: {statistics.median(speedups):.0f}x")


if __name__ == "__main__":
    main()
