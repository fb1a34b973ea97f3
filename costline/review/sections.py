"""The review report: the estimate's report plus what-if rows, recommendations, the baseline
diff and the budget check, as plain data every template and the JSON output share.

:func:`review_report` runs what it is asked for (each part re-runs the estimator on modified
copies of the stack) and fills the report's ``what_if``, ``recommendations``, ``baseline`` and
``budget`` sections; :func:`schema_problems` checks a report against the JSON Schema shipped as
``costline/review/report.schema.json``. The sections' fields are documented in ``docs/reports.md``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from costline.core.model import Estimate
from costline.core.money import ZERO
from costline.estimator.pipeline import gc_paused
from costline.estimator.priced import PricedStack
from costline.review.budget import BudgetLimits, BudgetResult, check_budget
from costline.review.diff import diff_reports
from costline.review.report import build_report
from costline.scenarios.recommendations import Recommendation, recommendations_for
from costline.scenarios.whatif import (
    DEFAULT_SCENARIOS,
    SCALED_TAGS,
    Scenario,
    WhatIf,
    factor_decimal,
    stack_edge_traffic,
    what_if,
)
from costline.scenarios.worst_case import lambda_worst_cases
from costline.usage.tags import DAILY_REQUESTS, MONTHLY_REQUESTS

SCHEMA_PATH = Path(__file__).resolve().parent / "report.schema.json"
REQUEST_TAGS = (MONTHLY_REQUESTS.key, DAILY_REQUESTS.key)


@dataclass(frozen=True)
class Baseline:
    """A baseline report context (money as ``Decimal``), where it came from and what it was."""

    report: Mapping[str, Any]
    source: str
    kind: str  # "report", "stack-export" or "preview"


def what_if_section(result: WhatIf, base: Estimate) -> dict[str, Any]:
    services = [s for s, _ in sorted(base.by_service().items(), key=lambda kv: (-kv[1], kv[0]))]
    for row in result.rows:
        services += [s for s in row.totals.by_service if s not in services]
    edge = result.edge
    hide = edge is not None and edge.secret
    return {
        "edge": None
        if edge is None
        else {
            "monthly_calls": None if hide else edge.monthly_calls,
            "kind": edge.kind,
            "sources": list(edge.sources),
            "secret": edge.secret,
        },
        "services": services,
        "scaled_tags": [*REQUEST_TAGS, *(t.key for t in SCALED_TAGS)],
        "rows": [
            {
                "volume": None if hide and row.scenario.volume is None else row.volume,
                "multiplier": row.scenario.multiplier,
                "factor": None
                if hide and row.scenario.volume is not None
                else factor_decimal(row.factor),
                "current": row.current,
                "complete": row.complete,
                "total_monthly_usd": row.totals.total_monthly_usd,
                "by_service": [{"service": s, "monthly_usd": costs.get(s, ZERO)} for s in services],
            }
            for row in result.rows
            for costs in [row.totals.by_service]
        ],
        "skipped_volumes": [s.volume for s in result.skipped if s.volume is not None],
    }


def recommendations_section(recommendations: Sequence[Recommendation]) -> list[dict[str, Any]]:
    return [
        {
            "code": r.code,
            "title": r.title,
            "detail": r.detail,
            "monthly_saving_usd": r.monthly_saving_usd,
            "new_total_monthly_usd": r.new_total_monthly_usd,
            "resources": list(r.resources),
            "link": r.link,
        }
        for r in recommendations
    ]


def budget_section(result: BudgetResult) -> dict[str, Any]:
    limits = result.limits
    return {
        "status": result.status,
        "monthly_budget_usd": limits.monthly_budget_usd,
        "warn_at_percent": limits.warn_at_percent,
        "max_increase_usd": limits.max_increase_usd,
        "max_increase_percent": limits.max_increase_percent,
        "max_resource_usd": limits.max_resource_usd,
        "max_worst_case_multiple": limits.max_worst_case_multiple,
        "used_percent": result.used_percent,
        "headroom_usd": result.headroom_usd,
        "over_usd": result.over_usd,
        "violations": [{"code": v.code, "message": v.message} for v in result.violations],
    }


def _worst_cases(stack: PricedStack) -> list[tuple[str, str, Decimal, Decimal]]:
    return [
        (c.name, c.shown_timeout_s, c.expected_usd, c.worst_usd) for c in lambda_worst_cases(stack)
    ]


def review_report(
    stack: PricedStack,
    *,
    scenarios: Sequence[Scenario] | None = DEFAULT_SCENARIOS,
    recommendations: bool = True,
    baseline: Baseline | None = None,
    limits: BudgetLimits | None = None,
) -> dict[str, Any]:
    """The report of a priced stack with the review sections asked for: what-if rows for
    ``scenarios`` (``None`` or empty: none), recommendations, the diff against ``baseline`` and
    the check against ``limits``.

    Python's cyclic garbage collector is paused for the call, as it is for an estimate
    (:func:`~costline.estimator.pipeline.estimate`): the report and the rows' copies are many
    objects that live until the report is built, and each full pass of the collector walks
    every object the stack's estimate holds."""
    with gc_paused():
        return _review_report(
            stack,
            scenarios=scenarios,
            recommendations=recommendations,
            baseline=baseline,
            limits=limits,
        )


def _review_report(
    stack: PricedStack,
    *,
    scenarios: Sequence[Scenario] | None,
    recommendations: bool,
    baseline: Baseline | None,
    limits: BudgetLimits | None,
) -> dict[str, Any]:
    resources, prices, options, result = (
        stack.resources,
        stack.prices,
        stack.options,
        stack.estimate,
    )
    source = stack.source
    report = build_report(result, source=source)
    if scenarios:
        report["what_if"] = what_if_section(
            what_if(
                resources,
                prices,
                options,
                scenarios,
                result,
                run=stack.run,
                incoming=stack.incoming,
                billing=stack.scaled_billing,
                edge=stack_edge_traffic(stack),
            ),
            result,
        )
    if recommendations:
        report["recommendations"] = recommendations_section(recommendations_for(stack))
    if baseline is not None:
        report["baseline"] = diff_reports(
            baseline.report, report, source=baseline.source, kind=baseline.kind
        )
    if limits is not None:
        base_total = baseline.report["total_monthly_usd"] if baseline is not None else None
        other_prices = report.get("baseline") is not None and not report["baseline"]["same_prices"]
        report["budget"] = budget_section(
            check_budget(
                result.total_monthly_usd,
                limits,
                base_total,
                other_prices=other_prices,
                missing=result.completeness.missing_by_resource(),
                resources=[(r.name, r.monthly_usd) for r in result.resources],
                worst_cases=_worst_cases(stack) if limits.max_worst_case_multiple else (),
            )
        )
    return report


@lru_cache(maxsize=1)
def report_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def schema_problems(data: Any) -> list[str]:
    """Where ``data`` (parsed JSON) breaks the report schema: ``"resources/0/status: 'x' is not
    one of [...]"``."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(report_schema())
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(top level)'}: {error.message}"
        for error in sorted(
            validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))
        )
    ]
