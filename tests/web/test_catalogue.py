"""Every interface sentence the pages ask for has a Simplified Chinese translation."""

from __future__ import annotations

import ast
import re
from importlib import resources
from pathlib import Path

from babel.messages.pofile import read_po

from trialdesk.web.i18n import translate

WEB = Path(str(resources.files("trialdesk.web")))
PYTHON_SOURCES = ("public_page.py", "public_routes.py", "contact_form.py")
SAME_IN_BOTH = {"English", "简体中文", "1", "2", "3", "4"}
"""Words written the same way in both languages (a language's own name, phase numbers)."""
_T_CALL = re.compile(r"""\bt\(\s*(['"])(.+?)\1""")
_CHOICE = re.compile(r"""\(\s*'[a-z_]+'\s*,\s*'([^']+)'""")


def _template_ids() -> set[str]:
    found: set[str] = set()
    for template in (WEB / "templates").glob("*.html"):
        text = template.read_text(encoding="utf-8")
        found.update(m.group(2) for m in _T_CALL.finditer(text))
        found.update(m.group(1) for m in _CHOICE.finditer(text))
    return found


def _python_ids() -> set[str]:
    """Literal first arguments of t()/translate() and the sentences kept in dicts/constants."""
    found: set[str] = set()
    for name in PYTHON_SOURCES:
        tree = ast.parse((WEB / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) in ("t", "translate")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.add(node.args[0].value)
    from trialdesk.web import public_page, public_routes

    found.update(public_routes.PROBLEM_WORDS.values())
    found.add(public_routes.CONSENT_TEXT)
    found.update(public_page.STATUS_WORDS.values())
    found.update(public_page.PHASE_NAMES.values())
    return found


def test_every_sentence_of_the_pages_is_translated() -> None:
    ids = _template_ids() | _python_ids()
    assert len(ids) > 80
    missing = sorted(i for i in ids if translate(i, "zh") == i and i not in SAME_IN_BOTH)
    assert missing == [], (
        f"add these msgids with their Chinese to web/locale/zh/LC_MESSAGES/messages.po: {missing}"
    )


def test_contact_form_problems_are_translated() -> None:
    source = (WEB / "contact_form.py").read_text(encoding="utf-8")
    problems = re.findall(r'problems\["\w+"\] = \(?\s*"([^"]+)"', source)
    assert len(problems) >= 6
    assert [p for p in problems if translate(p, "zh") == p] == []


def test_the_catalogue_has_no_fuzzy_or_empty_entries() -> None:
    path = WEB / "locale" / "zh" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po_file:
        catalog = read_po(po_file)
    bad = [m.id for m in catalog if m.id and (m.fuzzy or not m.string)]
    assert bad == []
