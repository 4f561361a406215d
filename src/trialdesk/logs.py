"""Process logs: one JSON object per line (or plain text for a terminal), standard library only.

What may be logged is decided where the record is made (see :mod:`trialdesk.web.access_log`):
method, path without its query string, status, duration, request id. Participant data (names,
contact notes, birth dates, free text, query strings, request bodies) never is. Exceptions keep
their traceback, but the database parameters a SQLAlchemy error would print and the input values
a pydantic error would print are left out, because they are the request's data.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from datetime import UTC, datetime
from typing import Literal, get_args

LogFormat = Literal["json", "text"]
LOG_FORMATS: tuple[str, ...] = get_args(LogFormat)
LOG_FORMAT_ENV = "TRIALDESK_LOG_FORMAT"
LOG_LEVEL_ENV = "TRIALDESK_LOG_LEVEL"

# Attributes every LogRecord has; anything else was passed with ``extra=`` and is a field.
_STANDARD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None)).keys()
) | {"message", "asctime", "taskName", "color_message"}  # uvicorn's ANSI copy


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", ...extra fields, "exception"?}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                document[key] = value
        if record.exc_info and record.exc_info[1] is not None:
            document["exception"] = safe_exception_text(record.exc_info[1])
        return json.dumps(document, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``time level logger: message key=value ...`` for reading in a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        at = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="seconds")
        fields = " ".join(
            f"{key}={value}"
            for key, value in vars(record).items()
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_")
        )
        line = f"{at} {record.levelname} {record.name}: {record.getMessage()}"
        line = f"{line} {fields}" if fields else line
        if record.exc_info and record.exc_info[1] is not None:
            line = f"{line}\n{safe_exception_text(record.exc_info[1])}"
        return line


def safe_exception_text(exc: BaseException) -> str:
    """The traceback of ``exc`` (and its causes) with bound SQL parameters and pydantic input
    values left out; everything else as Python prints it."""
    _hide_statement_parameters(exc)
    lines = traceback.format_exception(exc)
    return "".join(_without_validation_inputs(line) for line in lines).rstrip("\n")


def _hide_statement_parameters(exc: BaseException) -> None:
    from sqlalchemy.exc import StatementError

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, StatementError):
            current.hide_parameters = True
        current = current.__cause__ or current.__context__


def _without_validation_inputs(line: str) -> str:
    """pydantic prints ``[type=..., input_value='...', input_type=str]``: drop the value."""
    start = line.find("input_value=")
    if start < 0:
        return line
    end = line.find(", input_type=", start)
    if end < 0:
        end = line.find("]", start)
    if end < 0:
        return line[:start] + "input_value=<hidden>\n"
    return line[:start] + "input_value=<hidden>" + line[end:]


def configure_logging(log_format: str = "json", level: str = "info") -> None:
    """Send every log record (trialdesk's, uvicorn's, the libraries') to stderr in one format.

    Replaces the root logger's handlers, so calling it again switches format. uvicorn's own
    access log is switched off (it prints query strings): trialdesk's access log replaces it.
    """
    if log_format not in LOG_FORMATS:
        from trialdesk.errors import TrialdeskError

        raise TrialdeskError(
            f"unknown log format {log_format!r}; use one of: {', '.join(LOG_FORMATS)}",
            field="--log-format",
        )
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        from trialdesk.errors import TrialdeskError

        raise TrialdeskError(
            f"unknown log level {level!r}; use debug, info, warning or error", field="--log-level"
        )
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
        logger.setLevel(numeric)
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
    access.disabled = True
    uvicorn_error = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _DuplicateTraceback) for f in uvicorn_error.filters):
        uvicorn_error.addFilter(_DuplicateTraceback())


def configure_logging_from_env() -> None:
    """Configure from TRIALDESK_LOG_FORMAT / TRIALDESK_LOG_LEVEL when set (uvicorn workers)."""
    log_format = os.environ.get(LOG_FORMAT_ENV)
    if log_format:
        configure_logging(log_format, os.environ.get(LOG_LEVEL_ENV) or "info")


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when the record comes (as logging's last resort
    does), so a replaced stderr (a test's capture, a daemon's redirect) is followed."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


class _DuplicateTraceback(logging.Filter):
    """uvicorn logs every unhandled exception again after trialdesk's access log has logged it
    with its request id; keep only trialdesk's record."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage().strip() != "Exception in ASGI application"
