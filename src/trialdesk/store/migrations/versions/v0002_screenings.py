"""Eligibility screenings: append-only clinical records that can be replayed.

Revision ID: 0002_screenings
Revises: 0001_initial
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_screenings"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY_MESSAGE = (
    "screenings is append-only: a screening is a clinical record and cannot be changed or "
    "deleted; screen the patient again instead"
)

# Timestamps: timestamptz on PostgreSQL; naive UTC text on SQLite (see trialdesk.store.clock).
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "screenings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "protocol_version_id",
            sa.Integer(),
            sa.ForeignKey("protocol_versions.id", name="fk_screenings_protocol_version"),
            nullable=False,
        ),
        sa.Column("protocol_sha256", sa.String(64), nullable=False),
        sa.Column("software_version", sa.String(100), nullable=False),
        sa.Column("input_format", sa.String(20), nullable=False),
        sa.Column("input_text", sa.Text(), nullable=False),
        sa.Column("screening_date", sa.Date(), nullable=False),
        sa.Column("verdict", sa.String(30), nullable=False),
        sa.Column("result_json", sa.Text(), nullable=False),
        sa.Column("screened_by", sa.String(100), nullable=False),
        sa.Column("screened_at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_screenings_protocol_version_id", "screenings", ["protocol_version_id"])
    _create_append_only_triggers()


def downgrade() -> None:
    _drop_append_only_triggers()
    op.drop_index("ix_screenings_protocol_version_id", table_name="screenings")
    op.drop_table("screenings")


def _create_append_only_triggers() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER screenings_no_{action.lower()} BEFORE {action} ON screenings "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION screenings_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}' "
            "USING ERRCODE = 'restrict_violation'; END $$"
        )
        op.execute(
            "CREATE TRIGGER screenings_no_update_or_delete BEFORE UPDATE OR DELETE ON screenings "
            "FOR EACH ROW EXECUTE FUNCTION screenings_refuse_change()"
        )
        op.execute(
            "CREATE TRIGGER screenings_no_truncate BEFORE TRUNCATE ON screenings "
            "FOR EACH STATEMENT EXECUTE FUNCTION screenings_refuse_change()"
        )
    else:
        raise RuntimeError(f"no append-only triggers for the {dialect} dialect")


def _drop_append_only_triggers() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS screenings_no_update")
        op.execute("DROP TRIGGER IF EXISTS screenings_no_delete")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS screenings_no_truncate ON screenings")
        op.execute("DROP TRIGGER IF EXISTS screenings_no_update_or_delete ON screenings")
        op.execute("DROP FUNCTION IF EXISTS screenings_refuse_change()")
