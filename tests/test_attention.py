"""SE / ECA / CBAM attach to every block: on its output, or where the block places it (residual branches)."""
import dataclasses

import pytest
import torch
from conftest import first_user_of_each_block
from timm.layers import EcaModule, SEModule
from timm.layers.cbam import CbamModule

from nasbench import Genome, GenomeError, build, zoo
from nasbench.blocks.base import REGISTRY
from nasbench.blocks.branch import BranchGene
from nasbench.cost import analytic_cost, fvcore_cost

MODULES = {"se": SEModule, "eca": EcaModule, "cbam": CbamModule}


def small_input(genome: Genome) -> Genome:
    """The genome at the smallest of a few resolutions it accepts, 10 classes (cheap to build and run)."""
    for resolution in (32, 64, 96, 160):
        try:
            return genome.with_input(resolution=resolution, num_classes=10)
        except GenomeError:
            continue
    raise AssertionError(f"no small resolution fits {genome.to_str()[:60]}")


def with_attention(genome: Genome, kind: str, attn: str) -> Genome:
    stages = tuple(dataclasses.replace(s, block=dataclasses.replace(s.block, attn=attn)) if s.block.kind == kind
                   else s for s in genome.stages)
    return dataclasses.replace(genome, stages=stages)


def _nested_kinds(gene) -> set[str]:
    """The kinds of the genes inside a branch block (LeNet-5's C3 selections), at any depth."""
    inner = gene.branches if isinstance(gene, BranchGene) else ()
    return {g.kind for branch in inner for g in branch} | {k for branch in inner for g in branch
                                                           for k in _nested_kinds(g)}


def test_every_registered_block_is_used_by_the_zoo():
    nested = {k for e in zoo.all_entries() for s in e.genome.stages for k in _nested_kinds(s.block)}
    assert set(first_user_of_each_block()) | nested == set(REGISTRY.names())


@pytest.mark.parametrize("kind, name", sorted(first_user_of_each_block().items()))
def test_every_block_takes_each_attention(kind, name):
    plain = small_input(zoo.get(name))
    blocks = sum(s.depth for s in plain.stages if s.block.kind == kind)
    plain_model = build(plain)
    for i, attn in enumerate(MODULES):
        genome = with_attention(plain, kind, attn)
        assert Genome.from_json(genome.to_json()) == genome and Genome.from_str(genome.to_str()) == genome
        model = build(genome).eval()
        # MBConv's own squeeze-excite is timm's SEModule too: count only the modules the attention field added
        own = [m for m in plain_model.modules() if isinstance(m, MODULES[attn])]
        attached = [m for m in model.modules() if isinstance(m, MODULES[attn])]
        assert len(attached) - len(own) == blocks, (attn, len(attached), len(own), blocks)
        added = analytic_cost(genome).params - analytic_cost(plain).params
        params = sum(p.numel() for m in attached for p in m.parameters())
        assert added == params - sum(p.numel() for m in own for p in m.parameters()) > 0
        assert analytic_cost(genome).params == sum(p.numel() for p in model.parameters())
        if i == 0:
            with torch.no_grad():
                assert model(torch.randn(1, genome.in_chans, genome.resolution, genome.resolution)).shape == (1, 10)


@pytest.mark.slow
@pytest.mark.parametrize("name, kind", [("shufflenet_v2_x1_0", "shuffle_v2"), ("densenet121", "transition")])
def test_attention_cost_equals_fvcore(name, kind):
    genome = with_attention(small_input(zoo.get(name)), kind, "cbam")
    analytic, counted = analytic_cost(genome), fvcore_cost(genome)
    assert (analytic.params, analytic.flops) == (counted.params, counted.flops)


def test_unknown_attention_names_the_field():
    data = zoo.get("resnet20").to_dict()
    data["stages"][0]["attn"] = "senet"
    with pytest.raises(GenomeError) as err:
        Genome.from_dict(data)
    assert err.value.path == "stages[0].attn"
