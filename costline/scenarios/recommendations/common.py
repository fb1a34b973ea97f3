"""What every recommendation rule shares: the record it returns and the stack it prices.

A rule gets a :class:`~costline.estimator.priced.PricedStack` (the stack as declared, its prices,
options and estimate) and
returns :class:`Recommendation` records. A saving is always the difference between two
estimates by the same estimator — the stack as declared and a modified copy — so free tiers
and tiers are counted as AWS would bill them; nothing is a percentage of a line item.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from costline.core.model import Estimate, LineItem, Resource, ResourceEstimate
from costline.estimator.priced import PricedStack

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
