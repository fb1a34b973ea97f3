"""Amazon Bedrock model invocation: text and embedding models per token, image models per image.

Prices per 1M tokens come from ``bedrock.on_demand.<model id>.input_tokens`` /
``.output_tokens`` table entries (embedding models have input only), or from
``bedrock.batch.<model id>.*`` when ``cost:bedrock-mode`` is ``batch`` (a finding, and the
on-demand price, when the model has no batch price); image models from
``bedrock.on_demand.<model id>.images[.<variant>]`` per image (``cost:images-per-request``,
``cost:image-variant``) (https://aws.amazon.com/bedrock/pricing/). Usage is requests per month ×
tokens per request, declared with ``cost:input-tokens`` and ``cost:output-tokens``. The model comes from ``cost:bedrock-model`` or, for an inference
profile, from ``modelSource.copyFrom``. Inference profile ids and ARNs are reduced to the
foundation model id (``us.deepseek.r1-v1:0`` → ``deepseek.r1-v1:0``).
"""

from __future__ import annotations

import difflib
import functools
import re

from costline.core.model import Resource, Severity, UsageSource
from costline.core.money import format_quantity
from costline.core.values import is_unknown
from costline.pricers.base import Charge, PricingContext
from costline.usage.tags import (
    BEDROCK_MODE,
    BEDROCK_MODEL,
    IMAGE_VARIANT,
    IMAGES_PER_REQUEST,
    INPUT_TOKENS,
    OUTPUT_TOKENS,
    UsageReader,
)

INFERENCE_PROFILE_TYPE = "aws:bedrock/inferenceProfile:InferenceProfile"
SERVICE = "Bedrock"

_ARN_PREFIX = re.compile(
    r"^arn:aws[a-z-]*:bedrock:[a-z0-9-]*:[0-9]*:(?:foundation-model|inference-profile|"
    r"application-inference-profile|provisioned-model|custom-model|imported-model)/"
)
_GEO_PREFIXES = ("us.", "eu.", "apac.", "global.", "us-gov.", "ca.", "jp.", "au.")


@functools.lru_cache(maxsize=1024)
def foundation_model_id(model: str) -> str:
    """Reduce a model id, inference profile id or ARN to the foundation model id (cached by
    value: a stack names a few models many times)."""
    model = _ARN_PREFIX.sub("", model.strip())
    for prefix in _GEO_PREFIXES:
        if model.startswith(prefix):
            return model[len(prefix) :]
    return model


def on_demand_price_id(model_id: str, dimension: str) -> str:
    return f"bedrock.on_demand.{model_id}.{dimension}"


def known_models(context: PricingContext) -> list[str]:
    """Model ids with an on-demand price: text and embedding models (tokens), image models."""
    prefix = "bedrock.on_demand."
    models = set()
    for pid in context.prices.entries:
        if pid.startswith(prefix):
            for suffix in (".input_tokens", ".images"):
                if suffix in pid:
                    models.add(pid[len(prefix) : pid.index(suffix, len(prefix))])
    return sorted(models)


def _declared_model(resource: Resource, usage: UsageReader) -> str | None:
    if usage.has(BEDROCK_MODEL):
        return usage.text(BEDROCK_MODEL)
    source = resource.properties.get("modelSource")
    copy_from = source.get("copyFrom") if isinstance(source, dict) else None
    if isinstance(copy_from, str) and not is_unknown(copy_from):
        usage.assume("modelSource.copyFrom", foundation_model_id(copy_from), UsageSource.PROPERTY)
        return copy_from
    if resource.type == INFERENCE_PROFILE_TYPE and (is_unknown(copy_from) or is_unknown(source)):
        label = "modelSource.copyFrom" if is_unknown(copy_from) else "modelSource"
        usage.finding(
            "property-unknown",
            Severity.WARNING,
            f"{label} is not known until the update runs, so the model is unknown",
            label,
            f"add the tag {BEDROCK_MODEL.key}={BEDROCK_MODEL.example}",
        )
        return None
    usage.missing(BEDROCK_MODEL)
    return None


MODES = ("on-demand", "batch")


def billing_mode(usage: UsageReader) -> str:
    """``cost:bedrock-mode`` (own or flowed in), ``on-demand`` when absent or not a known mode."""
    if not usage.has_or_derived(BEDROCK_MODE):
        return "on-demand"
    mode = usage.text(BEDROCK_MODE, required=False)
    if mode not in MODES:
        if mode is not None:
            usage.finding(
                "usage-tag-malformed",
                Severity.ERROR,
                f"{BEDROCK_MODE.key} must be one of {', '.join(MODES)}; priced on-demand",
                BEDROCK_MODE,
                f"set {BEDROCK_MODE.key}={BEDROCK_MODE.example}",
            )
        return "on-demand"
    return mode


