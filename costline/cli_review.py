"""``costline diff`` and ``costline check``: reviews of a change, and the CI gate on its cost.

* ``diff --baseline FILE``: the report of the stack with per-resource and total deltas against
  FILE (a costline JSON report, or a ``pulumi stack export`` estimated with today's prices).
* ``check``: the same report, written to ``--report FILE`` (markdown, for the PR comment) and
  optionally ``--json-report FILE``; exit 0 within budget, 1 when ``--budget`` or an increase
  limit (``--max-increase`` USD, ``--max-increase-percent``) is broken, 2 on bad input.

Also the pieces ``costline estimate`` shares with them: reading the stack and its prices
(:func:`load_stack`), ``--what-if`` and amount parsing, rendering with one-line template
errors, and writing the output.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click
from jinja2 import TemplateError

from costline.baseline import Baseline, BaselineError, load_baseline
from costline.budget import DEFAULT_WARN_AT_PERCENT, BudgetLimits
from costline.cli_options import stack_options
from costline.estimator import EstimateOptions, estimate
from costline.model import Estimate, Resource
from costline.money import format_usd
from costline.pricing import PricingError, load_price_book
from costline.pricing.model import PriceBook
from costline.region import DEFAULT_REGION, detect_region
from costline.render import FORMATS, render
from costline.report_filters import signed_pct, signed_usd
from costline.review import review_report
from costline.whatif import DEFAULT_SCENARIOS, Scenario, ScenarioError, parse_scenarios
from costline.writing import write_atomically

EXIT_OVER_BUDGET = 1
_MAX_AMOUNT = Decimal("1e15")


def _problem(message: str) -> Exception:
    """``costline.cli.InputProblem`` (an exit-2 one-liner), imported late: cli imports this module."""
    from costline.cli import InputProblem

    return InputProblem(message)


@dataclass(frozen=True)
class LoadedStack:
    """A stack read and estimated: what every reporting command starts from."""

    resources: Sequence[Resource]
    prices: PriceBook
    options: EstimateOptions
    estimate: Estimate
    source: str

    def report(self, *, scenarios: Sequence[Scenario] | None, recommendations: bool,
               baseline: Baseline | None = None, limits: BudgetLimits | None = None) -> dict[str, Any]:
        return review_report(self.resources, self.prices, self.options, self.estimate, source=self.source,
                             scenarios=scenarios, recommendations=recommendations, baseline=baseline, limits=limits)


def load_stack(program_dir: Path | None, from_preview: Path | None, stack: str, price_files: Sequence[Path],
               region: str | None, usage_file: Path | None, options: EstimateOptions) -> LoadedStack:
    """Read the stack (a program under mocks, or a preview/stack-export file), apply a usage
    file, load the region's prices and estimate; every input problem is an exit-2 one-liner."""
    if program_dir is not None and from_preview is not None:
        raise _problem("give either PROGRAM_DIR or --from-preview, not both")
    if from_preview is not None and not from_preview.is_file():
        raise _problem(f"{from_preview}: no such file")
    for price_file in price_files:
        if not price_file.is_file():
            raise _problem(f"{price_file}: no such price override file")
    from costline.cli import load_resources

    resources, source = load_resources(program_dir, from_preview, stack)
    usage_findings = []
    if usage_file is not None:
        from costline.cli_usage import apply_usage_option

        resources, usage_findings = apply_usage_option(resources, usage_file)
    try:
        prices = load_price_book(region or detect_region(resources) or DEFAULT_REGION,
                                 overrides=[str(p) for p in price_files])
    except PricingError as exc:
        raise _problem(str(exc)) from None
    result = estimate(resources, prices, options)
    if usage_findings:
        result = dataclasses.replace(result, findings=(*result.findings, *usage_findings))
    return LoadedStack(resources, prices, options, result, source)


def what_if_scenarios(text: str | None) -> tuple[Scenario, ...]:
    """``--what-if``: the seed's rows when absent; ``none`` for no table."""
    if text is None:
        return DEFAULT_SCENARIOS
    try:
        return parse_scenarios(text)
    except ScenarioError as exc:
        raise _problem(str(exc)) from None


def amount(option: str, text: str | None) -> Decimal | None:
    """A non-negative plain decimal option value (USD or percent), or ``None`` when absent."""
    if text is None:
        return None
    try:
        value = Decimal(text.strip().removeprefix("$"))
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value < 0 or value > _MAX_AMOUNT or "e" in text.lower():
        raise _problem(f"{option}: {text!r} is not an amount; give a plain number such as 150 or 12.5")
    return value


def render_report(report: dict[str, Any], fmt: str, templates_dir: Path | None) -> str:
    """Render, turning a broken (user) template into an exit-2 one-liner."""
    try:
        return render(report, fmt, templates_dir)
    except TemplateError as exc:
        where = f"{exc.filename}:{exc.lineno}: " if getattr(exc, "lineno", None) else ""
        raise _problem(f"report template: {where}{type(exc).__name__}: {exc.message}") from None


