"""One report for many stacks (``--config costline.yml``): the verdict over all stacks first, a
table of the stacks and their total, then each stack's own report folded under its name.

Plain data in, text out: :class:`StackResult` is what one stack's run gave (its JSON report, or
the one-line error that stopped it, and its exit code). The heading leads with the worst
outcome, as a single stack's report does: a stack that could not be estimated, then a failed
check, then a budget warning; and it says when the total is not complete — a stack that could
not be estimated is left out of it, and a stack whose own estimate is incomplete makes the sum
a lower bound (an unknown is never $0) — and when part of it is a fail-closed worst-case bound.

Each stack's report applies the free tiers as if its stack had the account to itself (costline
cannot know which stacks share an account); the comment says so under the table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from costline.core.money import ZERO, format_usd, money_context
from costline.render.filters import signed_pct, signed_usd
from costline.render.templates import escape_html_in_markdown, escape_markdown
from costline.render.verdict import budget_outcome, incomplete_means, verdict

EXIT_GATE_FAILED = 1

OUTCOME_TEXT = {
    "over-budget": "❌ over budget",
    "check-failed": "❌ check failed",
    "near-budget": "⚠️ near budget",
    "within-budget": "✅ within budget",
    "within-limits": "✅ within limits",
    "no-limits": "no budget",
}
"""A stack's status cell for each :func:`~costline.render.verdict.budget_outcome`."""


@dataclass(frozen=True)
class StackResult:
    """One stack's outcome: ``report`` (its JSON report as a mapping) or ``error``."""

    name: str
    stack: str
    exit_code: int
    report: Mapping[str, Any] | None = None
    error: str | None = None


def combined_total(results: Sequence[StackResult]) -> Decimal:
    """The sum of the totals of the stacks that could be estimated."""
    with money_context():
        return sum(
            (Decimal(r.report["total_monthly_usd"]) for r in results if r.report is not None), ZERO
        )


def worst_exit_code(results: Sequence[StackResult]) -> int:
    return max((r.exit_code for r in results), default=0)


def _shown_usd(value: Any) -> str:
    """A figure from a report as dollars; text that is not a number (a masked secret) as is."""
    if isinstance(value, Decimal | int | str):
        try:
            return format_usd(Decimal(value))
        except ArithmeticError:
            return escape_markdown(str(value))
    return "—"


def _complete(report: Mapping[str, Any]) -> bool:
    return bool(verdict(report)["complete"])


def _bounded(report: Mapping[str, Any]) -> bool:
    """Part of the stack's total is a fail-closed worst-case bound, not a known cost."""
    return bool(verdict(report)["bounded"])


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def heading(results: Sequence[StackResult]) -> str:
    """The verdict line over every stack (markdown, without the ``##``)."""
    icon, text = _verdict(results)
    return f"{icon} costline: {text}"


def plain_heading(results: Sequence[StackResult]) -> str:
    """The verdict over every stack for a terminal: the heading without its icon."""
    return _verdict(results)[1]


def _verdict(results: Sequence[StackResult]) -> tuple[str, str]:
    total = format_usd(combined_total(results))
    count = len(results)
    errors = sum(1 for r in results if r.report is None)
    failed = sum(1 for r in results if r.report is not None and r.exit_code == EXIT_GATE_FAILED)
    statuses = [_status_of(r) for r in results]
    warned = statuses.count("warning")
    incomplete = sum(1 for r in results if r.report is not None and not _complete(r.report))
    bounded = sum(1 for r in results if r.report is not None and _bounded(r.report))
    if errors:
        icon = "❌"
        what = (
            f"{errors} of {_plural(count, 'stack')} could not be estimated · "
            f"{total}/month across the others"
        )
    elif failed:
        icon = "❌"
        what = f"{failed} of {_plural(count, 'stack')} failed the check · {total}/month in all"
    elif warned:
        icon = "⚠️"
        what = f"{warned} of {_plural(count, 'stack')} near budget · {total}/month in all"
    elif "within" in statuses:
        icon = "✅"
        within = statuses.count("within")
        # within its budget, or, for a stack with only other limits (a resource's, an
        # increase's), within those
        budgeted = all(_budget_usd(r) is not None for r in results if _status_of(r) == "within")
        word = "within budget" if budgeted else "within limits"
        what = (
            f"{_plural(count, 'stack')} {word} · {total}/month in all"
            if within == count
            else f"{within} of {_plural(count, 'stack')} {word}, {count - within} with no "
            f"limits set · {total}/month in all"
        )
    else:
        icon = "💰"
        what = f"{total}/month across {_plural(count, 'stack')}"
    known = (
        f"⚠️ incomplete in {_plural(incomplete, 'stack')}"
        if incomplete
        else "⚠️ incomplete"
        if errors
        else ""
        if bounded
        else "all costs known"
    )
    if bounded:
        known += (" · " if known else "") + (f"⚠️ worst-case bounds in {_plural(bounded, 'stack')}")
    return icon, f"{what} · {known}"


