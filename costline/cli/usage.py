"""``costline estimate --usage-file``: read an Infracost usage file and tag the stack's resources.

A missing or unreadable file is an exit-2 one-liner; problems inside the file are findings
(see :mod:`costline.usage.infracost_file`).
"""

from __future__ import annotations

from pathlib import Path

from costline.cli.errors import InputProblem
from costline.usage.infracost_file import apply_usage_file, read_usage_file


def apply_usage_option(resources, usage_file: Path):
    """(resources with the file's usage as cost:* tags, findings)."""
    try:
        text = usage_file.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputProblem(f"{usage_file}: cannot read usage file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise InputProblem(f"{usage_file}: usage file is not UTF-8 text") from None
    document, findings = read_usage_file(text, str(usage_file))
    if not document:
        return list(resources), findings
    tagged, more = apply_usage_file(list(resources), document, str(usage_file))
    return tagged, [*findings, *more]
