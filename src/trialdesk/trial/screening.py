"""Screening a patient and keeping the screening so that it can be replayed exactly.

One path for both doors: ``POST /api/screenings`` calls :func:`screen_and_record`, and
``trialdesk screen --replay`` calls :func:`replay_screening`, which feeds the stored input text,
the stored screening date and the stored protocol text through the same :func:`evaluate_input`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from sqlalchemy.orm import Session

from trialdesk import __version__
from trialdesk.eligibility import screen
from trialdesk.eligibility.screening_input import read_screening_input
from trialdesk.errors import TrialdeskError
from trialdesk.protocol import LoadedProtocol, load_protocol_text
from trialdesk.store.models import ProtocolVersion, Screening
from trialdesk.store.screenings import get_screening, record_screening
from trialdesk.trial.clock import Clock, SystemClock

MAX_INPUT_CHARS: Final = 5_000_000
"""A screening input larger than this is refused (a real FHIR Bundle for one patient is far
smaller); it protects the server, not the science."""
BODY_FIELD: Final = "body"
BODY_SOURCE: Final = "the screening input"


@dataclass(frozen=True, slots=True)
class Evaluation:
    """What screening an input gave: its detected format, the date used, the result."""

    input_format: str
    screening_date: date
    result: dict[str, Any]
    result_json: str


def evaluate_input(
    loaded: LoadedProtocol,
    input_text: str,
    *,
    on: date | None,
    today: date,
    latest: date | None = None,
) -> Evaluation:
    """Screen the patient described by ``input_text`` against ``loaded``. Pure: nothing is stored.

    The input is trialdesk's screening record (JSON or YAML) or a FHIR R4 Bundle, recognised
    from its content. The screening date is ``on`` when given; else a record's own
    ``screening_date``, or ``today`` for a Bundle (which has none). A date after ``latest``
    is refused.
    """
    _check_size(input_text)
    try:
        read = read_screening_input(
            input_text, protocol=loaded.protocol, screening_date=on or today, source=BODY_SOURCE
        )
    except TrialdeskError as exc:
        if exc.field is None:  # a problem with the input as a whole
            exc.field = BODY_FIELD
        raise
    day = on or read.record.screening_date
    if latest is not None and day > latest:
        raise TrialdeskError(
            f"the screening date {day.isoformat()} is in the future (today is "
            f"{latest.isoformat()}); give the day the patient is screened",
            field="date" if on is not None or read.format == "fhir" else "screening_date",
        )
    result = screen(loaded.protocol, read.record, on=day).to_json()
    return Evaluation(read.format, day, result, result_json_text(result))


def _check_size(input_text: str) -> None:
    if len(input_text) > MAX_INPUT_CHARS:
        raise TrialdeskError(
            f"is {len(input_text):,} characters; at most {MAX_INPUT_CHARS:,} are accepted "
            "for one patient (send only that patient's resources)",
            field=BODY_FIELD,
        )
    if not input_text.strip():
        raise TrialdeskError(
            "is empty; send the patient's screening record or a FHIR R4 Bundle",
            field=BODY_FIELD,
        )


def result_json_text(result: dict[str, Any]) -> str:
    """The canonical text a result is stored as and compared by (key order as produced)."""
    return json.dumps(result, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def screen_and_record(
    session: Session,
    *,
    loaded: LoadedProtocol,
    protocol_version_id: int,
    input_text: str,
    on: date | None,
    screened_by: str,
    clock: Clock | None = None,
) -> Screening:
    """Screen and store the screening (input text as received, date, result, protocol version,
    software version, who, when). Raises before anything is written when the input is bad.
    ``on`` overrides the record's screening date; no screening date may be after the site's
    today (``clock``, default the system clock).
    """
    clock = clock or SystemClock()
    today = clock.today()
    evaluation = evaluate_input(loaded, input_text, on=on, today=today, latest=today)
    return record_screening(
        session,
        protocol_version_id=protocol_version_id,
        software_version=__version__,
        input_format=evaluation.input_format,
        input_text=input_text,
        screening_date=evaluation.screening_date,
        result_json=evaluation.result_json,
        screened_by=screened_by,
        now=clock.now(),
    )


@dataclass(frozen=True, slots=True)
class Replay:
    """A stored screening re-run with its stored input, date and protocol text."""

    screening: Screening
    protocol: LoadedProtocol
    replayed: Evaluation
    software_version: str

    @property
    def identical(self) -> bool:
        """Whether the replay gave exactly the stored result text."""
        return self.replayed.result_json == self.screening.result_json

    @property
    def software_changed(self) -> bool:
        return self.software_version != self.screening.software_version

    def changed_criteria(self) -> list[str]:
        """Ids of the criteria whose outcome differs (and ``verdict`` if that differs)."""
        stored: dict[str, Any] = json.loads(self.screening.result_json)
        changed = (
            ["verdict"] if stored.get("verdict") != self.replayed.result.get("verdict") else []
        )
        before = _criteria_by_id(stored)
        after = _criteria_by_id(self.replayed.result)
        changed += [cid for cid in {**before, **after} if before.get(cid) != after.get(cid)]
        return changed


def replay_screening(session: Session, screening_id: int) -> Replay:
    """Re-run screening ``screening_id`` exactly as it was done (not with the current file)."""
    stored = get_screening(session, screening_id)
    version = session.get(ProtocolVersion, stored.protocol_version_id)
    if version is None:  # the foreign key makes this impossible unless the database was edited
        raise TrialdeskError(
            f"screening #{screening_id} names protocol version #{stored.protocol_version_id}, "
            "which is not in the database; restore the database from a backup",
            field="id",
        )
    loaded = load_protocol_text(
        version.yaml_text, f"stored protocol {version.protocol_id} ({version.sha256[:12]})"
    )
    try:
        replayed = evaluate_input(
            loaded, stored.input_text, on=stored.screening_date, today=stored.screening_date
        )
    except TrialdeskError as exc:
        raise TrialdeskError(
            f"screening #{screening_id} (done with trialdesk {stored.software_version}) could "
            f"not be replayed with trialdesk {__version__}: the stored input is now refused: {exc}",
            field="id",
        ) from None
    return Replay(stored, loaded, replayed, __version__)


def _criteria_by_id(result: dict[str, Any]) -> dict[str, Any]:
    return {str(item.get("id")): item for item in result.get("criteria", [])}
