"""Budget checks for PR reviews: a mandatory monthly budget and limits on the increase per change.

Compared as the policy pack's ``stack-budget`` does: in whole cents, rounded half-up, so a
total that displays as the budget is within it. Statuses:

* ``over``: a limit is broken (``costline check`` exits 1);
* ``warning``: within every limit, but the total reached ``warn_at_percent`` of the budget;
* ``within``: within every limit set;
* ``none``: no limit was set.

The increase limits need a baseline total. A percentage limit against a $0.00 baseline is
broken by any increase (a new stack is an infinite relative increase): use ``max_increase_usd``
for new stacks. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from costline.money import format_usd, money_context, plain_number, round_cents

DEFAULT_WARN_AT_PERCENT = Decimal(80)
PERCENT_PLACES = Decimal("0.1")


@dataclass(frozen=True)
class BudgetLimits:
    """USD per month; percentages as numbers (``20`` = 20%)."""

    monthly_budget_usd: Decimal | None = None
    warn_at_percent: Decimal = DEFAULT_WARN_AT_PERCENT
    max_increase_usd: Decimal | None = None
    max_increase_percent: Decimal | None = None

    @property
    def any(self) -> bool:
        return any(v is not None for v in (self.monthly_budget_usd, self.max_increase_usd, self.max_increase_percent))

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


def percent_change(before: Decimal, after: Decimal) -> Decimal | None:
    """``(after − before) / before`` in percent, one decimal half-up; ``None`` from $0."""
    if before == 0:
        return None
    with money_context():
        return ((after - before) * 100 / before).quantize(PERCENT_PLACES)


def check_budget(total: Decimal, limits: BudgetLimits, baseline_total: Decimal | None = None) -> BudgetResult:
    """Check ``total`` (and its increase over ``baseline_total``) against ``limits``."""
    violations: list[Violation] = []
    used = headroom = None
    budget = limits.monthly_budget_usd
    if budget is not None:
        headroom = budget - total
        if budget > 0:
            with money_context():
                used = (total * 100 / budget).quantize(PERCENT_PLACES)
        if round_cents(total) > round_cents(budget):
            violations.append(Violation("over-budget", f"the total {format_usd(total)}/month is over the budget "
                                                       f"{format_usd(budget)} by {format_usd(total - budget)}"))
    if baseline_total is not None:
        increase = total - baseline_total
        if limits.max_increase_usd is not None and round_cents(increase) > round_cents(limits.max_increase_usd):
            violations.append(Violation("increase-over-limit",
                                        f"the increase {format_usd(increase)}/month over the baseline is more than "
                                        f"the {format_usd(limits.max_increase_usd)} allowed per change"))
        if limits.max_increase_percent is not None and round_cents(increase) > 0:
            change = percent_change(baseline_total, total)
            if change is None or change > limits.max_increase_percent:
                shown = "from $0.00" if change is None else f"+{plain_number(change)}%"
                violations.append(Violation("increase-over-percent",
                                            f"the increase ({shown}) over the baseline {format_usd(baseline_total)} is "
                                            f"more than the {plain_number(limits.max_increase_percent)}% allowed per change"))
    if violations:
        status = "over"
    elif budget is not None and used is not None and used >= limits.warn_at_percent:
        status = "warning"
    else:
        status = "within" if limits.any else "none"
    return BudgetResult(status, limits, tuple(violations), used, headroom)
