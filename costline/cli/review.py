"""``costline diff`` and ``costline check``: reviews of a change, and the CI gate on its cost.

* ``diff --baseline FILE``: the report of the stack with per-resource and total deltas against
  FILE (a costline JSON report, or a ``pulumi stack export`` estimated with today's prices).
* ``check``: the same report, written to ``--report FILE`` (markdown, for the PR comment) and
  optionally ``--json-report FILE``; exit 0 within budget, 1 when ``--budget`` or an increase
  limit (``--max-increase`` USD, ``--max-increase-percent``) is broken, 2 on bad input.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import click

from costline.cli.errors import EXIT_GATE_FAILED, InputProblem
from costline.cli.multi import run_config
from costline.cli.options import (
    amount,
    format_option,
    output_option,
    report_view,
    resolve_format,
    stack_options,
    what_if_scenarios,
)
from costline.cli.output import echo, emit, render_report
from costline.cli.stack import load_from_options
from costline.core.money import format_usd
from costline.core.text import one_line
from costline.estimator.priced import PricedStack
from costline.render.filters import signed_pct, signed_usd
from costline.render.summary import known_text
from costline.review.baseline import Baseline, BaselineError, load_baseline
from costline.review.budget import DEFAULT_WARN_AT_PERCENT, BudgetLimits
from costline.review.sections import review_report
from costline.usage.stack_config import CODE_BUDGET_ENCRYPTED

EXIT_OVER_BUDGET = EXIT_GATE_FAILED


def load_baseline_option(path: Path | None, loaded: PricedStack) -> Baseline | None:
    """``--baseline FILE`` read against the stack's prices; a bad file is an exit-2 one-liner."""
    if path is None:
        return None
    try:
        return load_baseline(path, loaded.prices, loaded.options)
    except BaselineError as exc:
        raise InputProblem(f"--baseline {exc}") from None


def with_stack_budget(limits: BudgetLimits, loaded: PricedStack, how: str) -> BudgetLimits:
    """``limits`` with the stack's ``costline:budget`` when no budget was given; an encrypted
    one, which costline cannot read offline, is an exit-2 error saying ``how`` to give it
    (a gate must never pass a budget it could not check)."""
    if limits.monthly_budget_usd is None and loaded.budget_usd is not None:
        limits = dataclasses.replace(limits, monthly_budget_usd=loaded.budget_usd)
    encrypted = [f for f in loaded.estimate.findings if f.code == CODE_BUDGET_ENCRYPTED]
    if limits.monthly_budget_usd is None and encrypted:
        raise InputProblem(f"{encrypted[0].message}: {how}")
    return limits


def refuse_baseline_with_config(baseline_file: Path | None) -> None:
    """With ``--config`` each stack's baseline is its entry's: a ``--baseline`` would be
    silently unused, so it is refused."""
    if baseline_file is not None:
        raise InputProblem(
            "with --config, each stack's baseline is its `baseline` entry in the config file, "
            "not --baseline"
        )


@click.command("diff")
@click.option(
    "--baseline",
    "baseline_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A previous costline JSON report (`costline estimate --format json`) or a `pulumi stack "
    "export`. Required, except with --config, where each stack's `baseline` entry gives it.",
)
@format_option
@output_option
@stack_options
def diff_command(
    baseline_file: Path | None, fmt: str | None, output: Path | None, **kw: Any
) -> None:
    """Report the stack's cost with per-resource and total changes against a baseline."""
    fmt = resolve_format(fmt, output, kw)
    if kw["config"] is not None:
        refuse_baseline_with_config(baseline_file)
        run_config(kw["config"], kw, baseline_required=True, outputs=((fmt, output),))
        return
    if baseline_file is None:
        raise InputProblem("diff needs --baseline FILE (a previous JSON report or a stack export)")
    loaded = load_from_options(kw)
    baseline = load_baseline_option(baseline_file, loaded)
    report = review_report(
        loaded,
        scenarios=what_if_scenarios(kw["what_if"]),
        recommendations=kw["recommendations"],
        baseline=baseline,
    )
    emit(render_report(report, fmt, kw["templates_dir"], report_view(kw, fmt, output)), fmt, output)


