"""Why deep plain ResNet-family genomes (shortcut=none) stay at chance under the search trainer: depth or trainer?

    python bench/plain_depth.py [--depths 1,3,6,12] [--seeds 0,1] [--width 16] [--threads 2] [--plain-only]
    python bench/plain_depth.py --depths 1,3,6 --plain-only   # up to 38 layers, plain variants only

CIFAR-style ResNets of three stages (BasicGene, order "original", CIFAR stem, width doubling per stage) with n units
per stage (default 1, 3, 6, 12: 8, 20, 38 and 74 layers), built explicitly, once plain (shortcut="none") and once
residual (shortcut="projection"), on the embedded digits data (1 x 16 x 16, 10 classes). At width 16 the 38-layer
genomes are already just over the search's 2e7-FLOP digits budget and the 74-layer ones twice over (marked *).

Per genome: params and FLOPs (analytic cost), the gradient ratio at initialisation ((|grad|/|w| of the first 3x3
conv) / (|grad|/|w| of the last 3x3 conv), one seeded batch of 64 train images, train mode; 1x1 projection convs are
left out so plain and residual compare the same convs), and last-epoch train accuracy (train mode, running over the
epoch) and val accuracy for every seed under the search trainer (TrainConfig exactly as a search trial gets it from
the SearchSettings defaults; CPU).

The deepest plain genome, and as the control the deepest residual one (--plain-only skips it), are then retrained
under trainer variants that change one TrainConfig field each: onecycle (30% warm-up), lr 0.01, batch 16, 5x the
epochs. The control matters at 74 layers, where the residual network fails under the default trainer as well: only a
variant that trains it while the plain one stays at chance separates depth from trainer. Train accuracy at chance
rules out a BN running-statistics artefact (that shows high train accuracy with chance val accuracy); a gradient
ratio of thousands (vs tens with shortcuts) is the exploding gradient of deep batch-normalised plain networks (Yang
et al. 2019; Philipp et al. 2018), the degradation problem He et al. 2016 motivate residual connections with.
"""
from __future__ import annotations

import argparse
import dataclasses
import time
from collections import Counter

import torch
import torch.nn.functional as F
from torch import nn

from nasbench import Genome, Stage, build
from nasbench.blocks.residual import BasicGene
from nasbench.cost import analytic_cost
from nasbench.data import Dataset, load_dataset
from nasbench.head import Head
from nasbench.search.settings import SearchSettings
from nasbench.search.trial import TrialContext
from nasbench.train import TrainConfig, evaluate, seeded, torch_threads
from nasbench.zoo.stems import make_stem

DATASET = "digits"
STAGES = 3
GRAD_BATCH = 64


def resnet_genome(units: int, shortcut: str, width: int, data: Dataset) -> Genome:
    """CIFAR-style ResNet: 3x3 stem, three stages of `units` basic units (widths w, 2w, 4w; strides 1, 2, 2)."""
    unit = dict(order="original", shortcut=shortcut, attn="none", act="relu", dropout=0.0)
    stages = tuple(Stage(BasicGene(channels=width * 2**i, **unit), units, 1 if i == 0 else 2) for i in range(STAGES))
    return Genome(stages=stages, stem=make_stem("cifar", width, "relu", True), head=Head(act="relu"),
                  in_chans=data.in_chans, resolution=data.resolution, num_classes=data.num_classes)


def search_config(seed: int, threads: int) -> TrainConfig:
    """The TrainConfig a search trial with default SearchSettings trains with, on the CPU."""
    config = TrialContext(SearchSettings(), {}).train_config(seed)
    return dataclasses.replace(config, device="cpu", threads=threads)


def main_path_convs(model: nn.Module, images: torch.Tensor) -> list[nn.Conv2d]:
    """The convs with a kernel above 1x1 in the order the forward pass runs them."""
    order: list[nn.Conv2d] = []
    hooks = [m.register_forward_hook(lambda mod, _in, _out: order.append(mod)) for m in model.modules()
             if isinstance(m, nn.Conv2d) and m.kernel_size != (1, 1)]
    with torch.no_grad():
        model(images)
    for hook in hooks:
        hook.remove()
    return order


