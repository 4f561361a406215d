"""Writing an export so that nothing is ever half-written: every file is written next to its
target under a temporary name and renamed into place only when complete."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from trialdesk.errors import TrialdeskError


def output_directory(out: Path) -> Path:
    """``out`` as a directory to write into (made when missing); refused when it is a file."""
    if out.exists() and not out.is_dir():
        raise TrialdeskError(
            f"{out} is a file; give a directory for this export (it is made when missing)",
            field="--out",
        )
    if not out.parent.is_dir():
        raise TrialdeskError(
            f"the folder {out.parent} does not exist; make it first or choose another --out",
            field="--out",
        )
    out.mkdir(exist_ok=True)
    return out


def output_file(out: Path) -> Path:
    """``out`` as a file to write; refused when it is a directory or its folder is missing."""
    if out.is_dir():
        raise TrialdeskError(
            f"{out} is a directory; give a file name, e.g. {out / 'trial-odm.xml'}", field="--out"
        )
    if not out.parent.is_dir():
        raise TrialdeskError(
            f"the folder {out.parent} does not exist; make it first or choose another --out",
            field="--out",
        )
    return out


def write_files(directory: Path, contents: Mapping[str, bytes]) -> list[Path]:
    """Write every ``name -> bytes`` into ``directory``; each file appears whole or not at all."""
    return [write_atomically(directory / name, data) for name, data in contents.items()]


def write_atomically(target: Path, data: bytes) -> Path:
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
