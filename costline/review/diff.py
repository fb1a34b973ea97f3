"""Baseline diff: what a change does to the stack's monthly cost, per resource and in total.

Works on two report contexts (:func:`costline.review.report.build_report` output, or a costline JSON
report read back with money as ``Decimal``), so a baseline can be last week's JSON report or a
``pulumi stack export`` estimated today. Resources are matched by URN, then by type and name
(a URN also changes when a parent does). A resource is

* ``added`` / ``removed``: only in the change / only in the baseline;
* ``changed``: its monthly cost, its status, or one of its inputs differs; the inputs are its
  report assumptions (``memorySize``, ``architectures``, ``cost:daily-requests``,
  ``cost:bedrock-model``, ``modelSource.copyFrom``...), compared by key. A secret input reads
  ``[secret]`` on both sides and so never shows as changed.

Unchanged resources are counted, not listed.

Every ``delta_usd`` (total, per service, per resource) is the change *as displayed*:
``round_cents(after) − round_cents(before)``, so a reader's subtraction of the two shown
amounts always gives the shown change (an exact delta of $56.1375 between $102.2875 and
$46.15 shows as −$56.14, not −$56.13). The JSON report carries the same rounded deltas; the
exact amounts on each side (``before_usd``, ``after_usd``, ``total_monthly_usd``) stay exact.
(:func:`costline.review.budget.shown_delta`). ``delta_percent`` is computed from the exact totals
(:func:`costline.review.budget.percent_change`),
the same figure ``costline check`` compares with ``--max-increase-percent``.

When the baseline was priced with other tables or override files, ``prices_note`` says which
(``None`` when the prices are the same). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from costline.core.money import ZERO
from costline.review.budget import percent_change, shown_delta

Report = Mapping[str, Any]
CHANGE_ORDER = {"added": 0, "removed": 1, "changed": 2}


def _inputs(resource: Mapping[str, Any]) -> dict[str, str]:
    inputs: dict[str, str] = {}
    for assumption in resource.get("assumptions") or ():
        inputs.setdefault(assumption["key"], assumption["value"])
    return inputs


def input_changes(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> list[dict[str, str | None]]:
    """Inputs whose value differs (``None`` where a side lacks the input), in the after side's
    order."""
    old, new = _inputs(before), _inputs(after)
    keys = [*new, *(k for k in old if k not in new)]
    return [
        {"key": k, "before": old.get(k), "after": new.get(k)}
        for k in keys
        if old.get(k) != new.get(k)
    ]


_Side = Mapping[str, Any]


def _match(
    before: Sequence[_Side], after: Sequence[_Side]
) -> list[tuple[_Side | None, _Side | None]]:
    """Pairs (before or None, after or None): by URN, then by (type, name) among the rest."""
    old_by_urn = {r["urn"]: r for r in before}
    pairs: list[tuple[_Side | None, _Side | None]] = []
    unmatched_new = []
    for r in after:
        if r["urn"] in old_by_urn:
            pairs.append((old_by_urn.pop(r["urn"]), r))
        else:
            unmatched_new.append(r)
    old_by_name = {(r["type"], r["name"]): r for r in old_by_urn.values()}
    for r in unmatched_new:
        pairs.append((old_by_name.pop((r["type"], r["name"]), None), r))
    pairs.extend((r, None) for r in old_by_name.values())
    return pairs


def _entry(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> dict[str, Any] | None:
    side = new or old
    assert side is not None, "_match pairs at least one side"
    before = old["monthly_usd"] if old else None
    after = new["monthly_usd"] if new else None
    changes = input_changes(old, new) if old and new else []
    if old and new and before == after and not changes and old["status"] == new["status"]:
        return None
    return {
        "change": "added" if old is None else "removed" if new is None else "changed",
        "urn": side["urn"],
        "name": side["name"],
        "type": side["type"],
        "status_before": old["status"] if old else None,
        "status_after": new["status"] if new else None,
        "before_usd": before,
        "after_usd": after,
        "delta_usd": shown_delta(before, after),
        "changes": changes,
    }


def _rank(entry: Mapping[str, Any]) -> tuple:
    """Largest shown change first; among equal shown changes, the larger exact one."""
    exact = (entry["after_usd"] if entry["after_usd"] is not None else ZERO) - (
        entry["before_usd"] if entry["before_usd"] is not None else ZERO
    )
    return -abs(entry["delta_usd"]), -abs(exact), CHANGE_ORDER[entry["change"]], entry["name"]


def diff_reports(
    before: Report, after: Report, *, source: str | None = None, kind: str = "report"
) -> dict[str, Any]:
    """The ``baseline`` section of a report: ``after`` (the change) against ``before``."""
    pairs = _match(before.get("resources") or (), after.get("resources") or ())
    entries = [e for e in (_entry(old, new) for old, new in pairs) if e is not None]
    entries.sort(key=_rank)
    counts = {change: sum(1 for e in entries if e["change"] == change) for change in CHANGE_ORDER}
    old_services = {s["service"]: s["monthly_usd"] for s in before.get("by_service") or ()}
    new_services = {s["service"]: s["monthly_usd"] for s in after.get("by_service") or ()}
    services = [*new_services, *(s for s in old_services if s not in new_services)]
    total_before, total_after = before["total_monthly_usd"], after["total_monthly_usd"]
    pricing_before = (
        before.get("pricing_version"),
        before.get("pricing_region"),
        tuple(before.get("price_overrides") or ()),
    )
    pricing_after = (
        after.get("pricing_version"),
        after.get("pricing_region"),
        tuple(after.get("price_overrides") or ()),
    )
    return {
        "source": source,
        "kind": kind,
        "total_monthly_usd": total_before,
        "delta_usd": shown_delta(total_before, total_after),
        "delta_percent": percent_change(total_before, total_after),
        "pricing_version": before.get("pricing_version"),
        "pricing_region": before.get("pricing_region"),
        "same_prices": pricing_before == pricing_after,
        "by_service": [
            {
                "service": s,
                "before_usd": old_services.get(s, ZERO),
                "after_usd": new_services.get(s, ZERO),
                "delta_usd": shown_delta(old_services.get(s, ZERO), new_services.get(s, ZERO)),
            }
            for s in services
        ],
        "resources": entries,
        "counts": {**counts, "unchanged": len(pairs) - len(entries)},
        "price_overrides": list(pricing_before[2]),
        "prices_note": None
        if pricing_before == pricing_after
        else _prices_note(pricing_before, pricing_after),
    }


def _prices_note(before: tuple, after: tuple) -> str:
    """Which prices differ: ``priced with tables 2026.11.0 (us-east-1) and overrides a.yaml;
    this run with no overrides``."""

    def prices(
        version: str | None, region: str | None, overrides: tuple[str, ...], *, tables: bool
    ) -> str:
        parts = [f"tables {version} ({region})"] if tables else []
        if overrides or not tables:
            parts.append(f"overrides {', '.join(overrides)}" if overrides else "no overrides")
        return " and ".join(parts)

    tables_differ = before[:2] != after[:2]
    return (
        f"the baseline was priced with {prices(*before, tables=True)}; this run with "
        f"{prices(*after, tables=tables_differ or before[2] == after[2])}: part of the change may "
        "come from prices"
    )
