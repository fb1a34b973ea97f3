"""Money: exact ``Decimal`` US dollars, rounded half-up to cents only for display.

Arithmetic on prices happens inside :func:`money_context` (50 significant digits), so sums
of line items are exact and proportional shares are deterministic whatever the input order.
"""

from __future__ import annotations

import decimal
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal(0)
PRECISION_DIGITS = 50


def money_context() -> decimal.Context:
    """A local decimal context for price arithmetic: ``with money_context(): ...``."""
    return decimal.localcontext(prec=PRECISION_DIGITS, rounding=ROUND_HALF_UP)


def round_cents(usd: Decimal) -> Decimal:
    """Round half-up to whole cents (``0.105`` → ``0.11``, ``38.605`` → ``38.61``)."""
    return usd.quantize(CENT, rounding=ROUND_HALF_UP)


def format_usd(usd: Decimal) -> str:
    """Display dollars as ``$1,234.57`` (half-up cents); negative as ``-$1.00``."""
    rounded = round_cents(usd)
    sign = "-" if rounded < 0 else ""
    return f"{sign}${abs(rounded):,.2f}"


def format_unit_price(usd: Decimal) -> str:
    """Display a unit price with all its significant digits: ``$0.0000166667``."""
    normalized = usd.normalize()
    text = format(normalized, "f")
    if "." in text:
        whole, frac = text.split(".")
        frac = frac.ljust(2, "0")
        text = f"{int(whole):,}.{frac}"
    else:
        text = f"{int(text):,}.00"
    return f"${text}"


def format_quantity(quantity: Decimal) -> str:
    """Display a usage figure with thousands separators and no trailing zeros: ``15,000``."""
    normalized = quantity.normalize()
    if normalized == normalized.to_integral_value():
        return f"{int(normalized):,}"
    whole, _, frac = format(normalized, "f").partition(".")
    return f"{int(whole):,}.{frac}"


def plain_number(value: Decimal) -> str:
    """A Decimal as plain text, no exponent, no trailing zeros: ``"0.000125"``, ``"15000"``.

    Used for JSON money strings and for quoting usage figures in messages."""
    text = format(value.normalize(), "f")
    return "0" if text == "-0" else text
