"""Search spaces: every lecture family as a parameterised genome space, plus `lecture` (the zoo itself).

`get_space(name, in_chans=..., resolution=..., num_classes=..., max_flops=None, max_params=None)` returns a
`SearchSpace` adapted to one input; `list_spaces()` names them. Adding a family = one module here defining a
`SearchSpace` subclass with a `name`; it is discovered automatically.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil

from nasbench.errors import SettingError, did_you_mean
from nasbench.space import SearchSpace

_INFRASTRUCTURE = {"base"}


def _registry() -> dict[str, type[SearchSpace]]:
    found: dict[str, type[SearchSpace]] = {}
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module_info.name in _INFRASTRUCTURE:
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, SearchSpace) and cls.name and cls.__module__ == module.__name__:
                if cls.name in found:
                    raise ValueError(f"search space {cls.name!r} is defined twice")
                found[cls.name] = cls
    return found


SPACES = _registry()


def list_spaces() -> list[str]:
    return sorted(SPACES)


def get_space(name: str, **inputs) -> SearchSpace:
    """The named space for one input: keywords in_chans, resolution, num_classes (defaults: the embedded digits
    data, `nasbench.space.DEFAULT_INPUT`), max_flops, max_params."""
    if name not in SPACES:
        raise SettingError(did_you_mean("search space", name, list_spaces(), plural="spaces"), "space")
    return SPACES[name](**inputs)


__all__ = ["SPACES", "SearchSpace", "get_space", "list_spaces"]
