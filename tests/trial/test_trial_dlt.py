"""DLT matching, windows and evaluability with the built-in NCT06021067 protocol.

The DLT definition of the built-in protocol is its stated assumption (the public record does not
define a DLT): grade ≥ 3 non-haematological at least possibly related, grade ≥ 4 at least
possibly related, or a grade ≥ 3 infusion-related reaction, within 30 days of the first infusion.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from trialdesk.errors import TrialdeskError
from trialdesk.protocol import builtin_protocol
from trialdesk.protocol.models import Dlt, DltRule
from trialdesk.trial.dlt import (
    AdverseEventFacts,
    Attribution,
    DltWindow,
    Evaluability,
    PatientDltFacts,
    check_dlt_rules,
    dlt_window,
    evaluable_patients_by_level,
    match_dlt,
    parse_attribution,
    patient_evaluability,
)

# MedDRA codes of CTCAE v5.0 terms (NCI workbook).
PNEUMONITIS = 10035742  # Respiratory, thoracic and mediastinal disorders
ANEMIA = 10002272  # Blood and lymphatic system disorders
INFUSION_REACTION = 10051792  # Infusion related reaction

FIRST = date(2024, 3, 1)
INFUSIONS = (FIRST, date(2024, 3, 4), date(2024, 3, 7), date(2024, 3, 10))


def _dlt() -> Dlt:
    dlt = builtin_protocol().protocol.dlt
    assert dlt is not None
    return dlt


def _window() -> DltWindow:
    window = dlt_window(_dlt(), INFUSIONS, infusions_complete=True)
    assert window is not None
    return window


def _ae(
    code: int, grade: int, attribution: str, onset: date = date(2024, 3, 12)
) -> AdverseEventFacts:
    return AdverseEventFacts(code, grade, onset, parse_attribution(attribution))


def test_attribution_order() -> None:
    order = [a.value for a in sorted(Attribution, key=lambda a: a.rank)]
    assert order == ["unrelated", "unlikely", "possible", "probable", "definite"]
    assert Attribution.PROBABLE.at_least("possible")
    assert not Attribution.UNLIKELY.at_least("possible")
    assert Attribution.POSSIBLE.text("zh") == "可能有关"
    with pytest.raises(TrialdeskError, match="'maybe' is not an attribution"):
        parse_attribution("maybe")


def test_window_runs_thirty_days_from_the_first_infusion() -> None:
    # Registry: "DLT observation period: 30 days"; day 0 = first infusion, day 30 its last day.
    window = _window()
    assert (window.start, window.end) == (FIRST, date(2024, 3, 31))
    assert window.is_open(date(2024, 3, 31)) and window.days_left(date(2024, 3, 31)) == 0
    assert window.days_left(date(2024, 3, 11)) == 20
    assert window.is_closed(date(2024, 4, 1)) and not window.is_open(date(2024, 4, 1))
    assert not window.is_open(date(2024, 2, 29))
    assert window.fraction_followed(date(2024, 3, 16)) == 0.5
    assert dlt_window(_dlt(), (), infusions_complete=False) is None


def test_window_from_the_last_infusion_is_provisional_until_infusions_are_done() -> None:
    from_last = _dlt().model_copy(update={"window_starts": "last_administration"})
    partial = dlt_window(from_last, INFUSIONS[:2], infusions_complete=False)
    assert partial is not None and partial.provisional and partial.is_open(date(2024, 9, 1))
    done = dlt_window(from_last, INFUSIONS, infusions_complete=True)
    assert done is not None and (done.start, done.end) == (FIRST, date(2024, 4, 9))


def test_grade_3_non_haematological_possibly_related_is_a_candidate() -> None:
    match = match_dlt(_ae(PNEUMONITIS, 3, "possible"), _dlt().definition.rules, _window())
    assert match is not None and match.number == 1
    assert match.description.startswith("rule 1: grade ≥ 3; any term except SOC Blood")


def test_not_a_candidate_when_grade_attribution_or_window_do_not_fit() -> None:
    rules = _dlt().definition.rules
    assert match_dlt(_ae(PNEUMONITIS, 2, "definite"), rules, _window()) is None
    assert match_dlt(_ae(PNEUMONITIS, 3, "unlikely"), rules, _window()) is None
    after = _ae(PNEUMONITIS, 4, "definite", onset=date(2024, 4, 1))
    assert match_dlt(after, rules, _window()) is None
    before = _ae(PNEUMONITIS, 4, "definite", onset=date(2024, 2, 29))
    assert match_dlt(before, rules, _window()) is None
    assert match_dlt(_ae(PNEUMONITIS, 4, "definite"), rules, None) is None
    last_day = _ae(PNEUMONITIS, 3, "possible", onset=date(2024, 3, 31))
    assert match_dlt(last_day, rules, _window()) is not None


def test_haematological_soc_needs_grade_4() -> None:
    rules = _dlt().definition.rules
    assert match_dlt(_ae(ANEMIA, 3, "probable"), rules, _window()) is None
    match = match_dlt(_ae(ANEMIA, 4, "probable"), rules, _window())
    assert match is not None and match.number == 2


def test_infusion_reaction_counts_whatever_the_attribution() -> None:
    match = match_dlt(_ae(INFUSION_REACTION, 3, "unrelated"), _dlt().definition.rules, _window())
    assert match is not None and match.number == 3
    assert match.description == "rule 3: grade ≥ 3; term Infusion related reaction; any attribution"


def test_excluded_term_and_unknown_names() -> None:
    rules = [DltRule(min_grade=3, exclude_terms=["Pneumonitis"], min_attribution="unrelated")]
    assert match_dlt(_ae(PNEUMONITIS, 4, "definite"), rules, _window()) is None
    with pytest.raises(TrialdeskError, match=r"'Pneumonia itis'.* not a CTCAE v5\.0 term"):
        check_dlt_rules([DltRule(min_grade=3, terms=["Pneumonia itis"])])
    with pytest.raises(TrialdeskError, match=r"not a CTCAE v5\.0 system organ class"):
        check_dlt_rules([DltRule(min_grade=3, exclude_socs=["Blood disorders"])])


def _patient(
    pid: str,
    level: int = 1,
    *,
    infusion_dates: tuple[date, ...] = INFUSIONS,
    confirmed_dlts: int = 0,
    candidate_dlts: int = 0,
    left_study_on: date | None = None,
    infusions_complete: bool = True,
) -> PatientDltFacts:
    return PatientDltFacts(
        pid,
        level,
        infusion_dates,
        confirmed_dlts=confirmed_dlts,
        candidate_dlts=candidate_dlts,
        left_study_on=left_study_on,
        infusions_complete=infusions_complete,
    )


def test_evaluability_by_the_protocol_rule() -> None:
    # Built-in protocol (assumption): a DLT, or all 4 infusions and the 30-day window completed.
    dlt = _dlt()
    during = date(2024, 3, 20)
    after = date(2024, 4, 1)
    assert patient_evaluability(_patient("a"), dlt, during).state is Evaluability.FOLLOWING
    assert patient_evaluability(_patient("a"), dlt, after).state is Evaluability.EVALUABLE
    with_dlt = _patient("b", confirmed_dlts=1, infusion_dates=INFUSIONS[:1])
    assert patient_evaluability(with_dlt, dlt, during).state is Evaluability.EVALUABLE_DLT
    three = _patient("c", infusion_dates=INFUSIONS[:3], infusions_complete=True)
    standing = patient_evaluability(three, dlt, after)
    assert standing.state is Evaluability.NOT_EVALUABLE
    assert standing.reason == "received 3 of the 4 infusions needed, and no DLT"
    pending = _patient("d", candidate_dlts=1)
    assert patient_evaluability(pending, dlt, after).state is Evaluability.AWAITING_ADJUDICATION
    left = _patient("e", left_study_on=date(2024, 3, 15))
    assert patient_evaluability(left, dlt, during).state is Evaluability.NOT_EVALUABLE
    none = _patient("f", infusion_dates=())
    assert patient_evaluability(none, dlt, during).state is Evaluability.NOT_STARTED


def test_patients_by_level() -> None:
    after = date(2024, 4, 1)
    patients = [
        _patient("RLI-001"),
        _patient("RLI-002", confirmed_dlts=1),
        _patient("RLI-003", infusion_dates=INFUSIONS[:2], infusions_complete=True),
        _patient("RLI-004", level=2, infusion_dates=(date(2024, 3, 25),)),
    ]
    tallies = evaluable_patients_by_level(patients, _dlt(), after)
    assert sorted(tallies) == [1, 2]
    level1 = tallies[1]
    assert level1.evaluable == ("RLI-001", "RLI-002")
    assert (level1.n_evaluable, level1.n_dlts) == (2, 1)
    assert level1.not_evaluable == ("RLI-003",)
    assert level1.undecided == 0
    level2 = tallies[2]
    assert level2.following == ("RLI-004",) and level2.undecided == 1
    assert level2.patients[0].window == DltWindow(
        date(2024, 3, 25), date(2024, 3, 25) + timedelta(30)
    )


def test_haematological_lab_terms_outside_the_blood_soc_need_grade_4() -> None:
    # CTCAE v5.0 files "Neutrophil count decreased" (10029366) under Investigations, not under
    # Blood and lymphatic system disorders; the built-in rule 1 names it among its exclusions.
    rules = _dlt().definition.rules
    assert match_dlt(_ae(10029366, 3, "definite"), rules, _window()) is None
    match = match_dlt(_ae(10029366, 4, "definite"), rules, _window())
    assert match is not None and match.number == 2
