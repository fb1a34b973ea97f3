"""Rendering a report and sending it to stdout or a file, with one-line errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from jinja2 import TemplateError

from costline.cli.errors import InputProblem
from costline.core.files import write_atomically
from costline.render.templates import render


def render_report(report: dict[str, Any], fmt: str, templates_dir: Path | None) -> str:
    """Render, turning a broken (user) template into an exit-2 one-liner."""
    try:
        return render(report, fmt, templates_dir)
    except TemplateError as exc:
        # syntax errors say where; Jinja's other errors carry no position
        lineno = getattr(exc, "lineno", None)
        where = f"{getattr(exc, 'filename', None)}:{lineno}: " if lineno else ""
        raise InputProblem(f"report template: {where}{type(exc).__name__}: {exc.message}") from None


def emit(text: str, fmt: str, output: Path | None) -> None:
    """Print the report, or write it atomically to ``output``."""
    if output is None:
        click.echo(text, nl=False)
    else:
        try:
            write_atomically(output, text)
        except OSError as exc:
            raise InputProblem(
                f"{output}: cannot write the report ({exc.strerror or exc})"
            ) from None
        click.echo(f"costline: wrote {fmt} report to {output}", err=True)
