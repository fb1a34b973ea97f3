"""Budget checks for PR reviews: a mandatory monthly budget and limits on the increase per change.

Compared as the policy pack's ``stack-budget`` does: in whole cents, rounded half-up, so a
total that displays as the budget is within it. The increase is the one displayed
(:func:`shown_delta`: the rounded total minus the rounded baseline total), so the verdict's
figure and the figure compared with ``max_increase_usd`` are the same; the percentage is
:func:`percent_change` of the exact totals, the same figure the report shows. Statuses:

* ``over``: a limit is broken (``costline check`` exits 1);
* ``warning``: within every limit, but the total reached ``warn_at_percent`` of the budget;
* ``within``: within every limit set;
* ``none``: no limit was set.

The increase limits need a baseline total. A percentage limit against a baseline that shows as
$0.00 is broken by any increase (a new stack is an infinite relative increase): use
``max_increase_usd`` for new stacks. When the baseline was priced with other prices (a JSON
report made with other tables or override files), the increase messages say so: part of the
increase may come from prices, which a JSON report cannot separate out. Pure: no I/O.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import Decimal

from costline.core.money import (
    PRECISION_DIGITS,
    format_usd,
    money_context,
    plain_number,
    round_cents,
)

DEFAULT_WARN_AT_PERCENT = Decimal(80)
PERCENT_PLACES = Decimal("0.1")
OTHER_PRICES = " (the baseline used other prices: see the note)"


@dataclass(frozen=True)
class BudgetLimits:
    """USD per month; percentages as numbers (``20`` = 20%)."""

    monthly_budget_usd: Decimal | None = None
    warn_at_percent: Decimal = DEFAULT_WARN_AT_PERCENT
    max_increase_usd: Decimal | None = None
    max_increase_percent: Decimal | None = None

    @property
    def any(self) -> bool:
        return any(
            v is not None
            for v in (self.monthly_budget_usd, self.max_increase_usd, self.max_increase_percent)
        )

    @property
    def needs_baseline(self) -> bool:
        return self.max_increase_usd is not None or self.max_increase_percent is not None


@dataclass(frozen=True)
class Violation:
    code: str
    message: str


@dataclass(frozen=True)
class BudgetResult:
    status: str
    limits: BudgetLimits
    violations: tuple[Violation, ...] = ()
    used_percent: Decimal | None = None
    """Total as a share of the budget (one decimal), when a budget is set and not zero."""
    headroom_usd: Decimal | None = None
    """Budget − total (negative when over), when a budget is set."""


def shown_delta(before: Decimal | None, after: Decimal | None) -> Decimal:
    """The change as displayed: ``round_cents(after) − round_cents(before)`` (``None`` = $0.00).

    Each amount shows rounded half-up to the cent on its own, so the exact difference can be a
    cent off what a reader subtracts ($102.2875 → $46.1500 is −$56.1375, shown −$56.14 because
    the amounts show as $102.29 and $46.15)."""
    old, new = round_cents(before or Decimal(0)), round_cents(after or Decimal(0))
    digits = max(PRECISION_DIGITS, old.adjusted() + 4, new.adjusted() + 4)
    return decimal.Context(prec=digits).subtract(new, old)  # exact at any size


def percent_change(before: Decimal, after: Decimal) -> Decimal | None:
    """``(after − before) / before`` in percent (exact amounts), one decimal half-up; ``None``
    from a ``before`` that shows as $0.00."""
    if round_cents(before) == 0:
        return None
    with money_context():
        return ((after - before) * 100 / before).quantize(PERCENT_PLACES)


def check_budget(
    total: Decimal,
    limits: BudgetLimits,
    baseline_total: Decimal | None = None,
    *,
    other_prices: bool = False,
) -> BudgetResult:
    """Check ``total`` (and its increase over ``baseline_total``) against ``limits``;
    ``other_prices``: the baseline was priced with other tables or overrides (see module doc)."""
    violations: list[Violation] = []
    used = headroom = None
    budget = limits.monthly_budget_usd
    if budget is not None:
        headroom = budget - total
        if budget > 0:
            with money_context():
                used = (total * 100 / budget).quantize(PERCENT_PLACES)
        over = shown_delta(budget, total)
        if over > 0:
            violations.append(
                Violation(
                    "over-budget",
                    f"the total {format_usd(total)}/month is over the budget "
                    f"{format_usd(budget)} by {format_usd(over)}",
                )
            )
    if baseline_total is not None:
        increase = shown_delta(baseline_total, total)
        note = OTHER_PRICES if other_prices else ""
        if limits.max_increase_usd is not None and increase > round_cents(limits.max_increase_usd):
            violations.append(
                Violation(
                    "increase-over-limit",
                    f"the increase {format_usd(increase)}/month over the baseline is more than "
                    f"the {format_usd(limits.max_increase_usd)} allowed per change{note}",
                )
            )
        if limits.max_increase_percent is not None and increase > 0:
            change = percent_change(baseline_total, total)
            if change is None or change > limits.max_increase_percent:
                shown = "from $0.00" if change is None else f"+{plain_number(change)}%"
                violations.append(
                    Violation(
                        "increase-over-percent",
                        f"the increase ({shown}) over the baseline {format_usd(baseline_total)} is "
                        f"more than the {plain_number(limits.max_increase_percent)}% allowed per change{note}",
                    )
                )
    if violations:
        status = "over"
    elif budget is not None and used is not None and used >= limits.warn_at_percent:
        status = "warning"
    else:
        status = "within" if limits.any else "none"
    return BudgetResult(status, limits, tuple(violations), used, headroom)
