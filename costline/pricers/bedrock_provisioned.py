"""Amazon Bedrock provisioned throughput and model customization.

Provisioned throughput (``aws:bedrock/provisionedModelThroughput:ProvisionedModelThroughput``):
``modelUnits`` × the model's price per model-unit-hour × 730 hours, from
``bedrock.provisioned.<model id>.no_commitment|one_month|six_months`` by ``commitmentDuration``
(absent → no commitment; ``OneMonth``, ``SixMonths``). It is billed whether used or not; the
line's note gives the break-even monthly token volume against the model's on-demand price.

Model customization (``aws:bedrock/customModel:CustomModel``): training tokens
(``cost:training-tokens``, one epoch of the training data) × ``hyperparameters.epochCount``
(AWS default 1) at ``bedrock.customization.<base model id>.training_tokens`` per 1M, a one-off in
the month the job runs, plus ``bedrock.customization.<base model id>.storage_month`` per month.
Serving a custom model needs provisioned throughput, priced above.
(https://aws.amazon.com/bedrock/pricing/)
"""

from __future__ import annotations

from decimal import Decimal

from costline.core.model import Resource, Severity, UsageSource
from costline.core.money import format_quantity, format_usd, money_context
from costline.core.values import SECRET_DISPLAY, is_unknown
from costline.pricers.base import FIXED, HOURS_PER_MONTH, Charge, PricingContext, PropertyReader
from costline.pricers.bedrock import SERVICE, foundation_model_id, on_demand_price_id
from costline.pricing.tiers import tiered_cost
from costline.usage.tags import TRAINING_TOKENS, UsageReader

PROVISIONED_TYPE = "aws:bedrock/provisionedModelThroughput:ProvisionedModelThroughput"
CUSTOM_MODEL_TYPE = "aws:bedrock/customModel:CustomModel"
COMMITMENTS = {None: "no_commitment", "OneMonth": "one_month", "SixMonths": "six_months"}
TOKENS_PER_MILLION = Decimal(1_000_000)


def _model_with_prices(context: PricingContext, raw: str, suffix: str, prefix: str) -> str | None:
    """The model id in ``raw`` that has ``<prefix>.<id>.<suffix>`` in the tables, trying the id
    without its ``:<context length>`` tails (``amazon.titan-text-express-v1:0:8k``)."""
    model = foundation_model_id(raw)
    while model:
        if context.prices.get(f"{prefix}.{model}.{suffix}") is not None:
            return model
        if ":" not in model:
            return None
        model = model.rsplit(":", 1)[0]
    return None


def _model_property(resource: Resource, usage: UsageReader, name: str) -> str | None:
    raw = resource.properties.get(name)
    if isinstance(raw, str) and raw.strip():
        usage.property_secret(name, text=True)
        usage.assume(name, usage.masked(foundation_model_id(raw)), UsageSource.PROPERTY)
        return raw
    why = "is not known until the update runs" if is_unknown(raw) else "is missing"
    usage.finding(
        "property-unknown" if is_unknown(raw) else "property-invalid",
        Severity.WARNING,
        f"{name} {why}, so the model and its price are unknown; its cost is not in the total",
        name,
    )
    return None


def _dearest_provisioned(context: PricingContext, commitment: str) -> str | None:
    """The fail-closed bound for an unknown ``modelArn``: the model whose provisioned-throughput
    price per model unit at ``commitment`` is the highest in the region's tables."""
    prefix, suffix = "bedrock.provisioned.", f".{commitment}"
    priced = [
        (max(t.usd for t in entry.tiers) / entry.price_per, pid[len(prefix) : -len(suffix)])
        for pid, entry in context.prices.entries.items()
        if pid.startswith(prefix) and pid.endswith(suffix)
    ]
    return max(priced)[1] if priced else None


def price_provisioned_throughput(
    resource: Resource, usage: UsageReader, context: PricingContext
) -> list[Charge]:
    """Model units × hourly price × 730 h, with the break-even against on-demand in the note."""
    props = PropertyReader(resource, usage)
    units = props.number(
        "modelUnits",
        default=Decimal(1),
        unit="model units",
        minimum=Decimal(1),
        maximum=Decimal(1000),
    )
    commitment_raw = resource.properties.get("commitmentDuration")
    commitment_secret = usage.property_secret("commitmentDuration", text=True)
    commitment = COMMITMENTS.get(commitment_raw if isinstance(commitment_raw, str) else None)
    if is_unknown(commitment_raw):
        usage.finding(
            "property-unknown",
            Severity.WARNING,
            "commitmentDuration is not known until the update runs; priced with no commitment",
            "commitmentDuration",
            "set commitmentDuration from plain stack config",
        )
        commitment = COMMITMENTS[None]
    elif commitment is None:
        usage.finding(
            "property-invalid",
            Severity.ERROR,
            "commitmentDuration must be OneMonth, SixMonths or absent; priced with no commitment",
            "commitmentDuration",
            "set commitmentDuration to OneMonth or SixMonths",
        )
        commitment = COMMITMENTS[None]
    usage.assume(
        "commitmentDuration",
        SECRET_DISPLAY if commitment_secret else commitment,
        UsageSource.PROPERTY if commitment_raw else UsageSource.DEFAULT,
    )
    raw = _model_property(resource, usage, "modelArn")
    if raw is None and usage.fail_closed and is_unknown(resource.properties.get("modelArn")):
        raw = _dearest_provisioned(context, commitment)
        if raw is not None:
            usage.priced_at_bound(
                "modelArn",
                raw,
                "modelArn is not known until the update runs; the dearest model with a "
                f"provisioned-throughput price ({commitment}) in {context.prices.region}",
                "set modelArn from plain stack config",
            )
    if raw is None:
        return []
    model = _model_with_prices(context, raw, commitment, "bedrock.provisioned")
    if model is None:
        usage.finding(
            "bedrock-model-unknown",
            Severity.ERROR,
            f"no provisioned-throughput price ({usage.masked(commitment)}) for "
            f"{usage.masked(repr(foundation_model_id(raw)))} in "
            f"{context.prices.region}; its cost is not in the total",
            "modelArn",
            "add a bedrock.provisioned.<model>.<commitment> entry with a --prices override file",
            gap=f"no provisioned-throughput price for {usage.masked(foundation_model_id(raw))} in "
            f"{context.prices.region}",
        )
        return []
    price_id = f"bedrock.provisioned.{model}.{commitment}"
    hours = units * HOURS_PER_MONTH
    note = f"{format_quantity(units)} model units × 730 h, billed whether used or not"
    break_even = break_even_note(context, model, price_id, hours)
    return [
        Charge(
            SERVICE,
            price_id,
            hours,
            f"Provisioned throughput ({model}, {commitment.replace('_', ' ')})",
            f"{note}; {break_even}" if break_even else note,
            scales=FIXED,
        )
    ]


