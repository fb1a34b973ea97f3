"""Readers: turn a Pulumi stack into :class:`costline.core.model.Resource` objects.

Three sources, one resource shape (``apitype.ResourceV3``, see :mod:`costline.readers.state`):

* :func:`read_preview` — ``pulumi preview --json`` output (what the stack will be);
* :func:`read_stack_export` — ``pulumi stack export`` output (what the stack is);
* :func:`auto_detect` — either of the two, told apart by their shape;
* :func:`run_program` — a Python Pulumi program run under Pulumi's mocks in a subprocess (no
  Pulumi CLI, no cloud account); ``pulumi`` is only imported in that subprocess.

Failures are :class:`InputFileError` (a file that cannot be read, naming the file and the JSON
path) and :class:`ProgramError` (a program that cannot be run); both carry a one-line message.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from costline.core.exports import lazy_exports

_EXPORTS = {
    "InputFileError": "costline.readers.errors",
    "ProgramError": "costline.readers.errors",
    "read_preview": "costline.readers.preview_json",
    "read_stack_export": "costline.readers.stack_export",
    "run_program": "costline.readers.mocks",
}
"""Names that load on first use (PEP 562), as :mod:`costline`'s do: importing one light reader
(:mod:`costline.readers.mock_server`, which ``costline``'s entry point uses before anything
else) does not load them all."""

__all__ = [
    "InputFileError",
    "ProgramError",
    "auto_detect",
    "read_preview",
    "read_stack_export",
    "run_program",
]

if TYPE_CHECKING:
    from costline.core.model import Resource
    from costline.readers.errors import InputFileError, ProgramError
    from costline.readers.mocks import run_program
    from costline.readers.preview_json import read_preview
    from costline.readers.stack_export import read_stack_export


__getattr__ = lazy_exports(__name__, _EXPORTS, globals())


def __dir__() -> list[str]:
    return __all__


_WHAT = "`pulumi preview --json` or `pulumi stack export` output"


def auto_detect(path: str | Path) -> list[Resource]:
    """Read ``path`` as a preview (has ``steps``/``changeSummary``) or a stack export (has
    ``deployment``/``checkpoint``), whichever it is."""
    from costline.readers.errors import InputFileError
    from costline.readers.preview_json import resources_from_preview
    from costline.readers.stack_export import resources_from_export
    from costline.readers.state import load_json

    data = load_json(path, what=_WHAT)
    if isinstance(data, dict):
        if "deployment" in data or "checkpoint" in data:
            return resources_from_export(data, path)
        if {"steps", "changeSummary"} & data.keys():
            return resources_from_preview(data, path)
        if "version" in data:
            return resources_from_export(data, path)  # names what is missing
        if {"config", "diagnostics", "duration"} & data.keys():
            return resources_from_preview(data, path)  # a preview with no steps
    shape = (
        f"an object with keys {', '.join(sorted(data)[:8]) or '(none)'}"
        if isinstance(data, dict)
        else "not an object"
    )
    raise InputFileError(
        path,
        "is neither `pulumi preview --json` nor `pulumi stack export` output: expected "
        f"an object with steps[] (preview) or deployment.resources[] (stack export), got {shape}",
    )
