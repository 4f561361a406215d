"""Interface words in English and Simplified Chinese, from gettext message catalogues.

The English text is the message id, so a missing translation falls back to readable English.
Translations live in ``web/locale/<lang>/LC_MESSAGES/messages.po`` (edited by hand or with
``pybabel``). They are compiled in memory when first needed, with Babel, rather than as ``.mo``
files at install time: nothing to build or forget after editing a ``.po`` file, the same path for
an editable install and a wheel, and a few milliseconds once per process. The page templates call
``t('English text', name=value)``; ``{name}`` placeholders are filled after translating.
"""

from __future__ import annotations

import gettext
from functools import cache
from importlib import resources
from io import BytesIO

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

SUPPORTED = ("en", "zh")
DOMAIN = "messages"


def normalise_lang(value: str | None) -> str:
    """'zh-CN', 'zh_Hans', 'ZH' -> 'zh'; anything unknown -> 'en'."""
    if value and value.strip().lower().startswith("zh"):
        return "zh"
    return "en"


@cache
def catalogue(lang: str) -> gettext.NullTranslations:
    """The compiled catalogue for ``lang`` (English: the message ids themselves)."""
    if lang == "en":
        return gettext.NullTranslations()
    source = resources.files("trialdesk.web").joinpath(
        "locale", lang, "LC_MESSAGES", f"{DOMAIN}.po"
    )
    with source.open("rb") as po_file:
        messages = read_po(po_file, locale="zh_Hans_CN" if lang == "zh" else lang)
    compiled = BytesIO()
    write_mo(compiled, messages)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def translate(text: str, lang: str, **values: object) -> str:
    """The interface text in ``lang``, with ``{name}`` placeholders filled."""
    chosen = catalogue(normalise_lang(lang)).gettext(text)
    return chosen.format(**values) if values else chosen
