"""The audit checkpoint: how many audit entries the application wrote and the hash of the last
one, kept outside the audit rows. The hash chain alone cannot show that the newest entries were
removed (the shortened chain is still a valid chain); the checkpoint can, unless it was rewound
too (see docs/operations.md for what it can and cannot prove).

The single row (id 1) is updated in the same transaction as every new audit entry. Triggers
refuse to delete it or to lower its count. It starts from the chain as found at upgrade time.

Revision ID: 0004_audit_checkpoint
Revises: 0003_trial
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0004_audit_checkpoint"
down_revision: str | None = "0003_trial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS_HASH = "0" * 64
FORWARD_ONLY_MESSAGE = (
    "audit_checkpoints only moves forward: it cannot be deleted or given a lower entry count"
)


def upgrade() -> None:
    checkpoints = op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("head_entry_id", sa.Integer(), nullable=True),
        sa.Column("head_hash", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_audit_checkpoints_single_row"),
        sa.CheckConstraint("entry_count >= 0", name="ck_audit_checkpoints_entry_count"),
    )
    bind = op.get_bind()
    count, head_id = bind.execute(sa.text("SELECT COUNT(*), MAX(id) FROM audit_log")).one()
    head_hash = GENESIS_HASH
    if head_id is not None:
        head_hash = bind.execute(
            sa.text("SELECT row_hash FROM audit_log WHERE id = :id"), {"id": head_id}
        ).scalar_one()
    now = datetime.now(UTC)
    if bind.dialect.name == "sqlite":  # naive UTC text, as trialdesk.store.clock stores it
        now = now.replace(tzinfo=None)
    row = {"id": 1, "entry_count": count, "head_entry_id": head_id, "head_hash": head_hash}
    op.bulk_insert(checkpoints, [{**row, "updated_at": now}])
    _create_forward_only_triggers(bind.dialect.name)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_checkpoints_no_delete")
        op.execute("DROP TRIGGER IF EXISTS audit_checkpoints_forward_only")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_checkpoints_no_truncate ON audit_checkpoints")
        op.execute("DROP TRIGGER IF EXISTS audit_checkpoints_forward_only ON audit_checkpoints")
        op.execute("DROP FUNCTION IF EXISTS audit_checkpoints_refuse_rewind()")
    op.drop_table("audit_checkpoints")


def _create_forward_only_triggers(dialect: str) -> None:
    if dialect == "sqlite":
        op.execute(
            "CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints "
            f"BEGIN SELECT RAISE(ABORT, '{FORWARD_ONLY_MESSAGE}'); END"
        )
        op.execute(
            "CREATE TRIGGER audit_checkpoints_forward_only BEFORE UPDATE ON audit_checkpoints "
            "WHEN NEW.entry_count < OLD.entry_count OR NEW.id <> OLD.id "
            f"BEGIN SELECT RAISE(ABORT, '{FORWARD_ONLY_MESSAGE}'); END"
        )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_checkpoints_refuse_rewind() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            "IF TG_OP = 'UPDATE' AND NEW.entry_count >= OLD.entry_count AND NEW.id = OLD.id "
            "THEN RETURN NEW; END IF; "
            f"RAISE EXCEPTION '{FORWARD_ONLY_MESSAGE}' USING ERRCODE = 'restrict_violation'; "
            "END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_checkpoints_forward_only "
            "BEFORE UPDATE OR DELETE ON audit_checkpoints "
            "FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_refuse_rewind()"
        )
        op.execute(
            "CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoints_refuse_rewind()"
        )
    else:
        raise RuntimeError(f"no checkpoint triggers for the {dialect} dialect")
