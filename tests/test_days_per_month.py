"""``cost:days-per-month`` wherever a per-day figure is made monthly: declared, it is used; not
declared, 30, and the report's assumptions say so (``default``); declared but 0 or unreadable,
a finding makes the estimate incomplete and 30 is taken (``assumed``), or, fail-closed, an
unreadable figure is priced at 31, the most days a month has. Never 30 in silence, and never a
declared 0 read as 30 without a word.

By hand, us-east-1 list prices:

* provisioned concurrency 1 on a 1,024 MB x86_64 function, ``cost:active-hours-per-day`` 10:
  10 h × days × 3,600 s × 1 GB at $0.0000041667 per GB-s: 30 days = 1,080,000 GB-s = $4.5000360;
  22 days = 792,000 GB-s = $3.3000264; 31 days = 1,116,000 GB-s = $4.6500372.
* a REST stage, ``cost:daily-requests`` 100,000 at $3.50 per 1M requests: 30 days = 3,000,000
  requests = $10.50; 31 days = 3,100,000 = $10.85.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from costline.core.completeness import completeness
from costline.core.model import Resource
from costline.core.values import UNKNOWN_NUMBER
from costline.estimator.pipeline import EstimateOptions, estimate
from tests.conftest import LAMBDA, STAGE, make

PC = "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig"
DAYS = "cost:days-per-month"


def pc_stack(**tags) -> list[Resource]:
    fn_urn = f"urn:pulumi:dev::p::{LAMBDA}::fn"
    fn_tags = {"cost:monthly-requests": "0", "cost:avg-duration-ms": "0"}
    fn = make(LAMBDA, "fn", urn=fn_urn, memorySize=1024, tags=fn_tags)
    pc = Resource.from_engine(
        urn=f"urn:pulumi:dev::p::{PC}::pc",
        type=PC,
        name="pc",
        properties={
            "provisionedConcurrentExecutions": 1,
            "tags": {"cost:active-hours-per-day": "10", **tags},
        },
        property_dependencies={"functionName": [fn_urn]},
    )
    return [fn, pc]


def days_rows(resource) -> list[tuple[str, str, str | None]]:
    return [(a.value, a.source.value, a.detail) for a in resource.assumptions if a.key == DAYS]


def pc_of(est):
    return next(r for r in est.resources if r.name == "pc")


def test_undeclared_days_are_30_and_said_so_declared_days_are_used(prices):
    est = estimate(pc_stack(), prices)
    assert pc_of(est).monthly_usd == D("4.5000360")
    assert days_rows(pc_of(est)) == [
        ("30", "default", "days per month for cost:active-hours-per-day")
    ]
    assert completeness(est).complete
    declared = estimate(pc_stack(**{DAYS: "22"}), prices)
    assert pc_of(declared).monthly_usd == D("3.3000264")
    assert days_rows(pc_of(declared)) == [("22", "tag", "days")]
    assert completeness(declared).complete


@pytest.mark.parametrize(
    ("declared", "what"),
    [("0", "out of range"), (UNKNOWN_NUMBER, "unknown"), ("thirty", "invalid")],
    ids=["zero", "unknown", "malformed"],
)
def test_unusable_days_are_a_gap_priced_at_30_and_said_so(prices, declared, what):
    est = estimate(pc_stack(**{DAYS: declared}), prices)
    assert pc_of(est).monthly_usd == D("4.5000360")
    assert completeness(est).summary() == f"1 resource not fully priced: pc ({DAYS} {what})"
    shown = [(v, s) for v, s, _ in days_rows(pc_of(est))]
    # a declared 0 is shown as declared, then what was taken instead
    assert shown == ([("0", "tag")] if declared == "0" else []) + [("30", "assumed")]


def test_fail_closed_prices_unknown_days_at_31(prices):
    est = estimate(pc_stack(**{DAYS: UNKNOWN_NUMBER}), prices, EstimateOptions(fail_closed=True))
    assert pc_of(est).monthly_usd == D("4.6500372")
    done = completeness(est)
    assert done.complete
    assert done.bounded_summary() == (
        f"1 resource priced at worst-case bounds: pc ({DAYS} at its bound 31)"
    )


def test_daily_requests_with_unknown_days(prices):
    stage = make(STAGE, "dev", tags={"cost:daily-requests": "100000", DAYS: UNKNOWN_NUMBER})
    open_ = estimate([stage], prices)
    assert open_.total_monthly_usd == D("10.50")
    assert completeness(open_).summary() == f"1 resource not fully priced: dev ({DAYS} unknown)"
    (resource,) = open_.resources
    assert [(v, s) for v, s, _ in days_rows(resource)] == [("30", "assumed")]
    closed = estimate([stage], prices, EstimateOptions(fail_closed=True))
    assert closed.total_monthly_usd == D("10.85")
    assert completeness(closed).complete


# --- cost:active-hours-per-day declared but unreadable ------------------------------------------
def test_unknown_active_hours_are_a_gap_then_always_on(prices):
    """Always on is the most a config can be enabled: 730 h × 3,600 s × 1 GB = 2,628,000 GB-s ×
    $0.0000041667 = $10.9500876; fail-open it is priced so too, but the estimate is incomplete."""
    stack = pc_stack(**{"cost:active-hours-per-day": UNKNOWN_NUMBER})
    open_ = estimate(stack, prices)
    assert pc_of(open_).monthly_usd == D("10.9500876")
    assert completeness(open_).summary() == (
        "1 resource not fully priced: pc (cost:active-hours-per-day unknown)"
    )
    closed = estimate(stack, prices, EstimateOptions(fail_closed=True))
    assert pc_of(closed).monthly_usd == D("10.9500876")
    assert completeness(closed).bounded_summary() == (
        "1 resource priced at worst-case bounds: pc (cost:active-hours-per-day at its bound "
        "always on (730 h))"
    )


def test_an_imported_models_unknown_active_hours_are_every_hour_fail_closed(prices):
    """24 h × 60 = 1,440 min a day × 30 days = 43,200 min × 4 CMU × $0.0785 = $13,564.80, plus
    4 CMU of storage × $1.95 = $7.80: $13,572.60. Fail-open, no inference cost is known."""
    from tests.conftest import PROFILE

    tags = {
        "cost:daily-requests": "5",
        "cost:imported-model": "my-model",
        "cost:cmu": "4",
        "cost:active-hours-per-day": UNKNOWN_NUMBER,
    }
    model = make(PROFILE, "m", tags=tags)
    open_ = estimate([model], prices)
    assert open_.total_monthly_usd == 0
    assert not completeness(open_).complete
    closed = estimate([model], prices, EstimateOptions(fail_closed=True))
    assert closed.total_monthly_usd == D("13572.60")
    assert completeness(closed).complete
