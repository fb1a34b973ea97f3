"""costline: monthly AWS cost of a Pulumi stack, estimated before deploy.

The public surface is small and light to import (no pulumi, jinja2 or click):
``estimate`` prices resources with a ``PriceBook`` from ``load_price_book``.
"""

from costline.estimator import EstimateOptions, estimate
from costline.model import Estimate, Finding, LineItem, Resource, ResourceEstimate, ResourceStatus, Severity
from costline.pricing import PriceBook, PricingError, load_price_book

__version__ = "0.1.0"

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
