"""The verdict a reviewer reads first, in every format: the total, the change against the
baseline and its direction, the budget status, whether the estimate is complete and whether
any figure in it is a fail-closed worst-case bound.

Plain data computed from the report (templates and the terminal view only format it). The
completeness fields ``complete`` and ``incomplete`` are read from the report when it carries
them; a report without them is judged by its resources' statuses: a resource that is
``partial``, ``usage_missing`` or ``not_priced`` has a cost costline could not determine, so the
total is a lower bound, never a price of $0 for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from costline.core.money import round_cents

INCOMPLETE_STATUSES = ("partial", "usage_missing", "not_priced")


def budget_outcome(budget: Mapping[str, Any] | None) -> str:
    """What a check's limits came to, the same for every format that names it: ``over-budget``
    (the total over its budget), ``check-failed`` (another limit broken — a resource's, an
    increase's, a worst-case multiple, an unknown under fail-closed — while the total is within
    any budget), ``near-budget``, ``within-budget``, ``within-limits`` (limits, all kept, but no
    budget) or ``no-limits``."""
    budget = budget or {}
    status = budget.get("status")
    if status == "over":
        codes = {violation.get("code") for violation in budget.get("violations") or ()}
        return "over-budget" if "over-budget" in codes else "check-failed"
    if status == "warning":
        return "near-budget"
    if status == "within":
        return "within-budget" if budget.get("monthly_budget_usd") is not None else "within-limits"
    return "no-limits"


LOWER_BOUND = "the total is a lower bound"
"""What a total that leaves a cost out, and prices nothing at a worst-case bound, is. Said only
then: with a bound in it as well, the total may be above the real cost or below it."""


def incomplete_means(bounded: bool) -> str:
    """What an incomplete total is: :data:`LOWER_BOUND`, or, with a worst-case bound in it too
    (``bounded``), only that it leaves the unknown cost out."""
    return "the total leaves that cost out" if bounded else LOWER_BOUND


def known_parts(complete: bool, bounded: int) -> list[tuple[str, str]]:
    """What every format's verdict says of the total's completeness, as (kind, words):
    ``known``: ``all costs known``; else ``incomplete`` and/or ``bounded``: ``includes
    worst-case bounds for N resources`` (``bounded``: how many), both when the estimate is both."""
    parts: list[tuple[str, str]] = []
    if not complete:
        parts.append(("incomplete", "incomplete"))
    if bounded:
        plural = "s" if bounded != 1 else ""
        parts.append(("bounded", f"includes worst-case bounds for {bounded} resource{plural}"))
    return parts or [("known", "all costs known")]


def _incomplete_names(report: Mapping[str, Any]) -> list[str]:
    """The resources whose cost is not fully known, each with what is missing
    (``model (no price for … in eu-west-1)``), from the report's ``incomplete`` gaps
    (:mod:`costline.core.completeness`); by status for a report without them."""
    listed = report.get("incomplete")
    if isinstance(listed, list):
        return _gap_names(listed)
    return [r["name"] for r in report["resources"] if r["status"] in INCOMPLETE_STATUSES]


def _gap_names(listed: list[Any]) -> list[str]:
    """Each resource named in the gaps ``listed``, with what they say about it, in order."""
    grouped: dict[str, list[str]] = {}
    for gap in listed:
        if isinstance(gap, Mapping):
            name = str(gap.get("resource_name") or gap.get("name") or gap.get("urn") or "the stack")
            whats = grouped.setdefault(name, [])
            what = str(gap.get("what", ""))
            if what and what not in whats:
                whats.append(what)
        else:
            grouped.setdefault(str(gap), [])
    return [f"{name} ({', '.join(whats)})" if whats else name for name, whats in grouped.items()]


def verdict(report: Mapping[str, Any]) -> dict[str, Any]:
    """``total_usd``; ``delta_usd`` and ``delta_percent`` (None without a baseline) and
    ``direction`` (``up``, ``down``, ``none``: the change as displayed, in whole cents);
    ``status`` (the budget's ``over``/``warning``/``within``, or ``none``); ``complete`` and
    ``incomplete`` (names of the resources whose cost is not fully known); ``bounded`` (names
    of the resources priced, in part, at a fail-closed worst-case bound, with what was);
    ``known`` (:func:`known_parts`, each with the names it is about) and ``lower_bound``
    (:data:`LOWER_BOUND` when that is what the total is, else empty); ``incomplete_means``
    (:func:`incomplete_means`)."""
    base = report.get("baseline")
    budget = report.get("budget")
    incomplete = _incomplete_names(report)
    bounded = report.get("bounded")
    complete = report.get("complete")
    if not isinstance(complete, bool):
        complete = not incomplete
    bounded_names = _gap_names(bounded) if isinstance(bounded, list) else []
    names = {"known": [], "incomplete": incomplete, "bounded": bounded_names}
    known = [
        {"text": text, "warn": kind != "known", "names": names[kind]}
        for kind, text in known_parts(complete, len(bounded_names))
    ]
    direction = "none"
    if base is not None:
        delta = round_cents(base["delta_usd"])
        direction = "up" if delta > 0 else "down" if delta < 0 else "none"
    return {
        "total_usd": report["total_monthly_usd"],
        "delta_usd": None if base is None else base["delta_usd"],
        "delta_percent": None if base is None else base["delta_percent"],
        "direction": direction,
        "status": budget["status"] if budget else "none",
        "complete": complete,
        "incomplete": incomplete,
        "bounded": bounded_names,
        "known": known,
        "lower_bound": LOWER_BOUND if not complete and not bounded_names else "",
        "incomplete_means": incomplete_means(bool(bounded_names)),
    }
