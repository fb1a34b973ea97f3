"""Shared by the hostile-input suite (``tests/test_hostile_*.py``): running the CLI in process
and as a real process, and the checks every hostile case makes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner, Result

from costline.cli.main import main

REPO = Path(__file__).resolve().parents[1]
PREVIEW = REPO / "tests" / "fixtures" / "preview" / "reference-stack.preview.json"
COSTLINE = [sys.executable, "-m", "costline.cli.main"]


def cli(*args: str | os.PathLike) -> Result:
    """``costline ARGS`` in this process (stdout and stderr kept apart)."""
    return CliRunner().invoke(main, [str(a) for a in args])


def run(
    *args: str | os.PathLike, shell_redirect: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``costline ARGS`` as a real process; ``shell_redirect`` (e.g. ``>&-``) is applied by sh."""
    command = " ".join(_quote(a) for a in (*COSTLINE, *map(str, args)))
    return subprocess.run(
        ["sh", "-c", f"exec {command} {shell_redirect}"],
        capture_output=not shell_redirect or "2>" not in shell_redirect,
        check=False,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        cwd=REPO,
    )


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)


def assert_one_line_error(stderr: str, *parts: str) -> None:
    """Exactly one line on stderr, a ``costline: error:`` naming every one of ``parts``; no
    traceback."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("costline: error: "), stderr
    for part in parts:
        assert part in lines[0], (part, stderr)
    assert "Traceback" not in stderr
