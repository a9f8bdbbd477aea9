"""Fuzz: any mutated or malformed genome document gives a valid Genome or a GenomeError, nothing else."""
import json
import random

from conftest import first_user_of_each_block

from nasbench import Genome, GenomeError, zoo

BAD_VALUES = [None, "x", "", -1, 0, 1, 3, 2**40, -(2**40), 0.5, -0.5, float("nan"), float("inf"), True, False, [],
              [1, "a"], {}, {"a": 1}, "relu", "batch", 7, 64]


SEEDS = tuple(dict.fromkeys(("resnet20", "wrn28_10", "preact_resnet18", "cbam_resnet50",
                             *first_user_of_each_block().values())))


def _paths(node, prefix=()):
    """Every (container, key) location in a JSON document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield node, key
            yield from _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield node, i
            yield from _paths(value, prefix + (i,))


def _mutate(doc, rng: random.Random):
    locations = list(_paths(doc))
    for _ in range(rng.randint(1, 3)):
        container, key = rng.choice(locations)
        op = rng.randrange(4)
        if op == 0:
            container[key] = rng.choice(BAD_VALUES)
        elif op == 1 and isinstance(container, dict):
            container.pop(key, None)
        elif op == 2 and isinstance(container, dict):
            container[rng.choice(["zz", "Block", "depth_", "1"])] = rng.choice(BAD_VALUES)
        elif isinstance(container, list) and container:
            container.insert(rng.randrange(len(container)), rng.choice(BAD_VALUES))
        locations = list(_paths(doc))
    return doc


def _documents(count: int):
    rng = random.Random(1234)
    texts = {name: zoo.get(name).to_json() for name in SEEDS}
    for i in range(count):
        text = texts[SEEDS[i % len(SEEDS)]]
        kind = i % 10
        if kind == 8:  # garbage or truncated text
            cut = rng.randrange(len(text))
            yield rng.choice([text[:cut], text[cut:], "not json", "[]", "null", "1e999", "{" * 5000, "\x00\xff"])
        elif kind == 9:  # NaN / Infinity literals
            yield text.replace('"dropout": 0.0', '"dropout": NaN', 1).replace('"width": 1.0', '"width": Infinity')
        else:
            yield json.dumps(_mutate(json.loads(text), rng))


def _outcomes(texts, parse, encode) -> dict[str, int]:
    """Parse every text: each gives a genome that round-trips through `encode`, or a one-line GenomeError."""
    outcomes = {"valid": 0, "error": 0}
    for text in texts:
        try:
            genome = parse(text)
        except GenomeError as exc:
            assert str(exc) and "\n" not in str(exc)
            outcomes["error"] += 1
        else:
            assert parse(encode(genome)) == genome
            outcomes["valid"] += 1
    return outcomes


def test_mutated_documents_give_genome_or_genome_error():
    outcomes = _outcomes(_documents(1500), Genome.from_json, Genome.to_json)
    assert outcomes["error"] > 1000 and outcomes["valid"] > 25, outcomes


def _mutated_strings(count: int):
    rng = random.Random(99)
    texts = [zoo.get(name).to_str() for name in SEEDS]
    for i in range(count):
        chars = list(texts[i % len(texts)])
        for _ in range(rng.randint(1, 4)):
            chars[rng.randrange(len(chars))] = rng.choice("|:+(),=abcdz019-._ ")
        yield "".join(chars)


def test_mutated_strings_give_genome_or_genome_error():
    outcomes = _outcomes(_mutated_strings(900), Genome.from_str, Genome.to_str)
    assert outcomes["error"] > 500 and outcomes["valid"] > 0, outcomes  # most mutations break the syntax
