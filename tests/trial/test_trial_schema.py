"""Migration 0003: the running trial's tables, and clinical rows that can never be deleted."""

from __future__ import annotations

from datetime import UTC, date, datetime
from hashlib import sha256

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, delete, inspect, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from trialdesk.store.engine import make_engine
from trialdesk.store.errors import ClinicalRecordsAreNeverDeleted
from trialdesk.store.migrate import downgrade, upgrade_to_head
from trialdesk.store.models import (
    CLINICAL_TABLES,
    AdverseEvent,
    Base,
    ConcomitantMedication,
    Consent,
    DltAssessment,
    Enrolment,
    EscalationDecision,
    Infusion,
    Measurement,
    Participant,
    ParticipantScreening,
    ProtocolVersion,
)
from trialdesk.store.protocols import record_protocol_version
from trialdesk.store.screenings import record_screening
from trialdesk.trial.clock import ManualClock
from trialdesk.trial.records import create

TRIAL_START = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)


def _participant(
    session: Session, version: ProtocolVersion, clock: ManualClock, number: str = "S-001"
) -> Participant:
    return create(
        session,
        Participant(
            screening_number=number,
            status="prescreened",
            protocol_version_id=version.id,
        ),
        actor="coordinator",
        clock=clock,
    )


def test_the_orm_models_match_the_migrated_schema(engine: Engine) -> None:
    # A model column the migration forgot (or the reverse) would only fail on some queries.
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_migration_0003_adds_the_trial_tables_and_can_be_undone(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    assert set(CLINICAL_TABLES) <= set(inspect(engine).get_table_names())
    user_columns = {c["name"] for c in inspect(engine).get_columns("users")}
    assert {"password_hash", "printed_name"} <= user_columns
    downgrade(engine, "0002_screenings")
    inspector = inspect(engine)
    assert not set(CLINICAL_TABLES) & set(inspector.get_table_names())
    assert "password_hash" not in {c["name"] for c in inspector.get_columns("users")}
    assert "screenings" in inspector.get_table_names()
    upgrade_to_head(engine)
    assert set(CLINICAL_TABLES) <= set(inspect(engine).get_table_names())
    engine.dispose()


def _one_row_in_every_clinical_table(session: Session, version: ProtocolVersion) -> None:
    clock = ManualClock(TRIAL_START)
    screening = record_screening(
        session,
        protocol_version_id=version.id,
        software_version="test",
        input_format="record",
        input_text="{}",
        screening_date=date(2026, 1, 5),
        result_json='{"verdict": "eligible", "criteria": []}',
        screened_by="coordinator",
    )
    person = _participant(session, version, clock)
    day = date(2026, 1, 5)
    rows: list[Base] = [
        ParticipantScreening(
            participant_id=person.id,
            screening_id=screening.id,
            linked_at=clock.now(),
            linked_by="coordinator",
        ),
        Consent(participant_id=person.id, consent_date=day, form_version="1.0", obtained_by="dr"),
        Enrolment(
            participant_id=person.id,
            enrolled_on=day,
            dose_level=1,
            cohort_number=1,
            baseline_weight_kg=60.0,
            assigned_by="coordinator",
            recorded_at=clock.now(),
        ),
        Infusion(
            participant_id=person.id,
            number=1,
            scheduled_on=day,
            planned_cells=2.0e7,
            status="scheduled",
        ),
        Measurement(participant_id=person.id, measured_on=day, code="spo2", value=95, unit="%"),
        ConcomitantMedication(
            participant_id=person.id, drug="prednisone", dose=30, dose_unit="mg", start_date=day
        ),
        EscalationDecision(
            cohort_number=1,
            dose_level=1,
            state_json="{}",
            decision_json="{}",
            protocol_version_id=version.id,
            software_version="test",
            computed_at=clock.now(),
            computed_by="coordinator",
        ),
    ]
    event = AdverseEvent(
        participant_id=person.id,
        meddra_code=10035742,
        term="Pneumonitis",
        grade=3,
        onset_date=day,
        attribution_hdmsc="possible",
        attribution_standard="unlikely",
    )
    for row in [*rows, event]:
        create(session, row, actor="coordinator", clock=clock)
    create(
        session,
        DltAssessment(adverse_event_id=event.id, rule_matched="rules[0]", status="candidate"),
        actor="system",
        clock=clock,
    )


@pytest.fixture
def filled(engine: Engine) -> Engine:
    """The migrated database with one row in every clinical table."""
    with Session(engine) as session:
        version = record_protocol_version(
            session, protocol_id="P", version="1", yaml_text="x", sha256=sha256(b"x").hexdigest()
        )
        _one_row_in_every_clinical_table(session, version)
        session.commit()
    return engine


def test_every_clinical_table_is_filled_by_the_fixture(filled: Engine) -> None:
    with filled.connect() as connection:
        for table in CLINICAL_TABLES:
            assert connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 1


@pytest.mark.parametrize("table", CLINICAL_TABLES)
def test_the_database_refuses_to_delete_clinical_rows(filled: Engine, table: str) -> None:
    with pytest.raises(DBAPIError, match="never deleted"), filled.begin() as connection:
        connection.execute(text(f"DELETE FROM {table}"))
    with filled.connect() as connection:
        assert connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 1


@pytest.mark.postgres
def test_postgresql_refuses_truncate(postgres_database_url: str) -> None:
    engine = make_engine(postgres_database_url)
    upgrade_to_head(engine)
    with pytest.raises(DBAPIError, match="never deleted"), engine.begin() as connection:
        connection.execute(text("TRUNCATE consents"))
    engine.dispose()


def test_the_orm_refuses_to_delete_a_clinical_row(filled: Engine) -> None:
    with Session(filled) as session:
        person = session.scalars(select(Participant)).one()
        session.delete(person)
        with pytest.raises(ClinicalRecordsAreNeverDeleted, match="void the record"):
            session.flush()
        session.rollback()
        with pytest.raises(ClinicalRecordsAreNeverDeleted):
            session.execute(delete(Consent))


def test_the_database_checks_the_vocabularies(engine: Engine) -> None:
    with Session(engine) as session:
        version = record_protocol_version(
            session, protocol_id="P", version="1", yaml_text="x", sha256=sha256(b"x").hexdigest()
        )
        session.add(
            Participant(
                screening_number="S-009",
                status="enroled",  # misspelt: not a participant status
                protocol_version_id=version.id,
                created_at=TRIAL_START,
                created_by="coordinator",
            )
        )
        with pytest.raises(IntegrityError):
            session.flush()
