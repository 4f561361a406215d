"""The running trial: participants, consent, enrolment, infusions, adverse events, DLT
assessments, escalation decisions, follow-up measurements, concomitant medications; users get
a password hash and a printed name for signatures.

Clinical rows are never deleted: a trigger on each clinical table refuses DELETE (and TRUNCATE
on PostgreSQL). Corrections are audited updates; records entered by mistake are voided.

Revision ID: 0003_trial
Revises: 0002_screenings
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_trial"
down_revision: str | None = "0002_screenings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Timestamps: timestamptz on PostgreSQL; naive UTC text on SQLite (see trialdesk.store.clock).
TIMESTAMP = sa.DateTime(timezone=True)
NAME = 100

# Frozen copies of the vocabularies in trialdesk.store.models at the time of this migration.
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
INFUSION_STATUSES = ("scheduled", "given", "missed")
DLT_STATUSES = ("candidate", "confirmed", "rejected")
DOSE_UNITS = ("mg", "mg/kg")

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
NO_DELETE_MESSAGE = "clinical records are never deleted; void the record with a reason instead"


def _one_of(column: str, values: tuple[str, ...], name: str) -> sa.CheckConstraint:
    listed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=name)


def _participant_fk(table: str) -> sa.Column[int]:
    return sa.Column(
        "participant_id",
        sa.Integer(),
        sa.ForeignKey("participants.id", name=f"fk_{table}_participant"),
        nullable=False,
    )


def _recorded() -> list[sa.Column[object]]:
    return [
        sa.Column("recorded_at", TIMESTAMP, nullable=False),
        sa.Column("recorded_by", sa.String(NAME), nullable=False),
    ]


def _voidable() -> list[sa.Column[object]]:
    return [
        sa.Column("voided_at", TIMESTAMP, nullable=True),
        sa.Column("void_reason", sa.Text(), nullable=True),
    ]


def upgrade() -> None:
    op.add_column("users", sa.Column("password_hash", sa.String(255), nullable=True))
    op.add_column("users", sa.Column("printed_name", sa.String(200), nullable=True))
    op.create_table(
        "participants",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("screening_number", sa.String(20), nullable=False),
        sa.Column("study_id", sa.String(20), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("sex", sa.String(10), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("contact_note", sa.Text(), nullable=True),
        sa.Column("screen_fail_reason", sa.Text(), nullable=True),
        sa.Column(
            "protocol_version_id",
            sa.Integer(),
            sa.ForeignKey("protocol_versions.id", name="fk_participants_protocol_version"),
            nullable=False,
        ),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("created_by", sa.String(NAME), nullable=False),
        sa.UniqueConstraint("screening_number", name="uq_participants_screening_number"),
        sa.UniqueConstraint("study_id", name="uq_participants_study_id"),
        _one_of("status", PARTICIPANT_STATUSES, "ck_participants_status"),
        _one_of("sex", SEXES, "ck_participants_sex"),
    )
    op.create_index("ix_participants_protocol_version_id", "participants", ["protocol_version_id"])
    op.create_table(
        "participant_screenings",
        sa.Column("id", sa.Integer(), primary_key=True),
        _participant_fk("participant_screenings"),
        sa.Column(
            "screening_id",
            sa.Integer(),
            sa.ForeignKey("screenings.id", name="fk_participant_screenings_screening"),
            nullable=False,
        ),
        sa.Column("linked_at", TIMESTAMP, nullable=False),
        sa.Column("linked_by", sa.String(NAME), nullable=False),
        sa.UniqueConstraint("screening_id", name="uq_participant_screenings_screening_id"),
    )
    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), primary_key=True),
        _participant_fk("consents"),
        sa.Column("consent_date", sa.Date(), nullable=False),
        sa.Column("form_version", sa.String(50), nullable=False),
        sa.Column("obtained_by", sa.String(200), nullable=False),
        *_recorded(),
        *_voidable(),
    )
    op.create_table(
        "enrolments",
        sa.Column("id", sa.Integer(), primary_key=True),
        _participant_fk("enrolments"),
        sa.Column("enrolled_on", sa.Date(), nullable=False),
        sa.Column("dose_level", sa.Integer(), nullable=False),
        sa.Column("cohort_number", sa.Integer(), nullable=False),
        sa.Column("baseline_weight_kg", sa.Float(), nullable=False),
        sa.Column("assigned_by", sa.String(NAME), nullable=False),
        sa.Column("override", sa.Boolean(), nullable=False),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("recorded_at", TIMESTAMP, nullable=False),
        sa.UniqueConstraint("participant_id", name="uq_enrolments_participant_id"),
        sa.CheckConstraint("dose_level >= 1", name="ck_enrolments_dose_level"),
        sa.CheckConstraint("cohort_number >= 1", name="ck_enrolments_cohort_number"),
        sa.CheckConstraint("baseline_weight_kg > 0", name="ck_enrolments_baseline_weight"),
    )
    op.create_table(
        "infusions",
        sa.Column("id", sa.Integer(), primary_key=True),
        _participant_fk("infusions"),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("scheduled_on", sa.Date(), nullable=False),
        sa.Column("given_at", TIMESTAMP, nullable=True),
        sa.Column("planned_cells", sa.Float(), nullable=False),
        sa.Column("cells_given", sa.Float(), nullable=True),
        sa.Column("product_lot", sa.String(100), nullable=True),
        sa.Column("interrupted", sa.Boolean(), nullable=False),
        sa.Column("interruption_note", sa.Text(), nullable=True),
        sa.Column("reaction_note", sa.Text(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        *_recorded(),
        *_voidable(),
        _one_of("status", INFUSION_STATUSES, "ck_infusions_status"),
        sa.CheckConstraint("number >= 1", name="ck_infusions_number"),
    )
    op.create_table(
        "adverse_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        _participant_fk("adverse_events"),
        sa.Column("meddra_code", sa.Integer(), nullable=False),
        sa.Column("term", sa.String(200), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("onset_date", sa.Date(), nullable=False),
        sa.Column("resolution_date", sa.Date(), nullable=True),
        sa.Column("serious", sa.Boolean(), nullable=False),
        sa.Column("serious_criteria", sa.Text(), nullable=False),
        sa.Column("attribution_hdmsc", sa.String(20), nullable=False),
        sa.Column("attribution_standard", sa.String(20), nullable=False),
        sa.Column("action_taken", sa.String(100), nullable=True),
        sa.Column("outcome", sa.String(100), nullable=True),
        sa.Column("sae_reported_at", TIMESTAMP, nullable=True),
        *_recorded(),
        *_voidable(),
        sa.CheckConstraint("grade BETWEEN 1 AND 5", name="ck_adverse_events_grade"),
        _one_of("attribution_hdmsc", ATTRIBUTIONS, "ck_adverse_events_attribution_hdmsc"),
        _one_of("attribution_standard", ATTRIBUTIONS, "ck_adverse_events_attribution_standard"),
    )
    op.create_table(
        "dlt_assessments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "adverse_event_id",
            sa.Integer(),
            sa.ForeignKey("adverse_events.id", name="fk_dlt_assessments_adverse_event"),
            nullable=False,
        ),
        sa.Column("rule_matched", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("adjudicated_by", sa.String(NAME), nullable=True),
        sa.Column("adjudicated_at", TIMESTAMP, nullable=True),
        sa.UniqueConstraint("adverse_event_id", name="uq_dlt_assessments_adverse_event_id"),
        _one_of("status", DLT_STATUSES, "ck_dlt_assessments_status"),
    )
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("cohort_number", sa.Integer(), nullable=False),
        sa.Column("dose_level", sa.Integer(), nullable=False),
        sa.Column("state_json", sa.Text(), nullable=False),
        sa.Column("decision_json", sa.Text(), nullable=False),
        sa.Column(
            "protocol_version_id",
            sa.Integer(),
            sa.ForeignKey("protocol_versions.id", name="fk_decisions_protocol_version"),
            nullable=False,
        ),
        sa.Column("software_version", sa.String(100), nullable=False),
        sa.Column("computed_at", TIMESTAMP, nullable=False),
        sa.Column("computed_by", sa.String(NAME), nullable=False),
        sa.Column("signed_by", sa.String(NAME), nullable=True),
        sa.Column("signer_name", sa.String(200), nullable=True),
        sa.Column("signed_at", TIMESTAMP, nullable=True),
        sa.Column("signature_meaning", sa.Text(), nullable=True),
        sa.Column("superseded", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.CheckConstraint("cohort_number >= 1", name="ck_decisions_cohort_number"),
        sa.CheckConstraint("dose_level >= 1", name="ck_decisions_dose_level"),
    )
    op.create_index("ix_decisions_protocol_version_id", "decisions", ["protocol_version_id"])
    op.create_table(
        "measurements",
        sa.Column("id", sa.Integer(), primary_key=True),
        _participant_fk("measurements"),
        sa.Column("visit_id", sa.String(64), nullable=True),
        sa.Column("measured_on", sa.Date(), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(32), nullable=True),
        *_recorded(),
        *_voidable(),
    )
    op.create_index("ix_measurements_participant_code", "measurements", ["participant_id", "code"])
    op.create_table(
        "concomitant_medications",
        sa.Column("id", sa.Integer(), primary_key=True),
        _participant_fk("concomitant_medications"),
        sa.Column("drug", sa.String(200), nullable=False),
        sa.Column("dose", sa.Float(), nullable=False),
        sa.Column("dose_unit", sa.String(10), nullable=False),
        sa.Column("route", sa.String(50), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("indication", sa.Text(), nullable=True),
        *_recorded(),
        *_voidable(),
        _one_of("dose_unit", DOSE_UNITS, "ck_concomitant_medications_dose_unit"),
    )
    for table in ("participant_screenings", "consents", "infusions", "adverse_events"):
        op.create_index(f"ix_{table}_participant_id", table, ["participant_id"])
    op.create_index(
        "ix_concomitant_medications_participant_id",
        "concomitant_medications",
        ["participant_id"],
    )
    _create_no_delete_triggers()


def downgrade() -> None:
    _drop_no_delete_triggers()
    for table in reversed(CLINICAL_TABLES):
        op.drop_table(table)
    with op.batch_alter_table("users") as batch:
        batch.drop_column("printed_name")
        batch.drop_column("password_hash")


def _create_no_delete_triggers() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table in CLINICAL_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table}: {NO_DELETE_MESSAGE}'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION clinical_refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '%: {NO_DELETE_MESSAGE}', TG_TABLE_NAME "
            "USING ERRCODE = 'restrict_violation'; END $$"
        )
        for table in CLINICAL_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION clinical_refuse_delete()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION clinical_refuse_delete()"
            )
    else:
        raise RuntimeError(f"no delete-refusing triggers for the {dialect} dialect")


def _drop_no_delete_triggers() -> None:
    dialect = op.get_bind().dialect.name
    for table in CLINICAL_TABLES:
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete ON {table}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS clinical_refuse_delete()")
