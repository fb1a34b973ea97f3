"""costline: monthly AWS cost of a Pulumi stack, estimated before deploy.

The public surface is small (no pulumi, jinja2 or click): ``estimate`` prices resources with a
``PriceBook`` from ``load_price_book``. Its names load on first use (PEP 562), so importing one
light submodule (``costline.model``, ``costline.usage``) does not load the whole estimator: the
policy pack's start-up pays only for what it needs before the first ``AnalyzeStack``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Estimate": "costline.model",
    "EstimateOptions": "costline.estimator",
    "Finding": "costline.model",
    "LineItem": "costline.model",
    "PriceBook": "costline.pricing",
    "PricingError": "costline.pricing",
    "Resource": "costline.model",
    "ResourceEstimate": "costline.model",
    "ResourceStatus": "costline.model",
    "Severity": "costline.model",
    "estimate": "costline.estimator",
    "load_price_book": "costline.pricing",
}

__all__ = sorted([*_EXPORTS, "__version__"])

if TYPE_CHECKING:
    from costline.estimator import EstimateOptions, estimate
    from costline.model import Estimate, Finding, LineItem, Resource, ResourceEstimate, ResourceStatus, Severity
    from costline.pricing import PriceBook, PricingError, load_price_book


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'costline' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
