"""Typed, validated, frozen gene dataclasses: the field machinery every genome part is made of."""
from __future__ import annotations

import dataclasses
import functools
import math
import typing
from typing import Any, ClassVar

MAX_INT = 1 << 20  # no sensible channel count, depth or resolution is larger


class GenomeError(ValueError):
    """An invalid genome; `path` names the offending field (`stages[2].kernel`)."""

    def __init__(self, path: str, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}" if path else reason)


def gene_field(
    default: Any,
    *,
    alias: str | None = None,
    choices: tuple | None = None,
    min: float | None = None,
    max: float | None = None,
    odd: bool = False,
    width: bool = False,
    added: bool = False,
    doc: str = "",
) -> Any:
    """A gene field with its validation rules.

    alias: short name in the compact string form; choices: allowed values; min/max: inclusive bounds;
    odd: integers (or each tuple item) must be odd; width: a channel count that width scaling multiplies;
    added: a field added after genomes were first stored, left out of the JSON form at its default so that those
    genomes keep their content key.
    """
    meta = dict(alias=alias, choices=choices, min=min, max=max, odd=odd, width=width, added=added, doc=doc)
    return dataclasses.field(default=default, metadata=meta)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _type_name(value: Any) -> str:
    return type(value).__name__


def check_value(path: str, ftype: Any, value: Any, meta: dict) -> Any:
    """Validate one field value against its declared type and rules; return it normalised.

    A field type with `from_data(path, value)` is its own codec (nested genes: `nasbench.blocks.branch.Branches`);
    it also provides `to_data()`, `to_text()`, `from_text(path, text)` and `scaled_width(factor)`.
    """
    if hasattr(ftype, "from_data"):
        return ftype.from_data(path, value)
    if ftype is bool:
        if not isinstance(value, bool):
            raise GenomeError(path, f"{value!r} is a {_type_name(value)}, expected true or false")
        return value
    if ftype is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise GenomeError(path, f"{value!r} is a {_type_name(value)}, expected an integer")
        _check_range(path, value, meta, default_max=MAX_INT)
        if meta.get("odd") and value % 2 == 0:
            raise GenomeError(path, f"{value} is even, must be odd")
        return value
    if ftype is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise GenomeError(path, f"{value!r} is a {_type_name(value)}, expected a number")
        value = float(value)
        if not math.isfinite(value):
            raise GenomeError(path, f"{value} is not a finite number")
        _check_range(path, value, meta, default_max=float(MAX_INT))
        return value
    if ftype is str:
        if not isinstance(value, str):
            raise GenomeError(path, f"{value!r} is a {_type_name(value)}, expected a string")
        choices = meta.get("choices")
        if choices is not None and value not in choices:
            raise GenomeError(path, f"{value!r} is not one of {', '.join(map(str, choices))}")
        return value
    if typing.get_origin(ftype) is tuple:
        if not isinstance(value, (list, tuple)):
            raise GenomeError(path, f"{value!r} is a {_type_name(value)}, expected a list of integers")
        if len(value) > 64:
            raise GenomeError(path, f"{len(value)} items, at most 64 allowed")
        return tuple(check_value(f"{path}[{i}]", int, item, meta) for i, item in enumerate(value))
    raise TypeError(f"unsupported gene field type {ftype!r}")