def grad_ratio(genome: Genome, data: Dataset, seed: int) -> float:
    """(|grad|/|w| of the first 3x3 conv) / (|grad|/|w| of the last) after one loss.backward() at initialisation."""
    with seeded(seed, torch.device("cpu")):
        model = build(genome)
        index = torch.randperm(len(data.train), generator=torch.Generator().manual_seed(seed))[:GRAD_BATCH]
    images, labels = data.train.images[index], data.train.labels[index]
    model.train()
    convs = main_path_convs(model, images)
    for module in model.modules():  # undo the running-statistics update of the probing pass
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.reset_running_stats()
    model.zero_grad(set_to_none=True)
    F.cross_entropy(model(images), labels).backward()
    first, last = convs[0].weight, convs[-1].weight
    return ((first.grad.norm() / first.detach().norm()) / (last.grad.norm() / last.detach().norm())).item()


def train(genome: Genome, data: Dataset, config: TrainConfig) -> tuple[float, float, float]:
    """(last-epoch train accuracy, val accuracy, seconds) of one training run."""
    result = evaluate(genome, data, config)
    if not result.ok:
        raise SystemExit(f"training failed: {result.failure_reason}")
    return result.history[-1].train_accuracy, result.val_accuracy, result.wall_time_s


def variants(config: TrainConfig) -> dict[str, TrainConfig]:
    """The search trainer and one-field changes of it: warm-up, lower lr, smaller batch, 5x the epochs."""
    return {"default": config,
            "onecycle (30% warm-up)": dataclasses.replace(config, schedule="onecycle"),
            "lr 0.01": dataclasses.replace(config, lr=0.01),
            "batch 16": dataclasses.replace(config, batch_size=16),
            f"epochs x5 ({config.epochs * 5})": dataclasses.replace(config, epochs=config.epochs * 5)}


def pair(values: list[float]) -> str:
    """Accuracies joined by "/", two decimals."""
    return "/".join(f"{v:.2f}" for v in values)


def ratio_text(ratio: float) -> str:
    """A gradient ratio: whole numbers from 100 up, one decimal below."""
    return f"{ratio:,.0f}" if ratio >= 100 else f"{ratio:.1f}"


def genome_header(seeds: list[int]) -> None:
    """Header of the genome table: units, conv layers, params, FLOPs, gradient ratio and accuracies per seed."""
    tag = "/".join(map(str, seeds))
    print(f"{'genome':10s} {'units':>5s} {'layers':>6s} {'params':>8s} {'FLOPs':>12s} {'grad first/last ' + tag:>22s} "
          f"{'train acc ' + tag:>15s} {'val acc ' + tag:>13s} {'s/run':>6s}", flush=True)


def genome_row(row: dict, budget: float | None) -> None:
    """One line of the genome table; FLOPs over the search budget get a *."""
    ratios = "/".join(ratio_text(x) for x in row["ratio"])
    over = "*" if budget is not None and row["flops"] > budget else " "
    print(f"{row['kind']:10s} {row['units']:5d} {row['layers']:6d} {row['params']:8,d} {row['flops']:11,d}{over} "
          f"{ratios:>22s} {pair(row['train']):>15s} {pair(row['val']):>13s} {row['seconds']:6.1f}", flush=True)


def measure_genome(kind: str, units_per_stage: int, genome: Genome, data: Dataset, seeds: list[int],
                   threads: int) -> dict:
    """One row of the genome table (trains once per seed under the search trainer)."""
    cost = analytic_cost(genome)
    runs = [train(genome, data, search_config(seed, threads)) for seed in seeds]
    return {"kind": kind, "units": STAGES * units_per_stage, "layers": 2 + 2 * STAGES * units_per_stage,
            "params": cost.params, "flops": cost.flops, "ratio": [grad_ratio(genome, data, s) for s in seeds],
            "train": [r[0] for r in runs], "val": [r[1] for r in runs], "seconds": sum(r[2] for r in runs) / len(runs),
            "genome": genome}


