"""The screening result as a checklist a coordinator reads at the desk (English or Chinese).

Criteria are grouped inclusion / exclusion in protocol order; each line has a mark, the id, the
criterion's text, and the reason with its evidence (values, ULN multiples, CrCl working, dates).
The marks say whether the line is good for the patient, so an exclusion that is absent is a
tick:

    ✓ met / absent    ✗ not met / present    ? data missing    ! investigator to answer

It renders either a :class:`ScreeningResult` or its JSON form (``{"verdict", "criteria"}``), so a
stored screening replays to the same text.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trialdesk.eligibility.result import ScreeningResult
from trialdesk.protocol.models import Protocol

__all__ = ["render_checklist", "render_checklist_data"]

WIDTH = 100

_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "inclusion": "Inclusion criteria",
        "exclusion": "Exclusion criteria",
        "verdict": "Verdict",
        "next": "Next",
        "eligible": "ELIGIBLE",
        "ineligible": "NOT ELIGIBLE",
        "incomplete": "INCOMPLETE",
        "needs_review": "NEEDS REVIEW",
        "legend": "✓ met / absent  ✗ not met / present  ? data missing  ! investigator to answer",
        "any": " (any one suffices)",
        "next_eligible": (
            "Every criterion is satisfied. The investigator signs the eligibility, then the "
            "patient can be enrolled."
        ),
        "next_ineligible": (
            "Do not enrol. Failing: {failing}. If a value was entered wrongly, correct the record "
            "and screen again."
        ),
        "next_incomplete_missing": "Add the missing data for: {missing}.",
        "next_incomplete_pending": "Ask the investigator to answer: {pending}.",
        "next_incomplete": "Then screen again.",
        "next_needs_review": (
            "The protocol contradicts itself for this patient ({held}). The investigator and the "
            "sponsor must decide before enrolment; record their decision and screen again."
        ),
    },
    "zh": {
        "inclusion": "入选标准",
        "exclusion": "排除标准",
        "verdict": "结论",
        "next": "下一步",
        "eligible": "符合入组条件",
        "ineligible": "不符合入组条件",
        "incomplete": "资料不完整",
        "needs_review": "需要审核",
        "legend": "✓ 符合 / 不存在   ✗ 不符合 / 存在   ? 缺少数据   ! 待研究者回答",
        "any": "（满足其一即可）",
        "next_eligible": "所有标准均已满足。研究者签署入选确认后，患者即可入组。",
        "next_ineligible": "不予入组。未通过：{failing}。如有数据录入错误，请更正记录后重新筛选。",
        "next_incomplete_missing": "请补充以下标准所缺的数据：{missing}。",
        "next_incomplete_pending": "请研究者回答：{pending}。",
        "next_incomplete": "然后重新筛选。",
        "next_needs_review": (
            "方案对该患者存在矛盾（{held}）。须由研究者和申办方在入组前作出决定；记录其决定后重新筛选。"
        ),
    },
}


@dataclass(frozen=True)
class _Row:
    id: str
    kind: str
    parent: str | None
    status: str
    reason: str
    held: bool = False


def _mark(kind: str, status: str) -> str:
    if status == "unknown":
        return "?"
    if status == "needs_confirmation":
        return "!"
    good = "met" if kind == "inclusion" else "not_met"
    return "✓" if status == good else "✗"


def render_checklist(result: ScreeningResult, protocol: Protocol, *, lang: str = "en") -> str:
    """The checklist of a screening result."""
    rows = [
        _Row(
            c.id,
            c.kind,
            c.parent,
            c.status,
            c.reason,
            held=any(p.startswith("tension:") for p in c.pending),
        )
        for c in result.criteria
    ]
    return _render(rows, result.verdict, protocol, lang, header=_header(result, lang))


def render_checklist_data(data: Mapping[str, Any], protocol: Protocol, *, lang: str = "en") -> str:
    """The checklist of a result's JSON form (kinds and parents come from ``protocol``)."""
    kinds: dict[str, tuple[str, str | None]] = {}
    for criterion in protocol.criteria:
        kinds[criterion.id] = (criterion.kind, None)
        for sub in criterion.sub:
            kinds[sub.id] = (criterion.kind, criterion.id)
    rows = []
    for item in data.get("criteria", []):
        kind, parent = kinds.get(str(item["id"]), ("inclusion", None))
        reason = str(item["reason"])
        held = reason.startswith("Held for review")  # the evaluator's wording for a held result
        rows.append(_Row(str(item["id"]), kind, parent, str(item["status"]), reason, held=held))
    return _render(rows, str(data.get("verdict")), protocol, lang, header=[])


