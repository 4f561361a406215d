"""Reports generated from the database, with nothing typed by hand: the DSMB safety report
(HTML and PDF from the same HTML)."""

from trialdesk.reports.safety_render import render_safety_html, write_safety_report

__all__ = ["render_safety_html", "write_safety_report"]
