"""The terminal view (``--format table``): the report as rich tables — the verdict, the limits a
check found broken, service totals, the most expensive resources, the what-if totals,
recommendations and findings.

Colours when the output is a terminal, plain text otherwise (the caller says which). Every
string from the stack (names, types, messages quoting them) goes in as a rich ``Text`` made
one safe line (:func:`costline.core.text.one_line`), never as rich markup: a resource named
``[bold red]x`` or holding an ANSI escape shows literally and cannot restyle the terminal.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from costline.core.money import format_quantity, format_usd
from costline.core.text import one_line
from costline.core.type_names import short_type
from costline.render.advice import ranked_advice
from costline.render.filters import signed_pct, signed_usd
from costline.render.verdict import budget_outcome, verdict
from costline.render.view import ReportView, ranked

TOP_RESOURCES = 5
STATUS_STYLE = {"over": "bold red", "warning": "bold yellow", "within": "bold green", "none": "dim"}
OUTCOME_TEXT = {
    "over-budget": "over the limit",
    "check-failed": "check failed",
    "near-budget": "near the budget",
    "within-budget": "within budget",
    "within-limits": "within limits",
    "no-limits": "no budget set",
}
"""The verdict line's words for each :func:`~costline.render.verdict.budget_outcome`."""
SEVERITY_STYLE = {"error": "red", "warning": "yellow", "info": "dim"}


def _text(value: Any, style: str = "") -> Text:
    return Text(one_line(str(value)), style=style)


def _money(value: Any, style: str = "") -> Text:
    return Text(format_usd(value), style=style, justify="right")


def _verdict_line(report: Mapping[str, Any]) -> Text:
    v = verdict(report)
    line = Text()
    line.append("costline ", style="bold")
    line.append(format_usd(report["total_monthly_usd"]), style="bold")
    line.append("/month")
    base = report.get("baseline")
    if base is not None:
        line.append(" · ")
        if v["direction"] == "none":
            line.append("no change", style="dim")
        else:
            style = "bold red" if v["direction"] == "up" else "bold green"
            arrow = "▲" if v["direction"] == "up" else "▼"
            line.append(
                f"{arrow} {signed_usd(base['delta_usd'])} ({signed_pct(base['delta_percent'])})",
                style=style,
            )
        line.append(f" vs baseline {format_usd(base['total_monthly_usd'])}")
    budget = report.get("budget")
    line.append(" · ")
    status = v["status"]
    text = OUTCOME_TEXT[budget_outcome(budget)]
    if budget and budget["monthly_budget_usd"] is not None:
        text += f" (budget {format_usd(budget['monthly_budget_usd'])})"
    line.append(text, style=STATUS_STYLE[status])
    line.append(" · ")
    for i, part in enumerate(v["known"]):
        if i:
            line.append(" · ")
        line.append(
            part["text"] + _named(part["names"]), style="bold yellow" if part["warn"] else "green"
        )
    return line


def _named(names: list[str], shown: int = 5) -> str:
    """``: a, b and 2 more`` (empty for no names)."""
    listed = ", ".join(one_line(n) for n in names[:shown])
    more = len(names) - shown
    return (f": {listed}" if listed else "") + (f" and {more} more" if more > 0 else "")


