"""Writers of one SQLite file in different processes take turns on an operating-system file lock.

SQLite lets one writer at a time hold a database file (``BEGIN IMMEDIATE``); a writer of another
process that finds it taken waits in SQLite's busy handler, which sleeps 1, 2, 5, 10, ... up to
100 ms between tries and so often sleeps on long after the file is free. Under load from two
server processes that polling, not the writing, made the slowest saves. Before asking SQLite,
a writer therefore takes an exclusive ``flock`` on a small file beside the database
(``<database>-writers``), and every trialdesk process does the same: the next writer starts
within about a millisecond of the last one's commit.

The lock only shortens waits; ``BEGIN IMMEDIATE`` still decides who writes. Where the lock file
cannot be used (no ``fcntl``, a folder that cannot hold it, an in-memory or URI database),
writers simply rely on SQLite's own handler.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Final

from sqlalchemy import Engine

try:
    import fcntl
except ImportError:  # Windows: SQLite's busy handler alone
    fcntl = None  # type: ignore[assignment]

LOCK_FILE_SUFFIX: Final = "-writers"
_FIRST_PAUSE_S: Final = 0.0005
_LONGEST_PAUSE_S: Final = 0.002
"""How often a waiting writer looks again (``flock`` itself has no time limit to wait with)."""


def lock_file_of(engine: Engine) -> Path | None:
    """The lock file that the writers of ``engine``'s SQLite file share, or None where there is
    none to share (PostgreSQL, an in-memory or URI database, no ``fcntl``)."""
    database = engine.url.database
    if fcntl is None or engine.dialect.name != "sqlite":
        return None
    if database in (None, "", ":memory:") or database.startswith("file:"):
        return None
    return Path(database + LOCK_FILE_SUFFIX)


class FileTurn:
    """One writer's hold on the shared lock file, from :meth:`take` to :meth:`give_back`."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._descriptor: int | None = None

    def take(self, deadline: float) -> bool:
        """Wait until the file is ours or ``deadline`` (``time.monotonic()``) passes; False if
        it passed. A file that cannot be opened counts as taken: SQLite still decides."""
        assert fcntl is not None and self._descriptor is None
        try:
            descriptor = os.open(self._path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError:
            return True
        pause = _FIRST_PAUSE_S
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                left = deadline - time.monotonic()
                if left <= 0:
                    os.close(descriptor)
                    return False
                time.sleep(min(pause, left))
                pause = min(pause * 2, _LONGEST_PAUSE_S)
                continue
            self._descriptor = descriptor
            return True

    def give_back(self) -> None:
        """Let the next writer in (closing the descriptor releases the lock)."""
        if self._descriptor is not None:
            descriptor, self._descriptor = self._descriptor, None
            os.close(descriptor)
