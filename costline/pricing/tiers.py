"""Tiered (volume-banded) prices, shared by every service.

A price entry's tiers are cumulative monthly bands in the entry's unit: the first
``tiers[0].up_to`` units cost ``tiers[0].usd`` per ``price_per`` units, the units up to
``tiers[1].up_to`` cost ``tiers[1].usd``, and so on; the last band is open-ended.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from costline.core.money import ZERO, money_context
from costline.pricing.model import Tier


@dataclass(frozen=True)
class TierUsage:
    """How much of one band a quantity used, and what that band costs (USD)."""

    start: Decimal
    end: Decimal | None
    quantity: Decimal
    usd_per_price_unit: Decimal
    cost_usd: Decimal


def tier_usage(quantity: Decimal, tiers: Sequence[Tier], price_per: Decimal) -> list[TierUsage]:
    """Split ``quantity`` (units per month) across ``tiers``; only bands actually used."""
    used: list[TierUsage] = []
    start = ZERO
    remaining = quantity
    with money_context():
        for tier in tiers:
            if remaining <= 0:
                break
            band = remaining if tier.up_to is None else min(remaining, tier.up_to - start)
            if band > 0:
                cost = band * tier.usd / price_per
                used.append(TierUsage(start, tier.up_to, band, tier.usd, cost))
                remaining -= band
            if tier.up_to is not None:
                start = tier.up_to
    return used


def tiered_cost(quantity: Decimal, tiers: Sequence[Tier], price_per: Decimal) -> Decimal:
    """Monthly USD for ``quantity`` units priced over ``tiers``."""
    with money_context():
        return sum((band.cost_usd for band in tier_usage(quantity, tiers, price_per)), ZERO)
