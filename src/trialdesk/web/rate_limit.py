"""A small in-memory sliding-window limit on public posts per client address.

Enough for one desk process behind one address; a desk run by several processes would need a
shared store. Addresses are held only in memory, for the length of the window.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class RateLimit:
    def __init__(
        self, *, limit: int, window_s: float, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self._now = now
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Count one attempt by ``key``; False when it is over the limit in the window."""
        now = self._now()
        with self._lock:
            for other in [k for k, hits in self._hits.items() if now - hits[-1] > self.window_s]:
                del self._hits[other]
            hits = self._hits.setdefault(key, deque())
            while hits and now - hits[0] > self.window_s:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            return True
