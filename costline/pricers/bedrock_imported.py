"""Amazon Bedrock Custom Model Import: imported models billed per Custom Model Unit-minute.

Billing (https://aws.amazon.com/bedrock/pricing/, entries ``bedrock.custom_model_import.*``):
importing is free; inference is billed per CMU per minute, in 5-minute windows
(``billing_window_minutes`` of the ``cmu_minute`` entry) while a model copy is active, and a copy
scales to zero after about 5 idle minutes; storage is billed per CMU per month. So::

    monthly = copies × CMUs × active minutes × USD per CMU-minute  +  CMUs × USD per CMU-month

Declared with ``cost:imported-model`` (the model's name, e.g. ``deepseek-r1-distill-llama-70b``)
on the Lambda that calls it or its inference profile. CMUs per copy: ``cost:cmu``, else the
price table's ``cmus_per_copy_examples`` for the same architecture and the smallest size at
least as large (Llama 8B → 2, 70B → 8); copies: ``cost:model-copies`` (default 1).

Active time, per day (× ``cost:days-per-month``, default 30):

* ``cost:active-hours-per-day`` × 60 minutes when declared;
* else the month's requests spread evenly over :data:`WORKING_HOURS_PER_DAY` working hours:
  each request opens one billing window, and when requests come closer than a window apart the
  copy never idles, so ``min(working minutes, requests per day × window minutes)``.

When the stack also declares per-token usage (``cost:bedrock-model`` with tokens), a
``bedrock-imported-per-token`` finding says that figure does not apply and shows both numbers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import ROUND_CEILING, Decimal

from costline.core.model import Resource, Severity, UsageSource
from costline.core.money import format_quantity, format_usd, money_context, plain_number
from costline.pricers.base import Charge, PricingContext
from costline.pricers.bedrock import SERVICE, foundation_model_id, on_demand_price_id
from costline.pricing.tiers import tiered_cost
from costline.usage.tags import (
    ACTIVE_HOURS_PER_DAY,
    BEDROCK_MODEL,
    CMU,
    IMPORTED_MODEL,
    INPUT_TOKENS,
    MODEL_COPIES,
    OUTPUT_TOKENS,
    UsageReader,
)

_ONE_COPY = "one model copy active at a time"
CMU_MINUTE_ID = "bedrock.custom_model_import.cmu_minute"
STORAGE_ID = "bedrock.custom_model_import.storage_cmu_month"
WORKING_HOURS_PER_DAY = Decimal(8)
"""Hours a day a team's requests are spread over when no active hours are declared."""
MINUTES_PER_HOUR = Decimal(60)
DEFAULT_WINDOW_MINUTES = Decimal(5)
_SIZE = re.compile(r"(?<![0-9a-z])(?:([0-9]+)x)?([0-9]+(?:\.[0-9]+)?)b(?![a-z])")


def model_size(name: str) -> tuple[str | None, Decimal | None]:
    """Architecture and size in billions of parameters read from a model name.

    ``deepseek-r1-distill-llama-70b`` → ``("llama", 70)``; ``Mixtral 8x7B 32K`` → ``("mixtral",
    56)``.
    The architecture is the last known family word in the name (a distilled model runs on its
    student's architecture).
    """
    lowered = name.lower()
    families = [
        (lowered.rfind(f), f)
        for f in ("llama", "mistral", "mixtral", "flan", "qwen", "deepseek")
        if f in lowered
    ]
    family = max(families)[1] if families else None
    match = _SIZE.search(lowered.replace(" ", "-"))
    if match is None:
        return family, None
    size = Decimal(match.group(2)) * (Decimal(match.group(1)) if match.group(1) else 1)
    return family, size


def estimated_cmus(name: str, examples: Mapping[str, object]) -> Decimal | None:
    """CMUs per copy from the table's examples: same family, smallest size ≥ the model's."""
    family, size = model_size(name)
    if family is None or size is None:
        return None
    candidates = []
    for example, cmus in examples.items():
        ex_family, ex_size = model_size(str(example))
        if ex_family == family and ex_size is not None and ex_size >= size:
            candidates.append((ex_size, Decimal(str(cmus))))
    return min(candidates)[1] if candidates else None


def imported_model_charges(
    resource: Resource, usage: UsageReader, context: PricingContext, *, requests: Decimal | None
) -> list[Charge]:
    """CMU-minutes and storage for the imported model named by ``cost:imported-model``."""
    name = usage.text(IMPORTED_MODEL)
    minute_entry = context.prices.get(CMU_MINUTE_ID)
    if name is None or minute_entry is None or context.prices.get(STORAGE_ID) is None:
        return []
    attributes = minute_entry.attributes or {}
    cmus = _cmus(usage, name, attributes.get("cmus_per_copy_examples") or {})
    if cmus is None:
        return []
    declared = usage.has(MODEL_COPIES)
    copies = usage.number(MODEL_COPIES, required=False) if declared else None
    if copies is None:  # undeclared: AWS's least; declared but unreadable: a finding, and the same
        copies = Decimal(1)
        if declared:
            usage.assume_instead(MODEL_COPIES, "1", _ONE_COPY)
        else:
            usage.assume(MODEL_COPIES.key, "1", UsageSource.DEFAULT, _ONE_COPY)
    window = Decimal(str(attributes.get("billing_window_minutes", DEFAULT_WINDOW_MINUTES)))
    minutes, how = _active_minutes(usage, requests, window)
    if minutes is None:
        return []
    group = f"bedrock-imported:{name}"
    with money_context():
        cmu_minutes = copies * cmus * minutes
    charges = [
        Charge(
            SERVICE,
            CMU_MINUTE_ID,
            cmu_minutes,
            f"Imported model inference ({name})",
            f"{format_quantity(copies)} copy × {format_quantity(cmus)} CMU × "
            f"{format_quantity(minutes)} active min ({how})",
            group,
        ),
        Charge(
            SERVICE,
            STORAGE_ID,
            cmus,
            f"Imported model storage ({name})",
            f"{format_quantity(cmus)} CMU stored",
            group,
        ),
    ]
    _per_token_finding(resource, usage, context, name, requests, charges)
    return charges