def bedrock_usage_charges(
    resource: Resource, usage: UsageReader, context: PricingContext, *, requests
) -> list[Charge]:
    """Token (text, embedding) or image charges for ``requests`` calls per month to the declared
    model, at the on-demand or batch price (``cost:bedrock-mode``)."""
    declared = _declared_model(resource, usage)
    if declared is None or requests is None:
        return []
    model_id = foundation_model_id(declared)
    field = BEDROCK_MODEL.key if usage.has(BEDROCK_MODEL) else "modelSource.copyFrom"
    mode = billing_mode(usage)
    if context.prices.get(on_demand_price_id(model_id, "input_tokens")) is None:
        if context.prices.get(on_demand_price_id(model_id, "images")) is not None:
            return _image_charges(usage, context, model_id, requests, mode)
        close = difflib.get_close_matches(model_id, known_models(context), n=3, cutoff=0.5)
        hint = (
            f"did you mean {', '.join(close)}?"
            if close
            else "see `pricing/` for the priced model ids"
        )
        usage.finding(
            "bedrock-model-unknown",
            Severity.ERROR,
            f"no on-demand price for Bedrock model {model_id!r} in {context.prices.region}; "
            "its token cost is not in the total",
            field,
            hint,
        )
        return []
    prefix = "bedrock.on_demand"
    if mode == "batch":
        if context.prices.get(f"bedrock.batch.{model_id}.input_tokens") is None:
            _no_batch_price(usage, context, model_id)
        else:
            prefix = "bedrock.batch"
    charges: list[Charge] = []
    group = f"bedrock-tokens:{model_id}"
    label = "" if prefix == "bedrock.on_demand" else ", batch"
    for dimension, tag in (("input_tokens", INPUT_TOKENS), ("output_tokens", OUTPUT_TOKENS)):
        price_id = f"{prefix}.{model_id}.{dimension}"
        if context.prices.get(price_id) is None:
            continue  # embedding models have no output tokens
        per_request = usage.number(tag)
        if per_request is not None:
            kind = dimension.split("_")[0]
            charges.append(
                Charge(
                    SERVICE,
                    price_id,
                    requests * per_request,
                    f"{kind.capitalize()} tokens ({model_id}{label})",
                    f"{format_quantity(requests)} req × {format_quantity(per_request)} {kind} tokens",
                    group,
                )
            )
    return charges


def _no_batch_price(usage: UsageReader, context: PricingContext, model_id: str) -> None:
    usage.finding(
        "bedrock-batch-unavailable",
        Severity.WARNING,
        f"no batch-inference price for {model_id!r} in {context.prices.region} (AWS may not offer batch "
        "for it); priced at the on-demand price, an upper bound",
        BEDROCK_MODE,
        "remove cost:bedrock-mode=batch, or pick a model with a bedrock.batch.* price",
    )


def _image_charges(
    usage: UsageReader, context: PricingContext, model_id: str, requests, mode: str
) -> list[Charge]:
    """Images per request × requests, at the price of the declared size/quality variant."""
    if mode == "batch":
        _no_batch_price(usage, context, model_id)
    variant = (
        usage.text(IMAGE_VARIANT, required=False)
        if usage.has_or_derived(IMAGE_VARIANT)
        else "standard"
    )
    price_id = on_demand_price_id(model_id, "images") + (
        "" if variant == "standard" else f".{variant}"
    )
    if context.prices.get(price_id) is None:
        base = on_demand_price_id(model_id, "images")
        variants = ["standard"] + sorted(
            pid[len(base) + 1 :] for pid in context.prices.entries if pid.startswith(base + ".")
        )
        usage.finding(
            "usage-tag-malformed",
            Severity.ERROR,
            f"{IMAGE_VARIANT.key} is not a priced variant of {model_id!r}; its image cost is not in the total",
            IMAGE_VARIANT,
            f"use one of {', '.join(variants)}",
        )
        return []
    images = usage.number(IMAGES_PER_REQUEST)
    if images is None:
        return []
    return [
        Charge(
            SERVICE,
            price_id,
            requests * images,
            f"Images ({model_id}, {variant})",
            f"{format_quantity(requests)} req × {format_quantity(images)} images",
            f"bedrock-images:{model_id}",
        )
    ]
