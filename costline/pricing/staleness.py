"""Warn when the price tables behind an estimate are older than a configurable age.

The age is measured from the price book's ``as_of`` (the oldest entry date of the tables, see
:class:`costline.pricing.PriceBook`) to ``today``, in days. AWS changes list prices a few
times a year, so costline's CLI default is :data:`DEFAULT_MAX_PRICE_AGE_DAYS`.
"""

from __future__ import annotations

import datetime as dt

from costline.core.model import Finding, Severity
from costline.pricing.model import PriceBook

DEFAULT_MAX_PRICE_AGE_DAYS = 90


def price_age_days(prices: PriceBook, today: dt.date) -> int | None:
    """Days from the tables' as-of date to ``today``; None when the date cannot be read."""
    try:
        return (today - dt.date.fromisoformat(prices.as_of)).days
    except (TypeError, ValueError):
        return None


def stale_prices_finding(prices: PriceBook, max_age_days: int, today: dt.date) -> Finding | None:
    """A ``prices-stale`` warning when the tables are older than ``max_age_days``."""
    age = price_age_days(prices, today)
    if age is None or age <= max_age_days:
        return None
    return Finding(
        "prices-stale",
        Severity.WARNING,
        f"the {prices.region} price tables (version {prices.version}) date from {prices.as_of}, "
        f"{age} days ago, older than the {max_age_days}-day limit: prices may have changed",
        field="pricing.as_of",
        suggestion="refresh the tables in pricing/<region>/ (or pass a --prices override), or raise --max-price-age-days",
    )