def _services(report: Mapping[str, Any]) -> Table:
    base = report.get("baseline")
    table = Table(title="By service", box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column("Service")
    table.add_column("Monthly", justify="right")
    if base is not None:
        table.add_column("Baseline", justify="right")
        table.add_column("Change", justify="right")
        for row in base["by_service"]:
            delta = row["delta_usd"]
            style = "red" if delta > 0 else "green" if delta < 0 else ""
            table.add_row(
                _text(row["service"]),
                _money(row["after_usd"]),
                _money(row["before_usd"]),
                Text(str(signed_usd(delta)), style=style, justify="right"),
            )
        table.add_row(
            Text("Total", style="bold"),
            _money(report["total_monthly_usd"], "bold"),
            _money(base["total_monthly_usd"]),
            Text(str(signed_usd(base["delta_usd"])), style="bold", justify="right"),
        )
    else:
        for row in report["by_service"]:
            table.add_row(_text(row["service"]), _money(row["monthly_usd"]))
        table.add_row(Text("Total", style="bold"), _money(report["total_monthly_usd"], "bold"))
    return table


def _top_resources(report: Mapping[str, Any]) -> Table | None:
    billed = [r for r in report["resources"] if r["status"] != "free"]
    if not billed:
        return None
    shown = billed[:TOP_RESOURCES]
    title = f"Top resources ({len(shown)} of {len(billed)} billed)"
    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column("Resource")
    table.add_column("Type")
    table.add_column("Status")
    table.add_column("Monthly", justify="right")
    for r in shown:
        status = r["status"].replace("_", " ")
        table.add_row(
            _text(r["name"]),
            _text(short_type(r["type"]), "dim"),
            _text(status, "" if r["status"] == "priced" else "yellow"),
            _money(r["monthly_usd"]),
        )
    return table


def _what_if(report: Mapping[str, Any]) -> Table | None:
    wi = report.get("what_if")
    if not wi or not wi["rows"]:
        return None
    table = Table(title="What if traffic changes", box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column("Calls/month", justify="right")
    table.add_column("Total", justify="right")
    for row in wi["rows"]:
        if row["volume"] is not None:
            calls = format_quantity(row["volume"])
        else:
            calls = f"{format_quantity(row['multiplier'])}× today"
        if row["current"]:
            calls += " (now)"
        style = "bold" if row["current"] else ""
        table.add_row(Text(calls, style=style), _money(row["total_monthly_usd"], style))
    return table


def _recommendations(ranked: Mapping[str, Any] | None) -> Text | None:
    if not ranked or not (ranked["savings"] or ranked["folded"] or ranked["advice"]):
        return None
    text = Text()
    text.append("Recommendations\n", style="bold")
    for i, r in enumerate(ranked["savings"], 1):
        text.append(f"{i}. ")
        text.append(one_line(r["title"]), style="bold")
        text.append(" — saves ")
        text.append(f"{format_usd(r['monthly_saving_usd'])}/month", style="green")
        text.append("\n")
    if ranked["folded"]:
        text.append(
            f"{'Smaller' if ranked['savings'] else 'Small'} savings (each under "
            f"{format_usd(ranked['threshold_usd'])}/month, "
            f"{format_usd(ranked['folded_usd'])}/month together): "
            + "; ".join(
                f"{one_line(r['title'])} ({format_usd(r['monthly_saving_usd'])})"
                for r in ranked["folded"]
            )
            + "\n",
            style="dim",
        )
    for r in ranked["advice"]:
        text.append("- ")
        text.append(one_line(r["title"]))
        text.append("\n")
    return text


def _violations(report: Mapping[str, Any]) -> Text | None:
    """The limits the check found broken, as the markdown's "Cost check failed" list."""
    violations = (report.get("budget") or {}).get("violations") or ()
    if not violations:
        return None
    text = Text()
    text.append("Cost check failed\n", style="bold red")
    for violation in violations:
        text.append(f"- {one_line(violation['message'])}\n")
    return text


def _findings(report: Mapping[str, Any]) -> Text | None:
    """Errors and warnings in full; informational findings as a count (the markdown and HTML
    reports list them)."""
    findings = report["findings"]
    if not findings:
        return None
    text = Text()
    text.append("Findings\n", style="bold")
    for f in findings:
        if f["severity"] == "info":
            continue
        text.append(f"{f['severity']}: ", style=SEVERITY_STYLE.get(f["severity"], ""))
        text.append(one_line(f["message"]))
        text.append("\n")
    info = sum(1 for f in findings if f["severity"] == "info")
    if info:
        plural = "s" if info != 1 else ""
        text.append(
            f"{info} informational finding{plural}: see --format markdown or html\n", style="dim"
        )
    return text


def print_report(
    report: Mapping[str, Any], console: Console, ranked: Mapping[str, Any] | None = None
) -> None:
    """Print the terminal view of ``report`` on ``console``; ``ranked``: its recommendations
    ranked and folded (:func:`costline.render.advice.ranked_advice`; default thresholds when
    not given)."""
    if ranked is None:
        ranked = ranked_advice(report.get("recommendations"), report["total_monthly_usd"])
    console.print(_verdict_line(report))
    summary = report["summary"]
    console.print(
        Text(
            f"{summary['resources']} resources: {summary['priced'] + summary['partial']} priced, "
            f"{summary['free']} free, {summary['usage_missing']} missing usage, "
            f"{summary['not_priced']} not priced",
            style="dim",
        )
    )
    for part in (
        _violations(report),
        _services(report),
        _top_resources(report),
        _what_if(report),
        _recommendations(ranked),
        _findings(report),
    ):
        if part is not None:
            console.print(part)
    console.print(
        Text(
            f"prices {report['pricing_version']} ({report['pricing_region']}, as of "
            f"{report['pricing_as_of']}) · estimates from declared usage, not a bill",
            style="dim",
        )
    )


def to_text(report: Mapping[str, Any], view: ReportView | None = None) -> str:
    """The terminal view as text: with ANSI colours when ``view.color``, plain otherwise."""
    view = view or ReportView()
    width, color = view.width, view.color
    out = io.StringIO()
    console = Console(
        file=out,
        width=width,
        force_terminal=color,
        color_system="standard" if color else None,
        no_color=not color,
        highlight=False,
        emoji=False,
        markup=False,
        legacy_windows=False,
    )
    print_report(report, console, ranked(report, view))
    text = out.getvalue()
    if color:
        return text
    return "".join(line.rstrip() + "\n" for line in text.splitlines())  # tables pad with spaces
