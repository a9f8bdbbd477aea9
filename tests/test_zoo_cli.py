"""python -m runners.zoo: the analytic table and JSON rows, --fvcore's cross-check, one genome's JSON and cost."""
import json

import pytest

from nasbench import Genome, zoo
from nasbench.cost import FvcoreCost, analytic_cost
from runners import zoo as zoo_cli


def run(capsys, *argv):
    try:
        zoo_cli.main(list(argv))
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr()


@pytest.mark.slow
def test_json_rows_with_fvcore_carry_its_counts_and_the_reference_models(capsys):
    code, out = run(capsys, "--format", "json", "--family", "shufflenet", "--fvcore")
    rows = json.loads(out.out)
    assert code == 0 and [r["name"] for r in rows] == ["shufflenet_v1_g3", "shufflenet_v2_x1_0"]
    v1, v2 = rows
    assert (v2["in_chans"], v2["resolution"], v2["num_classes"]) == (3, 224, 1000)
    assert v2["params"] == v2["fvcore_params"] == v2["reference_params"] == 2_278_604
    assert v2["flops"] == v2["fvcore_flops"] == 148_808_392 and v2["match"] == "exact" and v2["fvcore_agrees"]
    assert (v1["reference_params"], v1["match"], v1["fvcore_agrees"]) == (None, "n/a", True)  # the paper gives none


