"""The search's parts that need no Ray: trial states, resource checks, the grid sampler, settings."""
import dataclasses
import pickle

import optuna
import pytest

from nasbench import Genome
from nasbench.config import describe
from nasbench.errors import SettingError
from nasbench.search import SAMPLERS, SearchSettings
from nasbench.search.cluster import ClusterError, check_resources
from nasbench.search.searcher import classify, make_sampler
from search_spaces import get_space


@pytest.mark.parametrize("result, error, state", [
    ({"status": "ok", "epochs": 3}, False, "COMPLETE"),
    ({"status": "running", "epochs": 1}, False, "PRUNED"),
    ({"status": "ok", "epochs": 2}, False, "PRUNED"),
    ({"status": "failed", "epochs": 1, "failure_reason": "non-finite loss"}, False, "FAIL"),
    ({"status": "running", "epochs": 1}, True, "FAIL"),
    (None, True, "FAIL"),
])
def test_trial_states(result, error, state):
    assert classify(result, error, epochs=3)[0] == state


def test_gpu_request_on_a_cluster_without_gpus_is_refused():
    with pytest.raises(ClusterError, match="has 0 GPUs") as caught:
        check_resources(SearchSettings(gpus_per_trial=0.5), {"CPU": 2.0})
    assert caught.value.setting == "gpus_per_trial"
    check_resources(SearchSettings(gpus_per_trial=0.5), {"CPU": 2.0, "GPU": 1.0})


def test_grid_sampler_visits_every_point_once_under_ask_and_tell():
    space = get_space("compound")
    study = optuna.create_study(directions=["maximize", "minimize"],
                                sampler=make_sampler("grid", 0, space.grid()))
    points = []
    for _ in range(space.grid_size()):
        trial = study.ask()
        genome = space.sample(trial)
        points.append((genome.scaling.alpha, genome.scaling.beta))
        study.tell(trial, [0.5, 1.0])  # Optuna's own GridSampler would raise here once the grid is exhausted
    assert len(set(points)) == 50 == len(points)


@pytest.mark.parametrize("name", SAMPLERS)
def test_every_sampler_survives_pickling_with_its_study(name):
    """Ray Tune pickles the searcher, and with it the study and its sampler (Optuna 5.1's NSGA-II holds a lock)."""
    space = get_space("compound")
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=make_sampler(name, 0, space.grid()))
    copy = pickle.loads(pickle.dumps(study))
    for target in (study, copy):
        trial = target.ask()
        space.sample(trial)
        target.tell(trial, [0.5, 1.0])
    assert len(copy.trials) == 1 and len(study.trials) == 1


def test_every_setting_has_a_default_and_a_help_text():
    for field in dataclasses.fields(SearchSettings):
        default, text = describe(SearchSettings, field.name)
        assert text, field.name
        assert default == getattr(SearchSettings(), field.name)


def test_bad_settings_name_the_setting():
    with pytest.raises(SettingError, match="trials must be at least 1") as caught:
        SearchSettings(trials=0)
    assert caught.value.setting == "trials"
    with pytest.raises(SettingError, match="max_flops") as caught:
        SearchSettings(max_flops=-1.0)
    assert caught.value.setting == "max_flops"


def test_the_flop_budget_auto_is_the_datasets_default():
    assert SearchSettings().flops_budget == 2e7
    assert SearchSettings(dataset="cifar10").flops_budget == 8e7
    assert SearchSettings(dataset="imagefolder").flops_budget is None
    assert SearchSettings(max_flops="none").flops_budget is None
    assert SearchSettings(max_flops=3e6).flops_budget == 3e6


