"""Where a retrained genome comes from: a front member of a search run, a zoo architecture, or a genome given as
such; each with what the model card records of its origin."""
from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

from nasbench import zoo
from nasbench.data import default_resolution
from nasbench.errors import SettingError, did_you_mean
from nasbench.genome import Genome
from nasbench.objectives import quality

KEY = re.compile(r"[0-9a-f]{16}")  # Genome.key()


@dataclasses.dataclass(frozen=True)
class Source:
    """A genome to retrain, `origin` (what the card records of where it came from) and `data`: the data settings
    it implies (a search run's dataset, data folder and split seed), which a retrain takes unless told otherwise."""

    genome: Genome
    origin: dict
    data: dict = dataclasses.field(default_factory=dict)


def front_member(run_dir: str | Path, member: str = "1") -> Source:
    """A member of a search run's Pareto front: `member` is its rank by validation accuracy (1 = the most accurate;
    in a zero-cost search, by its proxy) or its genome key. SettingError (run or member) naming what is missing."""
    import pandas as pd

    from nasbench.search import run_settings

    folder = Path(run_dir)
    try:
        settings = run_settings(folder)
    except ValueError as exc:
        raise SettingError(str(exc), "run") from None
    pareto = folder / "pareto.csv"
    if not pareto.is_file():
        raise SettingError(f"{folder} has no pareto.csv; pass a finished search run folder "
                           "(results/<space>/<run-id>)", "run")
    ranked_by = quality(settings.objectives)
    front = pd.read_csv(pareto, dtype={"key": str}).sort_values([ranked_by, "flops"], ascending=[False, True])
    best = "the most accurate" if ranked_by == "accuracy" else f"the highest {ranked_by}"
    if not len(front):
        raise SettingError(f"the front of {folder} is empty: no trial completed", "run")
    keys = list(front["key"])
    if member.isdigit() and not KEY.fullmatch(member):
        rank = int(member)
        if not 1 <= rank <= len(keys):
            raise SettingError(f"{folder}'s front has {len(keys)} members; ask for a rank from 1 ({best}) "
                               f"to {len(keys)}, or a genome key", "member")
    elif member in keys:
        rank = keys.index(member) + 1
    else:
        raise SettingError(f"{did_you_mean('front member', member, keys, 'front members')}; or give a rank "
                           f"(1 = {best})", "member")
    row = front.iloc[rank - 1]
    genome = Genome.from_json(row["genome_json"])
    run_id = json.loads((folder / "config.json").read_text(encoding="utf-8")).get("run_id", folder.name)
    scores = ({"epochs": settings.epochs, "val_accuracy": float(row["accuracy"]),
               "test_accuracy": float(row["test_accuracy"])} if settings.trains else
              {"epochs": 0, ranked_by: float(row[ranked_by])})  # a zero-cost search trained nothing
    origin = {"kind": "search run", "run": str(folder.resolve()), "run_id": run_id, "space": settings.space,
              "member": row["key"], "rank": rank, "front_size": len(keys),
              "proxy": {"dataset": settings.dataset, **scores}}
    data = {"dataset": settings.dataset, "data_dir": settings.data_dir, "seed": settings.seed}
    return Source(genome, origin, data)


def zoo_member(name: str, dataset: str) -> Source:
    """A zoo architecture at `dataset`'s resolution (its input channels and classes are fitted when trained)."""
    if name not in zoo.names():
        raise SettingError(did_you_mean("zoo architecture", name, zoo.names()), "zoo")
    genome = zoo.get(name).with_input(resolution=default_resolution(dataset))
    return Source(genome, {"kind": "zoo", "name": name, "reference": zoo.entry(name).reference.label})


def given_genome(genome: Genome, given: str) -> Source:
    """A genome given as a file or a string (`given`, recorded as written)."""
    return Source(genome, {"kind": "genome", "given": given})

