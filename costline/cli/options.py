"""Click options shared by ``costline estimate``, ``diff`` and ``check`` (declared once here).

Also the parsing of option values every command shares (``--what-if``, amounts).
"""

from __future__ import annotations

import functools
import re
import shutil
import sys
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click

from costline.cli.errors import InputProblem
from costline.pricing.staleness import DEFAULT_MAX_PRICE_AGE_DAYS
from costline.readers.region import DEFAULT_REGION
from costline.render.advice import DEFAULT_FOLD_BELOW_PERCENT, DEFAULT_FOLD_BELOW_USD
from costline.render.templates import FORMATS
from costline.render.view import ReportView
from costline.scenarios.whatif import DEFAULT_SCENARIOS, Scenario, ScenarioError, parse_scenarios

_MAX_AMOUNT = Decimal("1e15")
STACK_NAME = r"^[A-Za-z0-9_.\-]{1,100}$"
"""A Pulumi stack name (its config is ``Pulumi.<stack>.yaml``): no path separator, no shell text."""
STACK_NAME_TAKES = "a stack name (letters, digits, '-', '_' and '.'; no path separator or spaces)"


def stack_name(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--stack``: a stack name, never a path (``../x`` would read another folder's file)."""
    if value is not None and not re.fullmatch(STACK_NAME, value):
        hint = ""
        if re.fullmatch(r"[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+){1,2}", value) and ".." not in value:
            hint = f"; for a fully-qualified stack give its own name ({value.rsplit('/', 1)[1]})"
        raise click.BadParameter(f"{value[:60]!r} is not {STACK_NAME_TAKES}{hint}", ctx, param)
    return value


what_if_option = click.option(
    "--what-if",
    "what_if",
    metavar="LIST",
    help="What-if rows: multipliers (2x,10x) or calls/month at the stack's edge (100000,1M); "
    "'none' for no table. Default: 30k,100k,500k,1M.",
)
mermaid_option = click.option(
    "--mermaid/--no-mermaid",
    default=True,
    show_default=True,
    help="A Mermaid chart of the what-if rows in the markdown report (GitHub draws it).",
)
fold_below_options = (
    click.option(
        "--fold-below",
        "fold_below",
        metavar="USD",
        help="Fold savings under this many dollars a month into one line [default: 1].",
    ),
    click.option(
        "--fold-below-percent",
        "fold_below_percent",
        metavar="P",
        help="Fold savings under this share of the total into one line [default: 1]; "
        "the larger of the two thresholds applies.",
    ),
)
recommendations_option = click.option(
    "--recommendations/--no-recommendations",
    default=True,
    show_default=True,
    help="Recommendations with the monthly dollars each saves.",
)


def _templates_folder(
    ctx: click.Context, param: click.Parameter, folder: Path | None
) -> Path | None:
    """A ``--templates`` folder must hold at least one template named like costline's: a typo
    must not fall back to the bundled report without a word."""
    from costline.render.templates import TEMPLATE_NAMES

    if folder is not None and not any(
        (folder / name).is_file() for name in TEMPLATE_NAMES.values()
    ):
        raise click.BadParameter(
            f"{folder} holds neither {' nor '.join(TEMPLATE_NAMES.values())}", ctx, param
        )
    return folder


REFERENCE_HELP = (
    "Use the bundled reference stack (API Gateway → Lambda → Bedrock, plus an S3 bucket) "
    "instead of the current folder."
)


def stack_options(command: Callable) -> Callable:
    """PROGRAM_DIR and the stack, price and report options of ``diff`` and ``check``."""
    decorators = [
        click.argument(
            "program_dir",
            required=False,
            type=click.Path(exists=True, file_okay=False, path_type=Path),
        ),
        click.option("--reference", is_flag=True, help=REFERENCE_HELP),
        click.option(
            "--from-preview",
            "from_preview",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Estimate a `pulumi preview --json` or `pulumi stack export` file instead of "
            "running a program.",
        ),
        click.option(
            "--stack",
            default="dev",
            show_default=True,
            callback=stack_name,
            help="Stack whose Pulumi.<stack>.yaml config the program gets.",
        ),
        click.option(
            "--no-free-tier", is_flag=True, help="Do not apply the always-free allowances."
        ),
        click.option(
            "--fail-closed",
            is_flag=True,
            help="Price every figure costline cannot determine at its worst-case bound; `check` "
            "fails on one with no bound.",
        ),
        click.option(
            "--prices",
            "price_files",
            multiple=True,
            type=click.Path(dir_okay=False, path_type=Path),
            help="Price override file (repeatable; later files win).",
        ),
        click.option(
            "--region",
            help="AWS region of the price tables (default: the stack's aws:region, else "
            f"{DEFAULT_REGION}).",
        ),
        click.option(
            "--pricing-dir",
            "pricing_dir",
            envvar="COSTLINE_PRICING_DIR",
            type=click.Path(exists=True, file_okay=False, path_type=Path),
            help="Price tables folder (<dir>/<region>/*.yaml, e.g. from `costline pricing update`) "
            "instead of the bundled one; or set COSTLINE_PRICING_DIR.",
        ),
        click.option(
            "--max-price-age-days",
            type=click.IntRange(min=0),
            default=DEFAULT_MAX_PRICE_AGE_DAYS,
            show_default=True,
            help="Warn (prices-stale) when the price tables are older than this many days.",
        ),
        click.option(
            "--usage-file",
            "usage_file",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Infracost usage file (infracost-usage.yml); resources' own cost:* tags win.",
        ),
        click.option(
            "--templates",
            "templates_dir",
            type=click.Path(exists=True, file_okay=False, path_type=Path),
            callback=_templates_folder,
            help="Folder of your own report templates; missing ones fall back to costline's.",
        ),
        click.option(
            "--config",
            "config",
            type=click.Path(dir_okay=False, exists=True, path_type=Path),
            help="costline.yml listing many projects and stacks: run them all, one report.",
        ),
        what_if_option,
        recommendations_option,
        *fold_below_options,
        mermaid_option,
    ]
    return functools.reduce(lambda f, d: d(f), reversed(decorators), command)


def what_if_scenarios(text: str | None) -> tuple[Scenario, ...]:
    """``--what-if``: the seed's rows when absent; ``none`` for no table."""
    if text is None:
        return DEFAULT_SCENARIOS
    try:
        return parse_scenarios(text)
    except ScenarioError as exc:
        raise InputProblem(str(exc)) from None


def amount(option: str, text: str | None) -> Decimal | None:
    """A non-negative plain decimal option value (USD or percent), or ``None`` when absent."""
    if text is None:
        return None
    try:
        value = Decimal(text.strip().removeprefix("$"))
    except InvalidOperation:
        value = None
    if (
        value is None
        or not value.is_finite()
        or value < 0
        or value > _MAX_AMOUNT
        or "e" in text.lower()
    ):
        raise InputProblem(
            f"{option}: {text!r} is not an amount; give a plain number such as 150 or 12.5"
        )
    return value


format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="Report format [default: table when stdout is a terminal, else markdown].",
)
output_option = click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report here instead of stdout (- for stdout); never over a device, FIFO or "
    "read-only file.",
)


