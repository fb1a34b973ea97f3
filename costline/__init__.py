"""costline: monthly AWS cost of a Pulumi stack, estimated before deploy.

The public surface is small (no pulumi, jinja2 or click): ``estimate`` prices resources with a
``PriceBook`` from ``load_price_book``. Its names load on first use (PEP 562), so importing one
light submodule (``costline.core.model``, ``costline.usage.tags``) does not load the whole
estimator: the
policy pack's start-up pays only for what it needs before the first ``AnalyzeStack``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from costline.core.exports import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    "Estimate": "costline.core.model",
    "EstimateOptions": "costline.estimator.pipeline",
    "Finding": "costline.core.model",
    "LineItem": "costline.core.model",
    "PriceBook": "costline.pricing",
    "PricingError": "costline.pricing",
    "Resource": "costline.core.model",
    "ResourceEstimate": "costline.core.model",
    "ResourceStatus": "costline.core.model",
    "Severity": "costline.core.model",
    "estimate": "costline.estimator.pipeline",
    "load_price_book": "costline.pricing",
}

__all__ = [
    "Estimate",
    "EstimateOptions",
    "Finding",
    "LineItem",
    "PriceBook",
    "PricingError",
    "Resource",
    "ResourceEstimate",
    "ResourceStatus",
    "Severity",
    "__version__",
    "estimate",
    "load_price_book",
]
assert sorted(__all__) == sorted([*_EXPORTS, "__version__"])

if TYPE_CHECKING:
    from costline.core.model import (
        Estimate,
        Finding,
        LineItem,
        Resource,
        ResourceEstimate,
        ResourceStatus,
        Severity,
    )
    from costline.estimator.pipeline import EstimateOptions, estimate
    from costline.pricing import PriceBook, PricingError, load_price_book


__getattr__ = lazy_exports(__name__, _EXPORTS, globals())


def __dir__() -> list[str]:
    return __all__
