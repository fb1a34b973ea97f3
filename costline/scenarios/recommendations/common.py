"""What every recommendation rule shares: the record it returns and the stack it prices.

A rule gets a :class:`~costline.estimator.priced.PricedStack` (the stack as declared, its prices,
options and estimate) and
returns :class:`Recommendation` records. A saving is always the difference between two
estimates by the same estimator — the stack as declared and a modified copy — so free tiers
and tiers are counted as AWS would bill them; nothing is a percentage of a line item.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from costline.core.model import Estimate, LineItem, Resource, ResourceEstimate, Severity
from costline.estimator.priced import PricedStack
from costline.estimator.reprice import LOOKUPS

ON_DEMAND_PREFIX = "bedrock.on_demand."
TOKEN_DIMENSIONS = ("input_tokens", "output_tokens")


@dataclass(frozen=True)
class Recommendation:
    """One way to spend less (or to notice spending sooner).

    ``monthly_saving_usd`` is exact (estimate as declared − estimate with the change) or
    ``None`` for advice without a dollar figure (a Budgets alarm, a break-even point not yet
    reached, an option AWS does not offer). ``resources`` names the resources it changes.
    """

    code: str
    title: str
    detail: str
    monthly_saving_usd: Decimal | None = None
    new_total_monthly_usd: Decimal | None = None
    resources: tuple[str, ...] = ()
    link: str | None = None


def saving(
    stack: PricedStack,
    code: str,
    title: str,
    detail: str,
    changed: Iterable[Resource],
    resources: Iterable[str],
    link: str | None = None,
) -> Recommendation:
    """A recommendation whose saving is the stack's total minus the total of ``changed``."""
    return saving_at(stack, code, title, detail, stack.total(changed), resources, link)


def billed_change(
    stack: PricedStack,
    properties: Collection[str],
    *,
    per_resource: Mapping[str, Mapping[str, Fraction]] | None = None,
    moved: Mapping[str, Mapping[str, str]] | None = None,
) -> Decimal | None:
    """The stack's total with some resources' ``properties`` changed, billed from its charges
    (:meth:`~costline.estimator.scaled.ScaledBilling.totals` with ``per_resource`` and ``moved``,
    keyed by the changed resources' URNs), where that gives what pricing the changed copy would:
    billing applies to the stack, each changed resource is one priced resource with no finding
    (but INFO) about the changed properties or about no field at all, and no pricer of another
    type reads the changed resources (:data:`~costline.estimator.reprice.LOOKUPS`: a Lambda's
    provisioned-concurrency configs read its memory and architecture). ``None`` otherwise: the
    caller prices the copy (:meth:`~costline.estimator.priced.PricedStack.total`)."""
    billing = stack.scaled_billing
    urns = {*(per_resource or {}), *(moved or {})}
    if not billing.usable or not all(billing.prices_resource(u) for u in urns):
        return None
    types = {stack.by_urn(u).type for u in urns}
    readers = {t for seen, priced, _ in LOOKUPS if seen & types for t in priced} - types
    if readers and any(r.type in readers for r in stack.resources):
        return None
    results = {r.urn: r for r in stack.estimate.resources if r.urn in urns}
    if len(results) < len(urns) or any(
        f.severity is not Severity.INFO and (f.field is None or f.field in properties)
        for result in results.values()
        for f in result.findings
    ):
        return None
    totals = billing.totals({}, per_resource=per_resource, moved=moved)
    return None if totals is None else totals.total_monthly_usd


def saving_at(
    stack: PricedStack,
    code: str,
    title: str,
    detail: str,
    after: Decimal,
    resources: Iterable[str],
    link: str | None = None,
) -> Recommendation:
    """A recommendation whose saving is the stack's total minus ``after``, the total with the
    change made."""
    return Recommendation(
        code,
        title,
        detail,
        stack.estimate.total_monthly_usd - after,
        after,
        tuple(dict.fromkeys(resources)),
        link,
    )


def token_items(base: Estimate) -> Iterator[tuple[ResourceEstimate, LineItem, str]]:
    """On-demand Bedrock token line items, with the resource and the model id they price."""
    for resource in base.resources:
        for item in resource.line_items:
            if item.price_id.startswith(ON_DEMAND_PREFIX):
                for dimension in TOKEN_DIMENSIONS:
                    if item.price_id.endswith("." + dimension):
                        yield (
                            resource,
                            item,
                            item.price_id[len(ON_DEMAND_PREFIX) : -len(dimension) - 1],
                        )


def on_demand_models(base: Estimate) -> dict[str, list[str]]:
    """Model id → URNs of the resources whose on-demand token charges it prices (a model id a
    secret chose is left out: advice about it would have to name it)."""
    models: dict[str, list[str]] = {}
    for resource, item, model in token_items(base):
        if item.secret_text:
            continue
        urns = models.setdefault(model, [])
        if resource.urn not in urns:
            urns.append(resource.urn)
    return models
