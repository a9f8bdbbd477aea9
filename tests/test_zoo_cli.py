"""python -m runners.zoo: the table, JSON rows with fvcore and analytic counts, one genome's JSON, one genome's cost."""
import json

import pytest

from nasbench import Genome, zoo
from runners import zoo as zoo_cli


def run(capsys, *argv):
    try:
        zoo_cli.main(list(argv))
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr()


def test_json_rows_carry_fvcore_and_analytic_counts(capsys):
    code, out = run(capsys, "--format", "json", "--family", "shufflenet")
    rows = json.loads(out.out)
    assert code == 0 and [r["name"] for r in rows] == ["shufflenet_v1_g3", "shufflenet_v2_x1_0"]
    v2 = rows[1]
    assert (v2["in_chans"], v2["resolution"], v2["num_classes"]) == (3, 224, 1000)
    assert v2["params"] == v2["analytic_params"] == v2["reference_params"] == 2_278_604
    assert v2["flops"] == v2["analytic_flops"] == 148_808_392 and v2["match"] == "exact"


def test_table_lists_every_entry(capsys):
    code, out = run(capsys, "--analytic")
    assert code == 0
    for name in zoo.names():
        assert f"\n{name} " in out.out
    assert "25,557,032" in out.out  # resnet50's parameters


def test_name_prints_the_genome_json(capsys):
    code, out = run(capsys, "--name", "resnet50")
    assert code == 0 and Genome.from_json(out.out) == zoo.get("resnet50")


@pytest.mark.parametrize("form", ["json_file", "json_text", "string"])
def test_genome_cost_from_a_file_json_or_string(capsys, tmp_path, form):
    genome = zoo.get("resnet20")
    path = tmp_path / "g.json"
    path.write_text(genome.to_json())
    text = {"json_file": str(path), "json_text": genome.to_json(), "string": genome.to_str()}[form]
    code, out = run(capsys, "--genome", text, "--format", "json")
    row = json.loads(out.out)
    assert code == 0 and row["key"] == genome.key()
    assert (row["params"], row["flops"]) == (row["analytic_params"], row["analytic_flops"]) == (269_722, 40_931_968)


@pytest.mark.parametrize("argv, words", [
    (["--genome", '{"stages": 3}'], "stages: expected a list of stages"),
    (["--genome", "i=1,r=16|garbage("], "section 'garbage('"),
    (["--genome", "/nonexistent/g.json"], "cannot read /nonexistent/g.json"),
    (["--genome", '{"stages": [{"block": {"kind": "conv", "kernel": 4}}]}'], "kernel"),
    (["--name", "resnet5"], "unknown architecture 'resnet5'"),
    (["--family", "transformers"], "no family 'transformers'"),
    (["--format", "yaml"], "invalid choice"),
])
def test_bad_input_exits_2_with_one_line(capsys, argv, words):
    code, out = run(capsys, *argv)
    lines = [line for line in out.err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and words in lines[0], out.err