def emit(text: str, fmt: str, output: Path | None) -> None:
    """Print the report, or write it atomically to ``output``."""
    if output is None:
        click.echo(text, nl=False)
    else:
        try:
            write_atomically(output, text)
        except OSError as exc:
            raise _problem(f"{output}: cannot write the report ({exc.strerror or exc})") from None
        click.echo(f"costline: wrote {fmt} report to {output}", err=True)


def load_from_options(kw: dict[str, Any]) -> LoadedStack:
    """The stack and its estimate from the options of :func:`costline.cli_options.stack_options`."""
    options = EstimateOptions(free_tier=not kw["no_free_tier"], fail_closed=kw["fail_closed"],
                              max_price_age_days=kw["max_price_age_days"])
    return load_stack(kw["program_dir"], kw["from_preview"], kw["stack"], kw["price_files"], kw["region"],
                      kw["usage_file"], options)


def _baseline(path: Path | None, loaded: LoadedStack) -> Baseline | None:
    if path is None:
        return None
    try:
        return load_baseline(path, loaded.prices, loaded.options)
    except BaselineError as exc:
        raise _problem(f"--baseline {exc}") from None


@click.command("diff")
@click.option("--baseline", "baseline_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="A previous costline JSON report (`costline estimate --format json`) or a `pulumi stack export`.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="markdown", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here instead of stdout.")
@stack_options
def diff_command(baseline_file: Path, fmt: str, output: Path | None, **kw: Any) -> None:
    """Report the stack's cost with per-resource and total changes against a baseline."""
    loaded = load_from_options(kw)
    baseline = _baseline(baseline_file, loaded)
    report = loaded.report(scenarios=what_if_scenarios(kw["what_if"]), recommendations=kw["recommendations"],
                           baseline=baseline)
    emit(render_report(report, fmt, kw["templates_dir"]), fmt, output)


@click.command("check")
@click.option("--baseline", "baseline_file", type=click.Path(dir_okay=False, path_type=Path),
              help="A previous costline JSON report or a `pulumi stack export` (needed for the increase limits).")
@click.option("--budget", "budget", metavar="USD", help="Mandatory monthly budget for the whole stack.")
@click.option("--warn-at-percent", "warn_at", metavar="P", help="Warn (not fail) at this share of the budget [default: 80].")
@click.option("--max-increase", "max_increase", metavar="USD", help="Most the monthly cost may grow per change.")
@click.option("--max-increase-percent", "max_increase_percent", metavar="P",
              help="Most the monthly cost may grow per change, in percent of the baseline.")
@click.option("--report", "report_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the markdown report (the PR comment) here.")
@click.option("--json-report", "json_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the JSON report here (the next baseline).")
@stack_options
def check_command(baseline_file: Path | None, budget: str | None, warn_at: str | None, max_increase: str | None,
                  max_increase_percent: str | None, report_file: Path | None, json_file: Path | None, **kw: Any) -> None:
    """CI gate: exit 0 within budget, 1 when a budget or increase limit is broken, 2 on bad input."""
    limits = BudgetLimits(amount("--budget", budget), amount("--warn-at-percent", warn_at) or DEFAULT_WARN_AT_PERCENT,
                          amount("--max-increase", max_increase), amount("--max-increase-percent", max_increase_percent))
    if limits.needs_baseline and baseline_file is None:
        raise _problem("--max-increase and --max-increase-percent need --baseline FILE to compare with")
    if limits.warn_at_percent > 100:
        raise _problem("--warn-at-percent: give a share of the budget between 0 and 100")
    loaded = load_from_options(kw)
    baseline = _baseline(baseline_file, loaded)
    report = loaded.report(scenarios=what_if_scenarios(kw["what_if"]), recommendations=kw["recommendations"],
                           baseline=baseline, limits=limits)
    if report_file is not None:
        emit(render_report(report, "markdown", kw["templates_dir"]), "markdown", report_file)
    if json_file is not None:
        emit(render_report(report, "json", None), "json", json_file)
    click.echo(verdict_line(report))
    for violation in report["budget"]["violations"]:
        click.echo(f"  - {violation['message']}")
    if report["budget"]["violations"]:
        raise SystemExit(EXIT_OVER_BUDGET)


def verdict_line(report: dict[str, Any]) -> str:
    """``costline check FAILED: $102.29/month, +$63.68 (+165%) vs baseline, budget $50.00``"""
    budget, baseline = report["budget"], report["baseline"]
    words = {"over": "FAILED", "warning": "passed with a warning", "within": "passed", "none": "passed (no limits set)"}
    parts = [f"{format_usd(report['total_monthly_usd'])}/month"]
    if baseline is not None:
        parts.append(f"{signed_usd(baseline['delta_usd'])} ({signed_pct(baseline['delta_percent'])}) vs baseline")
    if budget["monthly_budget_usd"] is not None:
        parts.append(f"budget {format_usd(budget['monthly_budget_usd'])}")
    return f"costline check {words[budget['status']]}: " + ", ".join(parts)


__all__ = ["EXIT_OVER_BUDGET", "check_command", "diff_command", "emit", "load_stack",
           "render_report", "what_if_scenarios"]