def _cmus(usage: UsageReader, name: str, examples: Mapping[str, object]) -> Decimal | None:
    if usage.has(CMU):
        return usage.number(CMU)
    cmus = estimated_cmus(name, examples)
    if cmus is None:
        usage.finding(
            "usage-tag-missing",
            Severity.WARNING,
            f"cannot tell the Custom Model Units of {usage.masked(repr(name))} from its name "
            "(architecture and size); its cost is not in the total",
            CMU,
            f"add the tag {CMU.key}={CMU.example}",
        )
        return None
    family, size = model_size(name)
    assert size is not None, "estimated_cmus found a size"
    usage.assume(
        CMU.key,
        plain_number(cmus),
        UsageSource.DERIVED,
        f"{family} {plain_number(size)}B, from the price table's CMU examples",
    )
    return cmus


def _active_minutes(
    usage: UsageReader, requests: Decimal | None, window: Decimal
) -> tuple[Decimal | None, str]:
    if usage.has(ACTIVE_HOURS_PER_DAY):  # unreadable: fail-closed, every hour of the day
        hours = usage.number(ACTIVE_HOURS_PER_DAY, worst_case=ACTIVE_HOURS_PER_DAY.maximum)
        if hours is None:
            return None, ""
        days = usage.days_per_month(f"days per month for {ACTIVE_HOURS_PER_DAY.key}")
        minutes = _whole_windows(hours * MINUTES_PER_HOUR, window)
        return (
            minutes * days,
            f"{plain_number(minutes)} min/day ({plain_number(hours)} h in "
            f"{plain_number(window)}-minute windows) × {plain_number(days)} days",
        )
    if requests is None:
        return None, ""
    days = usage.days_per_month("days per month the requests are spread over")
    with money_context():
        per_day = requests / days
        working = WORKING_HOURS_PER_DAY * MINUTES_PER_HOUR
        minutes_per_day = _whole_windows(min(working, per_day * window), window)
    usage.assume(
        "active minutes per day",
        format_quantity(minutes_per_day),
        UsageSource.DERIVED,
        f"{format_quantity(per_day)} requests/day spread over "
        f"{plain_number(WORKING_HOURS_PER_DAY)} working hours, "
        f"{plain_number(window)}-minute billing windows",
    )
    return (
        minutes_per_day * days,
        f"{format_quantity(minutes_per_day)} min/day × {plain_number(days)} days",
    )


def _whole_windows(minutes: Decimal, window: Decimal) -> Decimal:
    """An active period's minutes rounded up to whole billing windows (AWS bills imported
    models in 5-minute windows: 61 active minutes are 65 billed)."""
    return (minutes / window).to_integral_value(rounding=ROUND_CEILING) * window


def _per_token_finding(
    resource: Resource,
    usage: UsageReader,
    context: PricingContext,
    name: str,
    requests: Decimal | None,
    charges: list[Charge],
) -> None:
    """When the stack also prices this model per token, show that figure beside the CMU one."""
    declared = _per_token_model(resource, usage)
    if (
        declared is None
        or requests is None
        or not (usage.has_or_derived(INPUT_TOKENS) or usage.has_or_derived(OUTPUT_TOKENS))
    ):
        return
    model_id = foundation_model_id(declared)
    per_token = Decimal(0)
    for dimension, tag in (("input_tokens", INPUT_TOKENS), ("output_tokens", OUTPUT_TOKENS)):
        entry = context.prices.get(on_demand_price_id(model_id, dimension))
        tokens = usage.number(tag, required=False)
        if entry is not None and tokens is not None:
            per_token += tiered_cost(requests * tokens, entry.tiers, entry.price_per)
    cmu_usd = sum(
        (
            tiered_cost(
                c.quantity,
                context.prices.entries[c.price_id].tiers,
                context.prices.entries[c.price_id].price_per,
            )
            for c in charges
        ),
        Decimal(0),
    )
    usage.finding(
        "bedrock-imported-per-token",
        Severity.WARNING,
        f"imported model {usage.masked(repr(name))} is billed per Custom Model Unit-minute, not "
        f"per token: the per-token assumption ({usage.masked(model_id)} token prices) gives "
        f"{format_usd(per_token)} a month, the CMU-based estimate {format_usd(cmu_usd)} (before "
        "free tiers); the CMU-based figure is the one in the total",
        IMPORTED_MODEL,
        "remove the per-token assumption (cost:bedrock-model and token tags) or "
        "declare cost:active-hours-per-day to refine the active time",
    )


def _per_token_model(resource: Resource, usage: UsageReader) -> str | None:
    """The per-token model the resource also declares (a secret one counts as a used secret)."""
    tags = resource.properties.get("tags")
    declared = tags.get(BEDROCK_MODEL.key) if isinstance(tags, dict) else None
    if isinstance(declared, str) and declared.strip():
        usage.property_secret(f"tags.{BEDROCK_MODEL.key}", text=True)
        return declared
    source = resource.properties.get("modelSource")
    copy_from = source.get("copyFrom") if isinstance(source, dict) else None
    if isinstance(copy_from, str):
        usage.property_secret("modelSource.copyFrom", text=True)
        return copy_from
    return None
