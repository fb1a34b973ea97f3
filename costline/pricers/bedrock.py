"""Amazon Bedrock model invocation: text and embedding models per token, image models per image.

Prices per 1M tokens come from ``bedrock.on_demand.<model id>.input_tokens`` /
``.output_tokens`` table entries (embedding models have input only), or from
``bedrock.batch.<model id>.*`` when ``cost:bedrock-mode`` is ``batch`` (a finding, and the
on-demand price, when the model has no batch price); image models from
``bedrock.on_demand.<model id>.images[.<variant>]`` per image (``cost:images-per-request``,
``cost:image-variant``) (https://aws.amazon.com/bedrock/pricing/). Usage is requests per month ×
tokens per request, declared with ``cost:input-tokens`` and ``cost:output-tokens``. The model comes
from ``cost:bedrock-model`` or, for an inference
profile, from ``modelSource.copyFrom``. Inference profile ids and ARNs are reduced to the
foundation model id (``us.deepseek.r1-v1:0`` → ``deepseek.r1-v1:0``).
"""

from __future__ import annotations

import difflib
import functools
import re
from decimal import Decimal

from costline.core.model import Resource, Severity, UsageSource
from costline.core.money import ZERO, format_quantity, money_context
from costline.core.values import is_unknown
from costline.pricers.base import (
    INPUT_TOKENS_PER_REQUEST,
    OUTPUT_TOKENS_PER_REQUEST,
    PER_TRAFFIC,
    TRAFFIC,
    Charge,
    PricingContext,
)
from costline.pricing.model import PriceBook, PriceEntry
from costline.usage.tags import (
    BEDROCK_MODE,
    BEDROCK_MODEL,
    CACHE_READ_TOKENS,
    CACHE_TOKEN_TAGS,
    CACHE_WRITE_1H_TOKENS,
    CACHE_WRITE_TOKENS,
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


def _declared_model(resource: Resource, usage: UsageReader) -> tuple[str | None, str]:
    """The declared model and the field it comes from (when it could not be read, the field
    whose finding says why)."""
    tag_field = f"tags.{BEDROCK_MODEL.key}"
    if usage.has(BEDROCK_MODEL):
        return usage.text(BEDROCK_MODEL), tag_field
    source = resource.properties.get("modelSource")
    copy_from = source.get("copyFrom") if isinstance(source, dict) else None
    if isinstance(copy_from, str) and not is_unknown(copy_from):
        usage.property_secret("modelSource.copyFrom", text=True)
        usage.assume(
            "modelSource.copyFrom",
            usage.masked(foundation_model_id(copy_from)),
            UsageSource.PROPERTY,
        )
        return copy_from, "modelSource.copyFrom"
    if resource.type == INFERENCE_PROFILE_TYPE and (is_unknown(copy_from) or is_unknown(source)):
        label = "modelSource.copyFrom" if is_unknown(copy_from) else "modelSource"
        usage.finding(
            "property-unknown",
            Severity.WARNING,
            f"{label} is not known until the update runs, so the model is unknown",
            label,
            f"add the tag {BEDROCK_MODEL.key}={BEDROCK_MODEL.example}",
        )
        return None, label
    usage.missing(BEDROCK_MODEL)
    return None, tag_field


def dearest_model(
    context: PricingContext, input_tokens: Decimal, output_tokens: Decimal
) -> str | None:
    """The fail-closed bound for an unknown model: the text model whose on-demand price for one
    request of ``input_tokens`` + ``output_tokens`` is the highest in the region's tables (each
    entry at its dearest tier); ``None`` when the region prices no token model."""
    best: tuple[Decimal, str] | None = None
    with money_context():
        for model in known_models(context):
            cost = ZERO
            priced = False
            for dimension, tokens in (
                ("input_tokens", input_tokens),
                ("output_tokens", output_tokens),
            ):
                entry = context.prices.get(on_demand_price_id(model, dimension))
                if entry is not None:
                    priced = True
                    cost += max(t.usd for t in entry.tiers) * tokens / entry.price_per
            if priced and (best is None or (cost, model) > best):
                best = (cost, model)
    return best[1] if best else None


def _dearest_charges(
    usage: UsageReader, context: PricingContext, requests: Decimal, field: str, why: str
) -> list[Charge]:
    """Fail-closed: the tokens declared (or their worst case) at :func:`dearest_model`."""
    inputs, outputs = usage.number(INPUT_TOKENS), usage.number(OUTPUT_TOKENS)
    if inputs is None or outputs is None:
        return []
    model = dearest_model(context, inputs, outputs)
    if model is None:
        return []
    usage.priced_at_bound(
        field,
        model,
        f"{why}; the dearest model priced in {context.prices.region} at the declared tokens",
        f"declare the model, e.g. {BEDROCK_MODEL.key}={BEDROCK_MODEL.example}",
    )
    charges = []
    for dimension, per_request in (("input_tokens", inputs), ("output_tokens", outputs)):
        price_id = on_demand_price_id(model, dimension)
        if context.prices.get(price_id) is not None:
            kind = dimension.split("_")[0]
            charges.append(
                Charge(
                    SERVICE,
                    price_id,
                    requests * per_request,
                    f"{kind.capitalize()} tokens ({model}, fail-closed bound)",
                    f"{format_quantity(requests)} req × {format_quantity(per_request)} {kind} "
                    "tokens",
                    f"bedrock-tokens:{model}",
                )
            )
    return charges


MODES = ("on-demand", "batch")


def billing_mode(usage: UsageReader) -> str:
    """``cost:bedrock-mode`` (own or flowed in); ``on-demand`` when absent (a ``default`` row) or
    unreadable (unknown or not a known mode: a finding; fail-closed, on-demand is the bound, the
    dearer of the two)."""
    if not usage.has_or_derived(BEDROCK_MODE):
        usage.assume(
            BEDROCK_MODE.key, "on-demand", UsageSource.DEFAULT, "not declared: on-demand prices"
        )
        return "on-demand"
    mode = usage.text(BEDROCK_MODE, required=False)  # unknown: a finding, None
    if mode in MODES:
        return mode
    if mode is not None:
        usage.finding(
            "usage-tag-malformed",
            Severity.ERROR,
            f"{BEDROCK_MODE.key} must be one of {', '.join(MODES)}; priced on-demand",
            BEDROCK_MODE,
            f"set {BEDROCK_MODE.key}={BEDROCK_MODE.example}",
        )
    if usage.fail_closed:
        usage.tag_at_bound(BEDROCK_MODE, "on-demand", "on-demand is the dearer price")
    return "on-demand"


def bedrock_usage_charges(
    resource: Resource, usage: UsageReader, context: PricingContext, *, requests: Decimal | None
) -> list[Charge]:
    """Token (text, embedding) or image charges for ``requests`` calls per month to the declared
    model, at the on-demand or batch price (``cost:bedrock-mode``)."""
    declared, field = _declared_model(resource, usage)
    if requests is None:
        return []
    if declared is None:
        if usage.fail_closed:
            return _dearest_charges(usage, context, requests, field, "the model is not known")
        return []
    model_id = foundation_model_id(declared)
    mode = billing_mode(usage)
    if context.prices.get(on_demand_price_id(model_id, "input_tokens")) is None:
        if context.prices.get(on_demand_price_id(model_id, "images")) is not None:
            return _image_charges(usage, context, model_id, requests, mode)
        close = (  # the priced ids closest to a secret id would hint at it
            []
            if usage.secret_text_used
            else difflib.get_close_matches(model_id, known_models(context), n=3, cutoff=0.5)
        )
        hint = (
            f"did you mean {', '.join(close)}?"
            if close
            else "see `pricing/` for the priced model ids"
        )
        usage.finding(
            "bedrock-model-unknown",
            Severity.ERROR,
            f"no on-demand price for Bedrock model {usage.masked(repr(model_id))} in "
            f"{context.prices.region}; its token cost is not in the total",
            field,
            hint,
            gap=f"no price for {usage.masked(model_id)} in {context.prices.region}",
        )
        if usage.fail_closed:
            return _dearest_charges(
                usage, context, requests, field, f"no price for {model_id} in the region"
            )
        return []
    prefix = _token_price_prefix(declared, model_id, mode, usage, context)
    return token_charges(usage, context, model_id, prefix, requests)


LONG_CONTEXT_INPUT_TOKENS = 200_000
"""A request whose input (uncached, cache-read and cache-write tokens) exceeds this many tokens
is billed at the model's long-context price for every token, where the table has one
(``<dimension>_above_200k``)."""

_INPUT_TAGS = (INPUT_TOKENS, *CACHE_TOKEN_TAGS)
_DIMENSIONS = (
    ("input_tokens", INPUT_TOKENS, "input tokens"),
    ("output_tokens", OUTPUT_TOKENS, "output tokens"),
    ("cache_read_tokens", CACHE_READ_TOKENS, "cache-read tokens"),
    ("cache_write_tokens", CACHE_WRITE_TOKENS, "cache-write tokens"),
    ("cache_write_1h_tokens", CACHE_WRITE_1H_TOKENS, "1-hour cache-write tokens"),
)
_SCALES: dict[str, tuple[str, ...]] = {
    "input_tokens": (TRAFFIC, INPUT_TOKENS_PER_REQUEST),
    "output_tokens": (TRAFFIC, OUTPUT_TOKENS_PER_REQUEST),
    "cache_read_tokens": PER_TRAFFIC,
    "cache_write_tokens": PER_TRAFFIC,
    "cache_write_1h_tokens": PER_TRAFFIC,
}
"""Each token dimension's :attr:`~costline.pricers.base.Charge.scales`: requests × the
per-request figure of its own tag (a cache dimension priced as input tokens still counts its own
tag)."""
_CACHE_TAGS = CACHE_TOKEN_TAGS
_CACHE_DIMENSIONS = tuple(d for d, tag, _ in _DIMENSIONS if tag in _CACHE_TAGS)
_LABELS = {"bedrock.on_demand": "", "bedrock.batch": ", batch", "bedrock.global": ", global"}


def is_global_profile(model: str) -> bool:
    """A ``global.`` cross-Region inference profile id or ARN (billed at the global price)."""
    return _ARN_PREFIX.sub("", model.strip()).startswith("global.")


def _token_price_prefix(
    declared: str, model_id: str, mode: str, usage: UsageReader, context: PricingContext
) -> str:
    """``bedrock.batch`` for batch mode (when priced), ``bedrock.global`` for a ``global.``
    profile whose model has a global price, else ``bedrock.on_demand`` (the regional price, which
    the ``us.``/``eu.``/``apac.``/``jp.`` geographic profiles pay too)."""
    if mode == "batch":
        if context.prices.get(f"bedrock.batch.{model_id}.input_tokens") is None:
            _no_batch_price(usage, context, model_id)
            return "bedrock.on_demand"
        return "bedrock.batch"
    if is_global_profile(declared) and context.prices.get(
        f"bedrock.global.{model_id}.input_tokens"
    ):
        usage.assume(
            "inference profile", "global", UsageSource.DERIVED, "global. prefix: the global price"
        )
        return "bedrock.global"
    return "bedrock.on_demand"


def token_charges(
    usage: UsageReader, context: PricingContext, model_id: str, prefix: str, requests: Decimal
) -> list[Charge]:
    """Input, output and prompt-cache token charges at ``prefix``'s prices, long-context prices
    for requests above :data:`LONG_CONTEXT_INPUT_TOKENS` input tokens."""
    prices = context.prices
    has_output = _token_price_id(prices, model_id, prefix, "output_tokens", False) is not None
    per_request = {
        dimension: usage.number(tag)
        if tag is INPUT_TOKENS or (tag is OUTPUT_TOKENS and has_output) or usage.has_or_derived(tag)
        else None
        for dimension, tag, _ in _DIMENSIONS
    }
    if not any(usage.has_or_derived(tag) for tag in _CACHE_TAGS) and any(
        _token_price_id(prices, model_id, prefix, d, False) is not None for d in _CACHE_DIMENSIONS
    ):  # the model caches prompts, and none are declared: say what that leaves out
        usage.assume(
            "prompt cache",
            "0 tokens/request",
            UsageSource.DEFAULT,
            f"{', '.join(t.key for t in _CACHE_TAGS)} not declared: no cache reads or writes "
            "priced",
        )
    request_input = sum(
        (per_request[d] or 0 for d, tag, _ in _DIMENSIONS if tag in _INPUT_TAGS), Decimal(0)
    )
    long_context = request_input > LONG_CONTEXT_INPUT_TOKENS
    charges: list[Charge] = []
    group = f"bedrock-tokens:{model_id}"
    for dimension, tag, kind in _DIMENSIONS:
        tokens = per_request[dimension]
        if tokens is None:
            continue
        price_id = _token_price_id(prices, model_id, prefix, dimension, long_context)
        if price_id is None:
            if dimension == "output_tokens":
                continue  # embedding models have no output tokens
            price_id = _token_price_id(prices, model_id, prefix, "input_tokens", long_context)
            usage.finding(
                "bedrock-cache-unpriced",
                Severity.WARNING,
                f"no prompt-cache price for {usage.masked(repr(model_id))} in {prices.region}; "
                f"its {kind} are priced as input tokens (what AWS bills when a model does not "
                "cache)",
                tag,
                f"check that {usage.masked(model_id)} supports prompt caching, or remove {tag.key}",
            )
            if price_id is None:
                continue
        suffix = _LABELS.get(prefix, "") + (
            ", long context" if price_id.endswith("_above_200k") else ""
        )
        charges.append(
            Charge(
                SERVICE,
                price_id,
                requests * tokens,
                f"{kind[0].upper()}{kind[1:]} ({model_id}{suffix})",
                f"{format_quantity(requests)} req × {format_quantity(tokens)} {kind}",
                group,
                # a cut of the input can end the long context, which changes the price
                scales=None if long_context else _SCALES[dimension],
            )
        )
    return charges


def _token_price_id(
    prices: PriceBook, model_id: str, prefix: str, dimension: str, long_context: bool
) -> str | None:
    """The first priced id of: ``prefix``'s long-context price (for a long request), its
    standard price; for cache dimensions then the on-demand ones (batch and global tables may
    not list cache prices)."""
    prefixes = (
        (prefix,)
        if dimension in ("input_tokens", "output_tokens")
        else (prefix, "bedrock.on_demand")
    )
    for base in dict.fromkeys(prefixes):
        for name in ((f"{dimension}_above_200k",) if long_context else ()) + (dimension,):
            price_id = f"{base}.{model_id}.{name}"
            if prices.get(price_id) is not None:
                return price_id
    return None


def _no_batch_price(usage: UsageReader, context: PricingContext, model_id: str) -> None:
    usage.finding(
        "bedrock-batch-unavailable",
        Severity.WARNING,
        f"no batch-inference price for {usage.masked(repr(model_id))} in {context.prices.region} "
        "(AWS may not offer batch for it); priced at the on-demand price, an upper bound",
        BEDROCK_MODE,
        "remove cost:bedrock-mode=batch, or pick a model with a bedrock.batch.* price",
    )


def _image_variants(context: PricingContext, model_id: str) -> dict[str, PriceEntry]:
    """The image variants priced for ``model_id``: ``standard`` (the ``images`` entry), then the
    others (``images.<variant>``) by name."""
    base = on_demand_price_id(model_id, "images")
    variants = {}
    if (standard := context.prices.get(base)) is not None:
        variants["standard"] = standard
    for pid in sorted(context.prices.entries):
        if pid.startswith(base + "."):
            variants[pid[len(base) + 1 :]] = context.prices.entries[pid]
    return variants


def _image_charges(
    usage: UsageReader, context: PricingContext, model_id: str, requests: Decimal, mode: str
) -> list[Charge]:
    """Images per request × requests, at the price of the declared size/quality variant."""
    if mode == "batch":
        _no_batch_price(usage, context, model_id)
    # indexed once per model and estimate: building it scans the whole price book
    variants = context.index(
        f"bedrock-image-variants:{model_id}", lambda _stack: _image_variants(context, model_id)
    )
    variant: str | None = "standard"
    if not usage.has_or_derived(IMAGE_VARIANT):
        usage.assume(
            IMAGE_VARIANT.key, "standard", UsageSource.DEFAULT, "not declared: the standard image"
        )
    else:
        variant = usage.text(IMAGE_VARIANT, required=False)  # unknown: a finding, None
        if variant is not None and variant not in variants:
            usage.finding(
                "usage-tag-malformed",
                Severity.ERROR,
                f"{IMAGE_VARIANT.key} is not a priced variant of {usage.masked(repr(model_id))}; "
                "its image cost is not in the total",
                IMAGE_VARIANT,
                f"use one of {usage.masked(', '.join(variants))}",
            )
            variant = None
    if variant is None:
        if not usage.fail_closed:
            return []
        variant = max(variants, key=lambda v: (max(t.usd for t in variants[v].tiers), v))
        usage.tag_at_bound(IMAGE_VARIANT, variant, f"the dearest image of {usage.masked(model_id)}")
    price_id = on_demand_price_id(model_id, "images") + (
        "" if variant == "standard" else f".{variant}"
    )
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
            scales=PER_TRAFFIC,
        )
    ]
