"""Multi-objective architecture search: Ray Tune runs the trials, Optuna samples genomes, fronts go to results/."""
from nasbench.search.objectives import OBJECTIVES, parse_objectives
from nasbench.search.settings import SearchSettings

__all__ = ["OBJECTIVES", "SearchSettings", "parse_objectives", "run_search", "resume_search"]


def run_search(settings: SearchSettings):
    from nasbench.search.runner import run_search as _run

    return _run(settings)


def resume_search(run_dir, **overrides):
    from nasbench.search.runner import resume_search as _resume

    return _resume(run_dir, **overrides)
