"""Warn when the prices an estimate used are older than a configurable age.

Each price entry carries ``as_of``: the date of the material it was checked against. An
estimate is judged by the entries it *used* (the price ids of its line items, and the free
tiers they drew on), not by the oldest entry anywhere in the tables: the warning names the
oldest entry used and its age. The tables' overall date (:attr:`PriceBook.as_of`) is shown in
the report's footer only. AWS changes list prices a few times a year, so costline's CLI default
is :data:`DEFAULT_MAX_PRICE_AGE_DAYS`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from costline.core.model import Finding, LineItem, Severity
from costline.core.values import SECRET_DISPLAY
from costline.pricing.model import FreeTier, PriceBook, PriceEntry

DEFAULT_MAX_PRICE_AGE_DAYS = 90


def _age(as_of: str, today: dt.date) -> int | None:
    try:
        return (today - dt.date.fromisoformat(as_of)).days
    except (TypeError, ValueError):
        return None


def oldest_used(items: Iterable[LineItem], prices: PriceBook) -> PriceEntry | FreeTier | None:
    """The oldest price entry behind ``items`` (or free tier an item drew on); ties go to the
    smallest id, so the choice does not depend on the order of the items."""
    used: dict[str, PriceEntry | FreeTier] = {}
    for item in items:
        entry = prices.get(item.price_id)
        if entry is None:
            continue
        used[entry.id] = entry
        free = prices.free_tier_for(item.price_id) if item.free_quantity else None
        if free is not None:  # an allowance the item actually drew on
            used[free.id] = free
    if not used:
        return None
    return min(used.values(), key=lambda item: (item.as_of, item.id))


def stale_prices_finding(
    prices: PriceBook, max_age_days: int, today: dt.date, items: Iterable[LineItem] = ()
) -> Finding | None:
    """A ``prices-stale`` warning when the oldest price the estimate used (``items``' price ids)
    was checked more than ``max_age_days`` before ``today``; None when nothing was priced."""
    items = list(items)
    oldest = oldest_used(items, prices)
    if oldest is None:
        return None
    # an entry only secret texts chose (a secret model's price id) would name the secret
    named = any(
        not item.secret_text
        and (
            item.price_id == oldest.id
            or getattr(prices.free_tier_for(item.price_id), "id", None) == oldest.id
        )
        for item in items
    )
    shown_id = oldest.id if named else SECRET_DISPLAY
    age = _age(oldest.as_of, today)
    if age is None or age <= max_age_days:
        return None
    return Finding(
        "prices-stale",
        Severity.WARNING,
        f"the oldest price this estimate used, {shown_id} ({prices.region}), was checked against "
        f"material dated {oldest.as_of}, {age} days ago, older than the {max_age_days}-day limit: "
        "prices may have changed",
        field="pricing.as_of",
        suggestion="refresh that entry in pricing/<region>/ (or pass a --prices override), "
        "or raise --max-price-age-days",
    )
