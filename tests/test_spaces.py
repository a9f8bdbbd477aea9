"""Search spaces: members round-trip through encode/sample, random samples validate, build, run and cost exactly
what fvcore counts, budgets reach the sampler, and `python -m runners.spaces` lists and samples."""
import dataclasses
import json

import optuna
import pytest
import torch
from optuna.trial import FixedTrial

from nasbench import Genome, build, zoo
from nasbench.cost import analytic_cost, fvcore_module_cost
from runners import spaces as spaces_cli
from search_spaces import get_space, list_spaces
from search_spaces.base import merge_repeats

optuna.logging.set_verbosity(optuna.logging.WARNING)

FAMILIES = ("resnet_family", "vgg_family", "inception_family", "inception_branch_family", "densenet_family",
            "mobile_family", "mobilenet_v3_family", "squeezenet_family", "efficientnet")
SPACES = list_spaces()
DIGITS = dict(in_chans=1, resolution=16, num_classes=10)
INPUTS = [DIGITS, dict(in_chans=3, resolution=32, num_classes=10), dict(in_chans=3, resolution=224, num_classes=1000)]
# space: (genomes to build and cross-check with fvcore, input, budget that keeps them quick on a CPU)
BUILD_QUOTA = {
    "resnet_family": (40, DIGITS, dict(max_flops=5e6, max_params=3e5)),
    "vgg_family": (40, dict(in_chans=3, resolution=32, num_classes=10), dict(max_flops=2e7, max_params=1e6)),
    "densenet_family": (30, DIGITS, dict(max_flops=5e6, max_params=3e5)),
    "mobile_family": (40, DIGITS, dict(max_flops=5e6, max_params=3e5)),
    "inception_family": (20, dict(in_chans=1, resolution=12, num_classes=10), dict(max_flops=2e7, max_params=2e6)),
    "efficientnet": (8, dict(in_chans=1, resolution=8, num_classes=10), dict(max_flops=3e7, max_params=1.2e7)),
    "mobilenet_v3_family": (6, DIGITS, dict(max_flops=3e7, max_params=6e6)),
    "squeezenet_family": (4, DIGITS, dict(max_flops=5e7, max_params=2e6)),
    "inception_branch_family": (6, dict(in_chans=1, resolution=8, num_classes=10), dict(max_flops=3e7, max_params=5e6)),
    "lecture": (25, DIGITS, dict(max_flops=5e7, max_params=2e6)),
    "compound": (4, DIGITS, {}),
    "resnet_compact": (10, DIGITS, {}),
}


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Small convs run fastest on one thread (and do not fight other processes for the cores)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def random_trials(space, count: int, seed: int = 0):
    """(trial, genome) pairs drawn by Optuna's RandomSampler, each trial told so the study stays consistent."""
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    for _ in range(count):
        trial = study.ask()
        genome = space.sample(trial)
        yield trial, genome
        study.tell(trial, 0.0)


# ---- registry ---------------------------------------------------------------------------------------------------
def test_every_lecture_family_is_a_space():
    assert set(FAMILIES) | {"lecture"} <= set(SPACES)


def test_get_space_rejects_unknown_names_and_bad_inputs():
    with pytest.raises(ValueError, match=r"unknown search space 'resnet'; did you mean resnet_family\? \(spaces: "):
        get_space("resnet")
    for bad in (dict(resolution=0), dict(in_chans=1.5), dict(num_classes=True), dict(max_flops=-1.0),
                dict(max_params=float("nan"))):
        with pytest.raises(ValueError, match="must be a positive"):
            get_space("resnet_family", **bad)


@pytest.mark.parametrize("name", SPACES)
def test_parameters_describe_every_parameter(name):
    space = get_space(name)
    described = space.parameters()
    assert list(described) == list(space.distributions())
    assert all(isinstance(text, str) and ": " in text for text in described.values())


# ---- members ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("inputs", INPUTS, ids=lambda i: f"{i['in_chans']}x{i['resolution']}x{i['num_classes']}")
@pytest.mark.parametrize("name", SPACES)
def test_members_round_trip_through_encode_and_fixed_trial(name, inputs):
    space = get_space(name, **inputs)
    for member_name, genome in space.members().items():
        assert (genome.in_chans, genome.resolution, genome.num_classes) == tuple(inputs.values()), member_name
        assert space.sample(FixedTrial(space.encode(genome))) == genome, member_name
        assert space.contains(genome)


