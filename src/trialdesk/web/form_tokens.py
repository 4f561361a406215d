"""Signed tokens for the public pre-screening forms, which have no session to tie a CSRF token to.

A token is issued with the page and signed with the desk's secret (itsdangerous): a post without
a token this desk issued in the last ``max_age_s`` seconds is refused, and so is a token used
twice (a replayed or double-submitted contact request). The secret comes from
TRIALDESK_SECRET_KEY; without it a random one is made per process, so a restart only means
"fill in the form again".
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Callable

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SECRET_ENV = "TRIALDESK_SECRET_KEY"


class FormTokenRefused(Exception):
    """``expired`` when the token was good but old; otherwise missing, forged or reused."""

    def __init__(self, *, expired: bool) -> None:
        super().__init__("form token expired" if expired else "form token missing or invalid")
        self.expired = expired


class FormTokens:
    def __init__(
        self,
        secret: str | None = None,
        *,
        max_age_s: int = 2 * 3600,
        now: Callable[[], float] = time.time,
    ) -> None:
        key = secret or os.environ.get(SECRET_ENV) or secrets.token_urlsafe(32)
        self._signer = URLSafeTimedSerializer(key, salt="trialdesk-public-form")
        self._max_age_s = max_age_s
        self._now = now
        self._used: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self, form: str) -> str:
        return self._signer.dumps({"form": form, "nonce": secrets.token_urlsafe(12)})

    def check(self, token: str | None, form: str, *, consume: bool = False) -> None:
        """Raise FormTokenRefused unless ``token`` is ours, recent, for ``form`` and unused."""
        if not token or len(token) > 500:
            raise FormTokenRefused(expired=False)
        try:
            payload = self._signer.loads(token, max_age=self._max_age_s)
        except SignatureExpired:
            raise FormTokenRefused(expired=True) from None
        except BadSignature:
            raise FormTokenRefused(expired=False) from None
        if not isinstance(payload, dict) or payload.get("form") != form:
            raise FormTokenRefused(expired=False)
        if consume:
            self._consume(str(payload.get("nonce")))

    def _consume(self, nonce: str) -> None:
        now = self._now()
        with self._lock:
            for old in [n for n, at in self._used.items() if now - at > self._max_age_s]:
                del self._used[old]
            if nonce in self._used:
                raise FormTokenRefused(expired=False)
            self._used[nonce] = now
