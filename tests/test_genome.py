"""Genome codec: exact round trips, strict validation with field paths, a stable key."""
import dataclasses
import json
import math

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from nasbench import Genome, GenomeError, Head, Scaling, Stage, zoo
from nasbench.blocks import ACTIVATIONS, REGISTRY
from nasbench.blocks.branch import Branches
from nasbench.blocks.conv import ConvGene, PoolGene
from nasbench.blocks.residual import ORDERS, SHORTCUTS, BasicGene, BottleneckGene

ATTN = ("none", "se", "eca", "cbam")


@st.composite
def genomes(draw):
    """Valid small genomes mixing plain, basic and bottleneck stages with every ordering/shortcut/attention."""
    stem_c = draw(st.sampled_from((8, 16, 32)))
    stem = [Stage(ConvGene(channels=stem_c, kernel=draw(st.sampled_from((1, 3, 5))),
                           act=draw(st.sampled_from(ACTIVATIONS)), attn=draw(st.sampled_from(ATTN))), 1, 1)]
    if draw(st.booleans()):
        stem.append(Stage(PoolGene(mode=draw(st.sampled_from(("max", "avg"))), kernel=2), 1, 2))
    stages = []
    chans = stem_c
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(("basic", "bottleneck", "conv")))
        out = draw(st.sampled_from((16, 32, 48, 64)))
        common = dict(order=draw(st.sampled_from(ORDERS)), attn=draw(st.sampled_from(ATTN)),
                      act=draw(st.sampled_from(ACTIVATIONS)), dropout=draw(st.sampled_from((0.0, 0.1))),
                      drop_path=draw(st.sampled_from((0.0, 0.05))))
        shortcut = draw(st.sampled_from(SHORTCUTS))
        if shortcut == "zero_pad" and out < chans:
            shortcut = "projection"
        if kind == "basic":
            gene = BasicGene(channels=out, shortcut=shortcut, **common)
        elif kind == "bottleneck":
            groups = draw(st.sampled_from((1, 2, 4)))
            gene = BottleneckGene(channels=out, mid=8 * groups, groups=groups, shortcut=shortcut, **common)
        else:
            gene = ConvGene(channels=out, kernel=draw(st.sampled_from((1, 3))), groups=draw(st.sampled_from((1, 8))))
        stages.append(Stage(gene, draw(st.integers(1, 2)), draw(st.sampled_from((1, 2)))))
        chans = out
    head = Head(pre_act=draw(st.booleans()), conv=draw(st.sampled_from((0, 32))),
                pool=draw(st.sampled_from(("avg", "max"))), hidden=tuple(draw(st.lists(st.sampled_from((16, 24)),
                                                                                           max_size=2))),
                dropout=draw(st.sampled_from((0.0, 0.25))), act=draw(st.sampled_from(ACTIVATIONS)))
    scaling = draw(st.sampled_from((Scaling(), Scaling(width=1.25, depth=1.5), Scaling(alpha=1.2, beta=1.1,
                                                                                      gamma=1.15, phi=1.0))))
    return Genome(stem=tuple(stem), stages=tuple(stages), head=head, in_chans=draw(st.sampled_from((1, 3))),
                  resolution=draw(st.sampled_from((16, 24, 32))), num_classes=draw(st.sampled_from((2, 10))),
                  scaling=scaling)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(genomes())
def test_round_trips_are_exact(genome):
    assert Genome.from_json(genome.to_json()) == genome
    assert Genome.from_json(genome.to_json(indent=2)) == genome
    assert Genome.from_str(genome.to_str()) == genome
    assert Genome.from_dict(genome.to_dict()) == genome
    assert Genome.from_str(genome.to_str()).key() == genome.key()


def _field_values(field: dataclasses.Field, ftype) -> st.SearchStrategy:
    """Values a gene field may take, read off its declared type and rules (choices, min, max, odd)."""
    meta = field.metadata
    if ftype is Branches:  # nested genes: 1-3 branches of 1-2 drawn conv or pool genes (a conv may be rectangular)
        conv = st.builds(ConvGene, channels=st.integers(1, 16), kernel=st.sampled_from((1, 3)),
                         kernel_w=st.sampled_from((0, 1, 3)), act=st.sampled_from(("relu", "none")))
        pool = st.builds(PoolGene, mode=st.sampled_from(("max", "avg")), kernel=st.just(3), padding=st.just(1))
        branch = st.lists(st.one_of(conv, pool), min_size=1, max_size=2).map(tuple)
        return st.lists(branch, min_size=1, max_size=3).map(lambda b: Branches(tuple(b)))
    if ftype is bool:
        return st.booleans()
    if meta.get("choices"):
        return st.sampled_from(meta["choices"])
    low = meta.get("min") or 0
    high = min(meta["max"], low + 64) if meta.get("max") is not None else low + 64
    if ftype is float:
        return st.floats(low, high, allow_nan=False, allow_infinity=False)
    integers = st.integers(int(low), int(high)).filter(lambda v: v % 2 == 1 or not meta.get("odd"))
    return integers if ftype is int else st.lists(integers, min_size=1, max_size=4).map(tuple)


@st.composite
def one_block_genomes(draw):
    """A genome of one stage of any registered block, every field drawn; combinations the block rejects
    (GenomeError) are skipped."""
    cls = REGISTRY.get(draw(st.sampled_from(REGISTRY.names())))
    types = cls.field_types()
    fields = {f.name: draw(_field_values(f, types[f.name])) for f in dataclasses.fields(cls)}
    try:
        return Genome(stages=(Stage(cls(**fields), draw(st.integers(1, 2)), draw(st.sampled_from((1, 2)))),),
                      in_chans=draw(st.sampled_from((1, 3, 8))), resolution=32, num_classes=10)
    except GenomeError:
        assume(False)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(one_block_genomes())
