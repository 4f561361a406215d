"""Web accounts and data queries: server-side login sessions, login attempts (for throttling
that survives a restart) and the monitors' data queries.

A session row keeps only the sha256 of the cookie's token, so a copy of the database does not
hand out live sessions. Sessions are ended, not deleted.

Revision ID: 0005_accounts
Revises: 0004_audit_checkpoint
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_accounts"
down_revision: str | None = "0004_audit_checkpoint"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
NAME = 100
# Frozen copy of trialdesk.store.models.DATA_QUERY_STATUSES at the time of this migration.
DATA_QUERY_STATUSES = ("open", "answered", "closed")


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", name="fk_web_sessions_user"),
            nullable=False,
        ),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("last_seen_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("ended_at", TIMESTAMP, nullable=True),
        sa.UniqueConstraint("token_sha256", name="uq_web_sessions_token_sha256"),
    )
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"])
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(NAME), nullable=False),
        sa.Column("ip", sa.String(64), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_login_attempts_username_ip_at", "login_attempts", ["username", "ip", "at"])
    listed = ", ".join(f"'{value}'" for value in DATA_QUERY_STATUSES)
    op.create_table(
        "data_queries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("entity", sa.String(NAME), nullable=False),
        sa.Column("entity_id", sa.String(NAME), nullable=False),
        sa.Column("field", sa.String(NAME), nullable=False),
        sa.Column(
            "participant_id",
            sa.Integer(),
            sa.ForeignKey("participants.id", name="fk_data_queries_participant"),
            nullable=True,
        ),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("opened_by", sa.String(NAME), nullable=False),
        sa.Column("opened_at", TIMESTAMP, nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("corrected", sa.Boolean(), nullable=True),
        sa.Column("answered_by", sa.String(NAME), nullable=True),
        sa.Column("answered_at", TIMESTAMP, nullable=True),
        sa.Column("close_note", sa.Text(), nullable=True),
        sa.Column("closed_by", sa.String(NAME), nullable=True),
        sa.Column("closed_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(f"status IN ({listed})", name="ck_data_queries_status"),
    )
    op.create_index("ix_data_queries_entity", "data_queries", ["entity", "entity_id"])
    op.create_index("ix_data_queries_participant_id", "data_queries", ["participant_id"])


def downgrade() -> None:
    op.drop_index("ix_data_queries_participant_id", table_name="data_queries")
    op.drop_index("ix_data_queries_entity", table_name="data_queries")
    op.drop_table("data_queries")
    op.drop_index("ix_login_attempts_username_ip_at", table_name="login_attempts")
    op.drop_table("login_attempts")
    op.drop_index("ix_web_sessions_user_id", table_name="web_sessions")
    op.drop_table("web_sessions")
