"""How many requests one server process works on at once.

trialdesk's endpoints are plain (synchronous) functions, which Starlette runs on a pool of
threads: 40 by default. In one process only one thread runs Python at a time (the GIL), so 40
threads do not do more work than 8; they take turns. Every database round trip gives up the
interpreter and then waits for it again behind the other threads, and a writer does that while
it holds the write lock every other writer is waiting for. With fewer threads a request waits
for its turn once, before it starts, and a writer holds the lock for less time. On 2 cores with
50 clients, 8 threads gave shorter tails than 40 (docs/benchmarks.md), and the database waits
of the 8 still overlap.

``trialdesk serve --threads N`` sets it; each worker process reads it from the environment.
"""

from __future__ import annotations

import os
from typing import Final

from anyio import to_thread

from trialdesk.errors import TrialdeskError

REQUEST_THREADS_ENV: Final = "TRIALDESK_REQUEST_THREADS"
DEFAULT_REQUEST_THREADS: Final = 8
MAX_REQUEST_THREADS: Final = 200


def request_threads(given: int | None = None) -> int:
    """``given``, else TRIALDESK_REQUEST_THREADS, else the default; refused when out of range."""
    source, value = "--threads", given
    if value is None:
        text = os.environ.get(REQUEST_THREADS_ENV, "").strip()
        if not text:
            return DEFAULT_REQUEST_THREADS
        source = REQUEST_THREADS_ENV
        try:
            value = int(text)
        except ValueError:
            raise TrialdeskError(
                f"{text!r} is not a whole number; set it to the number of "
                f"requests a process works on at once (1 to {MAX_REQUEST_THREADS}; default "
                f"{DEFAULT_REQUEST_THREADS}) or unset it",
                field=REQUEST_THREADS_ENV,
            ) from None
    if not 1 <= value <= MAX_REQUEST_THREADS:
        raise TrialdeskError(
            f"{value} is out of range; give 1 to {MAX_REQUEST_THREADS} (default "
            f"{DEFAULT_REQUEST_THREADS})",
            field=source,
        )
    return value


def use_request_threads(count: int) -> None:
    """Let the running event loop's thread pool run at most ``count`` requests at once (call it
    from the app's lifespan, inside the loop)."""
    to_thread.current_default_thread_limiter().total_tokens = count