def variant_table(rows: list[dict], data: Dataset, seeds: list[int], threads: int) -> dict[str, dict[str, list]]:
    """Trains each row's genome under every trainer variant and seed (the default reuses the genome table's runs);
    prints one line per variant and genome, returns kind -> variant name -> val accuracies."""
    tag = "/".join(map(str, seeds))
    print(f"\n{'trainer variant (' + str(rows[0]['units']) + ' units)':28s} {'genome':10s} {'train acc ' + tag:>15s} "
          f"{'val acc ' + tag:>13s} {'s/run':>6s}")
    vals: dict[str, dict[str, list]] = {row["kind"]: {} for row in rows}
    for name, config in variants(search_config(seeds[0], threads)).items():
        for row in rows:
            if name == "default":
                train_acc, val_acc, seconds = row["train"], row["val"], row["seconds"]
            else:
                runs = [train(row["genome"], data, dataclasses.replace(config, seed=seed)) for seed in seeds]
                train_acc, val_acc = [r[0] for r in runs], [r[1] for r in runs]
                seconds = sum(r[2] for r in runs) / len(runs)
            vals[row["kind"]][name] = val_acc
            print(f"{name:28s} {row['kind']:10s} {pair(train_acc):>15s} {pair(val_acc):>13s} {seconds:6.1f}",
                  flush=True)
    return vals


def best_variant(vals: dict[str, list]) -> tuple[str, float]:
    """(variant name, val accuracy) of the best single run over variants and seeds."""
    return max(((name, max(v)) for name, v in vals.items()), key=lambda item: item[1])


def budget_text(budget: float | None) -> str:
    """The search FLOP budget as printed in the header."""
    return "none" if budget is None else f"{budget:,.0f}"


def int_list(text: str) -> list[int]:
    """ "1,3,6" -> [1, 3, 6] (argparse type)."""
    return [int(part) for part in text.split(",") if part.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depths", type=int_list, default=[1, 3, 6, 12], help="units per stage, comma-separated")
    parser.add_argument("--seeds", type=int_list, default=[0, 1], help="training / initialisation seeds")
    parser.add_argument("--width", type=int, default=16, help="stem and stage-1 channels")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--plain-only", action="store_true",
                        help="skip the control: the deepest residual genome under the trainer variants")
    args = parser.parse_args()
    if not args.depths or min(args.depths) < 1 or not args.seeds or min(args.seeds) < 0 or args.width < 1:
        parser.error("--depths and --width need integers >= 1, --seeds at least one integer >= 0")
    start = time.perf_counter()
    settings = SearchSettings()
    data = load_dataset(DATASET, resolution=None, seed=settings.seed)
    config = search_config(args.seeds[0], args.threads)
    chance = max(Counter(data.val.labels.tolist()).values()) / len(data.val)
    with torch_threads(args.threads) as threads:
        print(f"{DATASET} {data.resolution}x{data.resolution}, {len(data.train)} train / {len(data.val)} val images, "
              f"majority-class val accuracy {chance:.2f}; search trainer: {config.epochs} epochs, batch "
              f"{config.batch_size}, lr {config.lr}, {config.schedule}, SGD nesterov, wd {config.weight_decay}; "
              f"{threads} threads; search FLOP budget {budget_text(settings.flops_budget)} (* over it)")
        genome_header(args.seeds)
        rows = []
        for n in sorted(set(args.depths)):
            for kind, shortcut in (("plain", "none"), ("residual", "projection")):
                genome = resnet_genome(n, shortcut, args.width, data)
                rows.append(measure_genome(kind, n, genome, data, args.seeds, args.threads))
                genome_row(rows[-1], settings.flops_budget)
        plain = [r for r in rows if r["kind"] == "plain"][-1]
        residual = [r for r in rows if r["kind"] == "residual"][-1]
        vals = variant_table([plain] if args.plain_only else [plain, residual], data, args.seeds, args.threads)
    best_name, best = best_variant(vals["plain"])
    control = ""
    if "residual" in vals:
        name, acc = best_variant(vals["residual"])
        control = f" vs residual {acc:.2f} ({name})"
    print(f"wall time {time.perf_counter() - start:.0f} s")
    print(f"plain_depth: deepest plain ({plain['units']} units) val {pair(plain['val'])} vs residual "
          f"{pair(residual['val'])}; grad ratio first/last conv plain {ratio_text(plain['ratio'][0])} vs "
          f"residual {ratio_text(residual['ratio'][0])}; no trainer variant above {best:.2f} ({best_name}){control}; "
          f"chance {chance:.2f}")


if __name__ == "__main__":
    main()
