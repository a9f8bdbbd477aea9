"""pandas over search results: load run folders, Pareto fronts, hypervolume, run comparison, EDFs, attribute effects.

`frames` loads runs, `fronts` computes fronts and hypervolumes, `stats` EDFs and attribute effects, `plots` and
`report` draw and write them. Objectives are a dict column -> "max" | "min"."""
from nasbench.analysis.frames import expand_genomes, genome_columns, load_run, load_runs, split_runs
from nasbench.analysis.fronts import (
    DEFAULT_OBJECTIVES,
    compare,
    default_reference,
    dominated_share,
    eligible_mask,
    hypervolume,
    hypervolume_of,
    hypervolume_over_trials,
    minimised,
    nondominated,
    pareto_front,
    pareto_mask,
    parse_reference,
)
from nasbench.analysis.stats import attribute_effects, edf
from nasbench.objectives import parse_objectives

__all__ = [
    "DEFAULT_OBJECTIVES", "attribute_effects", "compare", "default_reference", "dominated_share", "edf",
    "eligible_mask", "expand_genomes", "genome_columns", "hypervolume", "hypervolume_of", "hypervolume_over_trials",
    "load_run", "load_runs", "minimised", "nondominated", "pareto_front", "pareto_mask", "parse_objectives",
    "parse_reference", "split_runs",
]
