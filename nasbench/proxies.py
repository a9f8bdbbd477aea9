"""Zero-cost proxies: scores of an untrained network from one minibatch, which may rank architectures as training
would (Abdelfattah et al. 2021; Mellor et al. 2021; Tanaka et al. 2020). Always read them beside `flops` and
`params`, the baselines they must beat.

Every score is computed on a freshly built network initialised under `seed`, on the first `batch_size` images of a
seeded permutation of the training split, on the CPU in float64 where stated. Choices a proxy leaves open:
- synflow: all parameters and buffers replaced by their absolute values, eval mode (batch norm then scales by its
  running statistics, 1 at initialisation, instead of normalising a batch of identical inputs to zero), one input
  of ones in float64; score = sum |theta * dR/dtheta| with R the sum of the outputs.
- naswot: train mode; each activation module's output binarised (> 0) per image, concatenated over the network;
  score = log|K| with K[i, j] the number of units on which images i and j agree (Mellor et al.'s Hamming kernel).
- snip, grad_norm, fisher: train mode, cross-entropy of the minibatch. snip = sum |w * dL/dw| and grad_norm = sum
  of the per-layer L2 norms of dL/dw, over convolution and linear weights; fisher = sum over channels of every
  convolution and linear layer's output a of 0.5 * mean over images of (sum over positions of a * dL/da) ** 2.
Larger is better for every proxy but `flops` and `params`, which are returned as they are (more is better too: on
every benchmark published so far, bigger networks of a space train to higher accuracy).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from nasbench.build import build
from nasbench.cost import analytic_cost
from nasbench.data import Dataset
from nasbench.genome import Genome

BATCH_SIZE = 64
ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Hardswish, nn.Mish, nn.PReLU)
WEIGHTED = (nn.Conv2d, nn.Linear)


def minibatch(dataset: Dataset, seed: int = 0, batch_size: int = BATCH_SIZE) -> tuple[torch.Tensor, torch.Tensor]:
    """The first `batch_size` training images (and labels) of a permutation seeded by `seed`."""
    order = torch.randperm(len(dataset.train), generator=torch.Generator().manual_seed(seed))[:batch_size]
    return dataset.train.images[order].float(), dataset.train.labels[order]


def _network(genome: Genome, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return build(genome)


def synflow(genome: Genome, images: torch.Tensor, labels: torch.Tensor, seed: int = 0) -> float:
    model = _network(genome, seed).double().eval()
    with torch.no_grad():
        for tensor in [*model.parameters(), *model.buffers()]:
            if tensor.is_floating_point():
                tensor.abs_()
    model(torch.ones((1, *images.shape[1:]), dtype=torch.float64)).sum().backward()
    with torch.no_grad():
        return float(sum((p * p.grad).abs().sum() for p in model.parameters() if p.grad is not None))


def naswot(genome: Genome, images: torch.Tensor, labels: torch.Tensor, seed: int = 0) -> float:
    model = _network(genome, seed).train()
    codes: list[torch.Tensor] = []

    def record(module, inputs, output) -> None:
        codes.append((output.detach().reshape(len(output), -1) > 0).double())

    handles = [m.register_forward_hook(record) for m in model.modules() if isinstance(m, ACTIVATIONS)]
    try:
        with torch.no_grad():
            model(images)
    finally:
        for handle in handles:
            handle.remove()
    if not codes:
        return math.nan
    binary = torch.cat(codes, dim=1)
    kernel = binary @ binary.T + (1 - binary) @ (1 - binary).T
    sign, logdet = torch.linalg.slogdet(kernel)
    return float(logdet) if sign > 0 else -math.inf


def _loss_gradients(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> None:
    model.zero_grad()
    F.cross_entropy(model(images), labels).backward()


def _weights(model: nn.Module) -> list[torch.Tensor]:
    return [m.weight for m in model.modules() if isinstance(m, WEIGHTED) and m.weight.grad is not None]


def snip(genome: Genome, images: torch.Tensor, labels: torch.Tensor, seed: int = 0) -> float:
    model = _network(genome, seed).train()
    _loss_gradients(model, images, labels)
    with torch.no_grad():
        return float(sum((w * w.grad).abs().sum() for w in _weights(model)))


def grad_norm(genome: Genome, images: torch.Tensor, labels: torch.Tensor, seed: int = 0) -> float:
    model = _network(genome, seed).train()
    _loss_gradients(model, images, labels)
    return float(sum(float(w.grad.norm()) for w in _weights(model)))


def fisher(genome: Genome, images: torch.Tensor, labels: torch.Tensor, seed: int = 0) -> float:
    model = _network(genome, seed).train()
    outputs: list[torch.Tensor] = []

    def keep(module, inputs, output) -> None:
        output.retain_grad()
        outputs.append(output)

    handles = [m.register_forward_hook(keep) for m in model.modules() if isinstance(m, WEIGHTED)]
    try:
        _loss_gradients(model, images, labels)
    finally:
        for handle in handles:
            handle.remove()
    total = 0.0
    for a in outputs:  # the activations' gradients are read only: no graph is built from here on
        if a.grad is None:
            continue
        product = (a * a.grad).detach()
        per_channel = product.reshape(a.shape[0], a.shape[1], -1).sum(dim=2) if a.dim() > 2 else product
        total += float(0.5 * per_channel.pow(2).mean(dim=0).sum())
    return total


def flops(genome: Genome, images: torch.Tensor, labels: torch.Tensor, seed: int = 0) -> float:
    return float(analytic_cost(genome).flops)


def params(genome: Genome, images: torch.Tensor, labels: torch.Tensor, seed: int = 0) -> float:
    return float(analytic_cost(genome).params)


Proxy = Callable[[Genome, torch.Tensor, torch.Tensor, int], float]
PROXIES: dict[str, Proxy] = {"synflow": synflow, "naswot": naswot, "snip": snip, "grad_norm": grad_norm,
                             "fisher": fisher, "flops": flops, "params": params}
BASELINES = ("flops", "params")


def score(name: str, genome: Genome, dataset: Dataset, seed: int = 0, batch_size: int = BATCH_SIZE) -> float:
    """Proxy `name` of `genome` on a seeded minibatch of `dataset`; KeyError naming the proxies for another name."""
    if name not in PROXIES:
        raise KeyError(f"unknown proxy {name!r}; the proxies are {', '.join(PROXIES)}")
    images, labels = minibatch(dataset, seed, batch_size)
    with torch.enable_grad():
        return PROXIES[name](genome, images, labels, seed)


def parse_prefilter(text: str, names: Sequence[str] = tuple(PROXIES)) -> tuple[str, int]:
    """'synflow:8' -> ('synflow', 8) for a name among `names`; ValueError saying what is wrong otherwise."""
    name, _, count = text.partition(":")
    if name not in names:
        raise ValueError(f"unknown proxy {name!r} in {text!r}; write PROXY:K with PROXY one of {', '.join(names)}")
    if not count.isdigit() or int(count) < 2:
        raise ValueError(f"{text!r} needs a count of at least 2 after the colon, e.g. {name}:8")
    return name, int(count)


class Prefilter:
    """Scores genomes by one proxy on one seeded minibatch (drawn once): the search's `--prefilter PROXY:K`.
    `dataset` is read only by the proxies that need data (not by the baselines), and may be a function giving it."""

    def __init__(self, text: str, dataset: Dataset | Callable[[], Dataset], seed: int = 0):
        self.name, self.count = parse_prefilter(text)
        self.seed = seed
        self.images = self.labels = torch.zeros(0)
        if self.name not in BASELINES:
            self.images, self.labels = minibatch(dataset() if callable(dataset) else dataset, seed)

    def __call__(self, genome: Genome) -> float:
        with torch.enable_grad():
            return PROXIES[self.name](genome, self.images, self.labels, self.seed)

    def samples(self, study=None) -> int:
        """How many samples to draw for each trial (always K)."""
        return self.count

    def scores(self, candidates: Sequence[tuple], study=None) -> list[float]:
        """The proxy of each (trial, genome, record) candidate."""
        return [self(genome) for _, genome, _ in candidates]
