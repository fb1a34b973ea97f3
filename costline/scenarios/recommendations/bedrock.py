"""Bedrock recommendations: batch inference, fewer tokens, provisioned throughput break-even.

* Batch: the stack with ``cost:bedrock-mode=batch`` on every resource whose tokens are billed
  on demand, for models with ``bedrock.batch.<model>.*`` prices (AWS charges 50% of on-demand
  where it offers batch); models without a batch price are named as "not offered".
* Tokens: the stack with every declared ``cost:input-tokens`` and ``cost:output-tokens`` cut by
  25% (prompt length; ``max_gen_len`` / ``maxTokens``), and each half on its own.
* Provisioned throughput, for models with ``bedrock.provisioned.<model>.<commitment>`` prices:
  the stack with the model's on-demand tokens replaced by one model unit, and the monthly
  traffic at which that breaks even (on-demand token prices are flat, so cost scales with calls);
  models without a provisioned price are named as "not priced" (no break-even).

A model id that is a secret is never named (:func:`~.common.on_demand_models` leaves it out).

Sources: https://aws.amazon.com/bedrock/pricing/ (prices come from the tables).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from costline.core.model import Resource
from costline.core.money import ZERO, format_quantity, format_usd, money_context
from costline.estimator.pipeline import gc_paused
from costline.estimator.priced import PricedStack
from costline.pricers.base import INPUT_TOKENS_PER_REQUEST, OUTPUT_TOKENS_PER_REQUEST
from costline.pricers.bedrock_provisioned import COMMITMENTS, PROVISIONED_TYPE
from costline.scenarios.edit import UsageScaling, rewrites_cleanly, usage_scaling, with_tags
from costline.scenarios.recommendations.common import (
    Recommendation,
    on_demand_models,
    saving,
    saving_at,
    token_items,
)
from costline.scenarios.whatif import stack_edge_traffic
from costline.usage.tags import BEDROCK_MODE, INPUT_TOKENS, OUTPUT_TOKENS, UsageTag

TOKEN_CUT = Fraction(3, 4)
_TOKEN_DIMENSIONS = {
    INPUT_TOKENS.key: INPUT_TOKENS_PER_REQUEST,
    OUTPUT_TOKENS.key: OUTPUT_TOKENS_PER_REQUEST,
}
"""The usage dimension (:attr:`~costline.pricers.base.Charge.scales`) of each tag cut."""
BATCH_LINK = "https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference.html"
PROVISIONED_LINK = "https://docs.aws.amazon.com/bedrock/latest/userguide/prov-throughput.html"
_COMMITMENT_PROPERTY = {value: key for key, value in COMMITMENTS.items()}
_COMMITMENT_LABEL = {
    "no_commitment": "no commitment",
    "one_month": "1-month commitment",
    "six_months": "6-month commitment",
}


def batch_inference(ctx: PricedStack) -> list[Recommendation]:
    models = on_demand_models(ctx.estimate)
    offered = {
        m: urns for m, urns in models.items() if ctx.prices.get(f"bedrock.batch.{m}.input_tokens")
    }
    results = [
        Recommendation(
            "bedrock-batch-not-offered",
            f"Batch inference is not offered for {model}",
            f"There is no batch-inference price for {model} in {ctx.prices.region} "
            "(no bedrock.batch entry in the price tables), so its calls stay on demand.",
            resources=tuple(ctx.by_urn(u).name for u in urns),
            link=BATCH_LINK,
        )
        for model, urns in models.items()
        if model not in offered
    ]
    if offered:
        urns = [u for group in offered.values() for u in group]
        changed = ctx.replaced(
            {u: with_tags(ctx.by_urn(u), {BEDROCK_MODE.key: "batch"}) for u in urns}
        )
        results.append(
            saving(
                ctx,
                "bedrock-batch",
                "Move latency-tolerant Bedrock calls to batch inference",
                f"Batch inference for {', '.join(offered)} is billed at the bedrock.batch price "
                "(50% of on demand "
                "where AWS offers it); results arrive asynchronously (jobs finish within 24 "
                "hours). The saving "
                "assumes all of these calls can wait; set cost:bedrock-mode=batch on the resources "
                "that move.",
                changed,
                (ctx.by_urn(u).name for u in urns),
                BATCH_LINK,
            )
        )
    return results


def fewer_tokens(ctx: PricedStack) -> list[Recommendation]:
    holders = {r.urn for r, _, _ in token_items(ctx.estimate)}
    if not holders:
        return []

    results = ctx.estimate.resources
    billing = ctx.scaled_billing
    billed = (
        billing.usable
        and len(results) == len(ctx.resources)
        and all(
            rewrites_cleanly(r, result, (INPUT_TOKENS, OUTPUT_TOKENS))
            for r, result in zip(ctx.resources, results, strict=True)
        )
    )
    readings: dict[str, UsageScaling] = {}

    def cut(*tags: UsageTag) -> list[Resource]:
        """``[scale_usage(r, TOKEN_CUT, tags) for r in ctx.resources]``, from one reading (read
        when a cut is first priced)."""
        with gc_paused():  # as estimate() does: the copies all live until they are priced
            if not readings:
                readings.update(
                    (r.urn, reading)
                    for r in ctx.resources
                    if (reading := usage_scaling(r, (INPUT_TOKENS, OUTPUT_TOKENS))) is not None
                )
            return ctx.replaced(
                {
                    urn: only.scaled(TOKEN_CUT)
                    for urn, reading in readings.items()
                    if (only := reading.only(tags)) is not None
                }
            )

    def total(*tags: UsageTag) -> Decimal:
        """The stack's total with ``tags`` cut: billed from its charges where that applies
        (:mod:`costline.estimator.scaled`), else the cut copy priced."""
        if billed:
            totals = billing.totals({_TOKEN_DIMENSIONS[tag.key]: TOKEN_CUT for tag in tags})
            if totals is not None:
                return totals.total_monthly_usd
        return ctx.total(cut(*tags))

    now = ctx.estimate.total_monthly_usd
    after = total(INPUT_TOKENS, OUTPUT_TOKENS)
    output = now - total(OUTPUT_TOKENS)
    prompt = now - total(INPUT_TOKENS)
    detail = (
        f"25% fewer output tokens (lower max_gen_len / maxTokens, ask for shorter answers) saves "
        f"{format_usd(output)}/month; 25% shorter prompts (trim the system prompt, fewer retrieved "
        f"chunks) saves {format_usd(prompt)}/month; both together "
        f"{format_usd(now - after)}/month."
    )
    return [
        saving_at(
            ctx,
            "bedrock-fewer-tokens",
            "Cut Bedrock tokens by 25%",
            detail,
            after,
            (ctx.by_urn(u).name for u in holders),
        )
    ]


def provisioned_break_even(ctx: PricedStack) -> list[Recommendation]:
    results = []
    edge = stack_edge_traffic(ctx)
    for model, urns in on_demand_models(ctx.estimate).items():
        commitments = [
            c for c in COMMITMENTS.values() if ctx.prices.get(f"bedrock.provisioned.{model}.{c}")
        ]
        names = tuple(ctx.by_urn(u).name for u in urns)
        if not commitments:
            results.append(
                Recommendation(
                    "bedrock-provisioned-not-offered",
                    f"No Provisioned Throughput break-even for {model}",
                    f"Provisioned Throughput is not priced for {model} in {ctx.prices.region} (no "
                    "bedrock.provisioned "
                    "entry in the price tables), so no break-even can be computed.",
                    resources=names,
                    link=PROVISIONED_LINK,
                )
            )
            continue
        with money_context():
            on_demand = sum(
                (i.monthly_usd for _, i, m in token_items(ctx.estimate) if m == model), ZERO
            )
        options = []
        for commitment in commitments:
            without_tokens = {
                u: with_tags(ctx.by_urn(u), {INPUT_TOKENS.key: "0", OUTPUT_TOKENS.key: "0"})
                for u in urns
            }
            changed = [*ctx.replaced(without_tokens), _one_model_unit(model, commitment)]
            after = ctx.total(changed)
            options.append((ctx.estimate.total_monthly_usd - after, commitment, after))
        monthly_saving, commitment, new_total = max(options, key=lambda o: o[0])
        provisioned = on_demand - monthly_saving
        detail = (
            f"One model unit of {model} ({_COMMITMENT_LABEL[commitment]}) costs "
            f"{format_usd(provisioned)}/month "
            f"against {format_usd(on_demand)}/month of on-demand tokens now; "
            + _break_even_text(on_demand, provisioned, edge)
            + ". Assumes one model unit carries the traffic (check its tokens per minute)."
        )
        if monthly_saving > 0:
            results.append(
                Recommendation(
                    "bedrock-provisioned",
                    f"Provisioned throughput for {model}",
                    detail,
                    monthly_saving,
                    new_total,
                    names,
                    PROVISIONED_LINK,
                )
            )
        else:
            results.append(
                Recommendation(
                    "bedrock-provisioned-break-even",
                    f"Provisioned throughput for {model} does not pay off yet",
                    detail,
                    resources=names,
                    link=PROVISIONED_LINK,
                )
            )
    return results


def _break_even_text(on_demand: Decimal, provisioned: Decimal, edge) -> str:
    if on_demand <= 0:
        return "no on-demand token cost to compare with"
    with money_context():
        ratio = provisioned / on_demand
        if edge is None or edge.secret:
            return (
                f"it breaks even at {format_quantity(ratio.quantize(Decimal('0.01')))}× today's "
                "traffic"
            )
        calls = (edge.monthly_calls * ratio).quantize(Decimal(1))
    return (
        f"it breaks even at {format_quantity(calls)} calls/month "
        f"(now {format_quantity(edge.monthly_calls)})"
    )


def _one_model_unit(model: str, commitment: str) -> Resource:
    properties = {"modelArn": model, "modelUnits": 1}
    if _COMMITMENT_PROPERTY.get(commitment):
        properties["commitmentDuration"] = _COMMITMENT_PROPERTY[commitment]
    return Resource(
        urn=f"urn:pulumi:costline::what-if::{PROVISIONED_TYPE}::provisioned-{model}",
        type=PROVISIONED_TYPE,
        name=f"provisioned-{model}",
        properties=properties,
    )
