"""Account-wide billing: free tiers and volume tiers apply to the sum over all resources.

AWS prices a month's usage per account and region, not per resource: the Lambda free tier
(1M requests, 400,000 GB-s) is shared by every function and both architectures, and tier
boundaries count the whole account's requests. So the estimator gathers every resource's
charges, prices each table entry's total once, and splits the cost (and the free units)
back to resources in proportion to their usage. The splits give whole multiples of
:data:`costline.core.money.QUANTUM` that add up to the priced total exactly
(:func:`costline.core.money.split_in_order` for an entry's cost and a free tier covering one entry,
:func:`costline.core.money.split_exactly` for a free tier shared by several entries), and charges
are taken in one canonical order (the estimator's: resources by URN, each one's charges as its
pricer gave them), so no figure depends on the order of the resources.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from costline.core.model import LineItem
from costline.core.money import ZERO, format_quantity, money_context, split_exactly, split_in_order
from costline.pricers.base import Charge
from costline.pricing.model import FreeTier, PriceBook, PriceEntry
from costline.pricing.tiers import tier_usage

SECRET_NOTE = "usage from a secret value"
SECRET_FREE_NOTE = "part free (the free tier is shared with usage from a secret value)"
_ONE = Decimal(1)


def applicable_free_tiers(prices: PriceBook, *, free_tier: bool) -> list[FreeTier]:
    """Always-free allowances when the free tier is on; none when it is off."""
    if not free_tier:
        return []
    return [tier for tier in prices.free_tiers.values() if getattr(tier, "always_free", True)]


def bill_in_order(
    charges: Sequence[Charge], prices: PriceBook, *, free_tier: bool = True
) -> list[LineItem]:
    """Every charge's line item, aligned with ``charges``; their entries must exist in ``prices``.

    ``charges`` must come in a canonical order, the same whatever order the resources came in:
    the quanta a split leaves over (and the free units) go to the earlier of equal charges.
    """
    by_price: dict[str, list[int]] = {}  # price id -> positions in ``charges``, ascending
    for position, charge in enumerate(charges):
        price_id = charge.price_id
        positions = by_price.get(price_id)
        if positions is None:
            by_price[price_id] = [position]
        else:
            positions.append(position)

    line_items: list[LineItem] = [None] * len(charges)  # type: ignore[list-item]  # every one set below
    with money_context():
        free_units, secret_free = _allocate_free_tiers(
            charges, by_price, applicable_free_tiers(prices, free_tier=free_tier)
        )
        for price_id, positions in by_price.items():
            _bill_entry(
                prices.entries[price_id],
                price_id,
                charges,
                positions,
                free_units.get(price_id),
                line_items,
                secret_free,
            )
    return line_items


def _bill_entry(
    entry: PriceEntry,
    price_id: str,
    charges: Sequence[Charge],
    positions: list[int],
    free: list[Decimal] | None,
    line_items: list[LineItem],
    secret_free: frozenset[int] = frozenset(),
) -> None:
    """One price entry's charges (``charges[i]`` for ``i`` in ``positions``, ascending, so in
    canonical order) priced together: tiers on the sum of their billable units, the cost split
    back in proportion. Each line item goes to ``line_items[i]``. ``free``: the free units of
    each of these charges (in the entry's unit), or ``None`` when no free tier covers the entry;
    ``secret_free``: positions whose free units depend on a secret usage (see
    :func:`_allocate_free_tiers`)."""
    quantities = [charges[i].quantity for i in positions]
    if free is None:
        free = [ZERO] * len(positions)
        billable = quantities if min(quantities) >= 0 else [max(q, ZERO) for q in quantities]
    else:
        billable = [max(q - f, ZERO) for q, f in zip(quantities, free, strict=True)]
    total_billable = sum(billable, ZERO)
    bands = tier_usage(total_billable, entry.tiers, entry.price_per)
    total_cost = sum((band.cost_usd for band in bands), ZERO)
    unit_price = bands[0].usd_per_price_unit if bands else entry.first_tier_usd
    tier_note = f"{len(bands)} price tiers (account-wide)" if len(bands) > 1 else None
    costs = split_in_order(total_cost, billable)  # the charges are in canonical order
    unit, price_per = entry.unit, entry.price_per
    for i, cost, own_free in zip(positions, costs, free, strict=True):
        charge = charges[i]
        free_secret = i in secret_free
        line_items[i] = LineItem(
            charge.service,
            charge.description,
            charge.quantity,
            unit,
            unit_price,
            price_per,
            cost,
            price_id,
            own_free,
            _note(charge, own_free, unit, tier_note, free_secret),
            charge.secret,
            charge.secret_text,
            free_secret,
        )


def _note(
    charge: Charge, free: Decimal, unit: str, tier_note: str | None, free_secret: bool = False
) -> str | None:
    """A charge's line-item note: its own note (or the secret notice), its free units, the tiers."""
    secret = charge.secret
    own_note = SECRET_NOTE if secret else charge.note
    free_note = (
        None
        if secret or free is ZERO
        else SECRET_FREE_NOTE
        if free_secret
        else _free_note(free, charge.quantity, unit)
    )
    if free_note is None and tier_note is None:  # the common case: the charge's own note at most
        return own_note or None
    return "; ".join(filter(None, (own_note, free_note, tier_note))) or None


def _allocate_free_tiers(
    charges: Sequence[Charge], by_price: dict[str, list[int]], tiers: Sequence[FreeTier]
) -> tuple[dict[str, list[Decimal]], frozenset[int]]:
    """Free units (in the entry's unit) per covered price id, aligned with ``by_price[price_id]``:
    each tier's allowance split over the charges it covers in proportion to their usage, ties by
    position in ``charges`` (the canonical order). And the positions whose free units depend on
    a secret usage: a used-up allowance split with a secret charge (another charge's share of
    1M free requests would tell the secret's size)."""
    free: dict[str, list[Decimal]] = {}
    secret_free: set[int] = set()
    for tier in tiers:
        covered_ids = [price_id for price_id in tier.applies_to if price_id in by_price]
        covered = [i for price_id in covered_ids for i in by_price[price_id]]
        quantities = [charges[i].quantity for i in covered]
        used = sum(quantities, ZERO)
        if used <= 0:
            continue
        granted = min(used, tier.quantity)
        if granted < used and any(charges[i].secret for i in covered):
            secret_free.update(covered)
        units = (
            split_in_order(granted, quantities)
            if len(covered_ids) == 1  # one id's positions: ascending
            else split_exactly(granted, quantities, covered)
        )
        start = 0
        for price_id in covered_ids:
            end = start + len(by_price[price_id])
            earlier = free.get(price_id)
            free[price_id] = (
                units[start:end]
                if earlier is None
                else [a + b for a, b in zip(earlier, units[start:end], strict=True)]
            )
            start = end
    return free, frozenset(secret_free)


def _free_note(free: Decimal, quantity: Decimal, unit: str) -> str | None:
    """How much of a charge's ``quantity`` its ``free`` units (both in ``unit``) cover: nothing
    to say, all of it, or the free units (whole ones above one)."""
    if free <= ZERO:  # Decimal constants: cheaper to compare than ints
        return None
    if free >= quantity:
        return "inside free tier"
    if free > _ONE:  # a whole number: printed as format_quantity would, without its normalizing
        return f"{int(free.quantize(_ONE)):,} {unit} free"
    return f"{format_quantity(free)} {unit} free"
