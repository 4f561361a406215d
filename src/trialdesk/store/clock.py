"""The store's one clock and the column type that keeps every timestamp in UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from trialdesk.store.errors import StoreError


def utc_now() -> datetime:
    """Now, timezone-aware, in UTC."""
    return datetime.now(UTC)


def as_utc(moment: datetime, *, field: str = "timestamp") -> datetime:
    """``moment`` converted to UTC; a naive datetime is refused because its zone is unknown."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise StoreError(
            f"{moment.isoformat()} has no time zone; pass a timezone-aware datetime "
            "(for example datetime.now(UTC))",
            field=field,
        )
    return moment.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is stored in UTC and always read back timezone-aware in UTC.

    PostgreSQL keeps it as ``timestamptz``; SQLite, which has no zones, keeps naive UTC text.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        utc = as_utc(value)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime from the database, got {type(value).__name__}")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
