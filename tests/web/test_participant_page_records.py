"""The participant page of someone with many records stays readable and quick: each record's
correction and void forms are drawn only for the record being edited (a link per record leads
there), and the audit trail shows its newest entries with a link to the whole trail."""

from __future__ import annotations

import re

from desk_seed import enrolled_patient, pneumonitis
from fastapi.testclient import TestClient

from trialdesk.web.pages_participants import AUDIT_LINES_SHOWN


def audit_rows(page: str) -> list[str]:
    """The audit table's 'Record' cells, top to bottom."""
    section = page[page.index('id="audit"') :]
    return re.findall(r'<td class="num">[^<]*</td><td>[^<]*</td><td>([^<]*)</td>', section)


def test_each_adverse_event_links_to_its_forms_and_only_the_asked_one_is_drawn(
    coord: TestClient,
) -> None:
    pid = enrolled_patient(coord)
    events = [pneumonitis(coord, pid, grade=1)["id"] for _ in range(3)]
    page = coord.get(f"/desk/participants/{pid}").text
    for event in events:
        assert f'href="?edit=ae-correct-{event}#form-ae-correct-{event}"' in page
        assert f'href="?edit=ae-void-{event}#form-ae-void-{event}"' in page
    assert "/adverse-events/" not in page.replace(f'"/desk/participants/{pid}/adverse-events"', "")

    asked = coord.get(f"/desk/participants/{pid}?edit=ae-void-{events[1]}").text
    assert f'action="/desk/participants/{pid}/adverse-events/{events[1]}/void"' in asked
    assert asked.count('/void"') == 1  # no other record's form
    assert f'id="form-ae-void-{events[1]}"' in asked  # where the link scrolls to
    correcting = coord.get(f"/desk/participants/{pid}?edit=ae-correct-{events[0]}").text
    form = correcting[correcting.index(f'id="form-ae-correct-{events[0]}"') :]
    assert 'name="version" value="1"' in form and 'value="Pneumonitis"' in form
    assert f'href="/desk/participants/{pid}#ae-{events[0]}">Cancel</a>' in form


def test_a_made_up_form_name_draws_no_form_and_is_not_echoed_as_markup(coord: TestClient) -> None:
    pid = enrolled_patient(coord)
    pneumonitis(coord, pid, grade=1)
    page = coord.get(f"/desk/participants/{pid}", params={"edit": '"><script>x</script>'})
    assert page.status_code == 200
    assert "<script>x" not in page.text and "/correct" not in page.text


def test_the_audit_trail_shows_the_newest_entries_and_links_to_the_whole_trail(
    coord: TestClient,
) -> None:
    pid = enrolled_patient(coord)
    events = [pneumonitis(coord, pid, grade=1)["id"] for _ in range(AUDIT_LINES_SHOWN + 5)]

    page = coord.get(f"/desk/participants/{pid}").text
    shown = audit_rows(page)
    assert len(shown) == AUDIT_LINES_SHOWN
    assert shown[0] == f"adverse_event #{events[-1]}"  # newest first
    assert f"The newest {AUDIT_LINES_SHOWN} entries are shown." in page
    assert '<a href="?audit=all#audit">Show the whole audit trail</a>' in page

    whole = coord.get(f"/desk/participants/{pid}?audit=all").text
    every = audit_rows(whole)
    assert len(every) > AUDIT_LINES_SHOWN + 5  # the enrolment's own entries too
    assert every[:AUDIT_LINES_SHOWN] == shown
    assert f"adverse_event #{events[0]}" in every
    assert "Show the whole audit trail" not in whole

    chinese = coord.get(f"/desk/participants/{pid}?lang=zh").text
    assert "显示完整稽查轨迹" in chinese and "取消" not in chinese
