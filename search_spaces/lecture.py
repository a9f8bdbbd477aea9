"""The lecture zoo as a search space: one categorical over every architecture, each adapted to the input the way
its family's space adapts it."""
from __future__ import annotations

from typing import Any

from nasbench import zoo
from nasbench.genome import Genome
from nasbench.space import Categorical, SearchSpace


def family_classes() -> list[type[SearchSpace]]:
    """Every space class defined so far that adapts zoo architectures (the package imports all families first)."""
    found, pending = [], list(SearchSpace.__subclasses__())
    while pending:
        cls = pending.pop(0)
        pending.extend(cls.__subclasses__())
        if cls.zoo_families:
            found.append(cls)
    return found


class LectureSpace(SearchSpace):
    name = "lecture"
    summary = "every zoo architecture, adapted to the input (CIFAR-style stems on small inputs, channels, classes)"

    def declare(self):
        return {"arch": Categorical(tuple(self.members()), "zoo architecture (`python -m runners.zoo`)")}

    def build(self, trial) -> Genome:
        return self.members()[self.suggest(trial, "arch")]

    def read(self, genome: Genome) -> dict[str, Any]:
        for name, member in self.members().items():
            if member == genome:
                return {"arch": name}
        raise ValueError("it is none of the adapted zoo architectures")

    def members(self) -> dict[str, Genome]:
        """Each zoo architecture as its family's space adapts it, in zoo order."""
        if self._members is None:
            spaces = [cls(in_chans=self.in_chans, resolution=self.resolution, num_classes=self.num_classes)
                      for cls in family_classes()]
            adapted = {name: genome for space in spaces for name, genome in space.members().items()}
            self._members = {name: adapted[name] for name in zoo.names() if name in adapted}
        return dict(self._members)
