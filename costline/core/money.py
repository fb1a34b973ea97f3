"""Money: exact ``Decimal`` US dollars, rounded half-up to cents only for display.

Arithmetic on prices happens inside :func:`money_context` (50 significant digits), so sums
of line items are exact and proportional shares are deterministic whatever the input order.
"""

from __future__ import annotations

import decimal
import functools
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
ZERO = Decimal(0)
PRECISION_DIGITS = 50
QUANTUM = Decimal("1e-24")
"""Line items are whole multiples of this (a trillionth of a trillionth of a dollar): sums of them
are exact in :func:`money_context` up to $10^26, so totals do not depend on the order they are
added in."""


def money_context() -> AbstractContextManager[decimal.Context]:
    """A local decimal context for price arithmetic: ``with money_context(): ...``.

    The thread's context with the money precision and rounding (``localcontext``'s keyword
    arguments would do the same, but only from Python 3.11)."""
    context = decimal.getcontext().copy()
    context.prec, context.rounding = PRECISION_DIGITS, ROUND_HALF_UP
    return decimal.localcontext(context)


def round_cents(usd: Decimal) -> Decimal:
    """Round half-up to whole cents (``0.105`` → ``0.11``, ``38.605`` → ``38.61``).

    Exact for any finite amount, whatever the thread's decimal context: the precision grows
    with the amount's digits (a ``1e400`` price in an override file must not crash a report)."""
    digits = max(PRECISION_DIGITS, usd.adjusted() + 3) if usd.is_finite() else PRECISION_DIGITS
    return usd.quantize(CENT, rounding=ROUND_HALF_UP, context=decimal.Context(prec=digits))


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


VALUE_CACHE_ENTRIES = 32_768
"""How many values each value-keyed cache (formatting here, tag parsing in
:mod:`costline.usage.tags`) keeps: the distinct figures of a 10,000-resource stack in which every
resource declares its own (with 4,096 such a stack evicted entries it still needed, and ran 6%
slower per resource than a 1,000-resource one), a few MB at most."""


def _cached_in_context(format_text: Callable[..., str]) -> Callable[[Decimal], str]:
    """``format_text`` cached on the value and the decimal context's precision and rounding
    (which ``normalize`` applies; no other context setting differs in costline), bounded; the
    same figures recur across a stack. ``typed`` keeps an int from sharing a Decimal's entry.
    An unhashable value (a signaling NaN) is formatted uncached."""
    cached = functools.lru_cache(maxsize=VALUE_CACHE_ENTRIES, typed=True)(format_text)

    @functools.wraps(format_text)
    def formatted(value: Decimal) -> str:
        context = decimal.getcontext()
        try:
            return cached(value, context.prec, context.rounding)
        except TypeError:
            return format_text(value)

    return formatted


@_cached_in_context
def format_quantity(quantity: Decimal, *_context_key: object) -> str:
    """Display a usage figure with thousands separators and no trailing zeros: ``15,000``."""
    normalized = quantity.normalize()
    if normalized == normalized.to_integral_value():
        return f"{int(normalized):,}"
    whole, _, frac = format(normalized, "f").partition(".")
    return f"{int(whole):,}.{frac}"


@_cached_in_context
def plain_number(value: Decimal, *_context_key: object) -> str:
    """A Decimal as plain text, no exponent, no trailing zeros: ``"0.000125"``, ``"15000"``.

    Used for JSON money strings and for quoting usage figures in messages."""
    text = format(value.normalize(), "f")
    return "0" if text == "-0" else text


def split_exactly(total: Decimal, weights: Sequence[Decimal], keys: Sequence[Any]) -> list[Decimal]:
    """``total`` (≥ 0) shared in proportion to ``weights`` (≥ 0) as multiples of :data:`QUANTUM`
    that add up to ``total`` rounded to the quantum, exactly.

    As :func:`split_in_order` with the weights taken in the order of their ``keys`` (distinct,
    comparable), so ties go to the smaller key: the result is the same whatever order the
    weights come in. Equal weights may differ by one quantum.
    """
    order = sorted(range(len(weights)), key=keys.__getitem__)
    shares = [ZERO] * len(weights)
    for i, share in zip(order, split_in_order(total, [weights[i] for i in order]), strict=True):
        shares[i] = share
    return shares


def split_in_order(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """``total`` (≥ 0) shared in proportion to ``weights`` (≥ 0) as multiples of :data:`QUANTUM`
    that add up to ``total`` rounded to the quantum, exactly.

    Each share is its proportion rounded down; the quanta left over go one each to the largest
    remainders, ties to the earlier weight. Callers whose figures must not depend on an input
    order pass the weights in a canonical order (or use :func:`split_exactly`).
    """
    if not weights:
        return []
    with money_context():
        weight = sum(weights, ZERO)
        if weight <= 0 or total <= 0:
            return [ZERO] * len(weights)
        if total.adjusted() >= PRECISION_DIGITS + QUANTUM.adjusted():
            # beyond $10^26: no grid, plain shares
            return [total * w / weight for w in weights]
        whole = total.quantize(QUANTUM)
        raw = [whole * w / weight for w in weights]
        shares = [r.quantize(QUANTUM, decimal.ROUND_FLOOR) for r in raw]
        left = int((whole - sum(shares, ZERO)) / QUANTUM)
        if left:
            # each ≤ 0: most negative first, and the sort is stable: ties by position
            remainders = [share - exact for share, exact in zip(shares, raw, strict=True)]
            for i in sorted(range(len(shares)), key=remainders.__getitem__)[:left]:
                shares[i] += QUANTUM
    return shares
