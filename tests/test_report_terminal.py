"""The terminal view (``--format table``): rendered to a rich Console of fixed width, with and
without colours; the default format (table on a terminal, markdown when piped)."""

from __future__ import annotations

import io
import sys
from decimal import Decimal as D

import pytest
from click.testing import CliRunner
from rich.console import Console

from costline.cli.main import main
from costline.cli.options import resolve_format
from costline.estimator.pipeline import estimate
from costline.readers import auto_detect
from costline.render.templates import render
from costline.render.terminal import print_report, to_text
from costline.render.view import ReportView
from costline.review.budget import BudgetLimits
from costline.review.report import build_report
from costline.review.sections import Baseline
from tests.conftest import LAMBDA, make
from tests.test_report_templates import PREVIEW, golden, review

RED, GREEN, BOLD_RED = "\x1b[31m", "\x1b[32m", "\x1b[1;31m"


@pytest.fixture(scope="module")
def checked(seed_prices, prices):
    """List prices against a seed-priced baseline, with a $50 budget."""
    resources = auto_detect(PREVIEW)
    baseline = Baseline(build_report(estimate(resources, seed_prices)), "baseline.json", "report")
    return review(resources, prices, baseline=baseline, limits=BudgetLimits(D(50)))


def console_text(report, *, color: bool, width: int = 80) -> str:
    out = io.StringIO()
    console = Console(
        file=out, width=width, force_terminal=color, color_system="standard" if color else None
    )
    print_report(report, console)
    return out.getvalue()


def test_terminal_view_in_colour(checked):
    text = console_text(checked, color=True, width=200)
    first = text.splitlines()[0]
    # the verdict: total, the increase in bold red ($102.29 − $38.61 = +$63.68, 165%), the
    # budget broken in bold red, all costs known in green
    assert f"{BOLD_RED}▲ +$63.68 (+165%)\x1b[0m vs baseline $38.61" in first
    assert f"{BOLD_RED}over the limit (budget $50.00)\x1b[0m" in first
    assert f"{GREEN}all costs known\x1b[0m" in first
    # per service: Bedrock went up ($37.50 → $101.25, red), S3 down ($1.00 → $0.93, green)
    assert f"{RED}+$63.75\x1b[0m" in text and f"{GREEN} -$0.07\x1b[0m" in text


def test_terminal_view_as_plain_text(checked):
    text = console_text(checked, color=False, width=120)
    assert "\x1b" not in text
    lines = [line.rstrip() for line in text.splitlines()]
    assert lines[0] == (
        "costline $102.29/month · ▲ +$63.68 (+165%) vs baseline $38.61 · over the limit "
        "(budget $50.00) · all costs known"
    )
    services = lines[lines.index("By service") :]
    assert any(line.split() == ["Bedrock", "$101.25", "$37.50", "+$63.75"] for line in services)
    assert any(line.split() == ["Total", "$102.29", "$38.61", "+$63.68"] for line in services)
    top = lines[lines.index("Top resources (4 of 4 billed)") :]
    rows = [line.split() for line in top[1:9] if line and line.split()[0] in ("model", "dev")]
    assert rows == [
        ["model", "aws:bedrock:InferenceProfile", "priced", "$101.25"],
        ["dev", "aws:apigateway:Stage", "priced", "$0.11"],
    ]
    assert "1. Cut Bedrock tokens by 25% — saves $25.31/month" in lines
    assert lines[-1].startswith("prices 2026.")


def test_to_text_follows_the_view(checked):
    plain = render(checked, "table")
    assert "\x1b" not in plain and not any(line.endswith(" ") for line in plain.splitlines())
    assert max(len(line) for line in plain.splitlines()) <= 100
    coloured = render(checked, "table", view=ReportView(color=True, width=120))
    assert BOLD_RED in coloured
    assert max(len(line) for line in to_text(checked, ReportView(width=60)).splitlines()) <= 60


def test_names_from_the_stack_are_text_not_markup(prices):
    hostile = "[bold red]evil[/]\x1b[31m\nx"
    report = review([make(LAMBDA, hostile, memorySize=128)], prices)
    text = to_text(report, ReportView(color=True, width=200))
    assert "[bold red]evil[/]" in text  # shown literally, not a style
    assert "\x1b[31m\n" not in text and "\x1b[31mx" not in text  # the stack's escape is gone


def test_default_format_is_table_on_a_terminal_and_markdown_when_piped(monkeypatch):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert resolve_format(None, None, {"config": None}) == "table"
    assert resolve_format(None, "out.md", {"config": None}) == "markdown"  # --output: a file
    assert resolve_format(None, None, {"config": "costline.yml"}) == "markdown"  # no table view
    assert resolve_format("html", None, {"config": None}) == "html"
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False)
    assert resolve_format(None, None, {"config": None}) == "markdown"
    monkeypatch.setattr(sys, "stdout", None)  # closed (`>&-`): not a terminal, no crash
    assert resolve_format(None, None, {"config": None}) == "markdown"


def test_cli_piped_gets_markdown_and_table_on_request():
    runner = CliRunner()
    piped = runner.invoke(main, ["estimate", "--from-preview", PREVIEW])
    assert piped.exit_code == 0 and piped.output.startswith("## 💰 costline: $102.29/month")
    table = runner.invoke(main, ["estimate", "--from-preview", PREVIEW, "--format", "table"])
    assert table.exit_code == 0 and "\x1b" not in table.output
    assert table.output.startswith("costline $102.29/month · no budget set · all costs known\n")


def test_terminal_view_golden(checked):
    """The whole plain-text view of the reference check, against its golden file."""
    golden("reference-check.txt", render(checked, "table"))
