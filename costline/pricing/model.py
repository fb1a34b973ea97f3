"""Price table data types, as loaded and validated from ``pricing/*.yaml``.

All prices are ``Decimal`` US dollars per ``price_per`` units of ``unit`` (e.g. 0.20 USD per
1,000,000 ``request``). Tier bounds are cumulative monthly quantities in ``unit``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Tier:
    """One price band: usage up to ``up_to`` units (cumulative, per month) costs ``usd``
    per ``price_per`` units; ``up_to`` is ``None`` for the open-ended last band."""

    up_to: Decimal | None
    usd: Decimal


@dataclass(frozen=True)
class PriceEntry:
    """One priced dimension, e.g. ``lambda.duration.arm64``.

    ``source`` is a URL or an AWS Price List usagetype; ``as_of`` an ISO date;
    ``origin`` the file it was loaded from (a table or an override file).
    """

    id: str
    description: str
    unit: str
    price_per: Decimal
    tiers: tuple[Tier, ...]
    source: str
    as_of: str
    origin: str
    usagetype: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)

    @property
    def first_tier_usd(self) -> Decimal:
        return self.tiers[0].usd


@dataclass(frozen=True)
class FreeTier:
    """A monthly allowance shared by every entry in ``applies_to`` across the account.

    ``always_free`` is False for allowances that only some accounts get (AWS's 12-month
    free tier for new accounts); the estimator applies only always-free ones by default.
    """

    id: str
    description: str
    quantity: Decimal
    unit: str
    applies_to: tuple[str, ...]
    source: str
    as_of: str
    origin: str
    always_free: bool = True


@dataclass(frozen=True)
class PriceBook:
    """Every price for one region, after overrides.

    ``version`` is the table version; ``as_of`` the oldest entry date among the tables
    (ISO date); ``overrides`` the override files applied, in order. ``region`` is ``[secret]``
    when the region came from a secret (see :func:`costline.pricing.loader.load_price_book`):
    it is only ever shown, never looked up.
    """

    version: str
    region: str
    currency: str
    as_of: str
    entries: Mapping[str, PriceEntry]
    free_tiers: Mapping[str, FreeTier]
    overrides: tuple[str, ...] = ()

    def get(self, price_id: str) -> PriceEntry | None:
        return self.entries.get(price_id)

    def free_tier_for(self, price_id: str) -> FreeTier | None:
        for tier in self.free_tiers.values():
            if price_id in tier.applies_to:
                return tier
        return None