def _check_range(path: str, value: float, meta: dict, default_max: float) -> None:
    lo, hi = meta.get("min"), meta.get("max")
    hi = default_max if hi is None else hi
    if lo is not None and value < lo:
        raise GenomeError(path, f"{value} is below the minimum {lo}")
    if value > hi:
        raise GenomeError(path, f"{value} is above the maximum {hi}")


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    """Resolved annotations of a gene class's fields (a pure function of the class, so computed once)."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


@dataclasses.dataclass(frozen=True)
class Gene:
    """Base of every genome part: a frozen dataclass of validated scalar fields."""

    kind: ClassVar[str] = "gene"

    def __post_init__(self) -> None:
        self.validate("")

    @classmethod
    def field_types(cls) -> dict[str, Any]:
        return _field_types(cls)

    def validate(self, path: str) -> None:
        """Check every field; subclasses add cross-field checks by overriding `check_fields`."""
        types = self.field_types()
        for f in dataclasses.fields(self):
            value = check_value(_join(path, f.name), types[f.name], getattr(self, f.name), dict(f.metadata))
            object.__setattr__(self, f.name, value)
        self.check_fields(path)

    def check_fields(self, path: str) -> None:
        """Cross-field rules; raise GenomeError(path.field, reason)."""

    @classmethod
    def from_fields(cls, data: dict, path: str) -> Gene:
        """Build from a mapping of field name -> value, rejecting unknown names."""
        names = [f.name for f in dataclasses.fields(cls)]
        for key in data:
            if key not in names:
                expected = ", ".join(names) or "no fields"
                raise GenomeError(_join(path, str(key)), f"unknown field for {cls.kind!r}; expected one of: {expected}")
        gene = cls.__new__(cls)
        for f in dataclasses.fields(cls):
            object.__setattr__(gene, f.name, data.get(f.name, f.default))
        gene.validate(path)
        return gene

    def fields_dict(self, *, omit_defaults: bool = False) -> dict:
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value == f.default and (omit_defaults or f.metadata.get("added")):
                continue
            out[f.name] = value.to_data() if hasattr(value, "to_data") else list(value) if isinstance(value, tuple) \
                else value
        return out

    def width_fields(self) -> list[str]:
        return [f.name for f in dataclasses.fields(self) if f.metadata.get("width")]


def format_value(value: Any) -> str:
    """One field value in the compact string form."""
    if hasattr(value, "to_text"):
        return value.to_text()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "/".join(str(v) for v in value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def parse_value(path: str, ftype: Any, text: str) -> Any:
    """Inverse of `format_value` for a field of type `ftype`; GenomeError on malformed text."""
    if hasattr(ftype, "from_text"):
        return ftype.from_text(path, text)
    try:
        if ftype is bool:
            if text not in ("true", "false"):
                raise ValueError
            return text == "true"
        if ftype is int:
            return int(text)
        if ftype is float:
            return float(text)
        if ftype is str:
            return text
        if typing.get_origin(ftype) is tuple:
            return tuple(int(v) for v in text.split("/")) if text else ()
    except ValueError:
        pass
    raise GenomeError(path, f"cannot read {text!r} as {getattr(ftype, '__name__', 'a list of integers')}")


def gene_to_str(gene: Gene, name: str) -> str:
    """`name(alias=value,...)` with default-valued fields left out."""
    parts = []
    for f in dataclasses.fields(gene):
        value = getattr(gene, f.name)
        if value != f.default:
            parts.append(f"{f.metadata.get('alias') or f.name}={format_value(value)}")
    return f"{name}({','.join(parts)})"


def gene_fields_from_str(cls: type[Gene], body: str, path: str) -> dict:
    """Parse the `alias=value,...` body of `gene_to_str` into a field dict for `from_fields`."""
    by_alias = {}
    for f in dataclasses.fields(cls):
        by_alias[f.metadata.get("alias") or f.name] = f.name
        by_alias[f.name] = f.name
    types = cls.field_types()
    out: dict = {}
    for part in filter(None, split_top(body, ",")):
        key, sep, text = part.partition("=")
        if not sep:
            raise GenomeError(path, f"{part!r} is not alias=value")
        name = by_alias.get(key)
        if name is None:
            raise GenomeError(_join(path, key), f"unknown field for {cls.kind!r}")
        if name in out:
            raise GenomeError(_join(path, name), "given twice")
        out[name] = parse_value(_join(path, name), types[name], text)
    return out


OPENING, CLOSING = "([", ")]"


def split_top(text: str, sep: str) -> list[str]:
    """`text` split at each `sep` outside brackets (nested genes' text keeps its commas); GenomeError when the
    brackets do not balance."""
    parts, depth, start = [], [], 0
    for i, char in enumerate(text):
        if char in OPENING:
            depth.append(CLOSING[OPENING.index(char)])
        elif char in CLOSING:
            if not depth or depth.pop() != char:
                raise GenomeError("", f"unbalanced {char!r} at character {i + 1} of {text[:60]!r}")
        elif char == sep and not depth:
            parts.append(text[start:i])
            start = i + 1
    if depth:
        raise GenomeError("", f"{text[:60]!r} lacks a closing {depth[-1]!r}")
    return parts + [text[start:]]
