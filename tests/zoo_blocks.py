"""Test helper: one zoo architecture for every block kind the zoo uses."""
from nasbench import zoo


def first_user_of_each_block() -> dict[str, str]:
    """Block kind -> the first zoo architecture using it."""
    chosen: dict[str, str] = {}
    for entry in zoo.all_entries():
        for stage in entry.genome.stages:
            chosen.setdefault(stage.block.kind, entry.name)
    return chosen
