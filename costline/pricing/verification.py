"""Say when an estimate leans on prices that were not checked against an AWS source.

A table entry whose ``attributes.verification`` is set was not verified against a dated AWS
copy (e.g. a regional price copied from us-east-1, or a figure known only from research
notes); the entry says why. Such prices are still used — leaving them out would hide the cost —
but the estimate carries one finding listing every such entry it used.
"""

from __future__ import annotations

from collections.abc import Iterable

from costline.core.model import Finding, LineItem, Severity
from costline.pricing.model import PriceBook


def unverified_prices_finding(items: Iterable[LineItem], prices: PriceBook) -> Finding | None:
    """A ``prices-unverified`` warning naming the unverified entries that priced ``items``."""
    price_ids: dict[str, bool] = {}  # each entry looked up once; True: only secret texts chose it
    for item in items:
        price_ids[item.price_id] = price_ids.get(item.price_id, True) and item.secret_text
    used = sorted(
        {
            price_id
            for price_id in price_ids
            if (entry := prices.get(price_id)) is not None and entry.attributes.get("verification")
        }
    )
    if not used:
        return None
    named = [price_id for price_id in used if not price_ids[price_id]]
    hidden = len(used) - len(named)  # an entry a secret model id chose would name the model
    shown = ", ".join(named[:8]) + (f" and {len(named) - 8} more" if len(named) > 8 else "")
    if hidden:
        shown += f"{' and ' if named else ''}{hidden} chosen by a secret value"
    return Finding(
        "prices-unverified",
        Severity.WARNING,
        f"{len(used)} price{'s' if len(used) != 1 else ''} in this estimate "
        f"{'are' if len(used) != 1 else 'is'} "
        f"not verified against an AWS source ({prices.region}): {shown}",
        field="pricing",
        suggestion="check them against the AWS pricing page and pass corrections with --prices, "
        "or import the region's AWS Price List files with `costline pricing import`",
    )
