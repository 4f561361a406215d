"""Dose-transition pathways with exact probabilities."""

from __future__ import annotations

import json

import pytest

from trialdesk.cli import run
from trialdesk.design.outcomes import state_from_outcomes
from trialdesk.design.pathways import dose_transition_pathways
from trialdesk.design.registry import DESIGN_NAMES, make_design
from trialdesk.errors import TrialdeskError

RATES = (0.05, 0.12, 0.30, 0.45, 0.60)


@pytest.mark.parametrize("name", DESIGN_NAMES)
def test_path_probabilities_sum_to_one(name: str) -> None:
    design = make_design(name, n_levels=5, target=0.3, max_n=30)
    tree = dose_transition_pathways(
        design, state_from_outcomes("1NNN", 5), cohorts=3, true_rates=RATES
    )
    leaves = tree.leaves()
    assert sum(leaf.path_probability or 0.0 for leaf in leaves) == pytest.approx(1.0, abs=1e-12)


def test_each_node_is_the_designs_own_decision() -> None:
    design = make_design("3+3", n_levels=5)
    tree = dose_transition_pathways(design, state_from_outcomes("1NNN", 5), cohorts=2)
    first = {node.dlts: node for node in tree.children}
    assert all(node.level == 1 for node in tree.children)
    assert first[0].decision == design.decide(state_from_outcomes("1NNN 2NNN", 5))
    assert first[1].decision.action == "stay"
    assert first[2].decision.action == "de-escalate"
    # 3+3 from "1NNN": 0/3 at level 2 (p = 0.88^3) then 0/3 at level 3 (p = 0.7^3).
    with_rates = dose_transition_pathways(
        design, state_from_outcomes("1NNN", 5), cohorts=2, true_rates=RATES
    )
    node = with_rates.children[0].children[0]
    assert node.path_probability == pytest.approx(0.88**3 * 0.7**3)
    assert first[0].probability is None


def test_stopped_paths_have_no_children() -> None:
    design = make_design("3+3", n_levels=5)
    tree = dose_transition_pathways(design, state_from_outcomes("1NNN 2TTN", 5), cohorts=3)
    stopped = [n for n in tree.leaves() if n.decision.stop]
    assert stopped and all(not n.children for n in stopped)


def test_too_many_paths_or_bad_rates_are_refused() -> None:
    design = make_design("boin", n_levels=5, target=0.3)
    state = state_from_outcomes("", 5)
    with pytest.raises(TrialdeskError, match="fewer"):
        dose_transition_pathways(design, state, cohorts=12)
    with pytest.raises(TrialdeskError, match="one true DLT rate per level"):
        dose_transition_pathways(design, state, cohorts=1, true_rates=(0.1, 0.2))


def test_cli_pathways_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "decide",
        "--design",
        "boin",
        "--target",
        "0.3",
        "--doses",
        "5",
        "--outcomes",
        "1NNN",
        "--pathways",
        "2",
        "--true-tox",
        "0.05,0.12,0.3,0.45,0.6",
    ]
    assert run(argv) == 0
    text = capsys.readouterr().out
    assert text.startswith("Now: escalate to level 2\n")
    assert "level 2: 0 of 3 with a DLT [p 0.681, path 0.6815] -> escalate to level 3" in text
    assert run([*argv, "--json"]) == 0
    tree = json.loads(capsys.readouterr().out)
    assert tree["decision"]["next_dose"] == 2 and len(tree["next"]) == 4
    assert tree["next"][0]["next"][0]["level"] == 3
    assert run([*argv[:-2], "--true-tox", "0.1,0.2"]) == 2
    assert "--true-tox" in capsys.readouterr().err


def test_cli_decision_table(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["decide", "--design", "boin", "--target", "0.3", "--doses", "5", "--table", "6"]
    assert run(base) == 0
    assert "       3 |        E  S  D DU" in capsys.readouterr().out
    assert run([*base, "--csv"]) == 0
    assert capsys.readouterr().out.splitlines()[3] == "3,E,S,D,DU,,,"
    assert run(["decide", "--design", "3+3", "--doses", "5", "--table", "6"]) == 2
    assert "no decision table" in capsys.readouterr().err