def _terminal(output: Path | None) -> bool:
    """Whether the report goes to a terminal (a closed stdout is None or raises: not one)."""
    if output is not None or sys.stdout is None:
        return False
    try:
        return sys.stdout.isatty()
    except (ValueError, OSError):
        return False


def resolve_format(fmt: str | None, output: Path | None, kw: Mapping[str, Any]) -> str:
    """The format asked for; else ``table`` for a terminal, ``markdown`` when stdout is piped or
    redirected, when writing ``--output`` and for ``--config`` (which has no table view)."""
    if fmt is not None:
        return fmt
    return "table" if _terminal(output) and kw.get("config") is None else "markdown"


def report_view(
    kw: Mapping[str, Any], fmt: str = "markdown", output: Path | None = None
) -> ReportView:
    """How the report is shown, from the options ``stack_options`` adds; the table view is in
    colour and as wide as the terminal when it goes to one, plain text 100 columns wide else."""
    terminal = fmt == "table" and _terminal(output)
    below_usd = amount("--fold-below", kw.get("fold_below"))
    below_percent = amount("--fold-below-percent", kw.get("fold_below_percent"))
    return ReportView(
        mermaid=kw.get("mermaid", True),
        color=terminal,
        width=shutil.get_terminal_size((100, 24)).columns if terminal else 100,
        fold_below_usd=DEFAULT_FOLD_BELOW_USD if below_usd is None else below_usd,
        fold_below_percent=DEFAULT_FOLD_BELOW_PERCENT if below_percent is None else below_percent,
    )
