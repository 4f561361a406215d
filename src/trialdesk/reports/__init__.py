"""Reports generated from the database, with nothing typed by hand: the DSMB safety report
(HTML and PDF from the same HTML)."""

from trialdesk.reports.safety_render import (
    check_output_path,
    render_safety_html,
    write_safety_report,
)

__all__ = ["check_output_path", "render_safety_html", "write_safety_report"]
