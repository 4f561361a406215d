"""CSV per entity and the data dictionary, checked against the database of a seeded trial."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

from seeded_trial import BIRTH_DATE, VOID_REASON, seed_trial
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trialdesk.exports.csv_export import csv_files, dictionary_tables_markdown
from trialdesk.exports.dataset import load_trial
from trialdesk.store.models import (
    AdverseEvent,
    ConcomitantMedication,
    Consent,
    DltAssessment,
    Enrolment,
    EscalationDecision,
    Infusion,
    Measurement,
    Participant,
    Screening,
)

AS_OF = datetime(2026, 6, 1, tzinfo=UTC)


def rows(files: dict[str, bytes], name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(files[name].decode("utf-8"))))


def test_every_entity_is_exported_row_for_row_with_voided_records_and_signatures(
    session: Session,
) -> None:
    seeded = seed_trial(session)
    files = csv_files(load_trial(session, as_of=AS_OF, software_version="test"))
    counts = {
        "participants.csv": Participant,
        "screenings.csv": Screening,
        "consents.csv": Consent,
        "enrolments.csv": Enrolment,
        "infusions.csv": Infusion,
        "adverse_events.csv": AdverseEvent,
        "dlt_assessments.csv": DltAssessment,
        "decisions.csv": EscalationDecision,
        "measurements.csv": Measurement,
        "concomitant_medications.csv": ConcomitantMedication,
    }
    for name, model in counts.items():
        stored = session.scalar(select(func.count()).select_from(model))
        assert len(rows(files, name)) == stored, name
    events = {int(r["ae_id"]): r for r in rows(files, "adverse_events.csv")}
    assert events[seeded.voided_ae]["void_reason"] == VOID_REASON
    assert events[seeded.voided_ae]["voided_at"].startswith("2026-")
    assert events[seeded.corrected_ae]["grade"] == "2"  # corrected from 1 by the seed
    assert events[seeded.corrected_ae]["void_reason"] == ""
    decisions = rows(files, "decisions.csv")
    assert [(d["cohort_number"], d["action"], d["next_level"]) for d in decisions] == [
        ("1", "stay", "1"),  # 1 DLT of 3 at level 1: three more (protocol's 3+3 rules)
        ("2", "escalate", "2"),  # 1 of 6 at level 1
    ]
    for decision in decisions:
        assert decision["signer_name"] == "LI Ming, MD"
        signed_at = datetime.fromisoformat(decision["signed_at"])
        # the desk's one manifestation sentence (trialdesk.trial.signatures, 21 CFR 11.50)
        assert decision["signature"] == (
            f"Signed by LI Ming, MD on {signed_at:%Y-%m-%d %H:%M:%S} UTC: "
            f"{decision['signature_meaning']}"
        )


def test_exports_are_pseudonymous_and_described_by_the_data_dictionary(
    session: Session,
) -> None:
    seeded = seed_trial(session)
    files = csv_files(load_trial(session, as_of=AS_OF, software_version="test"))
    everything = b"".join(files.values()).decode("utf-8")
    assert BIRTH_DATE.isoformat() not in everything
    assert "phone" not in everything  # the contact note of every registration (trial_desk.py)
    people = {r["subject"]: r for r in rows(files, "participants.csv")}
    assert people["RLI-001"]["age_at_enrolment"] == "65"  # born 1960-05-20, enrolled 2026-03-10
    failure = session.get_one(Participant, seeded.screen_failure)
    assert people[failure.screening_number]["status"] == "screen_failed"
    assert people[failure.screening_number]["screen_fail_reason"] != ""
    check_dictionary(files)


def check_dictionary(files: dict[str, bytes]) -> None:
    """Every column of every CSV is described, with its type, unit and controlled terms."""
    dictionary = rows(files, "data_dictionary.csv")
    described = {(d["table"], d["column"]) for d in dictionary}
    for name in files:
        if name.endswith(".csv") and name != "data_dictionary.csv":
            header = next(csv.reader(io.StringIO(files[name].decode("utf-8"))))
            assert {(name.removesuffix(".csv"), column) for column in header} <= described
    by_key = {(d["table"], d["column"]): d for d in dictionary}
    assert by_key[("adverse_events", "grade")]["controlled_terms"] == "1 | 2 | 3 | 4 | 5"
    assert by_key[("enrolments", "baseline_weight_kg")]["unit"] == "kg"
    assert by_key[("infusions", "given_at")]["type"] == "datetime"
    assert all(d["meaning"] for d in dictionary)
    markdown = files["data_dictionary.md"].decode("utf-8")
    assert "## adverse_events.csv" in markdown
    assert "| grade | integer |  | CTCAE grade | 1, 2, 3, 4, 5 |" in markdown


def test_the_dictionary_in_the_docs_is_the_one_the_export_writes() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "exports.md").read_text("utf-8")
    start = docs.index("<!-- data-dictionary:start -->\n") + len("<!-- data-dictionary:start -->\n")
    end = docs.index("<!-- data-dictionary:end -->")
    assert docs[start:end] == dictionary_tables_markdown("####"), (
        "docs/exports.md is out of date: paste dictionary_tables_markdown('####') between the "
        "data-dictionary markers"
    )
