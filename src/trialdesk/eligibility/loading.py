"""Reading a screening record in trialdesk's own format from a file or text (JSON or YAML)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from trialdesk.eligibility.record import ScreeningRecord
from trialdesk.errors import TrialdeskError

__all__ = ["load_record", "parse_record_text"]


def parse_record_text(text: str, source: str = "<record>") -> Any:
    """JSON or YAML text -> plain data (JSON is YAML, but JSON errors read better as JSON)."""
    try:
        return _parsed(text, source)
    except RecursionError:  # lists or mappings nested thousands deep: no record looks like that
        raise TrialdeskError(
            f"{source}: nested too deeply to be a screening record or FHIR Bundle"
        ) from None


def _parsed(text: str, source: str) -> Any:
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise TrialdeskError(
                f"{source}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
            ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise TrialdeskError(
            f"{source}: not valid YAML{where}; check indentation and quoting"
        ) from None


def load_record(path_or_text: str | Path) -> ScreeningRecord:
    """A screening record from a file path or from JSON/YAML text.

    A string holding a mapping (a newline, ``{``, or ``key: value``) is parsed as the record
    itself; anything else is a file path. Raises :class:`RecordError` listing every problem
    with its field, or :class:`TrialdeskError` for unreadable input.
    """
    text, source = _text(path_or_text)
    data = parse_record_text(text, source)
    if not isinstance(data, dict):
        raise TrialdeskError(
            f"{source}: a screening record is a mapping (keys such as screening_date:, labs:)"
        )
    return ScreeningRecord.from_data(data)


def _looks_like_text(value: str) -> bool:
    stripped = value.strip()
    return "\n" in stripped or stripped.startswith(("{", "[")) or ": " in stripped


def _text(path_or_text: str | Path) -> tuple[str, str]:
    if isinstance(path_or_text, str) and _looks_like_text(path_or_text):
        return path_or_text, "<record>"
    file = Path(path_or_text)
    try:
        return file.read_text(encoding="utf-8"), str(file)
    except FileNotFoundError:
        raise TrialdeskError(f"no such file: {file}; check the path") from None
    except IsADirectoryError:
        raise TrialdeskError(f"{file} is a folder; give a screening record file") from None
    except UnicodeDecodeError:
        raise TrialdeskError(f"{file} is not UTF-8 text; save it as UTF-8") from None
