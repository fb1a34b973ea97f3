"""Lambda recommendations: arm64 (Graviton) and right-sized memory.

* arm64: the stack with every x86_64 function (declared, or the AWS default) on arm64, priced at
  ``lambda.duration.arm64`` (and ``lambda.provisioned_concurrency.arm64``).
* Memory: a function that waits on Amazon Bedrock (it calls an inference profile, or declares a
  model) spends its run time waiting for the model, and that wait does not shorten with more
  memory: the stack with its memory halved (not below 128 MB) and the same duration. Offered
  only when the declared duration leaves room under the timeout (at most half of it), since a
  function that already runs close to its timeout should not lose CPU.

Sources: https://aws.amazon.com/lambda/pricing/ (prices come from the tables).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from costline.core.model import Resource
from costline.core.money import format_unit_price, plain_number
from costline.core.values import is_unknown, touches_secret
from costline.estimator.priced import PricedStack
from costline.pricers.base import MEMORY
from costline.pricers.lambda_function import (
    DEFAULT_ARCHITECTURE,
    DEFAULT_MEMORY_MB,
    duration_price_id,
)
from costline.pricers.lambda_function import TYPE as LAMBDA_TYPE
from costline.scenarios.edit import with_properties
from costline.scenarios.recommendations.common import Recommendation, billed_change, saving_at
from costline.scenarios.worst_case import timeout_s
from costline.usage.tags import AVG_DURATION_MS, BEDROCK_MODEL, IMPORTED_MODEL, UsageReader
from costline.usage.traffic import PROFILE_TYPE

ARM64_LINK = "https://docs.aws.amazon.com/lambda/latest/dg/foundation-arch.html"
POWER_TUNING_LINK = "https://docs.aws.amazon.com/lambda/latest/operatorguide/profile-functions.html"
MIN_MEMORY_MB = Decimal(128)
MAX_SHARE_OF_TIMEOUT = Decimal("0.5")


def _memory_mb(resource: Resource) -> Decimal | None:
    raw = resource.properties.get("memorySize")
    if raw is None:
        return DEFAULT_MEMORY_MB
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or is_unknown(raw):
        return None
    return Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw)


def arm64(ctx: PricedStack) -> list[Recommendation]:
    def on_x86(r: Resource) -> bool:
        arch = r.properties.get("architectures")
        if touches_secret("architectures", r.secret_paths):
            return False  # recommending arm64 would say the secret architecture is x86_64
        return r.type == LAMBDA_TYPE and (
            arch is None or (isinstance(arch, list) and arch[:1] in ([], [DEFAULT_ARCHITECTURE]))
        )

    functions = [r for r in ctx.resources if on_x86(r)]
    x86_id, arm_id = duration_price_id(DEFAULT_ARCHITECTURE), duration_price_id("arm64")
    x86, arm = ctx.prices.get(x86_id), ctx.prices.get(arm_id)
    if not functions or x86 is None or arm is None:
        return []
    # the same charges, their duration billed at the arm64 price (where the charges say so)
    after = billed_change(
        ctx, ("architectures",), moved={r.urn: {x86_id: arm_id} for r in functions}
    )
    if after is None:
        after = ctx.total(
            ctx.replaced(
                {r.urn: with_properties(r, {"architectures": ["arm64"]}) for r in functions}
            )
        )
    return [
        saving_at(
            ctx,
            "lambda-arm64",
            "Run Lambda functions on arm64 (Graviton)",
            f"arm64 duration costs {format_unit_price(arm.first_tier_usd)} per GB-second against "
            f"{format_unit_price(x86.first_tier_usd)} on x86_64; rebuild native dependencies for "
            "arm64 "
            'and set architectures=["arm64"].',
            after,
            (r.name for r in functions),
            ARM64_LINK,
        )
    ]


def right_size_memory(ctx: PricedStack) -> list[Recommendation]:
    profiles = {r.urn for r in ctx.resources if r.type == PROFILE_TYPE}
    incoming = ctx.incoming  # the stack's edges, worked out once per review
    calls_model = {e.source for urn in profiles for e in incoming.get(urn, ())}
    changes, notes = {}, []
    factors: dict[str, dict[str, Fraction]] = {}
    for r in ctx.resources:
        if r.type != LAMBDA_TYPE:
            continue
        usage = UsageReader(r, tags=ctx.tags, records=False)
        waits = r.urn in calls_model or usage.has(BEDROCK_MODEL) or usage.has(IMPORTED_MODEL)
        memory = _memory_mb(r)
        duration = (
            usage.number(AVG_DURATION_MS, required=False) if usage.has(AVG_DURATION_MS) else None
        )
        if not waits or memory is None or memory <= MIN_MEMORY_MB or duration is None:
            continue
        if touches_secret("memorySize", r.secret_paths):
            continue  # the advice would print the secret memory size
        if duration > timeout_s(r) * 1000 * MAX_SHARE_OF_TIMEOUT:
            continue
        smaller = max(MIN_MEMORY_MB, (memory / 2).to_integral_value())
        changes[r.urn] = with_properties(r, {"memorySize": int(smaller)})
        if type(r.properties.get("memorySize")) is int:  # as its pricer reads it, unrounded
            factors[r.urn] = {MEMORY: Fraction(int(smaller), int(memory))}
        notes.append(f"{r.name} {plain_number(memory)} → {plain_number(smaller)} MB")
    if not changes:
        return []
    # the same charges, their duration × the new memory over the old (where they say so)
    after = (
        billed_change(ctx, ("memorySize",), per_resource=factors)
        if len(factors) == len(changes)
        else None
    )
    return [
        saving_at(
            ctx,
            "lambda-right-size-memory",
            "Right-size Lambda memory for functions that wait on Bedrock",
            f"{'; '.join(notes)}. These functions spend their run time waiting for the model, "
            "which "
            "more memory does not shorten, and their declared duration is well under the timeout; "
            "the saving assumes the same duration. Confirm with a power-tuning run.",
            after if after is not None else ctx.total(ctx.replaced(changes)),
            (ctx.by_urn(u).name for u in changes),
            POWER_TUNING_LINK,
        )
    ]
