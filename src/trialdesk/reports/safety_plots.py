"""The report's charts, drawn with matplotlib (no pyplot state, Agg/SVG canvases only) and
returned as SVG data URIs to embed in the HTML (WeasyPrint draws SVG in the PDF).

Colours are the Okabe-Ito palette, safe for the common colour-vision deficiencies, and every
colour is paired with a marker shape or a text label so nothing depends on colour alone."""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Callable, Sequence
from typing import Any

from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from trialdesk.reports.safety_model import LevelRow, PatientCourse, PneumonitisSeries

Translate = Callable[[str], str]

OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}
GRADE_STYLE: dict[Any, Any] = {
    1: (OKABE_ITO["sky"], "o"),
    2: (OKABE_ITO["green"], "s"),
    3: (OKABE_ITO["orange"], "^"),
    4: (OKABE_ITO["vermillion"], "D"),
    5: (OKABE_ITO["black"], "X"),
}
"""CTCAE grade -> (colour, marker): lighter and rounder for mild, darker and sharper for severe."""
LEVEL_COLOURS = (
    OKABE_ITO["blue"],
    OKABE_ITO["orange"],
    OKABE_ITO["green"],
    OKABE_ITO["purple"],
    OKABE_ITO["vermillion"],
    OKABE_ITO["sky"],
)
LEVEL_MARKERS = ("o", "s", "^", "D", "v", "P")
_STYLE: dict[Any, Any] = {
    "font.family": ["DejaVu Sans", "Noto Sans CJK SC", "Noto Sans CJK JP"],
    "font.size": 9,
    "svg.fonttype": "path",
    "svg.hashsalt": "trialdesk",
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _svg_uri(figure: Figure) -> str:
    buffer = io.BytesIO()
    with rc_context(_STYLE):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _powers(text: str) -> str:
    """'3.3×10^5 cells/kg' -> '3.3×10$^{5}$ cells/kg' (matplotlib's mathtext superscript)."""
    return re.sub(r"10\^(-?\d+)", r"10$^{\1}$", text)


def _level_colour(level: int) -> str:
    return LEVEL_COLOURS[(level - 1) % len(LEVEL_COLOURS)]


def _axis_end(courses: Sequence[PatientCourse]) -> int:
    """Where the swimmer's day axis stops: two weeks past the last DLT window or AE, so that
    long follow-up does not squeeze the treatment weeks (longer lanes end in an arrow)."""
    ends = [c.window[1] for c in courses if c.window] + [m.day for c in courses for m in c.aes]
    ends += [d for c in courses for d in c.infusion_days]
    natural = max((c.last_day for c in courses), default=0)
    return min(natural, max(ends, default=natural) + 14) if ends else natural


def swimmer_plot(courses: Sequence[PatientCourse], t: Translate) -> str | None:
    """One lane per patient from the first infusion: follow-up bar, DLT window band,
    infusions as ticks, AEs at onset by grade (a ring marks a confirmed DLT)."""
    if not courses:
        return None
    end = _axis_end(courses)
    with rc_context(_STYLE):
        figure = Figure(figsize=(7.2, 0.8 + 0.3 * len(courses)))
        axes = figure.add_subplot()
        for lane, course in enumerate(reversed(courses)):
            if course.window is not None:
                start, stop = course.window
                axes.barh(lane, stop - start + 1, left=start - 0.5, height=0.7, color="#DCEBF7")
            axes.barh(lane, min(course.last_day, end), left=0, height=0.28, color="#8C8C8C")
            if course.last_day > end:
                axes.plot(end, lane, marker=">", markersize=6, color="#8C8C8C")
            for day in course.infusion_days:
                axes.plot(day, lane, marker="|", markersize=11, mew=2, color="black")
            for mark in course.aes:
                colour, shape = GRADE_STYLE[mark.grade]
                axes.plot(
                    mark.day, lane + 0.22, marker=shape, markersize=6, color=colour, mec="black"
                )
                if mark.dlt:
                    axes.plot(
                        mark.day, lane + 0.22, marker="o", markersize=12, mfc="none", mec="black"
                    )
        axes.set_yticks(
            range(len(courses)),
            [f"{c.study_id} · L{c.level}" for c in reversed(courses)],
        )
        axes.set_xlabel(t("Day after the first infusion"))
        axes.set_xlim(-2, end + 2)
        axes.set_ylim(-0.7, len(courses) - 0.3)
        handles = [
            Line2D(
                [], [], marker="|", markersize=10, mew=2, color="black", ls="", label=t("Infusion")
            ),
            Patch(color="#DCEBF7", label=t("DLT window")),
            Patch(color="#8C8C8C", label=t("Follow-up")),
            Line2D(
                [], [], marker="o", markersize=10, mfc="none", mec="black", ls="", label=t("DLT")
            ),
        ]
        handles += [
            Line2D(
                [], [], marker=shape, color=colour, mec="black", ls="", label=f"{t('Grade')} {g}"
            )
            for g, (colour, shape) in GRADE_STYLE.items()
        ]
        axes.legend(
            handles=handles,
            loc="upper center",
            ncol=5,
            frameon=False,
            bbox_to_anchor=(0.5, -0.1 - 0.6 / len(courses)),
        )
        return _svg_uri(figure)


def pneumonitis_plot(series: Sequence[PneumonitisSeries], t: Translate) -> str | None:
    """Pneumonitis grade by day after the first infusion, one line per patient, coloured and
    marked by dose level."""
    if not series:
        return None
    with rc_context(_STYLE):
        figure = Figure(figsize=(7.2, 3.2))
        axes = figure.add_subplot()
        for one in series:
            days = [p.day for p in one.points]
            grades = [p.grade for p in one.points]
            marker = LEVEL_MARKERS[(one.level - 1) % len(LEVEL_MARKERS)]
            axes.plot(
                days,
                grades,
                drawstyle="steps-post",
                color=_level_colour(one.level),
                marker=marker,
                markersize=4,
                linewidth=1.4,
                label=f"{one.study_id} · {t('Level')} {one.level}",
            )
        axes.set_yticks(range(0, 6))
        axes.set_ylim(-0.3, 5.3)
        axes.set_xlabel(t("Day after the first infusion"))
        axes.set_ylabel(t("Pneumonitis grade"))
        axes.grid(axis="y", color="#E0E0E0")
        axes.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        return _svg_uri(figure)


def dlt_bar_plot(levels: Sequence[LevelRow], t: Translate) -> str | None:
    """Per dose level: DLT-evaluable patients and patients with a DLT, counts on the bars."""
    if not any(level.enrolled for level in levels):
        return None
    with rc_context(_STYLE):
        figure = Figure(figsize=(7.2, 2.8))
        axes = figure.add_subplot()
        xs = list(range(len(levels)))
        width = 0.38
        evaluable = axes.bar(
            [x - width / 2 for x in xs],
            [lv.evaluable for lv in levels],
            width,
            color=OKABE_ITO["blue"],
            label=t("Patients evaluable"),
        )
        with_dlt = axes.bar(
            [x + width / 2 for x in xs],
            [lv.patients_with_dlt for lv in levels],
            width,
            color=OKABE_ITO["vermillion"],
            hatch="//",
            edgecolor="white",
            label=t("Patients with a DLT"),
        )
        axes.bar_label(evaluable, padding=2)
        axes.bar_label(with_dlt, padding=2)
        axes.set_xticks(xs, [f"{t('Level')} {lv.level}\n{_powers(lv.dose)}" for lv in levels])
        axes.set_ylabel(t("Patients"))
        top = max(max(lv.evaluable for lv in levels), 1)
        axes.set_ylim(0, top + 1.5)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.legend(frameon=False, loc="upper right")
        return _svg_uri(figure)
