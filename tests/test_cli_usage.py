"""Mistyped commands and options get click's short usage message and exit 2, never a traceback."""

from __future__ import annotations

import pytest

from trialdesk.cli import run


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["nosuchcommand"], "No such command 'nosuchcommand'"),
        (["decide", "--nope"], "No such option: --nope"),
    ],
)
def test_usage_errors_exit_2_with_a_hint(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "--help" in err and "Traceback" not in err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--version"]) == 0
    assert capsys.readouterr().out.startswith("trialdesk ")
