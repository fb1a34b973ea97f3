"""The two ways reading a stack can fail, each with a one-line message fit for the CLI."""

from __future__ import annotations

from pathlib import Path


class InputFileError(Exception):
    """A preview JSON or stack export file that cannot be read: names the file and what is wrong.

    ``str(error)`` is ``"<path>: <message>"``, e.g.
    ``"preview.json: steps[3].newState: expected an object, got a list"``.
    """

    def __init__(self, path: str | Path, message: str) -> None:
        self.path = str(path)
        self.message = message
        super().__init__(f"{self.path}: {message}")


class ProgramError(Exception):
    """A Pulumi program that could not be run under mocks (bad config, an exception, a crash).

    ``str(error)`` is one line saying what failed and where; ``stderr_tail`` holds the last
    lines the program wrote to stderr (usually a traceback) for a ``--verbose`` view.
    """

    def __init__(
        self, message: str, *, stderr_tail: str = "", program_dir: str | Path | None = None
    ) -> None:
        self.message = " ".join(message.split())
        self.stderr_tail = stderr_tail
        self.program_dir = None if program_dir is None else str(program_dir)
        super().__init__(self.message)
