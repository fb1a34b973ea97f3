"""The CLI's one-line errors: bad input exits 2 with a message that says what to fix."""

from __future__ import annotations

import click

EXIT_BAD_INPUT = 2


class InputProblem(click.ClickException):
    """A one-line, exit-2 error about the user's input."""

    exit_code = EXIT_BAD_INPUT

    def show(self, file=None) -> None:
        click.echo(f"costline: error: {self.format_message()}", err=True, file=file)
