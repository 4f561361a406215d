"""The tables, as typed SQLAlchemy 2 declarative models. The schema itself is made by migrations."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Mapper,
    ORMExecuteState,
    Session,
    declared_attr,
    mapped_column,
)

from trialdesk.store.clock import UTCDateTime, utc_now
from trialdesk.store.errors import ClinicalRecordsAreNeverDeleted

SHA256_HEX_LENGTH = 64


class Base(DeclarativeBase):
    """Base of every trialdesk table."""


class Versioned:
    """A row that can be edited counts its edits in ``version`` (1 when stored).

    SQLAlchemy adds ``WHERE version = <the version read>`` to every UPDATE of the row and raises
    ``StaleDataError`` when another writer got there first, so no edit silently overwrites
    another; the desk also refuses an edit made on a version older than the stored one
    (:func:`trialdesk.trial.records.check_version`).
    """

    version: Mapped[int] = mapped_column(Integer, server_default="1")

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


class ProtocolVersion(Base):
    """The exact protocol text a desk ran, once per distinct text (identified by its sha256)."""

    __tablename__ = "protocol_versions"
    __table_args__ = (UniqueConstraint("sha256", name="uq_protocol_versions_sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    protocol_id: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[str] = mapped_column(String(100))
    yaml_text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(SHA256_HEX_LENGTH))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    def __repr__(self) -> str:
        return f"ProtocolVersion({self.protocol_id!r}, {self.version!r}, {self.sha256[:12]}...)"


class User(Versioned, Base):
    """A person who uses the desk. ``password_hash`` is an argon2 hash (None: cannot log in or
    sign); ``printed_name`` is the name a signature shows (the display name when not set)."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("username", name="uq_users_username"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100))
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    printed_name: Mapped[str | None] = mapped_column(String(200))


class AuditEntry(Base):
    """One change: who, when, what (entity, id, field), old and new value (JSON text), and why.

    Rows form a hash chain: ``row_hash`` is the sha256 of this row's content together with the
    previous row's hash (``prev_hash``), so editing or removing a row breaks the chain.
    ``prev_hash`` is unique, so two writers cannot both extend the chain from the same row.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        UniqueConstraint("prev_hash", name="uq_audit_log_prev_hash"),
        UniqueConstraint("row_hash", name="uq_audit_log_row_hash"),
        Index("ix_audit_log_entity", "entity", "entity_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    entity: Mapped[str] = mapped_column(String(100))
    entity_id: Mapped[str] = mapped_column(String(100))
    field: Mapped[str | None] = mapped_column(String(100))
    old_value: Mapped[str] = mapped_column(Text)
    new_value: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(SHA256_HEX_LENGTH))
    row_hash: Mapped[str] = mapped_column(String(SHA256_HEX_LENGTH))

    def __repr__(self) -> str:
        return f"AuditEntry(#{self.id} {self.entity}/{self.entity_id} {self.field} by {self.actor})"


class AuditCheckpoint(Base):
    """Where the application left the audit chain: how many entries it wrote and the id and
    hash of the last one. One row (id 1), kept outside the audit rows and moved forward in the
    same transaction as each new entry, so that entries removed from the end are noticed."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    entry_count: Mapped[int] = mapped_column(Integer)
    head_entry_id: Mapped[int | None] = mapped_column(Integer)
    head_hash: Mapped[str] = mapped_column(String(SHA256_HEX_LENGTH))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Screening(Base):
    """One eligibility screening as it was done: the input exactly as received, the screening
    date, the protocol text and software version used, who and when, and the result.

    A clinical record: appended, never changed or removed (the database refuses, like the audit
    log), so that ``trialdesk screen --replay`` can re-run it later.
    """

    __tablename__ = "screenings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    protocol_version_id: Mapped[int] = mapped_column(
        ForeignKey("protocol_versions.id", name="fk_screenings_protocol_version"), index=True
    )
    protocol_sha256: Mapped[str] = mapped_column(String(SHA256_HEX_LENGTH))
    software_version: Mapped[str] = mapped_column(String(100))
    input_format: Mapped[str] = mapped_column(String(20))
    input_text: Mapped[str] = mapped_column(Text)
    screening_date: Mapped[date] = mapped_column(Date)
    verdict: Mapped[str] = mapped_column(String(30))
    result_json: Mapped[str] = mapped_column(Text)
    screened_by: Mapped[str] = mapped_column(String(100))
    screened_at: Mapped[datetime] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return (
            f"Screening(#{self.id} {self.verdict} on {self.screening_date} by {self.screened_by})"
        )


