"""Multi-objective architecture search: Ray Tune runs the trials, Optuna samples genomes, fronts go to results/."""
from nasbench.search.objectives import OBJECTIVES, parse_objectives
from nasbench.search.settings import SearchSettings

__all__ = ["OBJECTIVES", "SearchSettings", "load_model", "parse_objectives", "run_search", "resume_search"]


def run_search(settings: SearchSettings, log=None, callbacks=()):
    """Run a search (see nasbench.search.runner.run_search); Ray and Tune are imported only when called."""
    from nasbench.search.runner import run_search as _run

    return _run(settings, log, callbacks)


def resume_search(run_dir, log=None, callbacks=(), **overrides):
    from nasbench.search.runner import resume_search as _resume

    return _resume(run_dir, log, callbacks, **overrides)


def load_model(run_dir, key):
    """A front member's trained network from a run folder (genomes/<key>.json + <key>.pt)."""
    from nasbench.search.results import load_model as _load

    return _load(run_dir, key)
