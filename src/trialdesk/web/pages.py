"""The signed-in desk pages (dashboard, screening, participants, decisions) as one install."""

from __future__ import annotations

from fastapi import FastAPI

from trialdesk.web import (
    pages_adverse_events,
    pages_dashboard,
    pages_decisions,
    pages_follow_up,
    pages_participants,
    pages_reports,
    pages_screening,
)


def install_desk_pages(app: FastAPI) -> None:
    """Add the desk pages' routes (they need the accounts installed: sessions and CSRF)."""
    for module in (
        pages_dashboard,
        pages_screening,
        pages_participants,
        pages_adverse_events,
        pages_follow_up,
        pages_decisions,
        pages_reports,
    ):
        app.include_router(module.router)