def test_every_zoo_architecture_is_a_member_of_one_family_and_of_lecture():
    owners = {}
    for name in FAMILIES:
        for member in get_space(name).members():
            assert member not in owners, f"{member} is a member of {owners.get(member)} and {name}"
            owners[member] = name
    searchable = [e.name for e in zoo.all_entries() if not e.variant_of]  # variants only check a paper's count
    assert sorted(owners) == sorted(searchable)
    lecture = get_space("lecture")
    assert list(lecture.members()) == searchable
    for member, family in owners.items():
        assert lecture.members()[member] == get_space(family).members()[member]


@pytest.mark.parametrize("entry", [e for e in zoo.all_entries() if not e.variant_of], ids=lambda e: e.name)
def test_members_at_the_zoo_input_are_the_zoo_networks(entry):
    """At the architecture's own input nothing is adapted; plain networks merge repeated identical layers into
    one deeper stage (VGG's convs), the same network with the same cost."""
    z = entry.genome
    family = next(n for n in FAMILIES if entry.family in get_space(n).zoo_families)
    member = get_space(family, in_chans=z.in_chans, resolution=z.resolution,
                       num_classes=z.num_classes).members()[entry.name]
    if family == "vgg_family":
        assert member == dataclasses.replace(z, stages=merge_repeats(list(z.stages)))
        assert analytic_cost(member) == analytic_cost(z)
    else:
        assert member == z


def test_small_inputs_get_cifar_stems_and_keep_their_map():
    resnets = get_space("resnet_family", **DIGITS).members()
    assert [(s.block.kind, s.block.kernel, s.stride) for s in resnets["resnet50"].stem] == [("conv", 3, 1)]
    assert resnets["resnet50"].stages == zoo.get("resnet50").stages
    mobile = get_space("mobile_family", **DIGITS).members()
    assert [(s.block.kind, s.stride) for s in mobile["shufflenet_v2_x1_0"].stem] == [("conv", 1)]
    plain = get_space("vgg_family", **DIGITS).members()
    pools = [s for s in plain["vgg16"].stages if s.block.kind == "pool"]
    assert len(pools) == 4  # 16 -> 8 -> 4 -> 2 -> 1; the fifth 2x2 pool would leave nothing
    first = plain["alexnet"].stages[0]
    assert (first.block.kernel, first.stride, first.block.padding) == (11, 1, -1)
    assert get_space("efficientnet", **DIGITS).members()["efficientnet_b0"].stem[0].stride == 1


@pytest.mark.parametrize("name", FAMILIES)
def test_members_fit_tiny_inputs(name):
    space = get_space(name, in_chans=1, resolution=6, num_classes=3)
    members = space.members()
    assert members and all(g.resolution == 6 and g.num_classes == 3 for g in members.values())


# ---- random samples ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", SPACES)
def test_random_samples_are_points_with_stable_parameters(name):
    space = get_space(name, **DIGITS)
    declared = space.distributions()
    for trial, genome in random_trials(space, 40, seed=1):
        assert isinstance(genome, Genome) and (genome.in_chans, genome.num_classes) == (1, 10)
        assert {n: declared[n] for n in trial.params} == trial.distributions
        assert space.sample(FixedTrial(space.encode(genome))) == genome


def test_sampling_is_deterministic_per_seed():
    space = get_space("mobile_family", **DIGITS)
    first = [g for _, g in random_trials(space, 5, seed=7)]
    again = [g for _, g in random_trials(space, 5, seed=7)]
    other = [g for _, g in random_trials(space, 5, seed=8)]
    assert first == again and first != other


def test_build_quota_covers_every_space_and_at_least_200_genomes():
    assert set(BUILD_QUOTA) == set(SPACES) and sum(quota for quota, _, _ in BUILD_QUOTA.values()) >= 200


@pytest.mark.slow
@pytest.mark.parametrize("name", list(BUILD_QUOTA))
def test_random_samples_build_run_and_cost_what_fvcore_counts(name):
    quota, inputs, budget = BUILD_QUOTA[name]
    space = get_space(name, **inputs, **budget)
    checked = 0
    for _, genome in random_trials(space, 400, seed=3):
        if space.over_budget(genome):
            continue
        resolved = genome.resolved()
        model = build(resolved).eval()
        with torch.no_grad():
            out = model(torch.randn(2, resolved.in_chans, resolved.resolution, resolved.resolution))
        assert out.shape == (2, inputs["num_classes"])
        if resolved.resolution != inputs["resolution"]:  # EfficientNet's gamma: the net also takes the dataset's size
            with torch.no_grad():
                out = model(torch.randn(2, resolved.in_chans, inputs["resolution"], inputs["resolution"]))
            assert out.shape == (2, inputs["num_classes"])
        measured = fvcore_module_cost(model, resolved.in_chans, resolved.resolution, activations=False)
        assert analytic_cost(genome) == (measured.params, measured.flops), genome.to_str()
        checked += 1
        if checked == quota:
            break
    assert checked == quota


