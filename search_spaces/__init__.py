"""Search spaces: every lecture family as a parameterised genome space, plus `lecture` (the zoo itself).

`get_space(name, in_chans=..., resolution=..., num_classes=..., max_flops=None, max_params=None)` returns a
`SearchSpace` adapted to one input; `list_spaces()` names them. Adding a family = one module here defining a
`SearchSpace` subclass with a `name`; it is discovered automatically. An installed package adds a space with an
entry point in the group `nasbench.spaces` (name = the space's name, value = its class), and a block with one in
`nasbench.blocks` (see `nasbench.blocks.base`).
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
from importlib.metadata import entry_points

from nasbench.errors import SettingError, did_you_mean
from nasbench.space import SearchSpace

_INFRASTRUCTURE = {"base"}
PLUGIN_GROUP = "nasbench.spaces"


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
    """This package's spaces and those of installed packages."""
    return sorted(set(SPACES) | {point.name for point in entry_points(group=PLUGIN_GROUP)})


def get_space(name: str, **inputs) -> SearchSpace:
    """The named space for one input: keywords in_chans, resolution, num_classes (defaults: the embedded digits
    data, `nasbench.space.DEFAULT_INPUT`), max_flops, max_params."""
    space_cls = SPACES.get(name) or _installed_space(name)
    if space_cls is None:
        raise SettingError(did_you_mean("search space", name, list_spaces(), plural="spaces"), "space")
    return space_cls(**inputs)


def _installed_space(name: str) -> type[SearchSpace] | None:
    """The space an installed package declares under `name` (entry point group PLUGIN_GROUP), or None."""
    for point in entry_points(group=PLUGIN_GROUP, name=name):
        where = f"search space {name!r} of the installed package {point.dist.name if point.dist else '?'} " \
                f"({point.value})"
        try:
            space_cls = point.load()
        except Exception as exc:  # a broken plugin is that package's fault: say which and why
            raise SettingError(f"{where} failed to load: {type(exc).__name__}: {exc}", "space") from exc
        if not (isinstance(space_cls, type) and issubclass(space_cls, SearchSpace)) or space_cls.name != name:
            raise SettingError(f"{where} is not a SearchSpace subclass named {name!r}", "space")
        return space_cls
    return None


__all__ = ["SPACES", "SearchSpace", "get_space", "list_spaces"]
