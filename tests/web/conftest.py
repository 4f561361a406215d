"""Fixtures shared by the web tests (helpers to import are in web_accounts and desk_seed)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from web_accounts import desk_client


@pytest.fixture
def coord(database_url: str) -> Iterator[TestClient]:
    """A coordinator's client on a desk with one account per role, on a manual clock."""
    with desk_client(database_url, "coord") as client:
        yield client
