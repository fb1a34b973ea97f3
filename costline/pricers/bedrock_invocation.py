"""Which Bedrock billing applies to a resource's model calls, and the inference-profile pricer.

A resource that names an imported model (``cost:imported-model``, own or flowed in from the
Lambda that calls it) is billed per Custom Model Unit-minute
(:mod:`costline.pricers.bedrock_imported`); every other model per token or per image
(:mod:`costline.pricers.bedrock`).
"""

from __future__ import annotations

from decimal import Decimal

from costline.core.model import Resource
from costline.pricers.base import Charge, PricingContext
from costline.pricers.bedrock import bedrock_usage_charges
from costline.pricers.bedrock_imported import imported_model_charges
from costline.usage.tags import IMPORTED_MODEL, UsageReader


def invocation_charges(
    resource: Resource, usage: UsageReader, context: PricingContext, *, requests: Decimal | None
) -> list[Charge]:
    """The month's model charges for ``requests`` calls made by (or through) ``resource``."""
    if usage.has_or_derived(IMPORTED_MODEL):
        return imported_model_charges(resource, usage, context, requests=requests)
    return bedrock_usage_charges(resource, usage, context, requests=requests)


def price_inference_profile(
    resource: Resource, usage: UsageReader, context: PricingContext
) -> list[Charge]:
    """An application inference profile: the model its requests go to."""
    requests = usage.monthly_requests()
    return invocation_charges(resource, usage, context, requests=requests)
