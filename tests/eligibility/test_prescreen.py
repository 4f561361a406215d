"""Pre-screening a patient's own answers against NCT06021067: each reason, named plainly."""

from __future__ import annotations

from datetime import date

import pytest

from trialdesk.eligibility.prescreen import PrescreenAnswerError, answer_problems, prescreen
from trialdesk.protocol import builtin_protocol
from trialdesk.protocol.prescreen import Prescreen

TODAY = date(2026, 3, 10)


def questionnaire() -> Prescreen:
    section = builtin_protocol().protocol.prescreen
    assert section is not None
    return section


def answers(**changes: str) -> dict[str, str]:
    """A 63-year-old after chest radiotherapy, radiation pneumonitis since 1 February."""
    base = {
        "age": "63",
        "chest_radiotherapy": "yes",
        "lung_injury": "yes",
        "injury_began": "2026-02-01",
        "pregnant_or_breastfeeding": "no",
        "lung_surgery": "no",
        "chronic_lung_disease": "no",
        "stem_cell_study": "no",
    }
    return {**base, **changes}


def test_a_likely_candidate_may_be_eligible() -> None:
    outcome = prescreen(questionnaire(), answers(), TODAY)
    assert outcome.may_be_eligible and outcome.result == "may_be_eligible"
    assert outcome.reasons == ()
    assert outcome.answers["age"] == "63"


@pytest.mark.parametrize(
    ("changes", "question", "criteria", "words"),
    [
        ({"age": "17"}, "age", ("I8",), "aged 18 to 75"),  # I8: 18-75 years
        ({"age": "76"}, "age", ("I8",), "aged 18 to 75"),
        ({"chest_radiotherapy": "no"}, "chest_radiotherapy", ("I1",), "radiotherapy to the chest"),
        ({"lung_injury": "no"}, "lung_injury", ("I3",), "diagnosed radiation lung injury"),
        # I5: began less than 2 calendar months before today (10 January would be exactly 2).
        ({"injury_began": "2026-01-10"}, "injury_began", ("I5",), "less than 2 months ago"),
        ({"pregnant_or_breastfeeding": "yes"}, "pregnant_or_breastfeeding", ("E1",), "pregnant"),
        ({"lung_surgery": "yes"}, "lung_surgery", ("E3",), "lung removed"),
        ({"chronic_lung_disease": "yes"}, "chronic_lung_disease", ("E2",), "emphysema"),
        ({"stem_cell_study": "yes"}, "stem_cell_study", ("E14",), "stem-cell study"),
    ],
)
def test_each_ruled_out_answer_gives_its_plain_reason(
    changes: dict[str, str], question: str, criteria: tuple[str, ...], words: str
) -> None:
    outcome = prescreen(questionnaire(), answers(**changes), TODAY)
    assert not outcome.may_be_eligible
    assert [(r.question_id, r.criteria) for r in outcome.reasons] == [(question, criteria)]
    assert words in outcome.reasons[0].text.en
    assert outcome.reasons[0].text.zh  # the same reason in Simplified Chinese


def test_age_limits_are_inclusive_and_onset_one_day_inside_two_months_passes() -> None:
    for age in ("18", "75"):
        assert prescreen(questionnaire(), answers(age=age), TODAY).may_be_eligible
    assert prescreen(questionnaire(), answers(injury_began="2026-01-11"), TODAY).may_be_eligible


def test_several_reasons_are_all_named_in_question_order() -> None:
    outcome = prescreen(
        questionnaire(), answers(age="80", lung_surgery="yes", stem_cell_study="yes"), TODAY
    )
    assert [r.question_id for r in outcome.reasons] == ["age", "lung_surgery", "stem_cell_study"]


def test_not_sure_never_excludes_but_is_kept_for_the_study_team() -> None:
    outcome = prescreen(
        questionnaire(), answers(chest_radiotherapy="unsure", lung_surgery="unsure"), TODAY
    )
    assert outcome.may_be_eligible
    assert outcome.unsure == ("chest_radiotherapy", "lung_surgery")


def test_onset_is_not_asked_without_a_diagnosis() -> None:
    raw = answers(lung_injury="no")
    del raw["injury_began"]
    outcome = prescreen(questionnaire(), raw, TODAY)
    assert outcome.answers["injury_began"] is None
    assert [r.question_id for r in outcome.reasons] == ["lung_injury"]


@pytest.mark.parametrize(
    ("changes", "field", "problem"),
    [
        ({"age": ""}, "age", "required"),
        ({"age": "sixty"}, "age", "not_a_number"),
        ({"age": "-3"}, "age", "not_a_number"),
        ({"age": "nan"}, "age", "not_a_number"),
        ({"lung_surgery": "maybe"}, "lung_surgery", "choose"),
        ({"injury_began": "01/02/2026"}, "injury_began", "not_a_date"),
        ({"injury_began": "2026-03-11"}, "injury_began", "future_date"),
        ({"injury_began": "1800-01-01"}, "injury_began", "not_a_date"),
    ],
)
def test_unreadable_answers_are_refused_by_field(
    changes: dict[str, str], field: str, problem: str
) -> None:
    with pytest.raises(PrescreenAnswerError) as refused:
        prescreen(questionnaire(), answers(**changes), TODAY)
    assert refused.value.field == field
    assert refused.value.problem == problem


def test_every_unreadable_answer_is_found_at_once() -> None:
    raw = answers(age="", lung_surgery="maybe", injury_began="2026-03-11")
    problems = answer_problems(questionnaire(), raw, TODAY)
    assert {qid: p.problem for qid, p in problems.items()} == {
        "age": "required",
        "injury_began": "future_date",
        "lung_surgery": "choose",
    }
    assert answer_problems(questionnaire(), answers(), TODAY) == {}
