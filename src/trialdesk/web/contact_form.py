"""The contact part of the public pre-screening form: read and check what a person typed.

Problems are returned per field as English message ids (translated by the page), never raised:
the page shows them all at once beside the fields.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from trialdesk.store.prescreen_contacts import EMAIL_LENGTH, LANGUAGES, NAME_LENGTH, PHONE_LENGTH

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ()\-]+$")
MIN_PHONE_DIGITS = 6


@dataclass(frozen=True, slots=True)
class ContactDetails:
    name: str
    phone: str | None
    email: str | None
    preferred_language: str
    consent: bool


def read_contact(form: Mapping[str, str]) -> tuple[ContactDetails, dict[str, str]]:
    """The details as typed (trimmed) and the problems by field (empty when all is well)."""
    problems: dict[str, str] = {}
    name = _clean(form.get("name", ""))
    phone = _clean(form.get("phone", "")) or None
    email = _clean(form.get("email", "")) or None
    language = form.get("preferred_language", "")
    consent = form.get("consent") == "yes"
    if not name:
        problems["name"] = "Write your name."
    elif len(name) > NAME_LENGTH:
        problems["name"] = "The name is too long; write at most {n} characters."
    if phone is not None and (
        len(phone) > PHONE_LENGTH
        or not _PHONE.match(phone)
        or sum(ch.isdigit() for ch in phone) < MIN_PHONE_DIGITS
    ):
        problems["phone"] = "Write the phone number with digits only, e.g. +86 138 0000 0000."
    if email is not None and (len(email) > EMAIL_LENGTH or not _EMAIL.match(email)):
        problems["email"] = "Write the email address like name@example.com."
    if phone is None and email is None:
        problems["phone"] = "Give a phone number or an email address, so the team can reach you."
    if language not in LANGUAGES:
        problems["preferred_language"] = "Choose a language."
    if not consent:
        problems["consent"] = "Tick the box to agree to be contacted. Without it nothing is kept."
    return ContactDetails(name, phone, email, language, consent), problems


def _clean(value: str) -> str:
    """Trimmed, with control characters removed and runs of spaces made one."""
    kept = "".join(ch for ch in value if unicodedata.category(ch)[0] != "C")
    return " ".join(kept.split())
