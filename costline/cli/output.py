"""Rendering a report and sending it to stdout or a file, with one-line errors."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click
from jinja2 import TemplateError

from costline.cli.errors import InputProblem
from costline.core.files import OutputRefused, write_atomically
from costline.render.templates import render
from costline.render.view import ReportView


def render_report(
    report: dict[str, Any], fmt: str, templates_dir: Path | None, view: ReportView | None = None
) -> str:
    """Render, turning a broken (user) template into an exit-2 one-liner."""
    try:
        return render(report, fmt, templates_dir, view)
    except TemplateError as exc:
        # syntax errors say where; Jinja's other errors carry no position
        lineno = getattr(exc, "lineno", None)
        where = f"{getattr(exc, 'filename', None)}:{lineno}: " if lineno else ""
        raise InputProblem(f"report template: {where}{type(exc).__name__}: {exc.message}") from None


def echo(text: str, *, nl: bool = True) -> None:
    """Print to stdout and flush; a closed or failing stdout is an exit-2 error, not a report
    silently lost (click.echo prints nothing when stdout is closed, and a full device or a
    closed pipe only fails at the flush after exit)."""
    stream = sys.stdout
    if stream is None:
        raise InputProblem("cannot write to stdout: it is closed")
    try:
        stream.write(text + ("\n" if nl else ""))
        stream.flush()
    except (OSError, ValueError) as exc:  # ValueError: "I/O operation on closed file"
        _silence_stdout()
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputProblem(f"cannot write to stdout: {reason}") from None


def _silence_stdout() -> None:
    """After a failed write, point stdout at /dev/null so the interpreter's last flush at exit
    does not fail again with a second message (what Python's docs advise for SIGPIPE)."""
    try:
        fd = sys.stdout.fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass  # not a real file (a test runner's buffer): nothing is flushed at exit


def emit(text: str, fmt: str, output: Path | None) -> None:
    """Print the report (``output`` None or ``-``), or write it to ``output`` with
    :func:`costline.core.files.write_atomically` (never over a device, FIFO or read-only file)."""
    if output is None or str(output) == "-":
        echo(text, nl=False)
        return
    try:
        write_atomically(output, text)
    except OutputRefused as exc:
        raise InputProblem(str(exc)) from None
    except OSError as exc:
        raise InputProblem(f"{output}: cannot write the report ({exc.strerror or exc})") from None
    click.echo(f"costline: wrote {fmt} report to {output}", err=True)
