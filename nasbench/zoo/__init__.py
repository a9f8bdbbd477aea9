"""The lecture zoo: every classic CNN as a genome, with the reference it must match.

One module per family in this package, each exposing `entries() -> list[ZooEntry]`; modules are discovered
automatically.
"""
from __future__ import annotations

import functools
import importlib
import pkgutil

from nasbench.genome import Genome
from nasbench.zoo.entry import Reference, ZooEntry, reference_model, stated_figure

__all__ = ["Reference", "ZooEntry", "all_entries", "entry", "get", "names", "reference_model", "stated_figure"]


@functools.cache
def _catalogue() -> dict[str, ZooEntry]:
    out: dict[str, ZooEntry] = {}
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        if not hasattr(module, "entries"):
            continue  # a helper module
        for item in module.entries():
            if item.name in out:
                raise ValueError(f"zoo name {item.name!r} defined twice")
            out[item.name] = item
    return out


def names() -> list[str]:
    return list(_catalogue())


def entry(name: str) -> ZooEntry:
    catalogue = _catalogue()
    if name not in catalogue:
        raise KeyError(f"unknown zoo architecture {name!r}; see `python -m runners.zoo` for the list")
    return catalogue[name]


def get(name: str) -> Genome:
    """The genome of a zoo architecture."""
    return entry(name).genome


def all_entries() -> list[ZooEntry]:
    return list(_catalogue().values())
