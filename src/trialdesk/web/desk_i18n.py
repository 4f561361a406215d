"""The desk pages' words in Simplified Chinese: their own catalogue, ``locale/zh/LC_MESSAGES/
desk.po``, kept apart from the public pages' ``messages.po`` so the two can be edited without
stepping on each other. A word missing here is looked up in ``messages.po``, then shown in
English (the message id)."""

from __future__ import annotations

import gettext
from functools import cache
from importlib import resources
from io import BytesIO

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from trialdesk.web.i18n import normalise_lang, translate

DESK_DOMAIN = "desk"
CODE_WORDS: dict[str, str] = {
    "not_met": "not met",
    "needs_confirmation": "needs confirmation",
    "needs_review": "needs review",
    "screen_failed": "screen failed",
    "done_early": "done early",
    "done_late": "done late",
    "may_be_eligible": "may be eligible",
    "probably_not_eligible": "probably not eligible",
    "not_started": "not started",
    "awaiting_adjudication": "awaiting adjudication",
    "evaluable": "evaluable, no DLT",
    "evaluable_dlt": "evaluable, DLT",
    "not_evaluable": "not evaluable",
    "dsmb": "DSMB",
    "anc": "ANC",
    "bilirubin_total": "total bilirubin",
    "alt": "ALT",
    "ast": "AST",
    "inr": "INR",
    "pt": "prothrombin time",
}
"""Stored codes shown to people: their English words (the Chinese ones are in desk.po)."""


@cache
def desk_catalogue(lang: str) -> gettext.NullTranslations:
    if lang == "en":
        return gettext.NullTranslations()
    source = resources.files("trialdesk.web").joinpath(
        "locale", lang, "LC_MESSAGES", f"{DESK_DOMAIN}.po"
    )
    with source.open("rb") as po_file:
        messages = read_po(po_file, locale="zh_Hans_CN" if lang == "zh" else lang)
    compiled = BytesIO()
    write_mo(compiled, messages)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def desk_translate(text: str, lang: str, **values: object) -> str:
    """``text`` in ``lang`` from the desk catalogue, else the public one, ``{name}`` filled."""
    chosen_lang = normalise_lang(lang)
    if chosen_lang == "en" and text in CODE_WORDS:
        return CODE_WORDS[text]
    chosen = desk_catalogue(chosen_lang).gettext(text)
    if chosen == text and chosen_lang != "en":
        return translate(text, chosen_lang, **values)
    return chosen.format(**values) if values else chosen
