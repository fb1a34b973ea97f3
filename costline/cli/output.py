"""Rendering a report and sending it to stdout or a file, with one-line errors."""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import Any

from jinja2 import TemplateError, TemplateSyntaxError

from costline.cli.errors import InputProblem, note
from costline.core.files import OutputRefused, write_atomically
from costline.core.text import one_line
from costline.render.templates import render
from costline.render.view import ReportView


def render_report(
    report: dict[str, Any], fmt: str, templates_dir: Path | None, view: ReportView | None = None
) -> str:
    """Render, turning a broken template into an exit-2 one-liner naming its file and line.

    With ``--templates``, any error while rendering is the template's (a filter given the wrong
    type, a division by zero, an include of itself without end): exit 2 too. Without, only
    Jinja's own errors are; anything else is a bug in costline (exit 3)."""
    try:
        return render(report, fmt, templates_dir, view)
    except Exception as exc:
        if templates_dir is None and not isinstance(exc, TemplateError):
            raise
        message = exc.message if isinstance(exc, TemplateError) else str(exc)
        raise InputProblem(
            f"report template: {_template_line(exc)}{type(exc).__name__}: "
            f"{one_line(message or '')[:300]}"
        ) from None


def _template_line(exc: BaseException) -> str:
    """``<file>:<line>: `` of the template where ``exc`` happened: a syntax error says so
    itself; for the others, Jinja's rewritten traceback has a frame per template line."""
    if isinstance(exc, TemplateSyntaxError) and exc.lineno:
        return f"{exc.filename or exc.name}:{exc.lineno}: "
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith(".j2"):
            return f"{frame.filename}:{frame.lineno}: "
    return ""


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


def emit(text: str, fmt: str, output: Path | None, *, replace: bool = True) -> None:
    """Print the report (``output`` None or ``-``), or write it to ``output`` with
    :func:`costline.core.files.write_atomically` (never over a device, FIFO or read-only file;
    ``replace=False``: never over anything that exists, the command's ``--force`` allows it)."""
    if output is None or str(output) == "-":
        echo(text, nl=False)
        return
    try:
        write_atomically(output, text, replace=replace)
    except FileExistsError:
        raise InputProblem(
            f"{output}: already exists; not overwriting it (--force replaces it)"
        ) from None
    except OutputRefused as exc:
        raise InputProblem(str(exc)) from None
    except OSError as exc:
        raise InputProblem(f"{output}: cannot write the report ({exc.strerror or exc})") from None
    note(f"costline: wrote {fmt} report to {output}")