@click.command("check")
@click.option(
    "--baseline",
    "baseline_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A previous costline JSON report or a `pulumi stack export` (needed for the increase "
    "limits).",
)
@click.option(
    "--budget", "budget", metavar="USD", help="Mandatory monthly budget for the whole stack."
)
@click.option(
    "--warn-at-percent",
    "warn_at",
    metavar="P",
    help="Warn (not fail) at this share of the budget [default: 80].",
)
@click.option(
    "--max-increase",
    "max_increase",
    metavar="USD",
    help="Most the monthly cost may grow per change.",
)
@click.option(
    "--max-increase-percent",
    "max_increase_percent",
    metavar="P",
    help="Most the monthly cost may grow per change, in percent of the baseline.",
)
@click.option(
    "--max-resource-usd",
    "max_resource",
    metavar="USD",
    help="Most any one resource may cost a month.",
)
@click.option(
    "--max-worst-case-multiple",
    "max_worst_multiple",
    metavar="N",
    help="Fail when a Lambda's cost with every request running to its timeout is more than N "
    "times its expected cost.",
)
@click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the markdown report (the PR comment) here.",
)
@click.option(
    "--json-report",
    "json_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the JSON report here (the next baseline).",
)
@stack_options
def check_command(
    baseline_file: Path | None,
    budget: str | None,
    warn_at: str | None,
    max_increase: str | None,
    max_increase_percent: str | None,
    max_resource: str | None,
    max_worst_multiple: str | None,
    report_file: Path | None,
    json_file: Path | None,
    **kw: Any,
) -> None:
    """CI gate: exit 0 within budget, 1 when a budget or increase limit is broken, 2 on bad
    input."""
    limits = BudgetLimits(
        amount("--budget", budget),
        amount("--warn-at-percent", warn_at) or DEFAULT_WARN_AT_PERCENT,
        amount("--max-increase", max_increase),
        amount("--max-increase-percent", max_increase_percent),
        fail_closed=kw["fail_closed"],
        max_resource_usd=amount("--max-resource-usd", max_resource),
        max_worst_case_multiple=amount("--max-worst-case-multiple", max_worst_multiple),
    )
    if limits.needs_baseline and baseline_file is None and kw["config"] is None:
        raise InputProblem(
            "--max-increase and --max-increase-percent need --baseline FILE to compare with"
        )
    if limits.warn_at_percent > 100:
        raise InputProblem("--warn-at-percent: give a share of the budget between 0 and 100")
    if kw["config"] is not None:
        refuse_baseline_with_config(baseline_file)
        outputs = [("markdown", report_file), ("json", json_file)]
        run_config(
            kw["config"],
            kw,
            limits=limits,
            outputs=[(fmt, target) for fmt, target in outputs if target is not None],
            verdicts=True,
        )
        return
    loaded = load_from_options(kw)
    limits = with_stack_budget(limits, loaded, "give the budget with --budget")
    baseline = load_baseline_option(baseline_file, loaded)
    report = review_report(
        loaded,
        scenarios=what_if_scenarios(kw["what_if"]),
        recommendations=kw["recommendations"],
        baseline=baseline,
        limits=limits,
    )
    if report_file is not None:
        emit(
            render_report(report, "markdown", kw["templates_dir"], report_view(kw)),
            "markdown",
            report_file,
        )
    if json_file is not None:
        emit(render_report(report, "json", None), "json", json_file)
    echo("\n".join(check_lines(report)))
    if report["budget"]["violations"]:
        raise SystemExit(EXIT_OVER_BUDGET)


def check_lines(report: dict[str, Any]) -> list[str]:
    """What ``costline check`` prints for a stack: its :func:`verdict_line`, then each limit it
    broke, one line each. A message quotes resource names from the program or the preview, so
    each is one inert line (no escape sequence reaches the terminal, no name splits a line)."""
    return [
        verdict_line(report),
        *(f"  - {one_line(v['message'])}" for v in report["budget"]["violations"]),
    ]


def verdict_line(report: dict[str, Any]) -> str:
    """``costline check FAILED: $102.29/month, +$63.68 (+165%) vs baseline, budget $50.00``"""
    budget, baseline = report["budget"], report["baseline"]
    words = {
        "over": "FAILED",
        "warning": "passed with a warning",
        "within": "passed",
        "none": "passed (no limits set)",
    }
    word = words[budget["status"]]
    total = f"{format_usd(report['total_monthly_usd'])}/month"
    total += one_line(
        known_text(
            report["incomplete_summary"] if not report.get("complete", True) else "",
            report.get("bounded_summary", ""),
        )
    )
    if not report.get("complete", True) and budget["status"] != "over":
        word += ", but the estimate is incomplete"
    parts = [total]
    if baseline is not None:
        parts.append(
            f"{signed_usd(baseline['delta_usd'])} ({signed_pct(baseline['delta_percent'])}) vs "
            "baseline"
        )
    if budget["monthly_budget_usd"] is not None:
        parts.append(f"budget {format_usd(budget['monthly_budget_usd'])}")
    return f"costline check {word}: " + ", ".join(parts)


__all__ = ["EXIT_OVER_BUDGET", "check_command", "diff_command"]
