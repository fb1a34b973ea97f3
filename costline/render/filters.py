"""Jinja filters for the review sections of reports (changes, factors, links).

Each returns ``Markup`` (text the markdown ``finalize`` hook and HTML autoescape leave alone),
so only costline-made text is marked safe: figures formatted here, and links that pass a
strict ``https://`` check. Money is rounded half-up to cents for display only.
"""

from __future__ import annotations

import re
from decimal import Decimal

from markupsafe import Markup, escape

from costline.core.money import format_quantity, format_usd, plain_number, round_cents
from costline.core.type_names import short_type

_SAFE_URL = re.compile(r"https://[A-Za-z0-9.-]+(/[A-Za-z0-9._~/#?=&%+-]*)?")
FALLBACK_URL = "#"


def signed_usd(value: Decimal) -> Markup:
    """``+$1.23``, ``-$1.23``, or ``$0.00`` when it rounds to no change."""
    rounded = round_cents(value)
    return Markup(("+" if rounded > 0 else "") + format_usd(value))


def signed_pct(value: Decimal | None) -> Markup:
    """``+12.3%`` / ``-4%``; ``n/a`` for an increase from $0.00 (``None``)."""
    if value is None:
        return Markup("n/a")
    return Markup(("+" if value > 0 else "") + plain_number(value) + "%")


def factor(value: Decimal | None) -> Markup:
    """A scale factor: ``16.67×``, ``1×``, ``0.0033×``; ``[secret]`` when hidden."""
    if value is None:
        return Markup("[secret]")
    shown = value.quantize(Decimal("0.01")) if value >= 1 else value.quantize(Decimal("1e-4"))
    return Markup(f"{format_quantity(shown) if shown else plain_number(value)}×")


def link(url: str | None) -> Markup:
    """A URL safe to put in a markdown link or an ``href``: plain ``https://`` only."""
    if url and _SAFE_URL.fullmatch(url):
        return Markup(escape(url))
    return Markup(FALLBACK_URL)


REVIEW_FILTERS = {
    "signed_usd": signed_usd,
    "signed_pct": signed_pct,
    "factor": factor,
    "link": link,
    "short_type": short_type,
}
