"""The genome: a frozen, validated, serialisable description of a CNN, and its codecs."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from typing import Any, ClassVar

from nasbench.blocks import REGISTRY, BlockGene, Shape, Tally
from nasbench.gene import Gene, GenomeError, check_value, gene_field, gene_fields_from_str, gene_to_str, split_top
from nasbench.head import Head
from nasbench.scaling.rules import scale_depth, scale_gene_width, scale_resolution

STAGE_KEYS = ("block", "depth", "stride")


@dataclasses.dataclass(frozen=True)
class Scaling(Gene):
    """Width/depth multipliers and EfficientNet compound coefficients; identity by default.

    Resolved: width x beta**phi on channel fields (rounded to multiples of 8), ceil(depth x alpha**phi) repeats,
    round(resolution x gamma**phi).
    """

    kind: ClassVar[str] = "scaling"

    width: float = gene_field(1.0, alias="w", min=0.01, max=100.0, doc="width multiplier")
    depth: float = gene_field(1.0, alias="d", min=0.01, max=100.0, doc="depth multiplier")
    alpha: float = gene_field(1.0, alias="a", min=1.0, max=10.0, doc="compound depth base")
    beta: float = gene_field(1.0, alias="b", min=1.0, max=10.0, doc="compound width base")
    gamma: float = gene_field(1.0, alias="g", min=1.0, max=10.0, doc="compound resolution base")
    phi: float = gene_field(0.0, alias="phi", min=0.0, max=16.0, doc="compound coefficient")

    @property
    def width_factor(self) -> float:
        return self.width * self.beta**self.phi

    @property
    def depth_factor(self) -> float:
        return self.depth * self.alpha**self.phi

    @property
    def resolution_factor(self) -> float:
        return self.gamma**self.phi

    @property
    def is_identity(self) -> bool:
        return self.width_factor == 1.0 and self.depth_factor == 1.0 and self.resolution_factor == 1.0


@dataclasses.dataclass(frozen=True)
class Stage:
    """`depth` repeats of one block; the first has `stride`, the rest stride 1."""

    block: BlockGene
    depth: int = 1
    stride: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.block, BlockGene):
            raise GenomeError("block", f"{self.block!r} is not a block gene")
        check_value("depth", int, self.depth, {"min": 1, "max": 1024})
        check_value("stride", int, self.stride, {"min": 1, "max": 8})

    def to_dict(self) -> dict:
        return {"block": self.block.kind, "depth": self.depth, "stride": self.stride, **self.block.fields_dict()}

    @classmethod
    def from_dict(cls, data: Any, path: str) -> Stage:
        if not isinstance(data, dict):
            raise GenomeError(path, f"expected an object with a 'block' name, got {type(data).__name__}")
        if "block" not in data:
            raise GenomeError(f"{path}.block", "missing; name the block type")
        name = data["block"]
        if not isinstance(name, str):
            raise GenomeError(f"{path}.block", f"{name!r} is not a block name")
        gene_cls = REGISTRY.get(name, f"{path}.block")
        depth = check_value(f"{path}.depth", int, data.get("depth", 1), {"min": 1, "max": 1024})
        stride = check_value(f"{path}.stride", int, data.get("stride", 1), {"min": 1, "max": 8})
        fields = {k: v for k, v in data.items() if k not in STAGE_KEYS}
        return cls(gene_cls.from_fields(fields, path), depth, stride)

    def to_str(self) -> str:
        text = gene_to_str(self.block, self.block.kind)
        extra = ([f"d={self.depth}"] if self.depth != 1 else []) + ([f"s={self.stride}"] if self.stride != 1 else [])
        if extra:
            inner = text[len(self.block.kind) + 1:-1]
            text = f"{self.block.kind}({','.join(extra + ([inner] if inner else []))})"
        return text

    @classmethod
    def from_str(cls, text: str, path: str) -> Stage:
        match = re.fullmatch(r"([a-z0-9_]+)\((.*)\)", text)
        if not match:
            raise GenomeError(path, f"{text!r} is not block(field=value,...)")
        name, body = match.groups()
        gene_cls = REGISTRY.get(name, f"{path}.block")
        depth, stride, rest = 1, 1, []
        for part in filter(None, split_top(body, ",")):
            key, _, value = part.partition("=")
            if key in ("d", "s"):
                try:
                    number = int(value)
                except ValueError:
                    raise GenomeError(f"{path}.{'depth' if key == 'd' else 'stride'}",
                                      f"{value!r} is not an integer") from None
                depth, stride = (number, stride) if key == "d" else (depth, number)
            else:
                rest.append(part)
        fields = gene_fields_from_str(gene_cls, ",".join(rest), path)
        return cls.from_dict({"block": name, "depth": depth, "stride": stride, **fields}, path)


def _stages_from(data: Any, path: str) -> tuple[Stage, ...]:
    if not isinstance(data, (list, tuple)):
        raise GenomeError(path, f"expected a list of stages, got {type(data).__name__}")
    if len(data) > 512:
        raise GenomeError(path, f"{len(data)} stages, at most 512 allowed")
    return tuple(Stage.from_dict(item, f"{path}[{i}]") for i, item in enumerate(data))


@dataclasses.dataclass(frozen=True)
class Genome:
    """A whole network: input, stem, stages of blocks, head and scaling. Always valid once constructed."""

    stages: tuple[Stage, ...]
    stem: tuple[Stage, ...] = ()
    head: Head = Head()
    in_chans: int = 3
    resolution: int = 224
    num_classes: int = 1000
    scaling: Scaling = Scaling()

    TOP_KEYS: ClassVar[tuple[str, ...]] = ("in_chans", "resolution", "num_classes", "stem", "stages", "head", "scaling")

    def __post_init__(self) -> None:
        object.__setattr__(self, "stages", tuple(self.stages))
        object.__setattr__(self, "stem", tuple(self.stem))
        check_value("in_chans", int, self.in_chans, {"min": 1, "max": 1024})
        check_value("resolution", int, self.resolution, {"min": 1, "max": 8192})
        check_value("num_classes", int, self.num_classes, {"min": 1, "max": 1_000_000})
        if not self.stages and not self.stem:
            raise GenomeError("stages", "a genome needs at least one stage")
        for name in ("stem", "stages"):
            for i, stage in enumerate(getattr(self, name)):
                if not isinstance(stage, Stage):
                    raise GenomeError(f"{name}[{i}]", f"{stage!r} is not a Stage")
        if not isinstance(self.head, Head):
            raise GenomeError("head", f"{self.head!r} is not a Head")
        if not isinstance(self.scaling, Scaling):
            raise GenomeError("scaling", f"{self.scaling!r} is not a Scaling")
        trace(self.resolved(), Tally())

    # ---- scaling -------------------------------------------------------------------------------------
    def resolved(self) -> Genome:
        """The genome with its scaling applied (identity scaling returns self)."""
        scaling = self.scaling
        if scaling.is_identity:
            return self
        w, d = scaling.width_factor, scaling.depth_factor

        def scaled(stage: Stage, depth_scaled: bool) -> Stage:
            depth = scale_depth(stage.depth, d) if depth_scaled and stage.block.depth_scalable else stage.depth
            return Stage(scale_gene_width(stage.block, w), depth, stage.stride)

        return dataclasses.replace(
            self,
            stem=tuple(scaled(s, False) for s in self.stem),
            stages=tuple(scaled(s, True) for s in self.stages),
            head=scale_gene_width(self.head, w),
            resolution=scale_resolution(self.resolution, scaling.resolution_factor),
            scaling=Scaling(),
        )

    # ---- codecs --------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "in_chans": self.in_chans,
            "resolution": self.resolution,
            "num_classes": self.num_classes,
            "stem": [s.to_dict() for s in self.stem],
            "stages": [s.to_dict() for s in self.stages],
            "head": self.head.fields_dict(),
            "scaling": self.scaling.fields_dict(),
        }

    @classmethod
    def from_dict(cls, data: Any) -> Genome:
        if not isinstance(data, dict):
            raise GenomeError("", f"a genome is a JSON object, got {type(data).__name__}")
        for key in data:
            if key not in cls.TOP_KEYS:
                raise GenomeError(str(key), f"unknown field; expected one of: {', '.join(cls.TOP_KEYS)}")
        if "stages" not in data:
            raise GenomeError("stages", "missing; a genome needs a list of stages")
        head = data.get("head", {})
        scaling = data.get("scaling", {})
        for name, value in (("head", head), ("scaling", scaling)):
            if not isinstance(value, dict):
                raise GenomeError(name, f"expected an object, got {type(value).__name__}")
        return cls(
            stages=_stages_from(data["stages"], "stages"),
            stem=_stages_from(data.get("stem", []), "stem"),
            head=Head.from_fields(head, "head"),
            in_chans=check_value("in_chans", int, data.get("in_chans", 3), {"min": 1, "max": 1024}),
            resolution=check_value("resolution", int, data.get("resolution", 224), {"min": 1, "max": 8192}),
            num_classes=check_value("num_classes", int, data.get("num_classes", 1000), {"min": 1, "max": 1_000_000}),
            scaling=Scaling.from_fields(scaling, "scaling"),
        )

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=indent is None)

    @classmethod
    def from_json(cls, text: str | bytes) -> Genome:
        try:
            data = json.loads(text, parse_constant=_reject_constant)
        except (ValueError, TypeError, RecursionError) as exc:
            raise GenomeError("", f"not valid JSON ({exc})") from None
        return cls.from_dict(data)

    def to_str(self) -> str:
        """Compact one-line id: `i=3,r=224,n=1000|stem:...|body:...|head:...[|scale:...]`."""
        parts = [f"i={self.in_chans},r={self.resolution},n={self.num_classes}",
                 "stem:" + "+".join(s.to_str() for s in self.stem),
                 "body:" + "+".join(s.to_str() for s in self.stages),
                 "head:" + gene_to_str(self.head, "head")[5:-1]]
        if self.scaling != Scaling():
            parts.append("scale:" + gene_to_str(self.scaling, "scale")[6:-1])
        return "|".join(parts)

    @classmethod
    def from_str(cls, text: str) -> Genome:
        if not isinstance(text, str):
            raise GenomeError("", f"a genome string is text, got {type(text).__name__}")
        sections = text.strip().split("|")
        top = _parse_top(sections[0])
        data: dict = {"stem": [], "stages": [], "head": {}, "scaling": {}, **top}
        seen = set()
        for section in sections[1:]:
            name, sep, body = section.partition(":")
            if not sep or name not in ("stem", "body", "head", "scale") or name in seen:
                raise GenomeError("", f"section {section[:40]!r} is not one of stem:, body:, head:, scale: (once each)")
            seen.add(name)
            if name in ("stem", "body"):
                key = "stem" if name == "stem" else "stages"
                data[key] = [Stage.from_str(part, f"{key}[{i}]").to_dict()
                             for i, part in enumerate(filter(None, split_top(body, "+")))]
            else:
                gene_cls = Head if name == "head" else Scaling
                data["head" if name == "head" else "scaling"] = gene_fields_from_str(gene_cls, body, name)
        if "body" not in seen:
            raise GenomeError("stages", "missing body: section")
        return cls.from_dict(data)

    def key(self) -> str:
        """Stable content hash (16 hex digits) of the canonical JSON."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]

    def with_input(self, *, in_chans: int | None = None, resolution: int | None = None,
                   num_classes: int | None = None) -> Genome:
        """The same network for another input size, channel count or number of classes."""
        return dataclasses.replace(
            self,
            in_chans=self.in_chans if in_chans is None else in_chans,
            resolution=self.resolution if resolution is None else resolution,
            num_classes=self.num_classes if num_classes is None else num_classes,
        )


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed")