# ---- encoding -----------------------------------------------------------------------------------------------------
def test_encode_rejects_genomes_outside_the_space():
    space = get_space("resnet_family", **DIGITS)
    resnet20 = space.members()["resnet20"]
    outsiders = [
        get_space("densenet_family", **DIGITS).members()["densenet121"],  # another family
        resnet20.with_input(in_chans=3),  # another input
        dataclasses.replace(resnet20, stages=(dataclasses.replace(resnet20.stages[0], block=dataclasses.replace(
            resnet20.stages[0].block, kernel=5)),) + resnet20.stages[1:]),  # a kernel the space never varies
    ]
    for genome in outsiders:
        assert not space.contains(genome)
        with pytest.raises(ValueError, match="not a point of the resnet_family space"):
            space.encode(genome)
    with pytest.raises(ValueError, match=r"nearest point differs at stages\[0\]\.kernel"):
        space.encode(outsiders[2])
    with pytest.raises(ValueError, match="expected a Genome"):
        space.encode(resnet20.to_dict())


def test_encode_gives_exactly_the_suggested_parameters():
    space = get_space("resnet_family", **DIGITS)
    params = space.encode(space.members()["resnet56"])
    assert params == {"stem": "cifar", "block": "basic", "order": "original", "shortcut": "zero_pad", "attn": "none",
                      "act": "relu", "width": 16, "k": 1, "dropout": 0.0, "stages": 3, "depth_0": 9, "depth_1": 9,
                      "depth_2": 9}
    wrn = space.encode(space.members()["wrn28_10"])
    assert (wrn["order"], wrn["stem_norm_act"], wrn["k"], wrn["dropout"]) == ("full_preact", False, 10, 0.3)
    assert "groups" not in wrn and space.encode(space.members()["resnext50_32x4d"])["groups"] == 32


def test_shufflenet_v1_widths_round_up_to_what_the_units_need():
    space = get_space("mobile_family", **DIGITS)
    params = {"block": "shuffle_v1", "act": "relu", "stem_width": 24, "stem_stride": 1, "stem_pool": False,
              "groups": 3, "stages": 3, "width_0": 1024, "depth_0": 2, "kernel_0": 3, "width_1": 8, "depth_1": 1,
              "kernel_1": 3, "width_2": 100, "depth_2": 1, "kernel_2": 5, "head_conv": 0, "dropout": 0.0}
    genome = space.sample(FixedTrial(params))
    assert [(s.block.channels, s.block.group_input, s.depth, s.stride) for s in genome.stages] == [
        (1032, False, 1, 2), (1032, True, 1, 1), (1044, True, 1, 2), (1056, True, 1, 2)]  # multiples of 12
    assert space.sample(FixedTrial(space.encode(genome))) == genome


def test_efficientnet_points_are_b0_under_compound_scaling():
    space = get_space("efficientnet", **DIGITS)
    genome = space.sample(FixedTrial({"variant": "b3", "stem_stride": 1, "phi": 2, "alpha": 1.2, "beta": 1.1,
                                      "gamma": 1.15}))
    s = genome.scaling
    assert (s.width, s.depth, s.alpha, s.beta, s.gamma, s.phi) == (1.2, 1.4, 1.2, 1.1, 1.15, 2.0)
    assert genome.resolved().resolution == round(16 * 1.15**2) == 21
    members = space.members()
    assert [(g.scaling.width, g.scaling.depth) for g in members.values()] == [
        (1.0, 1.0), (1.0, 1.1), (1.1, 1.2), (1.2, 1.4), (1.4, 1.8), (1.6, 2.2), (1.8, 2.6), (2.0, 3.1)]


# ---- budgets ----------------------------------------------------------------------------------------------------
def test_budgets_are_reported_to_the_trial_and_explained():
    space = get_space("resnet_family", **DIGITS, max_flops=2e7, max_params=1e6)
    seen = {"feasible": 0, "over": 0}
    for trial, genome in random_trials(space, 60, seed=5):
        cost = analytic_cost(genome)
        constraints = trial.user_attrs["constraints"]
        assert constraints == [cost.flops - 2e7, cost.params - 1e6]
        reason = space.over_budget(genome)
        assert (reason is None) == all(c <= 0 for c in constraints)
        seen["feasible" if reason is None else "over"] += 1
        if cost.flops > 2e7:
            assert f"flops {cost.flops:.3g} > max_flops 2e+07" in reason
    assert seen["feasible"] >= 10 and seen["over"] >= 10


