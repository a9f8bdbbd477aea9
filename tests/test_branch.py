"""The generic branch block: branches of any blocks joined by concatenation or addition, with projection, residual
scale and activation; its text and JSON forms; the Inceptions made of it; cost equal to fvcore on built modules."""
from __future__ import annotations

import pytest
import torch

from nasbench import Genome, GenomeError
from nasbench.blocks import Tally
from nasbench.blocks.branch import BranchGene
from nasbench.blocks.conv import ConvGene
from nasbench.build import build
from nasbench.cost import analytic_cost, fvcore_cost
from nasbench.genome import Stage, trace_body
from nasbench.zoo.inceptions import inception_module, inception_network

NESTED = ("i=3,r=28,n=10|stem:conv(c=32)|body:branch(br=[conv(c=16,k=1)][conv(c=16,k=1)>conv(c=24)]"
          "[pool(k=3,p=1)>conv(c=8,k=1)][conv(c=8,k=1)>branch(br=[conv(c=8,k=1,kw=3)][conv(c=8,kw=1)])])"
          "+branch(s=2,br=[conv(c=8,p=0)][pool(k=3)])"
          "+branch(br=[conv(c=16,k=1)][conv(c=8,k=1)>conv(c=16,k=1,kw=7)>conv(c=16,k=7,kw=1)],proj=72,res=true,"
          "scale=0.2,act=relu)|head:")


def test_text_and_json_forms_round_trip_with_nested_branches():
    genome = Genome.from_str(NESTED)
    assert genome.to_str() == NESTED
    assert Genome.from_json(genome.to_json()) == genome and Genome.from_str(genome.to_str()).key() == genome.key()
    fork = genome.stages[0].block.branches[3][1]
    assert isinstance(fork, BranchGene) and fork.branches[0][0].window == (1, 3)


@pytest.mark.parametrize("width", [1.0, 2.0])
def test_cost_equals_fvcore_on_the_built_network(width):
    genome = Genome.from_str(NESTED + ("|scale:w=2.0" if width != 1.0 else ""))
    measured = fvcore_cost(genome)
    assert analytic_cost(genome) == (measured.params, measured.flops)
    # concat 16+24+8+16 = 64, then 8 + 64 (the pooled input passes through) = 72 = the projection, scaled alike
    assert genome.resolved().stages[2].block.proj == 72 * width


def test_the_module_computes_what_it_says():
    torch.manual_seed(0)
    conv = ConvGene(channels=4, kernel=1, norm="none", act="none")
    block = BranchGene(branches=((conv,), (conv,)), join="add", proj=4, residual=True, scale=0.5, act="relu")
    module = block.build(4, 1).eval()
    x = torch.randn(1, 4, 5, 5)
    first, second = module.paths
    expected = torch.relu(x + 0.5 * module.projection(first(x) + second(x)))
    assert torch.allclose(module(x), expected)


@pytest.mark.parametrize(("reduced", "multiply_adds", "params"), [
    (False, 854_196_224, 1_089_536),  # the notes' naive module on 28x28x256: 128 1x1, 192 3x3, 96 5x5, 3x3 pool
    (True, 271_351_808, 346_112),     # with 64-channel 1x1 reductions and pool projection: six terms, 271M
])
def test_the_course_notes_inception_modules(reduced, multiply_adds, params):
    t = Tally()
    out = trace_body(inception_module(reduced), t)
    assert (t.flops, t.params) == (multiply_adds, params)
    assert out == (128 + 192 + 96 + (64 if reduced else 256), 28, 28)


@pytest.mark.parametrize(("mutate", "path", "reason"), [
    (lambda d: d["stages"][0].update(branches=[]), "stages[0].branches", "1 to 16 branches"),
    (lambda d: d["stages"][0].update(branches=[[]]), "stages[0].branches[0]", "1 to 64 blocks"),
    (lambda d: d["stages"][0]["branches"][1].append({"block": "nope"}), "stages[0].branches[1][1].block",
     "unknown block 'nope'"),
    (lambda d: d["stages"][0]["branches"][0][0].update(channels=0), "stages[0].branches[0][0].channels",
     "below the minimum"),
    (lambda d: d["stages"][0].update(join="add"), "stages[0].branches", "added branches give [8, 4] channels"),
    (lambda d: d["stages"][0].update(residual=True), "stages[0].residual", "adds the input (3 channels"),
    (lambda d: d["stages"][0].update(scale=0.5), "stages[0].scale", "set residual"),
    (lambda d: d["stages"][0]["branches"][1][0].update(kernel=5, padding=0), "stages[0]", "branch 1 gives 4x4 maps "
                                                                                           "where branch 0 gives 8x8"),
])
def test_bad_branch_blocks_name_the_field(mutate, path, reason):
    data = Genome(stages=(Stage(BranchGene(branches=((ConvGene(channels=8, kernel=1),),
                                                     (ConvGene(channels=4, kernel=3),)))),),
                  resolution=8, num_classes=2).to_dict()
    mutate(data)
    with pytest.raises(GenomeError) as caught:
        Genome.from_dict(data)
    assert caught.value.path == path and reason in caught.value.reason


@pytest.mark.parametrize("text", ["branch(br=conv(c=8))", "branch(br=[conv(c=8)]x)", "branch(br=[conv(c=8)",
                                  "branch(br=[conv(c=8))])"])
def test_malformed_branch_text_is_refused(text):
    with pytest.raises(GenomeError):
        Genome.from_str(f"i=1,r=8,n=2|body:{text}|head:")


@pytest.mark.parametrize(("version", "repeats", "width"), [
    ("v4", (1, 2, 1), 0.25), ("resnet_v1", (2, 1, 1), 0.5), ("resnet_v2", (1, 1, 1), 0.25),
    ("resnet_v2", (1, 1, 3), 0.5), ("bn", (), 0.25)])
def test_inception_networks_of_branch_blocks_on_small_inputs_equal_fvcore(version, repeats, width):
    genome = inception_network(version, repeats, "cifar").with_input(in_chans=1, resolution=8, num_classes=10)
    genome = Genome.from_dict({**genome.to_dict(), "scaling": {"width": width}})  # residual channels stay equal
    measured = fvcore_cost(genome)
    assert analytic_cost(genome) == (measured.params, measured.flops)
    assert build(genome.resolved())(torch.randn(2, 1, 8, 8)).shape == (2, 10)
