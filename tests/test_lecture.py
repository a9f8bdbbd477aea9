"""python -m runners.lecture: the decks' claims beside ours, computed from genomes, with honest matches."""
from __future__ import annotations

import json

from nasbench.lecture.check import Claim, compare, figure_value
from nasbench.lecture.claims import CLAIMS
from runners import lecture

COMPUTING = {"m", "NAIVE", "REDUCED", "stack", "single", "C"}  # what an `ours` may read: measures and genomes


def test_every_claim_is_computed_from_genomes_not_typed_in():
    assert len(CLAIMS) >= 25
    for claim in CLAIMS:
        assert set(claim.ours.__code__.co_names) & COMPUTING, claim.quote


def test_the_rows_the_issue_names():
    rows = {(r["deck"][:3], r["deck_figure"]): r for r in lecture.rows()}
    naive = rows[("000", "854M")]
    assert (naive["ours"], naive["match"]) == ("854,196,224", "within rounding (+0.0 %)")
    reduced = rows[("000", "358M")]
    assert reduced["ours"] == "271,351,808" and reduced["match"].startswith("deck inconsistent (its six rows add up to")
    kxk = rows[("000", "1.19%")]
    assert kxk["ours"] == "1.91" and kxk["match"].startswith("deck inconsistent")
    assert rows[("000", "94.86%")]["match"] == "exact" and rows[("001", "62,378,344")]["match"] == "exact"
    assert rows[("001", "143,667,240")]["match"] == "exact"
    assert rows[("000", "24M")]["ours"] == "15,237,608"  # VGG-16's memory rows, against the deck's 24M
    assert rows[("002", "614,400")]["ours"] == "307,200"  # 5 x 5 x 48 x 256, as the deck's own formula says


def test_most_claims_match_and_every_difference_is_shown():
    found = lecture.rows()
    exact = [r for r in found if r["match"] == "exact"]
    assert len(exact) >= 80
    assert all(r["match"] in ("exact", "differs") or "%" in r["match"] for r in found)


def test_figures_read_as_decks_write_them():
    assert figure_value("28 x 28 x 128 x 1 x 1 x 256") == (25_690_112, 1)
    assert figure_value("5 million") == (5_000_000, 1_000_000) and figure_value("12x") == (12, 1)
    assert figure_value("94.86%") == (94.86, 0.01) and figure_value("0.16 M") == (160_000, 10_000)
    claim = Claim("d", "q", "55 x 55 x 96", lambda: "55x55x96", "s")
    assert compare(claim, claim.ours()) == "exact" and compare(claim, "96x55x55") == "differs"


def test_cli_json_and_table(capsys):
    lecture.main(["--format", "json"])
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == len(CLAIMS) and set(rows[0]) == {"deck", "quote", "deck_figure", "ours", "match", "source"}
    lecture.main([])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith(f"{len(CLAIMS)} claims: ") and "exact" in last
