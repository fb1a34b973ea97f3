"""The totals of a priced stack with some of its usage scaled, billed from its charges.

A what-if row scales the stack's traffic by a factor; a recommendation to cut tokens scales the
tokens per request by 0.75. Pricing the scaled copy again costs an estimate per scenario. But
every pricer says of each charge what its quantity is proportional to
(:attr:`~costline.pricers.base.Charge.scales`): traffic, input or output tokens per request,
nothing (a fixed charge), or that it cannot say (a threshold such as provisioned concurrency's
capacity). When every charge of the stack says, the scaled stack's usage of each price entry is

    usage = Σ over its charges of quantity × the factors of the dimensions the charge scales with

and billing those usages account-wide as :mod:`costline.estimator.billing` does — the free
tiers shared in proportion to usage, the volume tiers on each entry's total, each entry's cost
rounded to :data:`~costline.core.money.QUANTUM` — gives the scaled stack's total and cost by
service without pricing any resource again: one pass over the charges to add them up per
entry and dimension (:class:`ScaledBilling`), then a few operations per entry and scenario.

Changes of a few resources go the same way (:meth:`ScaledBilling.totals`): a dimension scaled
for some resources alone (a Lambda function's memory halved), their charges billed at another
entry (a function on arm64), or their charges replaced by others (a REST API turned into an HTTP
API, priced alone). The caller says when such a change reaches nothing else (no other pricer
reads the changed resources, the traffic they send on is the same).

Exactness. The figures are the same bill worked out in another order: the full estimate prices
each resource from its scaled figures (rounded to 50 significant digits), then splits each
entry's cost and free units back to resources in whole quanta; here the quantities are scaled
after pricing and each entry is billed on its total. The two agree to well under 10^-18 dollars
(``tests/test_scaled.py`` pins this against full estimates of scaled copies), far below the cent
any report shows.

When this does not apply (:meth:`ScaledBilling.totals` returns ``None``, and the caller prices
the scaled copy in full): a charge whose pricer does not say how it scales; a resource priced at
a fail-closed bound (a bound does not scale with the figure it stands for); a resource its
pricer failed on; a negative quantity; an entry billed for two services.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction

from costline.core.model import UsageSource
from costline.core.money import PRECISION_DIGITS, QUANTUM, ZERO, money_context
from costline.estimator.billing import applicable_free_tiers
from costline.estimator.pipeline import PipelineRun, Totals, _Draft
from costline.pricers.base import Charge
from costline.pricing.model import PriceBook
from costline.pricing.tiers import tier_usage

_GRID_BELOW = PRECISION_DIGITS + QUANTUM.adjusted()
"""Costs whose adjusted exponent is below this are rounded to the quantum when split (see
:func:`~costline.core.money.split_in_order`); larger ones are split as they are."""


class ScaledBilling:
    """The charges of the stack ``run`` priced, added up per price entry and per set of
    dimensions they scale with, ready to be billed at any factors.

    ``base``: the totals of ``run``'s estimate (the order of its services, and its count of
    findings that are not INFO, which scaling leaves alone where this applies)."""

    def __init__(
        self, run: PipelineRun, prices: PriceBook, base: Totals, *, free_tier: bool
    ) -> None:
        self.prices, self.base, self.free_tier = prices, base, free_tier
        self.usable = True
        """False when some charge or resource of the stack does not scale as its charges say
        (see the module doc): every scenario is then priced in full."""
        self.parts: dict[str, dict[tuple[str, ...], Decimal]] = {}
        """Price id → (dimensions → the sum of the quantities of its charges scaling with
        exactly those), in the order the entries were first charged."""
        self.service: dict[str, str] = {}
        """Price id → the service its charges bill for."""
        self._charges: dict[str, list[Charge] | None] = {}
        """Resource URN → its charges as billed (``None`` for a URN two resources share)."""
        entries = prices.entries
        if run.traffic_failed:  # the figures that flow through the graph are not in the charges
            self.usable = False
            return
        with money_context():
            for draft in run.drafts:
                urn = draft.resource.urn
                self._charges[urn] = None if urn in self._charges else draft.charges
                if not priced_as_declared(draft):
                    self.usable = False
                    return
                for charge in draft.charges:
                    scales = charge.scales
                    if scales is None or charge.quantity < 0:
                        self.usable = False
                        return
                    price_id = charge.price_id
                    if price_id not in entries:
                        continue  # never billed (a price-missing finding says so)
                    if self.service.setdefault(price_id, charge.service) != charge.service:
                        self.usable = False
                        return
                    parts = self.parts.setdefault(price_id, {})
                    parts[scales] = parts.get(scales, ZERO) + charge.quantity

    def prices_resource(self, urn: str) -> bool:
        """Whether ``urn`` is one priced resource of the stack (the one resource with that URN)."""
        return self._charges.get(urn) is not None

    def totals(
        self,
        factors: Mapping[str, Fraction],
        *,
        per_resource: Mapping[str, Mapping[str, Fraction]] | None = None,
        moved: Mapping[str, Mapping[str, str]] | None = None,
        replaced: Mapping[str, Sequence[Charge]] | None = None,
    ) -> Totals | None:
        """The totals of the stack with the figures of each dimension in ``factors`` scaled by
        its factor (the others as they are); ``None`` when this does not apply (the caller then
        prices the changed copy in full).

        ``per_resource`` (resource URN → dimension → factor): a change of some resources alone
        (a Lambda function's memory halved); ``moved`` (resource URN → price id → price id): the
        resource's charges billed at another entry of the same service, the same quantity (a
        function on arm64); ``replaced`` (resource URN → charges): the resource's charges
        replaced by others, billed as they are (a REST API turned into an HTTP API; none for a
        resource dropped; a resource replaced is neither scaled nor moved). Each such resource
        must be one priced resource of the stack (:meth:`prices_resource`)."""
        if not self.usable:
            return None
        with money_context():
            usage = {
                price_id: sum(
                    (_scaled(quantity, scales, factors) for scales, quantity in parts.items()),
                    ZERO,
                )
                for price_id, parts in self.parts.items()
            }
            service = dict(self.service)
            for urn in {*(replaced or {}), *(per_resource or {}), *(moved or {})}:
                before = self._charges.get(urn)
                if before is None:
                    return None
                if replaced is not None and urn in replaced:
                    after = [(c.price_id, c.service, c.quantity) for c in replaced[urn]]
                else:
                    own = {**factors, **(per_resource or {}).get(urn, {})}
                    to = (moved or {}).get(urn, {})
                    after = [
                        (
                            to.get(c.price_id, c.price_id),
                            c.service,
                            _scaled(c.quantity, c.scales or (), own),
                        )
                        for c in before
                    ]
                for charge in before:
                    if charge.price_id not in usage:
                        return None  # not billed as it is (price-missing): would it be after?
                    usage[charge.price_id] -= _scaled(charge.quantity, charge.scales or (), factors)
                for price_id, name, quantity in after:
                    if (
                        price_id not in self.prices.entries
                        or service.setdefault(price_id, name) != name
                    ):
                        return None
                    usage[price_id] = usage.get(price_id, ZERO) + quantity
            free = self._free_units(usage)
            entries = self.prices.entries
            by_service: dict[str, Decimal] = dict.fromkeys(self.base.by_service, ZERO)
            total = ZERO
            for price_id, quantity in usage.items():
                entry = entries[price_id]
                billable = max(quantity - free.get(price_id, ZERO), ZERO)
                cost = sum(
                    (b.cost_usd for b in tier_usage(billable, entry.tiers, entry.price_per)), ZERO
                )
                if cost.adjusted() < _GRID_BELOW:
                    cost = cost.quantize(QUANTUM)
                name = service[price_id]
                by_service[name] = by_service.get(name, ZERO) + cost
                total += cost
        return Totals(total, by_service, self.base.problems)

    def _free_units(self, usage: Mapping[str, Decimal]) -> dict[str, Decimal]:
        """Free units per price id: each always-free allowance (when the free tier is on) shared
        by the entries it covers in proportion to their usage, as billing shares it among
        charges."""
        free: dict[str, Decimal] = {}
        for tier in applicable_free_tiers(self.prices, free_tier=self.free_tier):
            covered = [price_id for price_id in tier.applies_to if price_id in usage]
            used = sum((usage[price_id] for price_id in covered), ZERO)
            if used <= 0:
                continue
            granted = min(used, tier.quantity).quantize(QUANTUM)
            for price_id in covered:
                share = granted if len(covered) == 1 else granted * usage[price_id] / used
                free[price_id] = free.get(price_id, ZERO) + share
        return free


def priced_as_declared(draft: _Draft) -> bool:
    """Whether the pricer priced ``draft`` from its figures as they are: it did not fail, and no
    figure is a fail-closed bound (a bound does not scale with the figure it stands for)."""
    return draft.status is None and not any(
        a.source is UsageSource.BOUND for a in draft.assumptions
    )


def _scaled(quantity: Decimal, scales: tuple[str, ...], factors: Mapping[str, Fraction]) -> Decimal:
    """``quantity`` × the factor of each of ``scales`` (1 for a dimension not in ``factors``),
    in the caller's (money) context."""
    for dimension in scales:
        factor = factors.get(dimension)
        if factor is not None and factor != 1:
            quantity = quantity * factor.numerator / factor.denominator
    return quantity
