"""A search over a table: the search settings the table decides (its space, data and training), checked in one
line each, and the table's coverage of the space checked before a search starts."""
from __future__ import annotations

from pathlib import Path

from nasbench.errors import SettingError
from nasbench.search.settings import SearchSettings
from nasbench.space import SearchSpace
from nasbench.tabular.members import grid_members
from nasbench.tabular.table import Table, TableError

# the table's training settings that a search over it takes (a search cannot replay what was not trained)
REPLAYED = ("dataset", "resolution", "limit", "epochs", "batch_size", "lr", "weight_decay", "label_smoothing")


def manifest_settings(manifest: dict) -> dict:
    """The search settings a search over a table takes from its manifest: its space, data and training."""
    return {"space": manifest["space"], **{name: manifest["settings"][name] for name in REPLAYED}}


def table_settings(table: Table) -> dict:
    """`manifest_settings` of the table, and the table's file."""
    return {"benchmark": str(table.path), **manifest_settings(table.manifest)}


def open_benchmark(settings: SearchSettings) -> Table:
    """The table `settings.benchmark` names, checked against the settings; SettingError naming the setting that
    differs from the table's, or the file when it is no table."""
    try:
        table = Table(Path(settings.benchmark))
    except TableError as exc:
        raise SettingError(str(exc), "benchmark") from None
    check_settings(settings, table)
    return table


def check_settings(settings: SearchSettings, table: Table) -> None:
    """SettingError when the search's space, data or training differ from those the table was built with."""
    for name, value in table_settings(table).items():
        if name != "benchmark" and getattr(settings, name) != value:
            raise SettingError(f"the table {table.path.name} was built with {name}={value!r}, so a search over it "
                               f"has {name}={value!r}, not {getattr(settings, name)!r} (leave it out)", name)


def check_coverage(table: Table, space: SearchSpace) -> None:
    """SettingError when a space with a grid has members (within its budgets) that the table lacks, so a search
    could sample a genome it cannot look up; spaces without a grid are tabulated as samples and not checked."""
    try:
        members = grid_members(space)
    except ValueError:
        return
    missing = [g for g in members if g.key() not in table and space.over_budget(g) is None]  # cost: missing only
    if missing:
        raise SettingError(f"the table {table.path.name} lacks {len(missing)} of the {len(members)} members of the "
                           f"{space.name} space (e.g. key {missing[0].key()}); finish building it with the command "
                           "in its manifest, or search with a budget that leaves them out", "benchmark")
