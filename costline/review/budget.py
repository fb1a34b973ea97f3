"""The budget rule: one module that says when a cost is over a limit, used by ``costline check``
and by the policy pack alike.

**The rule.** Every dollar amount is rounded half-up to the cent first — the figure a reader
sees — and then compared exactly, inside :func:`~costline.core.money.money_context`, with no
division in any comparison:

* over a budget (stack or resource): the shown amount is more than the shown budget
  ($100.00 is within a $100 budget, $100.01 is over; $100.004 shows as $100.00, so it is within);
* at the warning share: the shown total × 100 ≥ ``warn_at_percent`` × the shown budget
  (with a $100 budget and warning at 80%: $79.99 passes quietly, $80.00 warns);
* worst case: the shown worst case is more than ``multiple`` × the shown expected cost, or
  × 100 more than ``percent`` × the shown stack budget;
* increase per change: the shown increase (:func:`shown_delta`: the rounded total minus the
  rounded baseline total) is more than the shown ``max_increase_usd``, or × 100 more than
  ``max_increase_percent`` × the shown baseline total.

Statuses of :func:`check_budget`:

* ``over``: a limit is broken (``costline check`` exits 1, a mandatory pack policy blocks);
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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from costline.core.money import (
    PRECISION_DIGITS,
    format_usd,
    money_context,
    plain_number,
    round_cents,
)
from costline.core.values import SECRET_DISPLAY
from costline.usage.tags import USAGE_TAGS_BY_KEY

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
    fail_closed: bool = False
    """An estimate with a gap that has no worst-case bound breaks the check (see
    :mod:`costline.core.completeness`)."""
    max_resource_usd: Decimal | None = None
    """Most any one resource may cost a month (the pack's ``resource-budget``)."""
    max_worst_case_multiple: Decimal | None = None
    """Most a Lambda's cost with every request running to its timeout may be, as a multiple of
    its expected cost (the pack's ``lambda-worst-case``)."""

    @property
    def any(self) -> bool:
        return self.fail_closed or any(
            v is not None
            for v in (
                self.monthly_budget_usd,
                self.max_increase_usd,
                self.max_increase_percent,
                self.max_resource_usd,
                self.max_worst_case_multiple,
            )
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
    """Total as a share of the budget (:func:`used_percent`), when a budget is set and not zero."""
    headroom_usd: Decimal | None = None
    """Budget − total as shown (negative when over), when a budget is set."""
    over_usd: Decimal | None = None
    """How far the shown total is over the shown budget, when it is."""


def shown_delta(before: Decimal | None, after: Decimal | None) -> Decimal:
    """The change as displayed: ``round_cents(after) − round_cents(before)`` (``None`` = $0.00).

    Each amount shows rounded half-up to the cent on its own, so the exact difference can be a
    cent off what a reader subtracts ($102.2875 → $46.1500 is −$56.1375, shown −$56.14 because
    the amounts show as $102.29 and $46.15)."""
    old, new = round_cents(before or Decimal(0)), round_cents(after or Decimal(0))
    digits = max(PRECISION_DIGITS, old.adjusted() + 4, new.adjusted() + 4)
    return decimal.Context(prec=digits).subtract(new, old)  # exact at any size


def over_by(amount: Decimal, limit: Decimal) -> Decimal | None:
    """How much the shown ``amount`` is over the shown ``limit``; ``None`` when within it."""
    over = shown_delta(limit, amount)
    return over if over > 0 else None


def _times(a: Decimal, b: Decimal) -> Decimal:
    """``a × b`` exactly (at any size: the precision grows with the operands' digits)."""
    digits = max(PRECISION_DIGITS, len(a.as_tuple().digits) + len(b.as_tuple().digits) + 2)
    return decimal.Context(prec=digits).multiply(a, b)


def reaches_percent(amount: Decimal, whole: Decimal, percent: Decimal) -> bool:
    """The shown ``amount`` is at least ``percent``% of the shown ``whole`` (compared exactly)."""
    return _times(round_cents(amount), Decimal(100)) >= _times(percent, round_cents(whole))


def exceeds_percent(amount: Decimal, whole: Decimal, percent: Decimal) -> bool:
    """The shown ``amount`` is more than ``percent``% of the shown ``whole`` (compared exactly)."""
    return _times(round_cents(amount), Decimal(100)) > _times(percent, round_cents(whole))


def exceeds_multiple(amount: Decimal, base: Decimal, multiple: Decimal) -> bool:
    """The shown ``amount`` is more than ``multiple`` × the shown ``base`` (compared exactly)."""
    return round_cents(amount) > _times(multiple, round_cents(base))


def used_percent(total: Decimal, budget: Decimal) -> Decimal | None:
    """The shown total as a share of the shown budget, one decimal rounded *down*, so the share
    shown never reaches a warning threshold before :func:`reaches_percent` does ($79.99 of $100
    is 79.9%); ``None`` for a budget that shows as $0.00."""
    shown_budget = round_cents(budget)
    if shown_budget <= 0:
        return None
    with money_context():
        share = round_cents(total) * 100 / shown_budget
        return share.quantize(PERCENT_PLACES, rounding=ROUND_FLOOR)


def ratio_text(amount: Decimal, base: Decimal) -> str:
    """``amount`` ÷ ``base`` as shown amounts, one decimal rounded down (``12.3``)."""
    with money_context():
        return plain_number(
            (round_cents(amount) / round_cents(base)).quantize(PERCENT_PLACES, rounding=ROUND_FLOOR)
        )


@dataclass(frozen=True)
class StackBudget:
    """A total against a stack budget: ``over`` (by ``over_usd``), ``warning`` or ``within``."""

    status: str
    used_percent: Decimal | None
    headroom_usd: Decimal
    over_usd: Decimal | None


def stack_budget(total: Decimal, budget: Decimal, warn_at_percent: Decimal) -> StackBudget:
    """The stack budget rule (see the module doc): over, at the warning share, or within."""
    over = over_by(total, budget)
    headroom = shown_delta(total, budget)
    used = used_percent(total, budget)
    if over is not None:
        status = "over"
    elif round_cents(budget) > 0 and reaches_percent(total, budget, warn_at_percent):
        status = "warning"
    else:
        status = "within"
    return StackBudget(status, used, headroom, over)


def percent_change(before: Decimal, after: Decimal) -> Decimal | None:
    """``(after − before) / before`` in percent (exact amounts), one decimal half-up; ``None``
    from a ``before`` that shows as $0.00."""
    if round_cents(before) == 0:
        return None
    with money_context():
        return ((after - before) * 100 / before).quantize(PERCENT_PLACES)


def _increase_percent_text(
    before: Decimal, after: Decimal, increase: Decimal, limit: Decimal
) -> str:
    """The increase in percent as the report shows it (:func:`percent_change`), or, when that
    figure does not show it above ``limit`` (a boundary case), the shown increase in percent of
    the shown ``before`` with as many more decimals (up to four) as it takes."""
    change = percent_change(before, after)
    if change is not None and change > limit:
        return plain_number(change)
    with money_context():
        exact = increase * 100 / round_cents(before)
        for places in ("0.01", "0.001", "0.0001"):
            shown = exact.quantize(Decimal(places), rounding=ROUND_FLOOR)
            if shown > limit:
                break
        return plain_number(shown)


def fail_closed_message(name: str, whats: Sequence[str]) -> str:
    """Why a fail-closed gate fails on one resource: what is missing has no worst-case bound;
    for a usage tag (a gap's text starts with its key, see
    :func:`~costline.core.completeness.gap_text`), how to fix it."""
    tags = [
        tag
        for what in whats
        if (tag := USAGE_TAGS_BY_KEY.get(what.split(" ", 1)[0])) is not None and tag.numeric
    ]
    fix = (
        "; declare "
        + ", ".join(f"{t.key} with a plain value (e.g. {t.key}={t.example})" for t in tags)
        + f", or give {'it' if len(tags) == 1 else 'each'} a bound in the pack's usage-tags "
        "worstCase"
        if tags
        else ""
    )
    return (
        f"{name}: {', '.join(whats)}, with no worst-case bound: fail-closed cannot price its "
        f"cost{fix}"
    )


def check_budget(
    total: Decimal,
    limits: BudgetLimits,
    baseline_total: Decimal | None = None,
    *,
    other_prices: bool = False,
    missing: Mapping[str, Sequence[str]] | None = None,
    resources: Sequence[tuple[str, Decimal]] = (),
    worst_cases: Sequence[tuple[str, str, Decimal, Decimal]] = (),
) -> BudgetResult:
    """Check ``total`` (and its increase over ``baseline_total``) against ``limits``;
    ``other_prices``: the baseline was priced with other tables or overrides (see module doc);
    ``missing``: what the estimate could not determine and has no bound for, by resource name
    (:meth:`~costline.core.completeness.Completeness.missing_by_resource`), which breaks a
    fail-closed check."""
    violations: list[Violation] = []
    if limits.fail_closed:
        violations += [
            Violation("incomplete", fail_closed_message(name, whats))
            for name, whats in (missing or {}).items()
        ]
    used = headroom = over = None
    budget = limits.monthly_budget_usd
    warning = False
    if budget is not None:
        verdict = stack_budget(total, budget, limits.warn_at_percent)
        used, headroom, over = verdict.used_percent, verdict.headroom_usd, verdict.over_usd
        warning = verdict.status == "warning"
        if over is not None:
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
        if limits.max_increase_usd is not None and over_by(increase, limits.max_increase_usd):
            violations.append(
                Violation(
                    "increase-over-limit",
                    f"the increase {format_usd(increase)}/month over the baseline is more than "
                    f"the {format_usd(limits.max_increase_usd)} allowed per change{note}",
                )
            )
        limit = limits.max_increase_percent
        if (
            limit is not None
            and increase > 0
            and (
                round_cents(baseline_total) == 0 or exceeds_percent(increase, baseline_total, limit)
            )
        ):
            shown = (
                "from $0.00"
                if round_cents(baseline_total) == 0
                else f"+{_increase_percent_text(baseline_total, total, increase, limit)}%"
            )
            violations.append(
                Violation(
                    "increase-over-percent",
                    f"the increase ({shown}) over the baseline {format_usd(baseline_total)} is "
                    f"more than the {plain_number(limit)}% allowed per change{note}",
                )
            )
    if limits.max_resource_usd is not None:
        for name, usd in resources:
            if (over_resource := over_by(usd, limits.max_resource_usd)) is not None:
                violations.append(
                    Violation(
                        "resource-over-budget",
                        resource_budget_message(name, usd, limits.max_resource_usd, over_resource),
                    )
                )
    if limits.max_worst_case_multiple is not None:
        for name, timeout, expected, worst in worst_cases:
            reasons = worst_case_reasons(expected, worst, limits.max_worst_case_multiple)
            if reasons:
                violations.append(
                    Violation("worst-case-over", worst_case_message(name, timeout, worst, reasons))
                )
    if violations:
        status = "over"
    elif warning:
        status = "warning"
    else:
        status = "within" if limits.any else "none"
    return BudgetResult(status, limits, tuple(violations), used, headroom, over)


def budget_text(budget: Decimal, secret: bool = False) -> str:
    """A budget for a message: ``$50.00``, or ``[secret]`` when it came from a secret (then no
    figure computed from it, such as the headroom or the share used, may be shown either)."""
    return SECRET_DISPLAY if secret else format_usd(budget)


def worst_case_reasons(
    expected: Decimal,
    worst: Decimal,
    max_multiple: Decimal,
    budget: Decimal | None = None,
    max_percent_of_budget: Decimal | None = None,
    *,
    budget_secret: bool = False,
) -> list[str]:
    """Why a worst case is too dear (empty: it is not): more than ``max_multiple`` × the
    expected cost (when that shows above $0.00), or more than ``max_percent_of_budget``% of the
    stack ``budget`` (``[secret]`` when ``budget_secret``)."""
    reasons = []
    if round_cents(expected) > 0 and exceeds_multiple(worst, expected, max_multiple):
        reasons.append(
            f"{ratio_text(worst, expected)}× its expected {format_usd(expected)} "
            f"(limit {plain_number(max_multiple)}×)"
        )
    if (
        budget is not None
        and max_percent_of_budget is not None
        and exceeds_percent(worst, budget, max_percent_of_budget)
    ):
        reasons.append(
            f"more than {plain_number(max_percent_of_budget)}% of the stack budget "
            f"{budget_text(budget, budget_secret)}"
        )
    return reasons


def resource_budget_message(name: str, usd: Decimal, budget: Decimal, over: Decimal) -> str:
    return (
        f"{name} costs ~{format_usd(usd)}/month, over its budget {format_usd(budget)} by "
        f"{format_usd(over)}"
    )


def worst_case_message(
    name: str, shown_timeout_s: str, worst: Decimal, reasons: Sequence[str]
) -> str:
    """``shown_timeout_s`` is the timeout as it may be shown (masked when it is a secret)."""
    return (
        f"{name}: if every request ran to the {shown_timeout_s} s timeout it would cost "
        f"~{format_usd(worst)}/month, " + " and ".join(reasons)
    )
