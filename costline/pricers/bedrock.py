"""Amazon Bedrock on-demand model invocation, per input and output token.

Prices per 1M tokens come from ``bedrock.on_demand.<model id>.input_tokens`` /
``.output_tokens`` table entries (https://aws.amazon.com/bedrock/pricing/). Usage is
requests per month × tokens per request, declared with ``cost:input-tokens`` and
``cost:output-tokens``. The model comes from ``cost:bedrock-model`` or, for an inference
profile, from ``modelSource.copyFrom``. Inference profile ids and ARNs are reduced to the
foundation model id (``us.deepseek.r1-v1:0`` → ``deepseek.r1-v1:0``).
"""

from __future__ import annotations

import difflib
import re

from costline.engine_values import is_unknown
from costline.model import Resource, Severity, UsageSource
from costline.money import format_quantity
from costline.pricers.base import Charge, PricingContext
from costline.usage import BEDROCK_MODEL, INPUT_TOKENS, OUTPUT_TOKENS, UsageReader

INFERENCE_PROFILE_TYPE = "aws:bedrock/inferenceProfile:InferenceProfile"
SERVICE = "Bedrock"

_ARN_PREFIX = re.compile(r"^arn:aws[a-z-]*:bedrock:[a-z0-9-]*:[0-9]*:(?:foundation-model|inference-profile|"
                         r"application-inference-profile|provisioned-model|custom-model|imported-model)/")
_GEO_PREFIXES = ("us.", "eu.", "apac.", "global.", "us-gov.", "ca.", "jp.", "au.")


def foundation_model_id(model: str) -> str:
    """Reduce a model id, inference profile id or ARN to the foundation model id."""
    model = _ARN_PREFIX.sub("", model.strip())
    for prefix in _GEO_PREFIXES:
        if model.startswith(prefix):
            return model[len(prefix):]
    return model


def on_demand_price_id(model_id: str, dimension: str) -> str:
    return f"bedrock.on_demand.{model_id}.{dimension}"


def known_models(context: PricingContext) -> list[str]:
    prefix, suffix = "bedrock.on_demand.", ".input_tokens"
    return sorted(pid[len(prefix):-len(suffix)] for pid in context.prices.entries
                  if pid.startswith(prefix) and pid.endswith(suffix))


def _declared_model(resource: Resource, usage: UsageReader) -> str | None:
    if usage.has(BEDROCK_MODEL):
        return usage.text(BEDROCK_MODEL)
    source = resource.properties.get("modelSource")
    copy_from = source.get("copyFrom") if isinstance(source, dict) else None
    if isinstance(copy_from, str) and not is_unknown(copy_from):
        usage.assume("modelSource.copyFrom", foundation_model_id(copy_from), UsageSource.PROPERTY)
        return copy_from
    if resource.type == INFERENCE_PROFILE_TYPE and is_unknown(copy_from):
        usage.finding("property-unknown", Severity.WARNING,
                      "modelSource.copyFrom is not known until the update runs, so the model is unknown",
                      "modelSource.copyFrom", f"add the tag {BEDROCK_MODEL.key}={BEDROCK_MODEL.example}")
        return None
    usage.missing(BEDROCK_MODEL)
    return None


def bedrock_usage_charges(resource: Resource, usage: UsageReader, context: PricingContext, *,
                          requests) -> list[Charge]:
    """Token charges for ``requests`` calls per month to the declared model."""
    declared = _declared_model(resource, usage)
    if declared is None or requests is None:
        return []
    model_id = foundation_model_id(declared)
    input_entry = context.prices.get(on_demand_price_id(model_id, "input_tokens"))
    if input_entry is None:
        close = difflib.get_close_matches(model_id, known_models(context), n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}?" if close else "see `pricing/` for the priced model ids"
        usage.finding("bedrock-model-unknown", Severity.ERROR,
                      f"no on-demand price for Bedrock model {model_id!r} in {context.prices.region}; "
                      "its token cost is not in the total", BEDROCK_MODEL.key if usage.has(BEDROCK_MODEL)
                      else "modelSource.copyFrom", hint)
        return []
    charges: list[Charge] = []
    group = f"bedrock-tokens:{model_id}"
    input_tokens = usage.number(INPUT_TOKENS)
    if input_tokens is not None:
        charges.append(Charge(SERVICE, input_entry.id, requests * input_tokens, f"Input tokens ({model_id})",
                              f"{format_quantity(requests)} req × {format_quantity(input_tokens)} input tokens", group))
    output_id = on_demand_price_id(model_id, "output_tokens")
    if context.prices.get(output_id) is not None:
        output_tokens = usage.number(OUTPUT_TOKENS)
        if output_tokens is not None:
            charges.append(Charge(SERVICE, output_id, requests * output_tokens, f"Output tokens ({model_id})",
                                  f"{format_quantity(requests)} req × {format_quantity(output_tokens)} output tokens", group))
    return charges


def price_inference_profile(resource: Resource, usage: UsageReader, context: PricingContext) -> list[Charge]:
    """An application inference profile: the on-demand model its requests go to."""
    requests = usage.monthly_requests()
    return bedrock_usage_charges(resource, usage, context, requests=requests)
