"""Contact requests from the public pre-screening page, stored only with consent.

Revision ID: 0006_prescreen_contacts
Revises: 0005_accounts
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_prescreen_contacts"
down_revision: str | None = "0005_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Timestamps: timestamptz on PostgreSQL; naive UTC text on SQLite (see trialdesk.store.clock).
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "prescreen_contacts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("phone", sa.String(40), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("preferred_language", sa.String(5), nullable=False),
        sa.Column("answers_json", sa.Text(), nullable=False),
        sa.Column("result", sa.String(30), nullable=False),
        sa.Column("reasons_json", sa.Text(), nullable=False),
        sa.Column("consent_to_contact", sa.Boolean(), nullable=False),
        sa.Column("consent_text", sa.Text(), nullable=False),
        sa.Column(
            "protocol_version_id",
            sa.Integer(),
            sa.ForeignKey("protocol_versions.id", name="fk_prescreen_contacts_protocol_version"),
            nullable=False,
        ),
        sa.CheckConstraint("consent_to_contact", name="ck_prescreen_contacts_consent"),
        sa.CheckConstraint(
            "phone IS NOT NULL OR email IS NOT NULL", name="ck_prescreen_contacts_reachable"
        ),
        sa.CheckConstraint(
            "result IN ('may_be_eligible', 'probably_not_eligible')",
            name="ck_prescreen_contacts_result",
        ),
        sa.CheckConstraint(
            "preferred_language IN ('en', 'zh')", name="ck_prescreen_contacts_language"
        ),
    )
    op.create_index(
        "ix_prescreen_contacts_protocol_version_id",
        "prescreen_contacts",
        ["protocol_version_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_prescreen_contacts_protocol_version_id", table_name="prescreen_contacts")
    op.drop_table("prescreen_contacts")
