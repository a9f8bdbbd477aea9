"""The generic branch block: parallel branches of block genes, joined by concatenation or addition.

A branch is a sequence of any registered block genes (a branch block too, so Inception's 1x3 / 3x1 forks nest).
The block's stride goes to the last gene of every branch (Inception reductions: reduce, then stride). After the
join: an optional 1x1 projection, then `scale` and the block input added back (`residual`), then `act`:
Inception-ResNet's `act(x + scale * proj(concat(branches)))`. The naive and reduced Inception modules, Fire's
expand layer and the Inception-v4 / Inception-ResNet modules are data of this one block (`nasbench.zoo.inceptions`).

Text form: `br=` then each branch in brackets, its genes joined by `>`:
`branch(br=[conv(c=64,k=1)][conv(c=96,k=1)>conv(c=128)][pool(k=3,p=1)>conv(c=32,k=1)])`.
"""
from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import torch
from torch import nn

from nasbench.blocks.base import ACTIVATIONS, NORMS, REGISTRY, BlockGene, make_act, register
from nasbench.blocks.layers import ConvNormAct
from nasbench.blocks.tally import Shape, Tally
from nasbench.gene import GenomeError, gene_field, gene_fields_from_str, gene_to_str, split_top
from nasbench.scaling.rules import scale_gene_width

MAX_BRANCHES = 16
MAX_GENES = 64  # per branch


class Branches(tuple):
    """The branches of a branch block: a tuple of non-empty tuples of block genes; its own codec (see
    `nasbench.gene.check_value`)."""

    @classmethod
    def from_data(cls, path: str, value: Any) -> Branches:
        """From lists of genes or of their JSON objects ({"block": kind, field: value, ...})."""
        if isinstance(value, Branches):
            return value
        if not isinstance(value, (list, tuple)) or not 1 <= len(value) <= MAX_BRANCHES:
            raise GenomeError(path, f"expected a list of 1 to {MAX_BRANCHES} branches, each a list of blocks")
        return cls(tuple(_branch(f"{path}[{i}]", branch) for i, branch in enumerate(value)))

    def to_data(self) -> list[list[dict]]:
        return [[{"block": gene.kind, **gene.fields_dict()} for gene in branch] for branch in self]

    def to_text(self) -> str:
        return "".join("[" + ">".join(gene_to_str(gene, gene.kind) for gene in branch) + "]" for branch in self)

    @classmethod
    def from_text(cls, path: str, text: str) -> Branches:
        groups = _bracket_groups(path, text)
        return cls.from_data(path, [[_gene_from_text(f"{path}[{i}][{j}]", part)
                                     for j, part in enumerate(split_top(group, ">"))]
                                    for i, group in enumerate(groups)])

    def scaled_width(self, factor: float) -> Branches:
        return Branches(tuple(tuple(scale_gene_width(gene, factor) for gene in branch) for branch in self))


def _bracket_groups(path: str, text: str) -> list[str]:
    """The insides of the top-level bracket groups of `[a>b][c]`: ['a>b', 'c']."""
    groups, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if depth == 0 and char != "[":
            raise GenomeError(path, f"{text[:60]!r} is not [block(...)>block(...)][...], one bracket per branch")
        if char in "([":
            depth += 1
            start = i + 1 if depth == 1 else start
        elif char in ")]":
            depth -= 1
            if depth == 0:
                groups.append(text[start:i])
    if depth or not groups:
        raise GenomeError(path, f"{text[:60]!r} is not [block(...)>block(...)][...], one bracket per branch")
    return groups


def _branch(path: str, genes: Any) -> tuple[BlockGene, ...]:
    if not isinstance(genes, (list, tuple)) or not 1 <= len(genes) <= MAX_GENES:
        raise GenomeError(path, f"expected a list of 1 to {MAX_GENES} blocks")
    return tuple(_gene(f"{path}[{j}]", gene) for j, gene in enumerate(genes))


def _gene(path: str, value: Any) -> BlockGene:
    if isinstance(value, BlockGene):
        return value
    if not isinstance(value, dict) or not isinstance(value.get("block"), str):
        raise GenomeError(path, "expected a block: an object with a 'block' name and its fields")
    gene_cls = REGISTRY.get(value["block"], f"{path}.block")
    return gene_cls.from_fields({k: v for k, v in value.items() if k != "block"}, path)


def _gene_from_text(path: str, text: str) -> BlockGene:
    name, sep, body = text.partition("(")
    if not sep or not text.endswith(")"):
        raise GenomeError(path, f"{text[:60]!r} is not block(field=value,...)")
    gene_cls = REGISTRY.get(name, f"{path}.block")
    return gene_cls.from_fields(gene_fields_from_str(gene_cls, body[:-1], path), path)


