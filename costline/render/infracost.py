"""The report in Infracost's JSON output format (``--format infracost-json``).

Infracost's tools (``infracost output --format table|slack-message``, ``infracost comment
gitlab|azure-repos|bitbucket``) read the JSON ``infracost breakdown --format json`` writes. Its
shape is Infracost's published output schema (``schema/infracost.schema.json`` in
infracost/infracost, version "0.2"): a root with ``version``, ``currency``, ``projects``, past,
current and diff totals, ``timeGenerated`` and ``summary``; a project per stack with
``breakdown``, ``pastBreakdown`` and ``diff``; a resource per priced Pulumi resource with its
``costComponents``. Every cost is a decimal string, or ``null`` where it is not known.

How costline's report maps onto it:

* a resource is a Pulumi resource (``name`` is its Pulumi name; ``metadata`` holds its URN and
  type token, since Infracost's names are Terraform addresses); free resources are counted in
  ``summary.totalNoPriceResources``, resources costline does not price in
  ``totalUnsupportedResources`` and ``unsupportedResourceCounts``;
* a cost component is a line item: ``price`` per unit (costline's price per N units divided
  by N), ``monthlyQuantity`` in the line item's unit, hourly figures = monthly ÷ 730 hours
  (Infracost's month);
* a resource whose cost depends on usage that was not declared has ``monthlyCost: null``, as
  Infracost shows usage-based costs with no usage;
* Infracost's format has no verdict, so an incomplete estimate says so where its readers look:
  each cost costline could not determine is a cost component with no figures (as Infracost
  shows a cost it cannot compute), named ``Not in the total (incomplete): <what>``, on its
  resource (or, for a stack-wide gap or a resource not listed, on one entry named
  :data:`NOT_IN_TOTAL`), and the resource's ``metadata`` lists it under ``incomplete``; a
  resource priced in part at a fail-closed worst-case bound lists what under ``bounded``;
* with a baseline, ``pastBreakdown`` carries the baseline's totals (its resources are in
  costline's own report) and ``diff`` the change; without one the past is empty (0), as for a
  first Infracost run.

Money stays exact: the strings are the report's Decimals, not rounded. Names (of projects,
resources and cost components) are one line without control characters
(:func:`costline.core.text.one_line`): Infracost's tools print them to a terminal and into
comments as they are, since Terraform addresses cannot hold such characters, but a Pulumi name
can; the URN in ``metadata`` keeps the exact name.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from costline.core.money import ZERO, money_context, plain_number
from costline.core.text import json_escape_controls, one_line

INFRACOST_OUTPUT_VERSION = "0.2"
HOURS_PER_MONTH = Decimal(730)  # Infracost's month, as AWS's price pages use
PROJECT_TYPE = "pulumi"
_UNPRICED = {"not_priced"}


def _text(value: Decimal | None) -> str | None:
    return None if value is None else plain_number(value)


HOURLY_QUANTUM = Decimal("1e-16")  # 16 decimal places, as Infracost's own hourly figures


def _per_hour(monthly: Decimal) -> Decimal:
    with money_context():
        return (monthly / HOURS_PER_MONTH).quantize(HOURLY_QUANTUM)


def _hourly(monthly: Decimal | None) -> str | None:
    return None if monthly is None else plain_number(_per_hour(monthly))


def _component(item: Mapping[str, Any]) -> dict[str, Any]:
    quantity = item["quantity"]  # None when it came from a secret
    price_per = item.get("price_per") or Decimal(1)
    with money_context():
        price = None if item["unit_price_usd"] is None else item["unit_price_usd"] / price_per
    hourly_quantity = None if quantity is None else _per_hour(quantity)
    return {
        "name": one_line(item["description"]),
        "unit": item["unit"],
        "hourlyQuantity": _text(hourly_quantity),
        "monthlyQuantity": _text(quantity),
        "price": _text(price),
        "hourlyCost": _hourly(item["monthly_usd"]),
        "monthlyCost": _text(item["monthly_usd"]),
    }


NOT_IN_TOTAL = "Costs not in the total (incomplete)"
"""The entry that lists what is missing from the estimate but belongs to no listed resource."""
UNKNOWN_COMPONENT = "Not in the total (incomplete): {}"


def _unknown(what: str) -> dict[str, Any]:
    """A cost costline could not determine, as a cost component with no figures."""
    return {
        "name": one_line(UNKNOWN_COMPONENT.format(what)),
        "unit": "",
        "hourlyQuantity": None,
        "monthlyQuantity": None,
        "price": None,
        "hourlyCost": None,
        "monthlyCost": None,
    }


def _gaps(listed: Any) -> dict[str | None, list[str]]:
    """The report's ``incomplete`` or ``bounded`` gaps: resource URN (None: the stack) → what,
    in order, each once."""
    grouped: dict[str | None, list[str]] = {}
    for gap in listed if isinstance(listed, list) else ():
        whats = grouped.setdefault(gap.get("resource_urn"), [])
        what = str(gap.get("what") or "unknown")
        if what not in whats:
            whats.append(what)
    return grouped


def _resource(
    resource: Mapping[str, Any], missing: Sequence[str] = (), bounded: Sequence[str] = ()
) -> dict[str, Any]:
    known = resource["status"] != "usage_missing"
    monthly = resource["monthly_usd"] if known else None
    metadata: dict[str, Any] = {"urn": resource["urn"], "type": resource["type"]}
    if missing:
        metadata["incomplete"] = list(missing)
    if bounded:
        metadata["bounded"] = list(bounded)
    return {
        "name": one_line(resource["name"]),
        "metadata": metadata,
        "hourlyCost": _hourly(monthly),
        "monthlyCost": _text(monthly),
        "costComponents": [_component(item) for item in resource["line_items"]]
        + [_unknown(what) for what in missing],
        "subresources": [],
    }


def _not_in_total(
    gaps: Mapping[str | None, list[str]], names: Mapping[str, str]
) -> dict[str, Any] | None:
    """The entry for what is missing but on no listed resource (``names``: URN → name of the
    resources not listed); None when there is none."""
    whats = [
        f"{names.get(urn, urn) if urn else 'the stack'}: {what}"
        for urn, listed in gaps.items()
        for what in listed
    ]
    if not whats:
        return None
    return {
        "name": NOT_IN_TOTAL,
        "metadata": {"incomplete": whats},
        "hourlyCost": None,
        "monthlyCost": None,
        "costComponents": [_unknown(what) for what in whats],
        "subresources": [],
    }


def _breakdown(resources: Sequence[dict[str, Any]], total: Decimal | None) -> dict[str, Any]:
    return {
        "resources": list(resources),
        "totalHourlyCost": _hourly(total),
        "totalMonthlyCost": _text(total),
    }


def _summary(resources: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    unsupported = Counter(r["type"] for r in resources if r["status"] in _UNPRICED)
    free = Counter(r["type"] for r in resources if r["status"] == "free")
    supported = Counter(
        r["type"] for r in resources if r["status"] not in _UNPRICED and r["status"] != "free"
    )
    usage_based = sum(
        1 for r in resources if any(i["quantity"] is not None for i in r["line_items"])
    )
    return {
        "totalDetectedResources": len(resources),
        "totalSupportedResources": sum(supported.values()),
        "totalUnsupportedResources": sum(unsupported.values()),
        "totalUsageBasedResources": usage_based,
        "totalNoPriceResources": sum(free.values()),
        "supportedResourceCounts": dict(sorted(supported.items())),
        "unsupportedResourceCounts": dict(sorted(unsupported.items())),
        "noPriceResourceCounts": dict(sorted(free.items())),
    }


def infracost_project(report: Mapping[str, Any], name: str) -> dict[str, Any]:
    """One stack's report as an Infracost project named ``name``."""
    resources = report["resources"]
    missing, bounded = _gaps(report.get("incomplete")), _gaps(report.get("bounded"))
    listed = [r for r in resources if r["status"] not in _UNPRICED and r["status"] != "free"]
    priced = [_resource(r, missing.get(r["urn"], ()), bounded.get(r["urn"], ())) for r in listed]
    shown = {r["urn"] for r in listed}
    rest = _not_in_total(
        {urn: whats for urn, whats in missing.items() if urn not in shown},
        {r["urn"]: r["name"] for r in resources},
    )
    if rest is not None:
        priced.append(rest)
    total = report["total_monthly_usd"]
    baseline = report.get("baseline")
    past_total = baseline["total_monthly_usd"] if baseline else ZERO
    with money_context():
        delta = total - past_total
    return {
        "name": one_line(name),
        "metadata": {"path": one_line(report.get("source") or name), "type": PROJECT_TYPE},
        "pastBreakdown": _breakdown([], past_total),
        "breakdown": _breakdown(priced, total),
        "diff": _breakdown(priced if not baseline else [], delta),
        "summary": _summary(resources),
    }