def _parse_top(text: str) -> dict:
    names = {"i": "in_chans", "r": "resolution", "n": "num_classes"}
    out = {}
    for part in filter(None, text.split(",")):
        key, sep, value = part.partition("=")
        if not sep or key not in names:
            raise GenomeError("", f"{part!r}: the first section holds i=<in_chans>,r=<resolution>,n=<classes>")
        try:
            out[names[key]] = int(value)
        except ValueError:
            raise GenomeError(names[key], f"{value!r} is not an integer") from None
    return out


def trace(genome: Genome, t: Tally) -> Shape:
    """Walk the (resolved) genome through the analytic cost twins; raises GenomeError on impossible shapes."""
    x = trace_body(genome, t)
    t.path = "head"
    return genome.head.cost(t, x, genome.num_classes)


def trace_body(genome: Genome, t: Tally) -> Shape:
    """Like `trace`, up to the features entering the head."""
    x = Shape(genome.in_chans, genome.resolution, genome.resolution)
    for name in ("stem", "stages"):
        for i, stage in enumerate(getattr(genome, name)):
            for j in range(stage.depth):
                t.path = f"{name}[{i}]" if stage.depth == 1 else f"{name}[{i}] (block {j})"
                stride = stage.stride if j == 0 else 1
                stage.block.check(x.c, stride, f"{name}[{i}]")
                x = stage.block.cost_with_attn(t, x, stride)
    return x
