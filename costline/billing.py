"""Account-wide billing: free tiers and volume tiers apply to the sum over all resources.

AWS prices a month's usage per account and region, not per resource: the Lambda free tier
(1M requests, 400,000 GB-s) is shared by every function and both architectures, and tier
boundaries count the whole account's requests. So the estimator gathers every resource's
charges, prices each table entry's total once, and splits the cost (and the free units)
back to resources in proportion to their usage. The split (:func:`costline.money.split_exactly`)
gives whole multiples of :data:`costline.money.QUANTUM` that add up to the priced total exactly,
and charges are taken in one canonical order (:attr:`OwnedCharge.key`), so no figure depends on
the order of the resources.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from costline.model import LineItem, slot_init
from costline.money import ZERO, format_quantity, money_context, split_exactly
from costline.pricers.base import Charge
from costline.pricing.model import FreeTier, PriceBook, PriceEntry
from costline.tiers import tier_usage


SECRET_NOTE = "usage from a secret value"


@slot_init
@dataclass(frozen=True, slots=True)
class OwnedCharge:
    owner: Hashable
    charge: Charge
    key: str | None = None
    """A stable, unique identity of the charge whatever the order charges come in (the estimator
    uses the resource's URN and the charge's position); ``repr(owner)`` when not given."""


def _key(owned: OwnedCharge) -> tuple[str, str]:
    return (owned.key if owned.key is not None else repr(owned.owner), owned.charge.description)


@slot_init
@dataclass(frozen=True, slots=True)
class BilledCharge:
    owner: Hashable
    line_item: LineItem


def applicable_free_tiers(prices: PriceBook, *, free_tier: bool) -> list[FreeTier]:
    """Always-free allowances when the free tier is on; none when it is off."""
    if not free_tier:
        return []
    return [tier for tier in prices.free_tiers.values() if getattr(tier, "always_free", True)]


def bill(charges: Sequence[OwnedCharge], prices: PriceBook, *, free_tier: bool = True) -> list[BilledCharge]:
    """Price every charge whose entry exists in ``prices``; callers check ids beforehand."""
    keyed = sorted(((_key(owned), owned) for owned in charges), key=_first)  # one canonical order
    by_price: dict[str, list[OwnedCharge]] = defaultdict(list)
    keys: dict[int, tuple[str, str]] = {}  # id(OwnedCharge) -> its key, computed once
    for key, owned in keyed:
        by_price[owned.charge.price_id].append(owned)
        keys[id(owned)] = key

    with money_context():
        free_units = _allocate_free_tiers(by_price, applicable_free_tiers(prices, free_tier=free_tier), keys)
        billed: list[BilledCharge] = []
        for price_id, owned_charges in by_price.items():
            entry = prices.entries[price_id]
            free = [free_units.get(id(o), ZERO) for o in owned_charges]
            billable = [max(o.charge.quantity - f, ZERO) for o, f in zip(owned_charges, free)]
            total_billable = sum(billable, ZERO)
            bands = tier_usage(total_billable, entry.tiers, entry.price_per)
            total_cost = sum((band.cost_usd for band in bands), ZERO)
            unit_price = bands[0].usd_per_price_unit if bands else entry.first_tier_usd
            tier_note = f"{len(bands)} price tiers (account-wide)" if len(bands) > 1 else None
            costs = split_exactly(total_cost, billable, [keys[id(o)] for o in owned_charges])
            billed += [BilledCharge(owned.owner, _line_item(owned.charge, entry, price_id, unit_price, cost, own_free, tier_note))
                       for owned, cost, own_free in zip(owned_charges, costs, free)]
    return billed


def _line_item(charge: Charge, entry: PriceEntry, price_id: str, unit_price: Decimal, cost: Decimal,
               free: Decimal, tier_note: str | None) -> LineItem:
    """One charge's line item: its share of the entry's cost, its free units, its notes."""
    secret = charge.secret
    own_note = SECRET_NOTE if secret else charge.note
    free_note = None if secret else _free_note(free, charge.quantity, entry.unit)
    if free_note is None and tier_note is None:  # the common case: the charge's own note at most
        note = own_note or None
    else:
        note = "; ".join([n for n in (own_note, free_note, tier_note) if n]) or None
    return LineItem(charge.service, charge.description, charge.quantity, entry.unit, unit_price, entry.price_per,
                    cost, price_id, free, note, secret)


def _first(pair: tuple[tuple[str, str], OwnedCharge]) -> tuple[str, str]:
    return pair[0]


def _allocate_free_tiers(by_price: dict[str, list[OwnedCharge]], tiers: Sequence[FreeTier],
                         keys: dict[int, tuple[str, str]]) -> dict[int, Decimal]:
    """Free units per charge (keyed by ``id`` of the OwnedCharge), proportional to usage."""
    free: dict[int, Decimal] = {}
    for tier in tiers:
        covered = [o for pid in tier.applies_to for o in by_price.get(pid, ())]
        quantities = [o.charge.quantity for o in covered]
        used = sum(quantities, ZERO)
        if used <= 0:
            continue
        granted = min(used, tier.quantity)
        for owned, units in zip(covered, split_exactly(granted, quantities, [keys[id(o)] for o in covered])):
            free[id(owned)] = free.get(id(owned), ZERO) + units
    return free


def _free_note(free: Decimal, quantity: Decimal, unit: str) -> str | None:
    if free <= 0:
        return None
    if free >= quantity:
        return "inside free tier"
    return f"{format_quantity(free.quantize(Decimal(1)) if free > 1 else free)} {unit} free"