def break_even_note(
    context: PricingContext, model: str, price_id: str, hours: Decimal
) -> str | None:
    """``break-even vs on-demand: 2,190M input or 730M output tokens/month``."""
    entry = context.prices.entries[price_id]
    with money_context():
        monthly = tiered_cost(hours, entry.tiers, entry.price_per)
        parts = []
        for dimension in ("input_tokens", "output_tokens"):
            on_demand = context.prices.get(on_demand_price_id(model, dimension))
            if on_demand is not None and on_demand.first_tier_usd > 0:
                tokens = monthly * on_demand.price_per / on_demand.first_tier_usd
                parts.append(
                    f"{format_quantity((tokens / TOKENS_PER_MILLION).quantize(Decimal(1)))}M "
                    f"{dimension.split('_')[0]} tokens at {format_usd(on_demand.first_tier_usd)}/M"
                )
    if not parts:
        return None
    return f"break-even vs on-demand ({format_usd(monthly)}/month): {' or '.join(parts)} a month"


def price_custom_model(
    resource: Resource, usage: UsageReader, context: PricingContext
) -> list[Charge]:
    """Training tokens × epochs (one-off) and monthly storage of a customized model."""
    raw = _model_property(resource, usage, "baseModelIdentifier")
    if raw is None:
        return []
    model = _model_with_prices(context, raw, "storage_month", "bedrock.customization")
    if model is None:
        usage.finding(
            "bedrock-model-unknown",
            Severity.ERROR,
            f"no customization price for {usage.masked(repr(foundation_model_id(raw)))} in "
            f"{context.prices.region}; its cost is not in the total",
            "baseModelIdentifier",
            "add bedrock.customization.<model>.training_tokens and .storage_month entries with "
            "--prices",
        )
        return []
    prefix = f"bedrock.customization.{model}"
    charges = [
        Charge(
            SERVICE,
            f"{prefix}.storage_month",
            Decimal(1),
            f"Custom model storage ({model})",
            "1 model stored",
            scales=FIXED,
        )
    ]
    epochs = _epochs(resource, usage)
    tokens = usage.number(TRAINING_TOKENS)
    if tokens is not None:
        charges.append(
            Charge(
                SERVICE,
                f"{prefix}.training_tokens",
                tokens * epochs,
                f"Training tokens ({model})",
                f"{format_quantity(tokens)} tokens × {format_quantity(epochs)} epochs; one-off, in "
                "the month the job runs",
                scales=FIXED,
            )
        )
    return charges


def _epochs(resource: Resource, usage: UsageReader) -> Decimal:
    """``hyperparameters.epochCount``: Bedrock hyperparameters are strings (``{"epochCount":
    "2"}``). When it is not set, AWS's default depends on the base model (1 for Cohere Command,
    2 for Amazon Nova, 5 for Meta Llama 3.1, none for Titan Multimodal Embeddings:
    https://docs.aws.amazon.com/bedrock/latest/userguide/custom-models-hp.html), so the figure
    is unknown: priced at 1 epoch, the least any model trains, and the estimate is incomplete."""
    hyper = resource.properties.get("hyperparameters")
    raw = hyper.get("epochCount") if isinstance(hyper, dict) else None
    if raw is None:
        usage.finding(
            "property-invalid",
            Severity.WARNING,
            "hyperparameters.epochCount is not set and AWS's default depends on the base model "
            "(1 to 5 epochs), so the training cost is priced at 1 epoch, a lower bound",
            "hyperparameters.epochCount",
            'set hyperparameters.epochCount, e.g. "2"',
            gap="hyperparameters.epochCount not set",
        )
        usage.assume("hyperparameters.epochCount", "1", UsageSource.ASSUMED, "epochs, lower bound")
        return Decimal(1)
    text = str(raw) if isinstance(raw, (str, int)) and not isinstance(raw, bool) else ""
    if text.isascii() and text.isdigit() and 1 <= int(text) <= 100:
        secret = usage.property_secret("hyperparameters.epochCount")
        usage.assume(
            "hyperparameters.epochCount",
            SECRET_DISPLAY if secret else text,
            UsageSource.PROPERTY,
            "epochs",
        )
        return Decimal(text)
    usage.finding(
        "property-invalid",
        Severity.ERROR,
        "hyperparameters.epochCount is not a whole number 1–100; assumed 1",
        "hyperparameters.epochCount",
        'set hyperparameters.epochCount to e.g. "2"',
    )
    return Decimal(1)
