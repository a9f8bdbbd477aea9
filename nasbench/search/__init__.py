"""Multi-objective architecture search: Ray Tune runs the trials, Optuna samples genomes, fronts go to results/.

`run_search(settings, space)` and `resume_search(run_dir, space)` take a `nasbench.space.SearchSpace` object
(e.g. `search_spaces.get_space(name)`); Ray and Tune are imported only when a search runs."""
from nasbench.search.results import load_model
from nasbench.search.runner import RunOutcome, resume_search, run_search, run_settings
from nasbench.search.settings import SAMPLERS, SCHEDULERS, SearchSettings

__all__ = ["SAMPLERS", "SCHEDULERS", "RunOutcome", "SearchSettings", "load_model", "resume_search", "run_search",
           "run_settings"]
