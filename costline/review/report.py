"""The report model: one plain-data view of an estimate that every output format shares.

:func:`build_report` turns an :class:`~costline.core.model.Estimate` into a dict of plain values
(money as ``Decimal``); templates format it and :func:`to_json` serialises it with money as
exact decimal strings. The fields are documented in ``docs/reports.md`` and, for JSON, by
``costline/review/report.schema.json``. The review sections (``what_if``, ``recommendations``,
``baseline``, ``budget``) are ``None`` here and filled in by :mod:`costline.review.sections`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from costline.core.completeness import Gap
from costline.core.model import Estimate, Finding, ResourceStatus, Severity
from costline.core.money import plain_number
from costline.core.text import json_escape_controls
from costline.core.values import SECRET_DISPLAY

REPORT_SCHEMA_ID = "costline-report/1"
CURRENCY = "USD"


def _finding(finding: Finding) -> dict[str, Any]:
    return {
        "code": finding.code,
        "severity": finding.severity.value,
        "message": finding.message,
        "resource_urn": finding.resource_urn,
        "resource_name": finding.resource_name,
        "field": finding.field,
        "suggestion": finding.suggestion,
    }


def _gap(gap: Gap) -> dict[str, Any]:
    return {
        "resource_urn": gap.resource_urn,
        "resource_name": gap.resource_name,
        "field": gap.field,
        "what": gap.what,
        "code": gap.code,
    }


def build_report(estimate: Estimate, *, source: str | None = None) -> dict[str, Any]:
    """The report context: ``source`` says what was estimated (a program dir, a preview file).

    Resources are listed most expensive first (then by name and URN), as a reviewer reads them."""
    resources = []
    for r in sorted(estimate.resources, key=lambda r: (-r.monthly_usd, r.name, r.urn)):
        resources.append(
            {
                "urn": r.urn,
                "type": r.type,
                "name": r.name,
                "status": r.status.value,
                "monthly_usd": r.monthly_usd,
                "line_items": [
                    {
                        "service": i.service,
                        "description": SECRET_DISPLAY if i.secret_text else i.description,
                        "quantity": None if i.secret else i.quantity,
                        "unit": i.unit,
                        "free_quantity": None if i.secret or i.free_secret else i.free_quantity,
                        "secret": i.secret,
                        # the price of the entry a secret text chose would name it
                        "unit_price_usd": None if i.secret_text else i.unit_price_usd,
                        "price_per": i.price_per,
                        "monthly_usd": i.monthly_usd,
                        "price_id": SECRET_DISPLAY if i.secret_text else i.price_id,
                        "note": i.note,
                    }
                    for i in r.line_items
                ],
                "assumptions": [
                    {
                        "key": a.key,
                        "value": a.value,
                        "source": a.source.value,
                        "detail": a.detail,
                        "origin": a.origin,
                    }
                    for a in r.assumptions
                ],
                "findings": [_finding(f) for f in r.findings],
            }
        )
    counts = {status.value: 0 for status in ResourceStatus}
    for r in estimate.resources:
        counts[r.status.value] += 1
    findings = [_finding(f) for f in estimate.all_findings]
    known = estimate.completeness
    return {
        "schema": REPORT_SCHEMA_ID,
        "source": source,
        "currency": CURRENCY,
        "total_monthly_usd": estimate.total_monthly_usd,
        "pricing_version": estimate.pricing.version,
        "pricing_region": estimate.pricing.region,
        "pricing_as_of": estimate.pricing.as_of,
        "price_overrides": list(estimate.pricing.overrides),
        "free_tier_applied": estimate.free_tier_applied,
        "complete": known.complete,
        "incomplete_summary": known.summary(),
        "bounded_summary": known.bounded_summary(),
        "known_monthly_usd": known.known_usd,
        "bounded_monthly_usd": known.bounded_usd,
        "incomplete": [_gap(g) for g in known.missing],
        "bounded": [_gap(g) for g in known.bounded],
        "by_service": [
            {"service": service, "monthly_usd": usd}
            for service, usd in sorted(
                estimate.by_service().items(), key=lambda kv: (-kv[1], kv[0])
            )
        ],
        "resources": resources,
        "findings": findings,
        "summary": {
            "resources": len(estimate.resources),
            **counts,
            "findings": {
                s.value: sum(1 for f in estimate.all_findings if f.severity is s) for s in Severity
            },
        },
        # Review sections, filled in by costline.review.sections when computed (None: not computed).
        "what_if": None,
        "recommendations": None,
        "baseline": None,
        "budget": None,
    }


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return plain_number(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def to_json(report: Mapping[str, Any]) -> str:
    """The report as JSON; every Decimal becomes an exact decimal string (``"38.605"``)."""
    text = json.dumps(report, default=_json_default, indent=2, ensure_ascii=False)
    return json_escape_controls(text) + "\n"
