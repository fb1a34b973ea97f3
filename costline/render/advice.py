"""Recommendations as a reader weighs them: savings ranked by dollars, and those too small to
matter folded into one line.

A saving is shown on its own when its monthly figure, in whole cents as displayed, reaches
the fold threshold: the larger of an absolute amount (default $1.00/month) and a share of the
stack's total (default 1%); smaller ones are listed together on one line with their sum.
Advice without a dollar figure keeps its order (the AWS Budgets alarm last).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from costline.core.money import ZERO, money_context, round_cents

DEFAULT_FOLD_BELOW_USD = Decimal(1)
DEFAULT_FOLD_BELOW_PERCENT = Decimal(1)


def fold_threshold(total_usd: Decimal, below_usd: Decimal, below_percent: Decimal) -> Decimal:
    """The smallest saving, in whole cents, shown on its own line."""
    with money_context():
        share = total_usd * below_percent / 100
    return round_cents(max(below_usd, share))


def ranked_advice(
    recommendations: Sequence[Mapping[str, Any]] | None,
    total_usd: Decimal,
    *,
    below_usd: Decimal = DEFAULT_FOLD_BELOW_USD,
    below_percent: Decimal = DEFAULT_FOLD_BELOW_PERCENT,
) -> dict[str, Any] | None:
    """``None`` when recommendations were not computed; else ``savings`` (largest first, ties
    by title), ``folded`` (the savings under ``threshold_usd``, largest first) with their sum
    ``folded_usd``, and ``advice`` (no dollar figure, in the order given)."""
    if recommendations is None:
        return None
    threshold = fold_threshold(total_usd, below_usd, below_percent)
    with_saving = sorted(
        (r for r in recommendations if r["monthly_saving_usd"] is not None),
        key=lambda r: (-r["monthly_saving_usd"], r["title"]),
    )
    savings = [r for r in with_saving if round_cents(r["monthly_saving_usd"]) >= threshold]
    folded = [r for r in with_saving if round_cents(r["monthly_saving_usd"]) < threshold]
    with money_context():
        folded_usd = sum((r["monthly_saving_usd"] for r in folded), ZERO)
    return {
        "savings": savings,
        "folded": folded,
        "folded_usd": folded_usd,
        "threshold_usd": threshold,
        "advice": [r for r in recommendations if r["monthly_saving_usd"] is None],
    }
