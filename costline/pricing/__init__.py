"""Price tables: ``pricing/<region>/*.yaml`` loaded into an exact-Decimal ``PriceBook``.

``load_price_book("us-east-1", overrides=[...])`` validates every file and raises
:class:`PricingError` (file, entry, field) on the first problem. Light to import and to load:
PyYAML and ``jsonschema`` are imported only for a file not parsed and validated before (see
:mod:`costline.pricing.cache`); no pulumi, jinja2 or click.
"""

from costline.pricing.errors import PricingError
from costline.pricing.loader import available_regions, load_price_book
from costline.pricing.model import FreeTier, PriceBook, PriceEntry, Tier

__all__ = [
    "FreeTier",
    "PriceBook",
    "PriceEntry",
    "PricingError",
    "Tier",
    "available_regions",
    "load_price_book",
]
