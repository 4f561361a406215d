"""Seriousness criteria (ICH E2A II.B) and the SAE reporting clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from trialdesk.errors import TrialdeskError
from trialdesk.protocol import builtin_protocol
from trialdesk.trial.sae import (
    ReportState,
    SaeCriterion,
    check_seriousness,
    parse_criteria,
    report_status,
)

KNOWN = datetime(2024, 3, 5, 9, 30, tzinfo=UTC)


def test_the_six_ich_e2a_criteria_in_english_and_chinese() -> None:
    # ICH E2A (1994) II.B lists exactly these six outcomes.
    assert [c.value for c in SaeCriterion] == [
        "death",
        "life_threatening",
        "hospitalisation",
        "disability",
        "congenital_anomaly",
        "important_medical_event",
    ]
    assert SaeCriterion.HOSPITALISATION.text("en").startswith("Requires inpatient hospitalisation")
    assert SaeCriterion.DEATH.text("zh-CN") == "导致死亡"
    assert all(c.text_en and c.text_zh for c in SaeCriterion)


def test_criteria_are_parsed_in_standard_order_once_each() -> None:
    assert parse_criteria(["hospitalisation", "DEATH", "death"]) == (
        SaeCriterion.DEATH,
        SaeCriterion.HOSPITALISATION,
    )
    with pytest.raises(TrialdeskError, match="'hospitalized' is not a seriousness criterion"):
        parse_criteria(["hospitalized"])


def test_seriousness_must_agree_with_its_criteria_and_grade() -> None:
    assert check_seriousness(True, ["hospitalisation"], grade=3) == (SaeCriterion.HOSPITALISATION,)
    assert check_seriousness(False, [], grade=4) == ()  # severe is not the same as serious
    with pytest.raises(TrialdeskError, match="needs at least one seriousness criterion"):
        check_seriousness(True, [], grade=3)
    with pytest.raises(TrialdeskError, match="not marked serious"):
        check_seriousness(False, ["hospitalisation"], grade=3)
    # CTCAE v5.0: "Grade 5 Death related to AE".
    with pytest.raises(TrialdeskError, match="grade 5 means death"):
        check_seriousness(True, ["life_threatening"], grade=5)
    with pytest.raises(TrialdeskError, match="results in death is grade 5"):
        check_seriousness(True, ["death"], grade=4)


def test_reporting_clock_due_then_overdue() -> None:
    due = report_status(KNOWN, 24, as_of=KNOWN + timedelta(hours=20))
    assert due.state is ReportState.DUE
    assert due.due_at == datetime(2024, 3, 6, 9, 30, tzinfo=UTC)
    assert due.time_left == timedelta(hours=4)
    at_deadline = report_status(KNOWN, 24, as_of=KNOWN + timedelta(hours=24))
    assert at_deadline.state is ReportState.DUE
    overdue = report_status(KNOWN, 24, as_of=KNOWN + timedelta(hours=25))
    assert overdue.state is ReportState.OVERDUE and overdue.time_left == timedelta(hours=-1)


def test_reported_on_time_or_late() -> None:
    on_time = report_status(KNOWN, 24, as_of=KNOWN + timedelta(days=9), reported_at=KNOWN)
    assert on_time.state is ReportState.REPORTED
    late = report_status(
        KNOWN, 24, as_of=KNOWN + timedelta(days=9), reported_at=KNOWN + timedelta(hours=30)
    )
    assert late.state is ReportState.REPORTED_LATE
    assert late.state.text("zh") == "已逾期报告"


def test_clock_works_across_time_zones() -> None:
    chengdu = timezone(timedelta(hours=8))
    clock = report_status(KNOWN, 24, as_of=datetime(2024, 3, 6, 17, 0, tzinfo=chengdu))
    assert clock.time_left == timedelta(minutes=30)


def test_bad_clock_inputs_are_refused() -> None:
    with pytest.raises(TrialdeskError, match="no time zone"):
        report_status(datetime(2024, 3, 5), 24, as_of=KNOWN)
    with pytest.raises(TrialdeskError, match="whole number of hours"):
        report_status(KNOWN, 0, as_of=KNOWN)
    with pytest.raises(TrialdeskError, match="before the SAE was known"):
        report_status(KNOWN, 24, as_of=KNOWN, reported_at=KNOWN - timedelta(hours=1))


def test_builtin_protocol_reports_saes_within_24_hours_as_a_marked_assumption() -> None:
    # Issue 5: "An SAE starts a 24-hour reporting clock"; the public record itself is silent.
    safety = builtin_protocol().protocol.safety
    assert safety is not None and safety.sae_report_hours == 24 and safety.assumption
