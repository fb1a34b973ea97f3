"""The CLI's exit codes and one-line errors.

==  ==========================================================================================
0   passed
1   a gate failed: a budget or increase limit (``check``), a mandatory policy (``preview``)
2   bad input or usage: one line on stderr that says what to fix
3   internal error (a bug in costline): one line saying so; the traceback only with ``--debug``
==  ==========================================================================================

A crash is never 1: a CI job must not read a bug as "over budget".
"""

from __future__ import annotations

import contextlib
import os

import click

from costline.core.text import one_line

EXIT_OK = 0
EXIT_GATE_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL_ERROR = 3
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report a SIGINT


def note(text: str) -> None:
    """One line on stderr. A stderr that cannot take it (closed, a full device, a closed pipe)
    loses the line but never changes the exit code: the line is pointed at /dev/null so the
    interpreter's last flush does not fail again."""
    try:
        click.echo(text, err=True)
    except (OSError, ValueError):
        _silence(2)


def _silence(fd: int) -> None:
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)


class InputProblem(click.ClickException):
    """A one-line, exit-2 error about the user's input.

    The message quotes the input (a key, a name), so it is made one safe line when shown: no
    line break can split it and no escape sequence can rewrite the terminal."""

    exit_code = EXIT_BAD_INPUT

    def show(self, file=None) -> None:
        note(f"costline: error: {one_line(self.format_message())}")


class InternalProblem(click.ClickException):
    """A failure that is costline's own (e.g. the policy pack process died): exit 3."""

    exit_code = EXIT_INTERNAL_ERROR

    def show(self, file=None) -> None:
        note(f"costline: internal error: {self.format_message()}")
