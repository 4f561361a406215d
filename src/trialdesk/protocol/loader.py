"""Reading protocol files: YAML text -> validated :class:`Protocol`, with every problem located.

A problem is reported as ``doses[2].amount (line 57): must be > 0`` so that whoever edits the
file can go straight to the line. All problems of a file are reported at once, not the first only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from trialdesk.errors import TrialdeskError
from trialdesk.protocol.models import Protocol

BUILTIN_PROTOCOL_ID = "NCT06021067"


class ProtocolError(TrialdeskError):
    """A protocol file that cannot be used; ``problems`` lists every located problem."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        listing = "\n".join(f"  - {p}" for p in problems)
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"{source}: {len(problems)} {noun} in the protocol file:\n{listing}")


@dataclass(frozen=True)
class LoadedProtocol:
    """A validated protocol together with the exact text it came from and that text's hash."""

    protocol: Protocol
    text: str
    sha256: str
    source: str


def load_protocol_text(text: str, source: str = "<protocol>") -> LoadedProtocol:
    """Parse and validate protocol YAML. Raises :class:`ProtocolError` listing every problem."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown place"
        raise ProtocolError(
            source, [f"{where}: not valid YAML ({exc.problem}); check indentation and quoting"]
        ) from None
    except yaml.YAMLError as exc:
        raise ProtocolError(source, [f"not valid YAML: {exc}"]) from None
    if not isinstance(data, dict):
        raise ProtocolError(
            source, ["the file must be a YAML mapping (keys such as id:, registry:, doses:)"]
        )
    try:
        protocol = Protocol.model_validate(data)
    except ValidationError as exc:
        problems = [_describe(error, node) for error in exc.errors()]
        raise ProtocolError(source, problems) from None
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return LoadedProtocol(protocol=protocol, text=text, sha256=digest, source=source)


def load_protocol_file(path: str | Path) -> LoadedProtocol:
    """Read and validate a protocol file from disk."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TrialdeskError(f"no such protocol file: {file}; check the path") from None
    except IsADirectoryError:
        raise TrialdeskError(
            f"{file} is a folder; give the path of a protocol .yaml file"
        ) from None
    except UnicodeDecodeError:
        raise TrialdeskError(f"{file} is not UTF-8 text; save it as UTF-8 YAML") from None
    return load_protocol_text(text, str(file))


def builtin_protocol_text() -> str:
    """The exact YAML of the built-in NCT06021067 protocol shipped inside the package."""
    ref = resources.files("trialdesk.protocol").joinpath("builtin", "nct06021067.yaml")
    return ref.read_text(encoding="utf-8")


@cache
def builtin_protocol() -> LoadedProtocol:
    """The built-in NCT06021067 protocol (validated once per process)."""
    return load_protocol_text(builtin_protocol_text(), "builtin:nct06021067.yaml")


def load_protocol(path: str | Path | None) -> LoadedProtocol:
    """A protocol file, or the built-in protocol when no path is given."""
    return builtin_protocol() if path is None else load_protocol_file(path)


def format_location(loc: tuple[int | str, ...]) -> str:
    """('doses', 2, 'amount') -> 'doses[2].amount'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


_MESSAGES: dict[str, str] = {
    "missing": "is required; add it",
    "extra_forbidden": "is not a field of the protocol format; check its spelling or remove it",
    "greater_than": "must be > {gt}",
    "greater_than_equal": "must be >= {ge}",
    "less_than": "must be < {lt}",
    "less_than_equal": "must be <= {le}",
    "literal_error": "must be one of {expected}",
    "string_too_short": "must not be empty",
    "too_short": "needs at least {min_length} item(s)",
    "string_pattern_mismatch": "is not in the expected form (pattern {pattern})",
}


def _describe(error: ErrorDetails, root: yaml.Node | None) -> str:
    loc = tuple(error["loc"])
    where = format_location(loc)
    line = _line_of(root, loc)
    if line is not None:
        where += f" (line {line})"
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    if kind in _MESSAGES:
        message = _MESSAGES[kind].format(**ctx)
    elif kind == "value_error":
        message = str(ctx.get("error", error["msg"]))
    else:
        message = f"{error['msg'][0].lower()}{error['msg'][1:]}"
    if kind not in ("missing", "extra_forbidden", "value_error"):
        message += f" (found {error['input']!r})"
    return f"{where}: {message}"


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the YAML node at ``loc`` (or of its deepest existing parent)."""
    if node is None:
        return None
    current = node
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(current, yaml.MappingNode) and isinstance(part, str):
            for key, value in current.value:
                if getattr(key, "value", None) == part:
                    child = value
                    break
        elif (
            isinstance(current, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(current.value)
        ):
            child = current.value[part]
        if child is None:
            break
        current = child
    return int(current.start_mark.line) + 1
