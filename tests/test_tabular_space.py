"""The resnet_compact space, made for tabulation: a finite grid of >= 1000 distinct members, enumerated in a fixed
order, every one within the default FLOP budget, with exact analytic costs."""
import optuna
import pytest
import torch
from optuna.trial import FixedTrial

from nasbench import build
from nasbench.cost import analytic_cost, fvcore_module_cost
from nasbench.search.settings import DEFAULT_MAX_FLOPS
from nasbench.tabular.members import grid_members, plan_members
from search_spaces import get_space

DIGITS = dict(in_chans=1, resolution=16, num_classes=10)


@pytest.fixture(scope="module")
def members():
    return grid_members(get_space("resnet_compact", **DIGITS))


def test_the_grid_has_at_least_1000_distinct_members(members):
    space = get_space("resnet_compact", **DIGITS)
    assert len(members) == space.grid_size() >= 1000
    assert len({g.key() for g in members}) == len(members)


def test_the_enumeration_is_fixed_and_every_member_round_trips(members):
    space = get_space("resnet_compact", **DIGITS)
    again = grid_members(space)
    assert [g.key() for g in again] == [g.key() for g in members]
    for genome in members[::97]:
        assert space.sample(FixedTrial(space.encode(genome))) == genome


def test_units_attention_widths_and_depths_are_what_the_parameters_say(members):
    space = get_space("resnet_compact", **DIGITS)
    kinds = {(g.stages[0].block.kind, g.stages[0].block.shortcut, g.stages[0].block.attn) for g in members}
    assert kinds == {(k, sc, a) for k, sc in (("basic", "none"), ("basic", "projection"), ("bottleneck", "projection"))
                     for a in ("none", "se")}
    params = space.encode(members[-1])
    assert params == {"unit": "bottleneck", "attn": "se", "width_0": 24, "depth_0": 2, "width_1": 48, "depth_1": 2,
                      "width_2": 96, "depth_2": 2}


def test_every_member_fits_the_default_budget_of_the_digit_sets(members):
    space = get_space("resnet_compact", **DIGITS, max_flops=DEFAULT_MAX_FLOPS["distorted_digits"])
    assert all(space.over_budget(g) is None for g in members)
    assert plan_members(space, None, seed=0) == members


def test_a_sample_of_members_is_seeded_and_grows_by_extension(members):
    space = get_space("resnet_compact", **DIGITS)
    five, seven = plan_members(space, 5, seed=3), plan_members(space, 7, seed=3)
    assert seven[:5] == five and plan_members(space, 5, seed=4) != five
    assert all(g in members for g in seven)


def test_a_space_without_a_grid_is_sampled_or_refused():
    space = get_space("resnet_family", **DIGITS, max_flops=2e6)
    drawn = plan_members(space, 3, seed=0)
    assert len(drawn) == 3 and all(space.over_budget(g) is None for g in drawn)
    with pytest.raises(ValueError, match="no grid, so its members cannot all be trained; ask for a sample"):
        plan_members(space, None, seed=0)
    with pytest.raises(ValueError, match="members must be at least 1"):
        plan_members(space, 0, seed=0)


def test_analytic_costs_equal_fvcore_on_a_spread_of_members(members):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for genome in members[::181]:
            model = build(genome).eval()
            measured = fvcore_module_cost(model, genome.in_chans, genome.resolution, activations=False)
            assert analytic_cost(genome) == (measured.params, measured.flops), genome.to_str()
    finally:
        torch.set_num_threads(threads)
