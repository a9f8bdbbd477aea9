"""The block contract, the block registry and the small layer helpers blocks share."""
from __future__ import annotations

import dataclasses
from importlib.metadata import entry_points
from typing import ClassVar

from torch import nn

from nasbench.blocks.acts import ACTIVATIONS, make_act  # noqa: F401  (blocks import ACTIVATIONS from here)
from nasbench.blocks.attention import ATTENTIONS, attn_cost, make_attn
from nasbench.blocks.tally import Shape, Tally
from nasbench.gene import Gene, GenomeError, gene_field

NORMS = ("batch", "none")


@dataclasses.dataclass(frozen=True)
class BlockGene(Gene):
    """A block's hyperparameters. Subclasses set `kind`, declare fields, and implement the four methods.

    Every block is built from the same arguments: its gene, the input channels and the stride; it
    declares its cost next to its module, mirroring the module layer by layer.
    """

    kind: ClassVar[str] = ""
    depth_scalable: ClassVar[bool] = True  # whether compound depth scaling may repeat this block
    places_attn: ClassVar[bool] = False  # True: build/cost place `attn` themselves (residual: before the addition)

    attn: str = gene_field("none", choices=ATTENTIONS, doc="SE / ECA / CBAM attention on the block's output")

    def out_chans(self, in_chans: int) -> int:
        """Output channels for a given input channel count."""
        raise NotImplementedError

    def check(self, in_chans: int, stride: int, path: str) -> None:
        """Rules that depend on the input (e.g. groups dividing channels); raise GenomeError."""

    def build(self, in_chans: int, stride: int) -> nn.Module:
        raise NotImplementedError

    def cost(self, t: Tally, x: Shape, stride: int) -> Shape:
        """Add this block's params and FLOPs to `t` and return its output shape."""
        raise NotImplementedError

    def build_with_attn(self, in_chans: int, stride: int) -> nn.Module:
        """The block's module, followed by its attention on the output unless the block places it itself."""
        module = self.build(in_chans, stride)
        if self.attn == "none" or self.places_attn:
            return module
        return nn.Sequential(module, make_attn(self.attn, self.out_chans(in_chans)))

    def cost_with_attn(self, t: Tally, x: Shape, stride: int) -> Shape:
        """`cost` of `build_with_attn`."""
        y = self.cost(t, x, stride)
        return y if self.places_attn else attn_cost(t, y, self.attn)


PLUGIN_GROUP = "nasbench.blocks"  # entry-point group of installed packages' blocks: name = kind, value = the class


class BlockRegistry:
    """Name -> BlockGene subclass: the built-in blocks, and blocks of installed packages (entry points in
    PLUGIN_GROUP), loaded the first time a genome names them. Registering a name twice raises."""

    def __init__(self) -> None:
        self._genes: dict[str, type[BlockGene]] = {}

    def register(self, cls: type[BlockGene]) -> type[BlockGene]:
        if not cls.kind:
            raise ValueError(f"{cls.__name__} has no block kind name")
        if cls.kind in self._genes:
            raise ValueError(f"block {cls.kind!r} is already registered by {self._genes[cls.kind].__name__}")
        self._genes[cls.kind] = cls
        return cls

    def get(self, name: str, path: str = "block") -> type[BlockGene]:
        if name not in self._genes:
            self._load_plugin(name, path)
        if name not in self._genes:
            raise GenomeError(path, f"unknown block {name!r}; known blocks: {', '.join(self.names())} (a block of "
                                    f"another package is found once that package is installed)")
        return self._genes[name]

    def names(self) -> list[str]:
        """Built-in and installed blocks (installed ones are listed without being loaded)."""
        return sorted(set(self._genes) | {point.name for point in entry_points(group=PLUGIN_GROUP)})

    def _load_plugin(self, name: str, path: str) -> None:
        """Register the block an installed package declares under `name`, if any; GenomeError if it fails to load."""
        for point in entry_points(group=PLUGIN_GROUP, name=name):
            where = f"block {name!r} of the installed package {point.dist.name if point.dist else '?'} ({point.value})"
            try:
                gene_cls = point.load()
            except Exception as exc:  # a broken plugin is that package's fault: say which and why
                raise GenomeError(path, f"{where} failed to load: {type(exc).__name__}: {exc}") from exc
            if not (isinstance(gene_cls, type) and issubclass(gene_cls, BlockGene)) or gene_cls.kind != name:
                raise GenomeError(path, f"{where} is not a BlockGene subclass whose kind is {name!r}")
            if name not in self._genes:  # its module may have registered it on import
                self.register(gene_cls)
            return


REGISTRY = BlockRegistry()
register = REGISTRY.register


def copying_act(kind: str) -> nn.Module:
    """An activation that leaves its input intact (for one applied to a block input that also feeds the skip)."""
    act = make_act(kind)
    if hasattr(act, "inplace"):
        act.inplace = False
    return act


def make_norm(kind: str, channels: int) -> nn.Module:
    return nn.BatchNorm2d(channels) if kind == "batch" else nn.Identity()


def conv_norm_act(in_chans: int, out_chans: int, kernel, stride=1, padding=None, groups: int = 1,
                  norm: str = "batch", act: str | None = "relu", bias: bool | None = None) -> nn.Sequential:
    """Conv -> norm -> activation; bias defaults to on exactly when there is no norm."""
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    if padding is None:
        padding = (kh // 2, kw // 2)
    bias = norm == "none" if bias is None else bias
    layers = [nn.Conv2d(in_chans, out_chans, (kh, kw), stride, padding, groups=groups, bias=bias)]
    if norm != "none":
        layers.append(make_norm(norm, out_chans))
    if act is not None:
        layers.append(make_act(act))
    return nn.Sequential(*layers)


def conv_norm_act_cost(t: Tally, x: Shape, out_chans: int, kernel, stride=1, padding=None, groups: int = 1,
                       norm: str = "batch", act: str | None = "relu", bias: bool | None = None) -> Shape:
    """The cost twin of `conv_norm_act`."""
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    if padding is None:
        padding = (kh // 2, kw // 2)
    bias = norm == "none" if bias is None else bias
    y = t.conv(x, out_chans, (kh, kw), stride, padding, groups, bias)
    y = t.norm(y, norm)
    return t.act(y, act) if act is not None else y


def check_groups(path: str, channels: int, groups: int, what: str = "channels") -> None:
    if channels % groups:
        raise GenomeError(path, f"groups={groups} does not divide {channels} {what}")
