"""The one way an electronic signature is shown (21 CFR 11.50 manifestation): printed name,
date and time, and meaning, e.g. ``Signed by LI Ming, MD on 2026-03-10 09:30 +08:00: I approve
this dose-escalation decision``."""

from __future__ import annotations

from datetime import datetime, tzinfo


def signature_manifestation(name: str, at: datetime, meaning: str, zone: tzinfo) -> str:
    """The signature as a sentence, its time in the site's ``zone``."""
    local = at.astimezone(zone)
    offset = local.strftime("%z")
    shown = f"{local:%Y-%m-%d %H:%M} {offset[:3]}:{offset[3:]}"
    return f"Signed by {name} on {shown}: {meaning}"
