"""The DSMB safety report in the browser, ``/desk/reports/safety`` (HTML) and
``/desk/reports/safety.pdf``: the very document ``trialdesk report safety`` writes, made by the
same renderer from the same database, as of the cut-off asked for (default today).

The HTML page is the report itself, print-friendly, with a bar on top (hidden when printed) to
go back to the desk, choose another cut-off or language, and download the PDF. A cut-off that
is not a date or lies in the future is refused with a 400 page that keeps what was typed.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from trialdesk.errors import TrialdeskError
from trialdesk.reports import render_safety_html
from trialdesk.reports.safety_render import html_to_pdf
from trialdesk.trial.roles import Action
from trialdesk.web.auth import page_account
from trialdesk.web.desk_i18n import desk_translate
from trialdesk.web.pages_common import (
    desk_session,
    page_lang,
    read_refusal,
    refused,
    render,
    templates,
)
from trialdesk.web.sessions import Account

router = APIRouter(include_in_schema=False)
PageAccount = Annotated[Account, Depends(page_account)]
PAGE: Final = "/desk/reports/safety"


def parse_cutoff(text: str | None) -> date | None:
    """``YYYY-MM-DD`` -> date; empty or absent -> None (today)."""
    if text is None or not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise TrialdeskError(
            f"{text!r} is not a date; write the data cut-off as YYYY-MM-DD, e.g. 2026-03-10",
            field="cutoff",
        ) from None


def _report_html(request: Request, lang: str) -> tuple[str, date]:
    """The report as the CLI renders it, and its cut-off: ``?cutoff=``, else today."""
    cutoff = parse_cutoff(request.query_params.get("cutoff"))
    with desk_session(request) as (session, ctx):
        html = render_safety_html(session, ctx.loaded, cutoff, lang, clock=ctx.clock)
        return html, cutoff or ctx.clock.today()


def _refusal(request: Request, account: Account, exc: TrialdeskError) -> Response:
    values = {"cutoff": request.query_params.get("cutoff", "")}
    state = refused(exc, values, "report")
    return render(request, account, "desk/safety_report.html", {"state": state}, status=400)


def with_bar(report: str, bar: str) -> str:
    """The report with the desk's bar as the first thing in its body."""
    head, marker, body = report.partition("<body>")
    if not marker:
        raise ValueError("the safety report has no <body> to put the desk's bar in")
    return f"{head}{marker}\n{bar}{body}"


def _bar(lang: str, cutoff: date) -> str:
    template = templates.get_template("desk/safety_bar.html")
    return template.render(
        t=lambda text, **kw: desk_translate(text, lang, **kw),
        lang=lang,
        cutoff=cutoff.isoformat(),
        page=PAGE,
    )


@router.get(PAGE)
def safety_report(request: Request, account: PageAccount) -> Response:
    if (refusal := read_refusal(request, account, Action.READ_SAFETY_SUMMARY)) is not None:
        return refusal
    lang = page_lang(request)
    try:
        report, cutoff = _report_html(request, lang)
    except TrialdeskError as exc:
        return _refusal(request, account, exc)
    return HTMLResponse(with_bar(report, _bar(lang, cutoff)))


@router.get(f"{PAGE}.pdf")
def safety_report_pdf(request: Request, account: PageAccount) -> Response:
    if (refusal := read_refusal(request, account, Action.READ_SAFETY_SUMMARY)) is not None:
        return refusal
    lang = page_lang(request)
    try:
        report, cutoff = _report_html(request, lang)
    except TrialdeskError as exc:
        return _refusal(request, account, exc)
    name = f"safety-report-{request.app.state.runtime.loaded.protocol.id}-{cutoff}-{lang}.pdf"
    return Response(
        html_to_pdf(report),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
