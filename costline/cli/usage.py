"""Usage options and commands: ``--usage-file`` (an Infracost usage file as the stack's tags)
and ``costline usage init`` (a template for the stack config).

A missing, unreadable or unusable file (not YAML, another version) is an exit-2 one-liner naming
the file; problems with single entries are findings (see :mod:`costline.usage.infracost_file`).
"""

from __future__ import annotations

from pathlib import Path

import click

from costline.cli.errors import InputProblem
from costline.cli.options import REFERENCE_HELP, stack_name
from costline.core.limits import LimitError, read_input
from costline.usage.infracost_file import UsageFileError, apply_usage_file, read_usage_file


def apply_usage_option(resources, usage_file: Path):
    """(resources with the file's usage as cost:* tags, findings)."""
    try:
        text = read_input(usage_file).decode("utf-8")
    except LimitError as exc:
        raise InputProblem(f"{usage_file}: {exc}") from None
    except OSError as exc:
        raise InputProblem(f"{usage_file}: cannot read usage file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise InputProblem(f"{usage_file}: usage file is not UTF-8 text") from None
    try:
        document, findings = read_usage_file(text, str(usage_file))
        tagged, more = apply_usage_file(list(resources), document, str(usage_file))
    except UsageFileError as exc:
        raise InputProblem(str(exc)) from None
    return tagged, [*findings, *more]


@click.group("usage")
def usage_group() -> None:
    """Usage figures: write a template for a program's stack config."""


@usage_group.command("init")
@click.argument(
    "program_dir", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path)
)
@click.option(
    "--stack",
    default="dev",
    show_default=True,
    callback=stack_name,
    help="The stack the template is for.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the template to this new file instead of stdout (- for stdout); an existing "
    "file is kept unless --force.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace an existing --output file (a regular file; the whole file is replaced).",
)
@click.option("--reference", is_flag=True, help=REFERENCE_HELP)
def init_command(
    program_dir: Path | None, stack: str, output: Path | None, force: bool, reference: bool
) -> None:
    """Print the usage keys that set the cost of each resource of PROGRAM_DIR, as a
    costline:usage block for Pulumi.<stack>.yaml (default: the current folder's Pulumi project;
    --reference for the bundled reference stack). The block is meant to be pasted into the
    stack's file: -o never writes over an existing file (your figures, your stack config)
    unless --force."""
    from costline.cli.output import emit
    from costline.cli.stack import load_resources, resolve_program
    from costline.cli.usage_init import usage_template

    resources, *_ = load_resources(resolve_program(program_dir, reference=reference), None, stack)
    emit(usage_template(resources, stack), "usage template", output, replace=force)
