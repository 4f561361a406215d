"""The safety report as HTML (Jinja2, one print-friendly template) and as PDF made by
WeasyPrint from that same HTML, so the two always show the same numbers."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from datetime import date
from importlib import resources
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.orm import Session

from trialdesk.errors import TrialdeskError
from trialdesk.markup import superscript_powers
from trialdesk.protocol import LoadedProtocol
from trialdesk.reports.safety_data import gather_safety_report
from trialdesk.reports.safety_flow import FLOW_KEYS
from trialdesk.reports.safety_model import GRADES, SafetyReport
from trialdesk.reports.safety_plots import (
    GRADE_STYLE,
    dlt_bar_plot,
    pneumonitis_plot,
    swimmer_plot,
)
from trialdesk.reports.safety_words import LANGS, words
from trialdesk.trial.adverse_events import OUTCOMES
from trialdesk.trial.clock import Clock, SystemClock
from trialdesk.trial.sae import SaeCriterion

FORMATS = (".html", ".pdf")


def rule_number(rule: str) -> str:
    """'rule 1: grade ≥ 3; ...' -> 'rule 1' (the rules are listed once under the table)."""
    return rule.split(":", 1)[0]


def _environment() -> Environment:
    folder = resources.files("trialdesk.reports").joinpath("templates")
    environment = Environment(
        loader=FileSystemLoader(str(folder)),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["powers"] = superscript_powers
    environment.filters["rule_number"] = rule_number
    return environment


def _outcome_text(lang: str) -> Callable[[str | None], str]:
    index = 1 if lang == "zh" else 0

    def text(key: str | None) -> str:
        return OUTCOMES[key][index] if key in OUTCOMES else (key or "–")

    return text


def _criterion_text(lang: str) -> Callable[[str], str]:
    def text(key: str) -> str:
        try:
            return SaeCriterion(key).text(lang)
        except ValueError:
            return key

    return text


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise TrialdeskError(f"{lang!r} is not a report language; use en or zh", field="lang")
    return lang


def report_html(report: SafetyReport, lang: str) -> str:
    """The report's HTML page (self-contained: styles inline, charts as data URIs)."""
    t = words(check_lang(lang))
    template = _environment().get_template("safety_report.html")
    return template.render(
        r=report,
        t=t,
        lang=lang,
        grades=GRADES,
        grade_colours={grade: colour for grade, (colour, _) in GRADE_STYLE.items()},
        flow_keys=FLOW_KEYS,
        outcome_text=_outcome_text(lang),
        criterion_text=_criterion_text(lang),
        dlt_rules=sorted({line.rule for line in report.dlts}),
        swimmer=swimmer_plot(report.courses, t),
        pneumonitis=pneumonitis_plot(report.pneumonitis, t),
        dlt_bars=dlt_bar_plot(report.levels, t),
    )


def render_safety_html(
    session: Session,
    protocol: LoadedProtocol,
    cutoff: date | None,
    lang: str = "en",
    *,
    clock: Clock | None = None,
) -> str:
    """The safety report as HTML, as of ``cutoff`` (default: today at the site). For the web
    page and the command line alike."""
    check_lang(lang)
    used = clock or SystemClock()
    day = check_cutoff(cutoff, used)
    return report_html(gather_safety_report(session, protocol, day, used, lang), lang)


def check_cutoff(cutoff: date | None, clock: Clock) -> date:
    """The cut-off, today when not given; refused in the future (no data exists yet)."""
    today = clock.today()
    if cutoff is None:
        return today
    if cutoff > today:
        raise TrialdeskError(
            f"{cutoff} is after today ({today}); a data cut-off is today or earlier",
            field="cutoff",
        )
    return cutoff


def html_to_pdf(html: str) -> bytes:
    """The same HTML printed to PDF by WeasyPrint (A4, page numbers from the stylesheet)."""
    from weasyprint import HTML

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


def check_output_path(out: Path) -> Path:
    """``out`` if it names a .pdf or .html file in an existing folder."""
    if out.suffix.lower() not in FORMATS:
        raise TrialdeskError(
            f"{out.name!r} must end in .pdf or .html (the format follows the suffix)",
            field="out",
        )
    if not out.parent.is_dir():
        raise TrialdeskError(
            f"the folder {out.parent} does not exist; create it first", field="out"
        )
    return out


def write_safety_report(out: Path, html: str) -> Path:
    """Write the report as HTML or PDF, chosen by ``out``'s suffix. Written to a temporary file
    beside ``out`` and renamed, so a failure never leaves half a report."""
    check_output_path(out)
    data = html_to_pdf(html) if out.suffix.lower() == ".pdf" else html.encode("utf-8")
    handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return out
