"""Analytic cost accumulation with fvcore's conventions (one multiply-add = one FLOP, batch 1, eval mode)."""
from __future__ import annotations

import dataclasses
from typing import NamedTuple

from nasbench.gene import GenomeError


class Shape(NamedTuple):
    """Feature map shape of one sample: channels, height, width."""

    c: int
    h: int
    w: int

    @property
    def numel(self) -> int:
        return self.c * self.h * self.w


def pair(v: int | tuple[int, int]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else v


def window_out(size: int, kernel: int, stride: int, padding: int, ceil_mode: bool = False, dilation: int = 1) -> int:
    """Output length of a conv/pool window along one axis, as torch computes it."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if ceil_mode:
        out = -(-span // stride) + 1
        if (out - 1) * stride >= size + padding:  # torch: the last window must start inside the input
            out -= 1
    else:
        out = span // stride + 1
    return out


LAYER_TYPES = ("conv 1x1", "conv kxk", "depthwise", "grouped", "fully connected", "norm", "pool", "other")


class LayerCost(NamedTuple):
    """One layer as the analytic cost sees it: where, what kind, its output, params, FLOPs and activations (output
    elements of convs and linear layers, fvcore's activation count)."""

    block: str
    type: str
    out: Shape
    params: int
    flops: int
    activations: int


def conv_type(in_chans: int, out: int, kernel: tuple[int, int], groups: int) -> str:
    """MobileNet's Table 2 kinds: depthwise, grouped, 1x1, kxk."""
    if groups > 1:
        return "depthwise" if groups == in_chans == out else "grouped"
    return "conv 1x1" if kernel == (1, 1) else "conv kxk"


@dataclasses.dataclass
class Tally:
    """Running parameter and FLOP totals; every method mirrors one torch layer and returns its output shape.
    With `layers` a list, each layer is also recorded there as a `LayerCost` (per-layer cost tables)."""

    params: int = 0
    flops: int = 0
    path: str = ""
    layers: list[LayerCost] | None = None

    def add(self, layer_type: str, out: Shape, params: int, flops: int, activations: int = 0) -> None:
        """Count one layer (and record it when recording)."""
        self.params += params
        self.flops += flops
        if self.layers is not None:
            self.layers.append(LayerCost(self.path, layer_type, out, params, flops, activations))

    def _spatial(self, x: Shape, kernel, stride, padding, ceil_mode=False, dilation=1) -> tuple[int, int]:
        (kh, kw), (sh, sw), (ph, pw) = pair(kernel), pair(stride), pair(padding)
        h = window_out(x.h, kh, sh, ph, ceil_mode, dilation)
        w = window_out(x.w, kw, sw, pw, ceil_mode, dilation)
        if h < 1 or w < 1:
            raise GenomeError(
                self.path,
                f"spatial size collapses from {x.h}x{x.w} to {h}x{w} (kernel {kernel}, stride {stride}); "
                "use fewer downsampling steps or a larger resolution",
            )
        return h, w

    def conv(self, x: Shape, out: int, kernel, stride=1, padding=None, groups: int = 1, bias: bool = False,
             dilation: int = 1) -> Shape:
        kh, kw = pair(kernel)
        if padding is None:
            padding = (dilation * (kh - 1) // 2, dilation * (kw - 1) // 2)
        if x.c % groups or out % groups:
            raise GenomeError(self.path, f"groups={groups} must divide both {x.c} input and {out} output channels")
        h, w = self._spatial(x, (kh, kw), stride, padding, dilation=dilation)
        weight = out * (x.c // groups) * kh * kw
        y = Shape(out, h, w)
        self.add(conv_type(x.c, out, (kh, kw), groups), y, weight + (out if bias else 0), weight * h * w, y.numel)
        return y

    def conv1d_channels(self, channels: int, kernel: int) -> None:
        """ECA's 1-d conv over the channel axis (1 -> 1 channel, no bias)."""
        self.add("other", Shape(channels, 1, 1), kernel, kernel * channels, channels)

    def norm(self, x: Shape, kind: str) -> Shape:
        if kind == "batch":
            self.add("norm", x, 2 * x.c, 2 * x.numel)
        return x

    def act(self, x: Shape, kind: str) -> Shape:
        if kind == "prelu":
            self.add("other", x, 1, 0)
        return x

    def pool(self, x: Shape, kernel, stride, padding=0, ceil_mode: bool = False) -> Shape:
        """Max or average pooling: fvcore counts no FLOPs for either."""
        h, w = self._spatial(x, kernel, stride, padding, ceil_mode)
        y = Shape(x.c, h, w)
        self.add("pool", y, 0, 0)
        return y

    def adaptive_avg(self, x: Shape, size: int = 1) -> Shape:
        y = Shape(x.c, size, size)
        self.add("pool", y, 0, x.numel)
        return y

    def linear(self, n_in: int, n_out: int, bias: bool = True) -> int:
        self.add("fully connected", Shape(n_out, 1, 1), n_in * n_out + (n_out if bias else 0), n_in * n_out, n_out)
        return n_out
