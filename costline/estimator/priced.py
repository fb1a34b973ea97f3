"""A priced stack: the one record the CLI, the policy pack, the review sections and the
recommendations start from — the stack's resources, the prices and options that priced them, and
the estimate they gave.

Everything that re-prices a modified copy of the stack (what-if rows, recommendations, the Lambda
worst case) does it through :meth:`PricedStack.price`, so the copy is priced exactly as the stack
was: same tables, same overrides, same free tier and fail-closed setting.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any, TypeVar, cast

from costline.core.model import Estimate, Resource
from costline.estimator.pipeline import (
    EstimateOptions,
    PipelineRun,
    Totals,
    UnpricedResults,
    _Draft,
    _price_resource,
    estimate,
    estimate_with_run,
)
from costline.estimator.reprice import Repricer
from costline.estimator.scaled import ScaledBilling, priced_as_declared
from costline.pricers.base import Charge
from costline.pricing.model import PriceBook
from costline.usage.tags import TagCache
from costline.usage.traffic import Edge, incoming_edges

T = TypeVar("T")


@dataclass(frozen=True)
class PricedStack:
    resources: tuple[Resource, ...]
    prices: PriceBook
    options: EstimateOptions
    estimate: Estimate
    source: str | None = None
    """What was read: a program folder, a preview or export file, ``pulumi preview``."""
    budget_usd: Decimal | None = field(default=None)
    """The stack's own budget (``costline:budget`` in its config), when it declares one."""
    run: PipelineRun | None = field(default=None, compare=False, repr=False)
    """What the estimate worked out on the way (:func:`price_stack` keeps it), for
    :meth:`total`; worked out again on first use when not given."""
    _once: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def once(self, name: str, build: Callable[[], T]) -> T:
        """What ``build`` works out of this stack, worked out on first use and kept: a figure
        several review sections need (the edge traffic of the what-if rows and of the
        provisioned-throughput break-even). Each ``name`` is built by one function."""
        if name not in self._once:
            self._once[name] = build()
        return cast(T, self._once[name])

    def price(self, resources: Iterable[Resource]) -> Estimate:
        """The estimate of ``resources`` (a modified copy of the stack) at this stack's prices
        and options."""
        return estimate(resources, self.prices, self.options)

    def total(self, resources: Iterable[Resource]) -> Decimal:
        """``price(resources).total_monthly_usd``, exactly, re-pricing only what the change
        reaches (:mod:`costline.estimator.reprice`)."""
        return self._repricer.total(resources)

    @cached_property
    def _run(self) -> PipelineRun:
        if self.run is not None:
            return self.run
        return estimate_with_run(self.resources, self.prices, self.options)[1]

    @cached_property
    def scaled_billing(self) -> ScaledBilling:
        """The stack's charges ready to be billed with usage dimensions scaled
        (:mod:`costline.estimator.scaled`)."""
        return ScaledBilling(
            self._run, self.prices, Totals.of(self.estimate), free_tier=self.options.free_tier
        )

    @cached_property
    def _repricer(self) -> Repricer:
        results = self.estimate.resources
        return Repricer(
            self._run,
            self.prices,
            self.options,
            unpriced=UnpricedResults(self.resources, results)
            if len(results) == len(self.resources)
            else None,
            incoming=self.incoming,
        )

    def charges_alone(self, resource: Resource) -> list[Charge] | None:
        """The charges ``resource`` (a changed copy of one of the stack's) gets from its pricer
        with nothing flowing into it, in the stack's pricing context (its indexes: only for a
        resource whose pricer looks up nothing the change touches); ``None`` when its pricer
        fails or it is priced at a fail-closed bound."""
        outcome = _price_resource(
            resource, self._run.context, self.options, None, TagCache(), records=True
        )
        if type(outcome) is not _Draft or not priced_as_declared(outcome):
            return None
        return list(outcome.charges)

    @property
    def tags(self) -> TagCache | None:
        """The estimate's tag cache (each resource's tags collected once), when the stack kept
        its run; readers given ``None`` collect the tags themselves."""
        return self.run.tags if self.run is not None else None

    def replaced(self, changes: Mapping[str, Resource]) -> list[Resource]:
        """The stack with the resources whose URN is in ``changes`` replaced."""
        return [changes.get(r.urn, r) for r in self.resources]

    @cached_property
    def incoming(self) -> Mapping[str, list[Edge]]:
        """The stack's traffic edges into each resource
        (:func:`~costline.usage.traffic.incoming_edges`), worked out once for whatever needs
        them (the what-if rows, the edge traffic)."""
        return dict(incoming_edges(self.resources))

    @cached_property
    def _by_urn(self) -> Mapping[str, Resource]:
        return {r.urn: r for r in self.resources}

    def by_urn(self, urn: str) -> Resource:
        return self._by_urn[urn]


def price_stack(
    resources: Iterable[Resource],
    prices: PriceBook,
    options: EstimateOptions | None = None,
    *,
    source: str | None = None,
    budget_usd: Decimal | None = None,
) -> PricedStack:
    """Estimate ``resources`` and keep everything that priced them together."""
    stack = tuple(resources)
    options = options or EstimateOptions()
    result, run = estimate_with_run(stack, prices, options)
    return PricedStack(stack, prices, options, result, source, budget_usd, run)