def _status_of(result: StackResult) -> Any:
    return ((result.report or {}).get("budget") or {}).get("status")


def _budget_usd(result: StackResult) -> Any:
    return ((result.report or {}).get("budget") or {}).get("monthly_budget_usd")


def _status(result: StackResult) -> str:
    if result.report is None:
        return f"error: {escape_markdown(result.error or 'failed')}"
    outcome = budget_outcome(result.report.get("budget"))
    if result.exit_code == EXIT_GATE_FAILED and outcome != "over-budget":
        outcome = "check-failed"  # the gate failed on a limit that is not the total's budget
    text = OUTCOME_TEXT[outcome]
    if not _complete(result.report):
        text += " · ⚠️ incomplete"
    if _bounded(result.report):
        text += " · ⚠️ worst-case bounds"
    return text


def _change(baseline: Any) -> str:
    """A stack's change against its baseline: ``+$12.00 (+4.5%)``; ``—`` without one."""
    if not isinstance(baseline, Mapping) or baseline.get("delta_usd") is None:
        return "—"
    delta = Decimal(baseline["delta_usd"])
    return f"{signed_usd(delta)} ({signed_pct(baseline.get('delta_percent'))})"


def combined_change(results: Sequence[StackResult]) -> Decimal | None:
    """The sum of the stacks' changes against their baselines; ``None`` unless every stack that
    could be estimated has a baseline (a partial sum would be read as the whole change)."""
    baselines = [(r.report or {}).get("baseline") for r in results if r.report is not None]
    if not baselines or not all(isinstance(b, Mapping) for b in baselines):
        return None
    with money_context():
        return sum((Decimal(b["delta_usd"]) for b in baselines if b is not None), ZERO)


def combined_markdown(results: Sequence[StackResult], sections: Sequence[str]) -> str:
    """One PR comment for all stacks; ``sections[i]`` is stack i's own rendered markdown (empty
    when it could not be estimated)."""
    total = combined_total(results)
    errors = [r for r in results if r.report is None]
    incomplete = [r for r in results if r.report is not None and not _complete(r.report)]
    bounded = [r for r in results if r.report is not None and _bounded(r.report)]
    lines = [f"## {heading(results)}", ""]
    for stacks, says in (
        (errors, "⚠️ Could not be estimated, left out of the total: {}."),
        (
            incomplete,
            "⚠️ **Incomplete:** part of the cost of {} is not known (see each stack's report), so "
            + f"{incomplete_means(bool(bounded))}.",
        ),
        (
            bounded,
            "⚠️ **Worst-case bounds:** part of the cost of {} is priced at fail-closed worst-case "
            "bounds, not at declared figures (see each stack's report).",
        ),
    ):
        if stacks:
            lines += [says.format(", ".join(escape_markdown(r.name) for r in stacks)), ""]
    baselines = any((r.report or {}).get("baseline") for r in results)
    lines += (
        ["| Stack | Monthly | vs baseline | Budget | Status |", "|:--|--:|--:|--:|:--|"]
        if baselines
        else ["| Stack | Monthly | Budget | Status |", "|:--|--:|--:|:--|"]
    )
    for result in results:
        report = result.report
        cells = [
            escape_markdown(result.name),  # its | escaped too: the row keeps its cells
            _shown_usd(report["total_monthly_usd"]) if report else "—",
        ]
        if baselines:
            cells.append(_change((report or {}).get("baseline")))
        cells += [_shown_usd(((report or {}).get("budget") or {}).get("monthly_budget_usd"))]
        cells.append(_status(result))
        lines.append(f"| {' | '.join(cells)} |")
    change = combined_change(results) if baselines else None
    lines += [
        f"| **Total** | **{format_usd(total)}** |"
        + (f" **{signed_usd(change)}** |" if change is not None else (" |" if baselines else ""))
        + " | |",
        "",
        "<sub>Each stack's free tiers are counted as if it had the AWS account to itself.</sub>",
    ]
    for result, section in zip(results, sections, strict=True):
        if not section:
            continue
        lines += [
            "",
            f"<details><summary>{escape_html_in_markdown(result.name)}</summary>",
            "",
            section.rstrip(),
            "",
            "</details>",
        ]
    return "\n".join(lines) + "\n"


def combined_json(results: Sequence[StackResult]) -> dict[str, Any]:
    """Every stack's JSON report under its name, with the total, whether every stack's cost is
    known, and each stack's exit code."""
    return {
        "schema": "costline-multi-report/1",
        "currency": "USD",
        "total_monthly_usd": combined_total(results),
        "complete": all(r.report is not None and _complete(r.report) for r in results),
        "exit_code": worst_exit_code(results),
        "stacks": [
            {
                "name": r.name,
                "stack": r.stack,
                "exit_code": r.exit_code,
                "error": r.error,
                "report": r.report,
            }
            for r in results
        ],
    }