def _header(result: ScreeningResult, lang: str) -> list[str]:
    if lang == "zh":
        return [
            f"方案 {result.protocol_id}（版本 {result.protocol_version}），"
            f"筛选日期 {result.screening_date}"
        ]
    return [
        f"Screening for {result.protocol_id} (version {result.protocol_version}) "
        f"on {result.screening_date}"
    ]


def _render(
    rows: list[_Row], verdict: str, protocol: Protocol, lang: str, *, header: list[str]
) -> str:
    words = _WORDS["zh" if lang == "zh" else "en"]
    texts: dict[str, str] = {}
    for criterion in protocol.criteria:
        texts[criterion.id] = " ".join(criterion.text.get(lang).split())
        if criterion.sub and criterion.combine == "any":
            texts[criterion.id] += words["any"]
        for sub in criterion.sub:
            texts[sub.id] = " ".join(sub.text.get(lang).split())
    lines = [*header, words["legend"]] if header else [words["legend"]]
    for kind in ("inclusion", "exclusion"):
        lines += ["", words[kind]]
        for row in rows:
            if row.kind != kind:
                continue
            indent = "      " if row.parent else "  "
            lines += _wrapped(
                f"{_mark(row.kind, row.status)} {row.id}  {texts.get(row.id, '')}", indent
            )
            has_subs = any(other.parent == row.id for other in rows)
            if not has_subs:
                lines += _wrapped(row.reason, indent + "    ")
    lines += ["", f"{words['verdict']}: {words.get(verdict, verdict)}"]
    lines += _wrapped(f"{words['next']}: {_next(rows, verdict, words)}", "")
    return "\n".join(lines)


def _wrapped(text: str, indent: str) -> list[str]:
    return textwrap.wrap(
        text, WIDTH, initial_indent=indent, subsequent_indent=indent + "  ", break_on_hyphens=False
    ) or [indent.rstrip()]


def _next(rows: list[_Row], verdict: str, words: dict[str, str]) -> str:
    """What to do next; only the undecided parts of undecided criteria are asked for (a
    criterion already met by one alternative needs nothing more)."""

    def parts(top: _Row, status: str) -> list[str]:
        subs = [r for r in rows if r.parent == top.id]
        if not subs:
            return [top.id]
        return [r.id for r in subs if r.status == status]

    tops = [r for r in rows if r.parent is None]
    if verdict == "eligible":
        return words["next_eligible"]
    if verdict == "ineligible":
        failing = [
            f"{top.id} ({', '.join(parts(top, top.status))})"
            if any(r.parent == top.id for r in rows)
            else top.id
            for top in tops
            if top.status in ("met", "not_met") and _mark(top.kind, top.status) == "✗"
        ]
        return words["next_ineligible"].format(failing=", ".join(failing))
    if verdict == "needs_review":
        held = [r.id for r in rows if r.held]
        return words["next_needs_review"].format(held=", ".join(held))
    missing = [i for top in tops if top.status == "unknown" for i in parts(top, "unknown")]
    pending = [
        i
        for top in tops
        if top.status in ("unknown", "needs_confirmation")
        for i in parts(top, "needs_confirmation")
    ]
    steps = []
    if missing:
        steps.append(words["next_incomplete_missing"].format(missing=", ".join(missing)))
    if pending:
        steps.append(words["next_incomplete_pending"].format(pending=", ".join(pending)))
    steps.append(words["next_incomplete"])
    return " ".join(steps)