# --- The running trial (migration 0003) ----------------------------------------------------
# Clinical rows are never deleted (the database refuses, see trialdesk.store.clinical): a wrong
# value is corrected by an audited update with a reason, a record entered by mistake is voided
# (``voided_at`` + ``void_reason``) and stays visible in the audit trail.

NAME_LENGTH = 100
"""Length of a user-name column (who recorded, signed, obtained ...)."""

PARTICIPANT_STATUSES = (
    "prescreened",
    "screening",
    "screen_failed",
    "consented",
    "enrolled",
    "withdrawn",
    "completed",
)
SEXES = ("female", "male")
ATTRIBUTIONS = ("unrelated", "unlikely", "possible", "probable", "definite")
"""Causality scale, weakest first (the scale of the protocol's DLT rules)."""
INFUSION_STATUSES = ("scheduled", "given", "missed")
DLT_STATUSES = ("candidate", "confirmed", "rejected")
DOSE_UNITS = ("mg", "mg/kg")


def _one_of(column: str, values: tuple[str, ...], name: str) -> CheckConstraint:
    listed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({listed})", name=name)


class Voidable:
    """Columns of a record that can be voided (withdrawn with a reason, never deleted)."""

    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    void_reason: Mapped[str | None] = mapped_column(Text)

    @property
    def voided(self) -> bool:
        return self.voided_at is not None