@register
@dataclasses.dataclass(frozen=True)
class BranchGene(BlockGene):
    """Parallel branches joined by concatenation or addition, then projection, residual and activation."""

    kind: ClassVar[str] = "branch"

    branches: Branches = gene_field(Branches(), alias="br", width=True, doc="the branches, each a list of blocks")
    join: str = gene_field("concat", alias="j", choices=("concat", "add"), doc="how branch outputs are joined")
    proj: int = gene_field(0, min=0, width=True, doc="output channels of a 1x1 conv after the join; 0: none")
    proj_norm: str = gene_field("none", choices=NORMS, doc="norm after the projection (none: the conv has a bias)")
    residual: bool = gene_field(False, alias="res", doc="add the block input to the (scaled) result")
    scale: float = gene_field(1.0, min=0.0, max=10.0, doc="multiplies the result before the residual addition")
    act: str = gene_field("none", choices=ACTIVATIONS + ("none",), doc="activation after the join / the addition")

    def check_fields(self, path: str) -> None:
        if not self.branches:
            raise GenomeError(f"{path}.branches", "a branch block needs at least one branch")
        if self.scale != 1.0 and not self.residual:
            raise GenomeError(f"{path}.scale", "scales the branches before the residual addition; set residual")

    def _branch_chans(self, in_chans: int) -> list[int]:
        outs = []
        for branch in self.branches:
            chans = in_chans
            for gene in branch:
                chans = gene.out_chans(chans)
            outs.append(chans)
        return outs

    def _joined_chans(self, in_chans: int) -> int:
        outs = self._branch_chans(in_chans)
        return sum(outs) if self.join == "concat" else outs[0]

    def out_chans(self, in_chans: int) -> int:
        return self.proj or self._joined_chans(in_chans)

    def check(self, in_chans: int, stride: int, path: str) -> None:
        for i, branch in enumerate(self.branches):
            chans = in_chans
            for j, gene in enumerate(branch):
                gene.check(chans, stride if j == len(branch) - 1 else 1, f"{path}.branches[{i}][{j}]")
                chans = gene.out_chans(chans)
        outs = self._branch_chans(in_chans)
        if self.join == "add" and len(set(outs)) > 1:
            raise GenomeError(f"{path}.branches", f"added branches give {outs} channels; they must be equal")
        if self.residual and (stride != 1 or self.out_chans(in_chans) != in_chans):
            raise GenomeError(f"{path}.residual", f"adds the input ({in_chans} channels, stride 1) to an output of "
                                                  f"{self.out_chans(in_chans)} channels at stride {stride}")

    def _projection(self, in_chans: int) -> ConvNormAct | None:
        return ConvNormAct(self.proj, 1, norm=self.proj_norm, act=None) if self.proj else None

    def build(self, in_chans: int, stride: int) -> nn.Module:
        paths = []
        for branch in self.branches:
            modules, chans = [], in_chans
            for j, gene in enumerate(branch):
                modules.append(gene.build_with_attn(chans, stride if j == len(branch) - 1 else 1))
                chans = gene.out_chans(chans)
            paths.append(nn.Sequential(*modules))
        projection = self._projection(in_chans)
        return BranchModule(paths, self.join, projection.module(self._joined_chans(in_chans)) if projection else None,
                            self.residual, self.scale, None if self.act == "none" else make_act(self.act))

    def cost(self, t: Tally, x: Shape, stride: int) -> Shape:
        shapes = []
        for i, branch in enumerate(self.branches):
            y = x
            for j, gene in enumerate(branch):
                y = gene.cost_with_attn(t, y, stride if j == len(branch) - 1 else 1)
            if shapes and (y.h, y.w) != (shapes[0].h, shapes[0].w):
                raise GenomeError(t.path, f"branch {i} gives {y.h}x{y.w} maps where branch 0 gives "
                                          f"{shapes[0].h}x{shapes[0].w}; branches must agree in size")
            shapes.append(y)
        y = Shape(self._joined_chans(x.c), shapes[0].h, shapes[0].w)
        projection = self._projection(x.c)
        y = projection.cost(t, y) if projection else y
        return y if self.act == "none" else t.act(y, self.act)


class BranchModule(nn.Module):
    """Run the branches on one input, join them, project, scale and add the input back, activate."""

    def __init__(self, paths: list[nn.Module], join: str, projection: nn.Module | None, residual: bool, scale: float,
                 act: nn.Module | None):
        super().__init__()
        self.paths = nn.ModuleList(paths)
        self.join, self.residual, self.scale = join, residual, scale
        self.projection = projection or nn.Identity()
        self.act = act or nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = [path(x) for path in self.paths]
        y = torch.cat(outs, 1) if self.join == "concat" else sum(outs[1:], outs[0])
        y = self.projection(y)
        if self.residual:
            y = x + self.scale * y if self.scale != 1.0 else x + y
        return self.act(y)
