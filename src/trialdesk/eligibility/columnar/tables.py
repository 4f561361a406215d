"""Reading and writing patient tables (Parquet, CSV, NDJSON), the format chosen by extension.

Reading is lazy (``pl.scan_*``) so that only the columns a protocol needs are ever loaded, and a
file that is not what its extension says fails with a message naming the file and the fix.
Writing goes to a temporary file beside the target that is renamed into place only when
complete: a failed run never leaves a half-written verdict file behind.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import polars as pl

from trialdesk.errors import TrialdeskError

__all__ = ["READ_FORMATS", "WRITE_FORMATS", "scan_table", "table_format", "write_table"]

READ_FORMATS: dict[str, str] = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
}
"""Extension -> format of the patient tables trialdesk reads."""

WRITE_FORMATS: dict[str, str] = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}
"""Extension -> format of the result tables trialdesk writes."""


def table_format(path: Path, formats: dict[str, str], *, field: str) -> str:
    """The format of ``path`` by its extension, or an error listing the extensions that work."""
    found = formats.get(path.suffix.lower())
    if found is None:
        listing = ", ".join(formats)
        raise TrialdeskError(
            f"{path.name}: cannot tell the format from the extension {path.suffix or '(none)'!r}; "
            f"use one of {listing}",
            field=field,
        )
    return found


def scan_table(path: Path) -> pl.LazyFrame:
    """A lazy view of a patient table; CSV cells stay text so that parsing errors can be located.

    Raises :class:`TrialdeskError` when the file is missing, is a folder, or cannot be read as
    the format its extension names.
    """
    kind = table_format(path, READ_FORMATS, field="PATH")
    if not path.exists():
        raise TrialdeskError(f"no such file: {path}; check the path", field="PATH")
    if path.is_dir():
        raise TrialdeskError(f"{path} is a folder; give the path of one table file", field="PATH")
    try:
        if kind == "parquet":
            frame = pl.scan_parquet(path)
        elif kind == "csv":
            frame = pl.scan_csv(path, infer_schema=False, null_values=[""])
        else:
            frame = pl.scan_ndjson(path, infer_schema_length=None)
        frame.collect_schema()
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise TrialdeskError(
            f"{path.name} cannot be read as {kind.upper()} ({_first_line(exc)}); check that the "
            f"file is complete and really is {kind.upper()}",
            field="PATH",
        ) from None
    return frame


def write_table(frame: pl.DataFrame, path: Path, *, field: str = "--out") -> None:
    """Write ``frame`` as Parquet or CSV (by extension), atomically."""
    kind = table_format(path, WRITE_FORMATS, field=field)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise TrialdeskError(f"the folder {folder} does not exist; create it first", field=field)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    os.close(handle)
    try:
        if kind == "parquet":
            # Column statistics would cost about half the writing time and help no reader of a
            # verdict table.
            frame.write_parquet(temporary, statistics=False)
        else:
            frame.write_csv(temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