class Participant(Versioned, Base):
    """A person from the first pre-screen contact on. ``screening_number`` (``S-001``) is given
    at registration; ``study_id`` (``RLI-001``) only at enrolment."""

    AUDIT_ENTITY: ClassVar[str] = "participant"
    __tablename__ = "participants"
    __table_args__ = (
        UniqueConstraint("screening_number", name="uq_participants_screening_number"),
        UniqueConstraint("study_id", name="uq_participants_study_id"),
        _one_of("status", PARTICIPANT_STATUSES, "ck_participants_status"),
        _one_of("sex", SEXES, "ck_participants_sex"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    screening_number: Mapped[str] = mapped_column(String(20))
    study_id: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    sex: Mapped[str | None] = mapped_column(String(10))
    birth_date: Mapped[date | None] = mapped_column(Date)
    contact_note: Mapped[str | None] = mapped_column(Text)
    screen_fail_reason: Mapped[str | None] = mapped_column(Text)
    protocol_version_id: Mapped[int] = mapped_column(
        ForeignKey("protocol_versions.id", name="fk_participants_protocol_version"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(NAME_LENGTH))

    def __repr__(self) -> str:
        return f"Participant(#{self.id} {self.screening_number} {self.study_id} {self.status})"


class ParticipantScreening(Base):
    """Which stored eligibility screening belongs to which participant (a screening to one)."""

    AUDIT_ENTITY: ClassVar[str] = "participant_screening"
    __tablename__ = "participant_screenings"
    __table_args__ = (
        UniqueConstraint("screening_id", name="uq_participant_screenings_screening_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", name="fk_participant_screenings_participant"), index=True
    )
    screening_id: Mapped[int] = mapped_column(
        ForeignKey("screenings.id", name="fk_participant_screenings_screening")
    )
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    linked_by: Mapped[str] = mapped_column(String(NAME_LENGTH))


class Consent(Voidable, Versioned, Base):
    """Written informed consent: the date signed, the form version, who obtained it."""

    AUDIT_ENTITY: ClassVar[str] = "consent"
    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", name="fk_consents_participant"), index=True
    )
    consent_date: Mapped[date] = mapped_column(Date)
    form_version: Mapped[str] = mapped_column(String(50))
    obtained_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(NAME_LENGTH))


class Enrolment(Base):
    """A participant's enrolment: the dose level (from 1) and cohort the design assigned, the
    baseline weight the per-kg doses use, and whether an investigator overrode the design."""

    AUDIT_ENTITY: ClassVar[str] = "enrolment"
    __tablename__ = "enrolments"
    __table_args__ = (
        UniqueConstraint("participant_id", name="uq_enrolments_participant_id"),
        CheckConstraint("dose_level >= 1", name="ck_enrolments_dose_level"),
        CheckConstraint("cohort_number >= 1", name="ck_enrolments_cohort_number"),
        CheckConstraint("baseline_weight_kg > 0", name="ck_enrolments_baseline_weight"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", name="fk_enrolments_participant")
    )
    enrolled_on: Mapped[date] = mapped_column(Date)
    dose_level: Mapped[int] = mapped_column(Integer)
    cohort_number: Mapped[int] = mapped_column(Integer)
    baseline_weight_kg: Mapped[float] = mapped_column(Float)
    assigned_by: Mapped[str] = mapped_column(String(NAME_LENGTH))
    override: Mapped[bool] = mapped_column(Boolean, default=False)
    override_reason: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Infusion(Voidable, Versioned, Base):
    """One planned or given administration (``number`` from 1); cells are absolute counts."""

    AUDIT_ENTITY: ClassVar[str] = "infusion"
    __tablename__ = "infusions"
    __table_args__ = (
        _one_of("status", INFUSION_STATUSES, "ck_infusions_status"),
        CheckConstraint("number >= 1", name="ck_infusions_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", name="fk_infusions_participant"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    scheduled_on: Mapped[date] = mapped_column(Date)
    given_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    planned_cells: Mapped[float] = mapped_column(Float)
    cells_given: Mapped[float | None] = mapped_column(Float)
    product_lot: Mapped[str | None] = mapped_column(String(100))
    interrupted: Mapped[bool] = mapped_column(Boolean, default=False)
    interruption_note: Mapped[str | None] = mapped_column(Text)
    reaction_note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(NAME_LENGTH))


class AdverseEvent(Voidable, Versioned, Base):
    """An adverse event coded by CTCAE v5.0 (``meddra_code`` and ``term``), graded 1-5."""

    AUDIT_ENTITY: ClassVar[str] = "adverse_event"
    __tablename__ = "adverse_events"
    __table_args__ = (
        CheckConstraint("grade BETWEEN 1 AND 5", name="ck_adverse_events_grade"),
        _one_of("attribution_hdmsc", ATTRIBUTIONS, "ck_adverse_events_attribution_hdmsc"),
        _one_of("attribution_standard", ATTRIBUTIONS, "ck_adverse_events_attribution_standard"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", name="fk_adverse_events_participant"), index=True
    )
    meddra_code: Mapped[int] = mapped_column(Integer)
    term: Mapped[str] = mapped_column(String(200))
    grade: Mapped[int] = mapped_column(Integer)
    onset_date: Mapped[date] = mapped_column(Date)
    resolution_date: Mapped[date | None] = mapped_column(Date)
    serious: Mapped[bool] = mapped_column(Boolean, default=False)
    serious_criteria: Mapped[str] = mapped_column(Text, default="[]")
    """A JSON list of the SAE criteria met (empty when not serious)."""
    attribution_hdmsc: Mapped[str] = mapped_column(String(20))
    attribution_standard: Mapped[str] = mapped_column(String(20))
    action_taken: Mapped[str | None] = mapped_column(String(100))
    outcome: Mapped[str | None] = mapped_column(String(100))
    sae_reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(NAME_LENGTH))


class DltAssessment(Versioned, Base):
    """An adverse event that matched the protocol's DLT definition (``rule_matched`` says
    which clause), and the investigator's adjudication of it."""

    AUDIT_ENTITY: ClassVar[str] = "dlt_assessment"
    __tablename__ = "dlt_assessments"
    __table_args__ = (
        UniqueConstraint("adverse_event_id", name="uq_dlt_assessments_adverse_event_id"),
        _one_of("status", DLT_STATUSES, "ck_dlt_assessments_status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    adverse_event_id: Mapped[int] = mapped_column(
        ForeignKey("adverse_events.id", name="fk_dlt_assessments_adverse_event")
    )
    rule_matched: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    adjudicated_by: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    adjudicated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EscalationDecision(Versioned, Base):
    """A dose-escalation decision as computed (its inputs ``state_json``, its output and
    reasoning ``decision_json``, the protocol and software versions) and, once signed, the
    investigator's signature: user, printed name, UTC time and meaning."""

    AUDIT_ENTITY: ClassVar[str] = "decision"
    __tablename__ = "decisions"
    __table_args__ = (
        CheckConstraint("cohort_number >= 1", name="ck_decisions_cohort_number"),
        CheckConstraint("dose_level >= 1", name="ck_decisions_dose_level"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cohort_number: Mapped[int] = mapped_column(Integer)
    dose_level: Mapped[int] = mapped_column(Integer)
    state_json: Mapped[str] = mapped_column(Text)
    decision_json: Mapped[str] = mapped_column(Text)
    protocol_version_id: Mapped[int] = mapped_column(
        ForeignKey("protocol_versions.id", name="fk_decisions_protocol_version"), index=True
    )
    software_version: Mapped[str] = mapped_column(String(100))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    computed_by: Mapped[str] = mapped_column(String(NAME_LENGTH))
    signed_by: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    signer_name: Mapped[str | None] = mapped_column(String(200))
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signature_meaning: Mapped[str | None] = mapped_column(Text)
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)


class Measurement(Voidable, Versioned, Base):
    """One follow-up value: ``code`` is e.g. pneumonitis_grade, spo2, oxygen_l_min, fvc_pct,
    dlco_pct, mmrc, ct_score or ``lab:<analyte>``; ``visit_id`` a protocol visit (None:
    unscheduled)."""

    AUDIT_ENTITY: ClassVar[str] = "measurement"
    __tablename__ = "measurements"
    __table_args__ = (Index("ix_measurements_participant_code", "participant_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", name="fk_measurements_participant")
    )
    visit_id: Mapped[str | None] = mapped_column(String(64))
    measured_on: Mapped[date] = mapped_column(Date)
    code: Mapped[str] = mapped_column(String(64))
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(32))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(NAME_LENGTH))


class ConcomitantMedication(Voidable, Versioned, Base):
    """A concomitant medication course, e.g. the corticosteroid regimen (mg or mg/kg)."""

    AUDIT_ENTITY: ClassVar[str] = "concomitant_medication"
    __tablename__ = "concomitant_medications"
    __table_args__ = (_one_of("dose_unit", DOSE_UNITS, "ck_concomitant_medications_dose_unit"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", name="fk_concomitant_medications_participant"), index=True
    )
    drug: Mapped[str] = mapped_column(String(200))
    dose: Mapped[float] = mapped_column(Float)
    dose_unit: Mapped[str] = mapped_column(String(10))
    route: Mapped[str | None] = mapped_column(String(50))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    indication: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(NAME_LENGTH))


CLINICAL_TABLES = (
    "participants",
    "participant_screenings",
    "consents",
    "enrolments",
    "infusions",
    "adverse_events",
    "dlt_assessments",
    "decisions",
    "measurements",
    "concomitant_medications",
)
"""Tables whose rows the database refuses to delete (migration 0003)."""

CLINICAL_MODELS: tuple[type[Base], ...] = (
    Participant,
    ParticipantScreening,
    Consent,
    Enrolment,
    Infusion,
    AdverseEvent,
    DltAssessment,
    EscalationDecision,
    Measurement,
    ConcomitantMedication,
)
_NEVER_DELETED = (
    "clinical records are never deleted; void the record with a reason instead "
    "(trialdesk.trial.records.void)"
)


def _refuse_delete(_mapper: Mapper[Any], _connection: Any, row: Any) -> None:
    raise ClinicalRecordsAreNeverDeleted(f"{_NEVER_DELETED} ({row.__tablename__} #{row.id})")


for _model in CLINICAL_MODELS:
    event.listen(_model, "before_delete", _refuse_delete)


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_delete(state: ORMExecuteState) -> None:
    mapper = state.bind_mapper
    if state.is_delete and mapper is not None and mapper.class_ in CLINICAL_MODELS:
        raise ClinicalRecordsAreNeverDeleted(_NEVER_DELETED)


# The web-account and data-query tables (migration 0005) live in their own module; importing it
# here puts them in this metadata, which the migrations are checked against.
from trialdesk.store import accounts as _accounts  # noqa: E402, F401
