"""Recommendations with the monthly dollars each one saves, computed by the estimator.

:func:`recommend` runs every rule over the stack as declared; each rule prices a modified
copy of the stack with the same estimator, prices and options, so a saving is the difference
of two estimates (free tier and tiers included), never a percentage applied by hand. (The
token cuts, arm64, the halved memory and the HTTP-API switch bill the stack's charges with the
change applied to them where every charge says how it scales,
:mod:`costline.estimator.scaled`: the same bill, free tier and tiers included.)

Rules (one module per service): batch inference, 25% fewer tokens and provisioned-throughput
break-even (:mod:`.bedrock`); arm64 and right-sized memory (:mod:`.lambda_`); an HTTP API
instead of REST (:mod:`.apigateway`); an AWS Budgets alarm (:mod:`.budgets`).

Order: savings largest first (those that round to $0.00 are dropped); then advice without a
dollar figure (options AWS does not offer, break-even points not reached); the Budgets alarm
last. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from costline.core.model import Estimate, Resource
from costline.core.money import ZERO, round_cents
from costline.estimator.pipeline import EstimateOptions, gc_paused
from costline.estimator.priced import PricedStack, price_stack
from costline.pricing.model import PriceBook
from costline.scenarios.recommendations import apigateway, bedrock, budgets, lambda_
from costline.scenarios.recommendations.common import Recommendation

__all__ = ["RULES", "Recommendation", "recommend"]

RULES: tuple[Callable[[PricedStack], list[Recommendation]], ...] = (
    bedrock.batch_inference,
    bedrock.fewer_tokens,
    bedrock.provisioned_break_even,
    lambda_.arm64,
    lambda_.right_size_memory,
    apigateway.http_api,
    budgets.budgets_alarm,
)


def recommend(
    resources: Sequence[Resource],
    prices: PriceBook,
    options: EstimateOptions | None = None,
    base: Estimate | None = None,
) -> list[Recommendation]:
    """Every recommendation for ``resources`` (estimated as ``base`` when given)."""
    options = options or EstimateOptions()
    stack = tuple(resources)
    if base is None:
        return recommendations_for(price_stack(stack, prices, options))
    return recommendations_for(PricedStack(stack, prices, options, base))


def recommendations_for(stack: PricedStack) -> list[Recommendation]:
    """Every recommendation for a priced stack, ordered as the module doc says."""
    with gc_paused():  # as estimate() does: the rules' copies live until they are priced
        found = [rec for rule in RULES for rec in rule(stack)]
    savings = sorted(
        (
            r
            for r in found
            if r.monthly_saving_usd is not None and round_cents(r.monthly_saving_usd) > 0
        ),
        key=lambda r: (-(r.monthly_saving_usd or ZERO), r.title),  # None filtered out above
    )
    advice = [r for r in found if r.monthly_saving_usd is None and r.code != budgets.BUDGETS_CODE]
    last = [r for r in found if r.code == budgets.BUDGETS_CODE]
    return [*savings, *advice, *last]