def test_the_searcher_seeds_members_records_infeasible_samples_and_tells_the_study():
    """StudySearcher without Ray running: enqueued members come first, over-budget samples never reach Ray and are
    INFEASIBLE in the study, finished trials are told with their record."""
    from nasbench.record import TrialRecord
    from nasbench.search.results import trials_frame
    from nasbench.search.searcher import StudySearcher

    space = get_space("resnet_family", in_chans=1, resolution=16, num_classes=10, max_flops=1.1e7)
    seed = space.members()["resnet20"]
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=optuna.samplers.RandomSampler(seed=0))
    study.enqueue_trial(space.encode(seed))
    searcher = StudySearcher(study, space, {"accuracy": "max", "flops": "min"}, epochs=2, trials=3, max_samples=60,
                             describe=lambda g: {"key": g.key(), "flops": space.cost(g).flops})
    configs = [searcher.suggest(f"t{i}") for i in range(4)]
    assert configs[3] == StudySearcher.FINISHED and Genome.from_json(configs[0]["genome"]) == seed
    for i, config in enumerate(configs[:3]):
        genome = Genome.from_json(config["genome"])
        assert space.over_budget(genome) is None
        result = {"status": "ok", "epochs": 2 if i else 1, "accuracy": 0.5 + i / 10, "flops": space.cost(genome).flops,
                  "key": genome.key(), "genome": genome.to_str()}
        searcher.on_trial_complete(f"t{i}", result)
    table = trials_frame(study, "run")
    trained = table[table["trial_id"] != ""].sort_values("number")
    assert list(trained["state"]) == ["PRUNED", "COMPLETE", "COMPLETE"]
    assert list(trained["trial_id"]) == ["t0", "t1", "t2"] and list(trained["epochs"]) == [1, 2, 2]
    assert trained["failure_reason"].iloc[0] == "stopped early by the scheduler after 1 of 2 epochs"
    over = table[table["state"] == "INFEASIBLE"]
    assert len(over) == len(study.trials) - 3 >= 1, "the 1.1e7 budget must reject some samples"
    assert (over["flops"] > 1.1e7).all() and over["failure_reason"].str.startswith("flops ").all()
    assert [t.state.name for t in study.trials if t.number in set(over["number"])] == ["FAIL"] * len(over)
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert [t.values for t in complete] == [[0.6, trained["flops"].iloc[1]], [0.7, trained["flops"].iloc[2]]]
    assert set(TrialRecord.__dataclass_fields__) >= set(study.trials[0].user_attrs) - {"constraints"}


def test_the_searcher_stops_at_its_sample_cap_when_nothing_fits():
    from nasbench.search.searcher import StudySearcher

    space = get_space("resnet_family", max_flops=10)
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=optuna.samplers.RandomSampler(seed=0))
    searcher = StudySearcher(study, space, {"accuracy": "max", "flops": "min"}, epochs=1, trials=2, max_samples=7,
                             describe=lambda g: {"key": g.key()})
    assert searcher.suggest("t0") == StudySearcher.FINISHED and searcher.sample_cap_reached
    assert len(study.trials) == 7 and all(t.user_attrs["state"] == "INFEASIBLE" for t in study.trials)


def test_a_failing_storage_stops_the_searcher_instead_of_losing_trials():
    """A study that cannot be written (a lost database) makes the searcher stop and say why; the trial stays in
    flight in the study, so a resume queues it again."""
    from nasbench.search.searcher import StudySearcher

    space = get_space("resnet_family", max_flops=2e7)
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=optuna.samplers.RandomSampler(seed=0))
    searcher = StudySearcher(study, space, {"accuracy": "max", "flops": "min"}, epochs=1, trials=3, max_samples=60,
                             describe=lambda g: {"key": g.key()})
    config = searcher.suggest("t0")

    def lost(*args, **kwargs):
        raise optuna.exceptions.StorageInternalError("server closed the connection unexpectedly\ndetail")

    study.tell = lost
    searcher.on_trial_complete("t0", {"status": "ok", "epochs": 1, "accuracy": 0.5, "flops": 1.0})
    assert searcher.storage_error == "StorageInternalError: server closed the connection unexpectedly"
    assert searcher.suggest("t1") == StudySearcher.FINISHED
    assert config["trial_index"] == 0 and study.trials[0].state == optuna.trial.TrialState.RUNNING