def test_every_block_round_trips_with_any_valid_fields(genome):
    assert Genome.from_json(genome.to_json()) == genome
    assert Genome.from_str(genome.to_str()) == genome
    assert Genome.from_str(genome.to_str()).key() == genome.key()


@pytest.mark.parametrize("name", zoo.names())
def test_zoo_round_trips(name):
    genome = zoo.get(name)
    assert Genome.from_json(genome.to_json()) == genome
    assert Genome.from_str(genome.to_str()) == genome


def test_key_is_stable_and_content_based():
    a, b = zoo.get("resnet18"), zoo.get("resnet34")
    assert a.key() == Genome.from_json(a.to_json(indent=2)).key()
    assert a.key() != b.key()
    assert len(a.key()) == 16 and int(a.key(), 16) >= 0
    # the exact hash of the canonical JSON is part of the contract: stored run folders refer to it
    assert a.key() == "047ab4a33fb1272a"  # since every block has `attn` (all keys changed once then)


def _resnet_dict():
    return json.loads(zoo.get("resnet18").to_json())


@pytest.mark.parametrize("mutate, path, words", [
    (lambda d: d["stages"][2].update(kernel=4), "stages[2].kernel", "4 is even"),
    (lambda d: d["stages"][1].update(block="nope"), "stages[1].block", "unknown block 'nope'"),
    (lambda d: d["stages"][0].update(colour="red"), "stages[0].colour", "unknown field"),
    (lambda d: d.update(extra=1), "extra", "unknown field"),
    (lambda d: d["stages"][3].update(channels=-5), "stages[3].channels", "below the minimum"),
    (lambda d: d["stages"][3].update(channels="64"), "stages[3].channels", "expected an integer"),
    (lambda d: d["stages"][0].update(depth=0), "stages[0].depth", "below the minimum"),
    (lambda d: d["head"].update(dropout=float("nan")), "head.dropout", "not a finite number"),
    (lambda d: d["head"].update(act="swoosh"), "head.act", "not one of"),
    (lambda d: d["stages"][1].update(groups=3), "stages[1].groups", "does not divide"),
    (lambda d: (d.update(resolution=4), d["stem"][1].update(padding=0)), "stem[1]", "spatial size collapses"),
    (lambda d: d["scaling"].update(width=0), "scaling.width", "below the minimum"),
    (lambda d: d.pop("stages"), "stages", "missing"),
    (lambda d: d["stages"][0].pop("block"), "stages[0].block", "missing"),
    (lambda d: d.update(stem="conv"), "stem", "expected a list"),
])
def test_bad_genomes_name_the_field(mutate, path, words):
    data = _resnet_dict()
    mutate(data)
    with pytest.raises(GenomeError) as info:
        Genome.from_dict(data)
    assert str(info.value).startswith(path), str(info.value)
    assert words in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("text, path", [
    ("", "stages"),
    ("i=3,r=224,n=10|body:basic(c=x)", "stages[0].channels"),
    ("i=3,r=224,n=10|body:basic(zz=1)", "stages[0].zz"),
    ("i=3,r=32,n=10|body:basic(c=16,d=two)", "stages[0].depth"),
    ("i=3,r=32,n=10|body:basic(c=16)|head:drop=0.2,drop=0.3", "head.dropout"),
    ("i=3,r=32,n=10|body:warp(c=1)", "stages[0].block"),
    ("i=3,q=32|body:basic()", ""),
])
def test_bad_strings_raise_genome_error(text, path):
    with pytest.raises(GenomeError) as info:
        Genome.from_str(text)
    assert info.value.path.startswith(path)


def test_constructor_validates_and_genomes_are_frozen():
    with pytest.raises(GenomeError):
        BasicGene(channels=0)
    with pytest.raises(GenomeError, match="kernel: 2 is even"):
        ConvGene(kernel=2)
    genome = zoo.get("resnet20")
    with pytest.raises(AttributeError):
        genome.resolution = 64  # type: ignore[misc]


def test_with_input_adapts_and_revalidates():
    genome = zoo.get("resnet20").with_input(in_chans=1, resolution=16, num_classes=3)
    assert (genome.in_chans, genome.resolution, genome.num_classes) == (1, 16, 3)
    pooled = Genome(stages=(Stage(ConvGene(channels=8), 1, 1), Stage(PoolGene(kernel=3), 1, 2)), resolution=8)
    with pytest.raises(GenomeError, match=r"stages\[1\]: spatial size collapses from 2x2 to 0x0"):
        pooled.with_input(resolution=2)


def test_registry_rejects_duplicates():
    with pytest.raises(ValueError, match="already registered"):
        REGISTRY.register(BasicGene)


def test_scaling_resolves_channels_depth_resolution():
    base = zoo.get("resnet20")
    scaled = Genome(stem=base.stem, stages=base.stages, head=base.head, resolution=32, num_classes=10,
                    scaling=Scaling(alpha=1.2, beta=1.1, gamma=1.15, phi=2.0))
    resolved = scaled.resolved()
    assert resolved.resolution == round(32 * 1.15**2) == 42
    assert [s.depth for s in resolved.stages] == [math.ceil(3 * 1.44)] * 3 == [5, 5, 5]
    assert [s.block.channels for s in resolved.stages] == [24, 40, 80]  # 16/32/64 x 1.21, to multiples of 8
    assert resolved.stem[0].block.channels == 24
    assert resolved.scaling == Scaling()
