"""Decision tables of BOIN-like designs."""

from __future__ import annotations

import csv
import io

import pytest

from trialdesk.design.boin import Boin
from trialdesk.design.decision_table import decision_table
from trialdesk.design.registry import make_design
from trialdesk.errors import TrialdeskError


def test_boin_table_for_target_0_3_matches_the_published_boundaries() -> None:
    # BOIN boundaries for target 0.3 (Liu & Yuan 2015; the BOIN package's get.boundary):
    # n:           3  6  9  12
    # escalate y<= 0  1  2  2
    # de-escalate y>= 2  3  4  5
    # eliminate y>= 3  4  5  7
    table = decision_table(Boin(n_levels=5, target=0.3), 12)
    expected = {3: (0, 2, 3), 6: (1, 3, 4), 9: (2, 4, 5), 12: (2, 5, 7)}
    for n, (esc, de, elim) in expected.items():
        row = table.actions[n - 1]
        assert max(y for y, a in enumerate(row) if a == "E") == esc
        assert min(y for y, a in enumerate(row) if a in ("D", "DU")) == de
        assert min(y for y, a in enumerate(row) if a == "DU") == elim


def test_text_and_csv_agree() -> None:
    table = decision_table(make_design("i3+3", n_levels=5, target=0.3), 9)
    text = table.to_text()
    assert "E = escalate" in text and "DU" in text
    rows = list(csv.reader(io.StringIO(table.to_csv())))
    assert rows[0][:3] == ["patients", "dlts_0", "dlts_1"]
    assert len(rows) == 10
    for n in range(1, 10):
        assert rows[n][1 : n + 2] == list(table.actions[n - 1])
        assert rows[n][n + 2 :] == [""] * (9 - n)


def test_designs_without_a_table_are_refused() -> None:
    with pytest.raises(TrialdeskError, match="no decision table"):
        decision_table(make_design("3+3", n_levels=5), 6)
    with pytest.raises(TrialdeskError, match="max_n"):
        decision_table(make_design("boin", n_levels=5, target=0.3), 0)
