"""Record versions: every editable row counts its changes, so a stale edit can be refused.

Rows that exist already start at version 1 (they are treated as never edited: what changed
before is in the audit log, which this migration does not touch).

Revision ID: 0007_record_versions
Revises: 0006_prescreen_contacts
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_record_versions"
down_revision: str | None = "0006_prescreen_contacts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERSIONED_TABLES = (
    "users",
    "participants",
    "consents",
    "infusions",
    "adverse_events",
    "dlt_assessments",
    "decisions",
    "measurements",
    "concomitant_medications",
    "data_queries",
    "prescreen_contacts",
)


def upgrade() -> None:
    for table in VERSIONED_TABLES:
        op.add_column(table, sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35 and later): a batch copy would lose the no-delete triggers.
    for table in reversed(VERSIONED_TABLES):
        op.drop_column(table, "version")