def test_default_is_analytic_and_builds_nothing(capsys, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the default listing must not run fvcore or build reference models")
    monkeypatch.setattr(zoo_cli, "fvcore_cost", refuse)
    monkeypatch.setattr(zoo, "reference_model", refuse)
    code, out = run(capsys, "--format", "json", "--family", "shufflenet")
    v1, v2 = json.loads(out.out)
    assert code == 0 and (v2["params"], v2["flops"]) == (2_278_604, 148_808_392)
    assert "fvcore_params" not in v2 and (v2["reference_params"], v2["match"]) == (None, "not built")
    assert (v1["reference_params"], v1["match"]) == (None, "n/a")
    code, out = run(capsys, "--family", "resnet")
    assert code == 0 and out.err == ""  # no progress lines: nothing slow to wait for
    assert "not built: torchvision/timm references are built (no weights) and counted only with --fvcore" in out.out
    resnet20 = next(line.split() for line in out.out.splitlines() if line.startswith("resnet20 "))
    # the paper's figure as stated, and no 'exact' for a count the paper only rounds
    assert resnet20[1:9] == ["3x32x32", "269,722", "40,931,968", "0.27M", "within", "rounding", "(-0.1", "%)"]
    assert "Only a built torchvision/timm model can make a count 'exact'" in out.out


def test_a_paper_figure_is_shown_as_stated_with_the_difference(capsys):
    code, out = run(capsys, "--format", "json", "--family", "classic")
    rows = {r["name"]: r for r in json.loads(out.out)}
    assert code == 0
    assert (rows["strided_cnn_c"]["reference_stated"], rows["strided_cnn_c"]["reference_params"]) == ("1.3M", 1_300_000)
    assert rows["strided_cnn_c"]["match"] == "-26.6 %"  # 954,730 against the paper's 1.3M: reported, not hidden
    assert rows["alexnet"]["match"] == "+4.0 %" and rows["all_cnn_c"]["match"] == "within rounding (-2.2 %)"
    assert (rows["zfnet"]["reference_stated"], rows["zfnet"]["match"]) == (None, "n/a")
    assert not any(r["match"] == "exact" for r in rows.values() if r["reference"].startswith("paper"))


@pytest.mark.parametrize(("text", "figure"), [("0.27M", (270_000, 10_000)), ("1.4M", (1_400_000, 100_000)),
                                              ("60M", (60_000_000, 1_000_000)), ("60,000", (60_000, 10_000)),
                                              ("62,378,344", (62_378_344, 1))])
def test_stated_figures_read_with_their_precision(text, figure):
    assert zoo.stated_figure(text) == figure


def test_a_stated_figure_that_does_not_read_is_refused():
    with pytest.raises(ValueError, match=r"'about 1\.4M' is not like 0\.27M"):
        zoo.Reference("paper", stated="about 1.4M")


@pytest.mark.parametrize("flag", [[], ["--analytic"]])
def test_table_lists_every_entry(capsys, flag):
    code, out = run(capsys, *flag)
    assert code == 0
    for name in zoo.names():
        assert f"\n{name} " in out.out
    assert "25,557,032" in out.out  # resnet50's parameters
    assert "fvcore equals" not in out.out


def reference_column(table: str) -> dict[str, str]:
    """Name -> the reference column's text of its row and continuation lines, joined by spaces."""
    header, _, *lines = table.split("\n\n")[0].splitlines()
    start = header.index("reference")
    out: dict[str, str] = {}
    for line in lines:
        if not line.startswith(" "):
            name = line.split()[0]
            out[name] = line[start:]
        else:
            assert not line[:start].strip()
            out[name] += " " + line[start:]
    return out


def test_table_wraps_references_between_words(capsys):
    code, out = run(capsys)
    references = reference_column(out.out)
    assert code == 0 and set(references) == set(zoo.names())
    for entry in zoo.all_entries():
        assert references[entry.name] == entry.reference.label  # nothing cut, nothing shortened
    lenet = out.out[out.out.index("\nlenet5 "):].splitlines()[1:3]
    assert [line.strip().split("  ")[-1].strip() for line in lenet] == [
        "paper (LeCun et al. 1998, Gradient-Based", "Learning Applied to Document Recognition)"]


def test_fvcore_table_says_whether_fvcore_agrees(capsys, monkeypatch):
    def fake_fvcore(genome):  # fvcore itself is tested in tests/test_zoo.py; here: what the table says
        cost = analytic_cost(genome)
        extra = 1 if genome == zoo.get("shufflenet_v1_g3").resolved() else 0
        return FvcoreCost(cost.params + extra, cost.flops, 1)
    monkeypatch.setattr(zoo_cli, "fvcore_cost", fake_fvcore)
    code, out = run(capsys, "--family", "shufflenet", "--fvcore")
    rows = {line.split()[0]: line.split() for line in out.out.split("\n\n")[0].splitlines()[2:] if line[0] != " "}
    assert code == 0 and rows["shufflenet_v1_g3"][4] == "DIFFERS" and rows["shufflenet_v2_x1_0"][4] == "same"
    assert rows["shufflenet_v2_x1_0"][5:7] == ["2,278,604", "exact"]  # the torchvision model, built on meta
    assert "fvcore equals the analytic params and FLOPs for 1 of 2 architectures; it differs for shufflenet_v1_g3." \
        in out.out
    assert out.err.splitlines() == ["[1/2] shufflenet_v1_g3", "[2/2] shufflenet_v2_x1_0"]


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
    assert (row["params"], row["flops"]) == (269_722, 40_931_968) and "fvcore_params" not in row


def test_genome_cost_with_fvcore(capsys):
    code, out = run(capsys, "--genome", zoo.get("resnet20").to_str(), "--fvcore")
    fields = dict(line.strip().split(": ", 1) for line in out.out.splitlines())
    assert code == 0 and fields["params"] == fields["fvcore_params"] == "269,722"
    assert fields["flops"] == fields["fvcore_flops"] == "40,931,968" and fields["fvcore_agrees"] == "True"


@pytest.mark.parametrize("argv, words", [
    (["--genome", '{"stages": 3}'], "stages: expected a list of stages"),
    (["--genome", "i=1,r=16|garbage("], "section 'garbage('"),
    (["--genome", "/nonexistent/g.json"], "cannot read /nonexistent/g.json"),
    (["--genome", '{"stages": [{"block": {"kind": "conv", "kernel": 4}}]}'], "kernel"),
    (["--name", "resnet5"], "unknown architecture 'resnet5'"),
    (["--family", "transformers"], "no family 'transformers'"),
    (["--format", "yaml"], "invalid choice"),
    (["--fvcore", "--analytic"], "not allowed with argument --fvcore"),
])
def test_bad_input_exits_2_with_one_line(capsys, argv, words):
    code, out = run(capsys, *argv)
    lines = [line for line in out.err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and words in lines[0], out.err


def test_a_genome_too_large_for_memory_is_refused_before_building(capsys):
    huge = "i=3,r=32,n=10|body:conv(c=100000)+conv(c=100000)"
    with pytest.raises(SystemExit) as info:
        zoo_cli.main(["--genome", huge, "--fvcore"])
    err = capsys.readouterr().err.strip()
    assert info.value.code == 2 and len(err.splitlines()) == 1
    assert err.startswith("error: the genome has 90,004,100,010 parameters: 335.3 GiB of float32 weights, more than")


def test_check_fits_counts_the_weights():
    from nasbench.build import TooLargeError, check_fits

    genome = zoo.get("resnet20")  # 269,722 parameters: 1,078,888 bytes of float32
    check_fits(genome, memory=1_078_888)
    with pytest.raises(TooLargeError, match="269,722 parameters"):
        check_fits(genome, memory=1_078_887)


def test_a_genome_file_with_a_byte_order_mark_reads_as_json(capsys, tmp_path):
    path = tmp_path / "g.json"
    path.write_bytes(b"\xef\xbb\xbf" + zoo.get("resnet20").to_json(indent=2).encode())
    code, out = run(capsys, "--genome", str(path), "--format", "json")
    assert code == 0 and json.loads(out.out)["key"] == zoo.get("resnet20").key()


def test_an_error_never_echoes_a_huge_input_back(capsys):
    """A 5 MB genome string is refused in one line of at most ~1,000 characters, not echoed whole."""
    code, out = run(capsys, "--genome", "i=3," + "x" * 5_000_000)
    lines = out.err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: ") and len(lines[0]) <= 1_020


# ---- --layers: per-layer cost tables --------------------------------------------------------------------------
def test_cli_prints_layers_and_the_summary_and_checks_fvcore(capsys):
    code, out = run(capsys, "--layers", "mobilenet_v1", "--fvcore")
    lines = out.out.splitlines()
    assert code == 0 and lines[0].split()[:3] == ["block", "#", "type"]
    assert next(line for line in lines if line.startswith("conv 1x1 ")).split()[-1] == "94.86"
    assert next(line for line in lines if line.startswith("total ")).split()[2:4] == ["4,231,976", "578,875,904"]
    assert lines[-1] == "fvcore: FLOPs by operator and activations equal these."


def test_cli_json_of_any_genome(capsys):
    code, out = run(capsys, "--layers", "--genome", "i=1,r=16,n=10|body:conv(c=8)|head:", "--format", "json")
    data = json.loads(out.out)
    assert code == 0 and [row["type"] for row in data["layers"]] == ["conv kxk", "norm", "pool", "fully connected"]
    assert data["layers"][0] | {} == {"block": "stages[0]", "layer": 0, "type": "conv kxk", "channels": 8,
                                      "height": 16, "width": 16, "params": 72, "flops": 18_432, "activations": 2048}
    assert {row["type"]: row["layers"] for row in data["summary"]}["norm"] == 1


@pytest.mark.parametrize(("argv", "message"), [
    (["--layers"], "--layers needs an architecture name"),
    (["--layers", "resnet5"], "unknown architecture 'resnet5'"),
    (["--layers", "resnet50", "--genome", "x"], "not both"),
    (["--layers", "--genome", "i=1,r=16,n=10|body:conv(c=0)|head:"], "stages[0].channels"),
])
def test_cli_bad_layers_arguments_exit_2_with_one_line(capsys, argv, message):
    code, out = run(capsys, *argv)
    assert code == 2 and message in out.err and len(out.err.strip().splitlines()) == 1
