"""HTML helpers shared by the web pages and the printed reports (both render Jinja2)."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_POWER = re.compile(r"10\^(-?\d+)")


def superscript_powers(value: object) -> Markup:
    """'3.3×10^5 cells/kg' -> '3.3×10<sup>5</sup> cells/kg', the rest escaped."""
    return Markup(_POWER.sub(r"10<sup>\1</sup>", str(escape(value))))