def test_one_budget_leaves_the_other_constraint_at_zero_and_no_budget_sets_none():
    space = get_space("mobile_family", **DIGITS, max_params=1e5)
    trial, genome = next(random_trials(space, 1))
    assert trial.user_attrs["constraints"] == [0.0, analytic_cost(genome).params - 1e5]
    trial, _ = next(random_trials(get_space("mobile_family", **DIGITS), 1))
    assert "constraints" not in trial.user_attrs


def test_a_constrained_sampler_reads_the_budget():
    """Optuna 5 samplers read the trial constraints the space sets; the best trial of the constrained study is
    the largest network within the parameter budget."""
    space = get_space("vgg_family", **DIGITS, max_params=3e5)  # ~28% of random samples fit
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0, n_startup_trials=5))
    study.optimize(lambda trial: analytic_cost(space.sample(trial)).params, n_trials=20)
    assert all(set(t.constraints) == {"params"} for t in study.trials)
    assert all(t.constraints["params"] == t.user_attrs["constraints"][1] for t in study.trials)
    assert any(t.constraints["params"] > 0 for t in study.trials)
    best = study.best_trial
    assert best.value <= 3e5 and best.constraints["params"] == best.value - 3e5


# ---- command line -------------------------------------------------------------------------------------------------
def test_cli_lists_spaces_with_parameters_and_members(capsys):
    spaces_cli.main(["--space", "densenet_family", "--format", "json"])
    (info,) = json.loads(capsys.readouterr().out)
    assert info["name"] == "densenet_family" and "growth" in info["parameters"]
    assert [m["name"] for m in info["members"]] == ["densenet121", "densenet169", "densenet201"]
    genome = Genome.from_dict(info["members"][0]["genome"])
    assert (genome.in_chans, genome.resolution, info["members"][0]["flops"]) == (1, 16, analytic_cost(genome).flops)
    spaces_cli.main([])
    text = capsys.readouterr().out
    assert all(f"{name}: " in text for name in FAMILIES)


def _run_cli(capsys, argv: list[str]) -> str:
    spaces_cli.main(argv)
    return capsys.readouterr().out


def test_cli_samples_are_reproducible_json(capsys):
    argv = ["--space", "vgg_family", "--sample", "4", "--seed", "2", "--format", "json", "--resolution", "32",
            "--in-chans", "3"]
    spaces_cli.main(argv)
    rows = json.loads(capsys.readouterr().out)
    spaces_cli.main(argv)
    assert json.loads(capsys.readouterr().out) == rows
    space = get_space("vgg_family", in_chans=3, resolution=32, num_classes=10)
    assert len(rows) == 4
    for row in rows:
        genome = Genome.from_dict(row["genome"])
        cost = analytic_cost(genome)
        assert (row["flops"], row["params"], genome.resolution) == (cost.flops, cost.params, 32)
        assert space.sample(FixedTrial(row["parameters"])) == genome


def test_cli_samples_hold_the_budget(capsys):
    argv = ["--space", "resnet_family", "--sample", "5", "--format", "json", "--max-flops", "2e6"]
    spaces_cli.main(argv)
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 5 and all(analytic_cost(Genome.from_dict(r["genome"])).flops <= 2e6 for r in rows)
    unbudgeted = json.loads(_run_cli(capsys, argv[:-2]))
    assert any(r["flops"] > 2e6 for r in unbudgeted), "the budget must matter for this test to mean anything"


@pytest.mark.parametrize("argv, message", [
    (["--space", "nope"], "error: unknown space 'nope'; (spaces: "),
    (["--space", "resnet_famly"], "error: unknown space 'resnet_famly'; did you mean resnet_family? (spaces: "),
    (["--sample", "3"], "error: --sample N needs --space NAME and N >= 1"),
    (["--space", "lecture", "--resolution", "0"], "error: resolution must be a positive integer, got 0"),
    (["--space", "lecture", "--max-flops", "-5"], "error: max_flops must be a positive number or None"),
    (["--space", "lecture", "--sample", "2", "--max-flops", "10"], "error: only 0 of 2 samples fit the budget in 100 "
                                                                    "draws; raise the FLOP or parameter budget"),
])
def test_cli_errors_exit_2_with_one_line(capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        spaces_cli.main(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.startswith(message) and err.count("\n") == 1


def test_cli_bad_flag_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        spaces_cli.main(["--sample", "x"])
    assert exc.value.code == 2 and "invalid int value" in capsys.readouterr().err