def infracost_output(
    projects: Sequence[tuple[str, Mapping[str, Any]]], *, generated: datetime | None = None
) -> dict[str, Any]:
    """Several stacks' reports (name, report) as one Infracost output document."""
    built = [infracost_project(report, name) for name, report in projects]
    with money_context():
        total = sum((Decimal(p["breakdown"]["totalMonthlyCost"]) for p in built), ZERO)
        past = sum((Decimal(p["pastBreakdown"]["totalMonthlyCost"]) for p in built), ZERO)
        delta = total - past
    summary: dict[str, Any] = {}
    for project in built:
        for key, value in project["summary"].items():
            if isinstance(value, int):
                summary[key] = summary.get(key, 0) + value
            else:
                counts = Counter(summary.get(key, {}))
                counts.update(value)
                summary[key] = dict(sorted(counts.items()))
    moment = (generated or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return {
        "version": INFRACOST_OUTPUT_VERSION,
        "currency": "USD",
        "projects": built,
        "totalHourlyCost": _hourly(total),
        "totalMonthlyCost": _text(total),
        "pastTotalHourlyCost": _hourly(past),
        "pastTotalMonthlyCost": _text(past),
        "diffTotalHourlyCost": _hourly(delta),
        "diffTotalMonthlyCost": _text(delta),
        "timeGenerated": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "summary": summary,
    }


def infracost_json(projects: Sequence[tuple[str, Mapping[str, Any]]]) -> str:
    """:func:`infracost_output` as JSON text (control characters escaped, see
    :func:`~costline.core.text.json_escape_controls`)."""
    text = json.dumps(infracost_output(projects), indent=2, ensure_ascii=False)
    return json_escape_controls(text) + "\n"


def to_infracost_json(report: Mapping[str, Any], name: str | None = None) -> str:
    """One report as Infracost JSON text."""
    return infracost_json([(name or report.get("source") or "stack", report)])
