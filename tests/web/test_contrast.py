"""Text colours of the pages against their backgrounds meet WCAG 2.1 AA (4.5:1 for text)."""

from __future__ import annotations

import re
from importlib import resources

import pytest

CSS = resources.files("trialdesk.web").joinpath("static", "trialdesk.css").read_text("utf-8")
VARIABLES: dict[str, str] = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", CSS))


def colour(name: str) -> str:
    return VARIABLES.get(name, name)


def luminance(hex_colour: str) -> float:
    """WCAG 2.1 relative luminance of an sRGB colour."""
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    lighter, darker = sorted((luminance(colour(foreground)), luminance(colour(background))))[::-1]
    return (lighter + 0.05) / (darker + 0.05)


def test_known_contrast_values() -> None:
    # WCAG 2.1 definition: black on white is 21:1, a colour on itself 1:1.
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#777777") == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("foreground", "background"),
    [
        ("ink", "paper"),
        ("ink", "bg"),
        ("muted", "paper"),  # hints, fact labels
        ("muted", "bg"),  # footer
        ("#ffffff", "accent"),  # top bar, buttons
        ("accent", "paper"),  # headings, links
        ("ok", "ok-soft"),  # the recruiting pill
        ("warn", "warn-soft"),
        ("#a4262c", "paper"),  # error messages
        ("#a4262c", "#fdf0f0"),  # the error summary
    ],
)
def test_text_colours_meet_aa(foreground: str, background: str) -> None:
    assert foreground in VARIABLES or foreground.startswith("#")
    assert contrast(foreground, background) >= 4.5
