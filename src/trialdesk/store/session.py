"""The unit of work: one transaction per use-case, committed only when the whole of it succeeded."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """A session that commits when the block ends normally and rolls back when it raises.

    Objects stay readable after the commit (``expire_on_commit=False``) so that callers can
    render what they just saved without another round trip.
    """
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
