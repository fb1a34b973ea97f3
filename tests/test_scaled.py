"""Totals billed from the stack's charges with usage scaled (:mod:`costline.estimator.scaled`).

What-if rows and the token-cut recommendation are billed this way where every charge says how it
scales. Here: a row worked out by hand (shared free tiers, two Lambda architectures, S3), the
same figure from a full estimate of the scaled copy; the cases where billing from the charges
does not apply and the scaled copy is priced in full (a threshold, a fail-closed bound, a finding
about a rewritten tag, a figure past its plausible maximum, a tag map that cannot be rewritten);
and, over generated stacks, billed totals against full estimates of the scaled copies.
``tests/test_whatif_totals.py`` and ``tests/test_reprice.py`` check every row and rule the same
way.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from costline.core.values import UNKNOWN
from costline.estimator.pipeline import EstimateOptions, Totals, estimate
from costline.estimator.priced import price_stack
from costline.pricers.base import INPUT_TOKENS_PER_REQUEST, OUTPUT_TOKENS_PER_REQUEST, TRAFFIC
from costline.scenarios import whatif
from costline.scenarios.edit import rewrites_cleanly, scale_usage
from costline.scenarios.recommendations.apigateway import http_api
from costline.scenarios.recommendations.bedrock import fewer_tokens
from costline.scenarios.recommendations.lambda_ import arm64, right_size_memory
from costline.scenarios.whatif import Scenario, scale_stack, what_if
from costline.testing.stacks import services_stack
from costline.usage.tags import INPUT_TOKENS, OUTPUT_TOKENS
from tests.conftest import BUCKET, LAMBDA, STAGE, make
from tests.test_properties import PRICES
from tests.test_reprice import PC_CONFIG, FullyPriced, api_service, extras, mixed_stacks
from tests.test_whatif_totals import close, twisted_stacks

D = Decimal


def lambdas_and_bucket() -> list:
    return [
        make(
            LAMBDA,
            "x86",
            memorySize=1024,
            tags={"cost:monthly-requests": "2000000", "cost:avg-duration-ms": "100"},
        ),
        make(
            LAMBDA,
            "arm",
            memorySize=512,
            architectures=["arm64"],
            tags={"cost:monthly-requests": "1000000", "cost:avg-duration-ms": "100"},
        ),
        make(
            BUCKET,
            "data",
            tags={
                "cost:storage-gb": "100",
                "cost:monthly-get-requests": "1000000",
                "cost:monthly-put-requests": "10000",
            },
        ),
    ]


def test_a_row_billed_from_the_charges_worked_out_by_hand():
    """Three times the traffic, by hand (us-east-1 prices, free tier on):

    * requests: 3 × (2M + 1M) = 9M, less 1M free = 8M × $0.20/M = $1.60
    * GB-s: x86 6M × 0.1 s × 1 GB = 600,000; arm64 3M × 0.1 s × 0.5 GB = 150,000; the 400,000
      free GB-s shared 4:1, 320,000 and 80,000: x86 280,000 × $0.0000166667 = $4.666676, arm64
      70,000 × $0.0000133334 = $0.933338
    * S3: storage 100 GB × $0.023 = $2.30 (does not scale); GETs 3M × $0.0004/1,000 = $1.20;
      PUTs 30,000 × $0.005/1,000 = $0.15
    """
    resources = lambdas_and_bucket()
    stack = price_stack(resources, PRICES)
    billed = stack.scaled_billing.totals({TRAFFIC: Fraction(3)})
    assert billed is not None
    assert billed.total_monthly_usd == D("10.850014")
    assert billed.by_service == {"Lambda": D("7.200014"), "S3": D("3.65")}
    assert billed.problems == 0
    # the full estimate of the copy with its traffic tags tripled says the same
    full = Totals.of(estimate(scale_stack(resources, Fraction(3)), PRICES))
    assert full.total_monthly_usd == D("10.850014")
    assert full.by_service == billed.by_service
    # and the factors of dimensions the stack has no charge for change nothing
    same = stack.scaled_billing.totals({INPUT_TOKENS_PER_REQUEST: Fraction(1, 2)})
    assert same is not None and same.total_monthly_usd == stack.estimate.total_monthly_usd


def test_without_the_free_tier_every_unit_is_billed():
    """3×: requests 9M × $0.20/M = $1.80; GB-s 600,000 × $0.0000166667 = $10.00002 and
    150,000 × $0.0000133334 = $2.00001; S3 $3.65 as above."""
    stack = price_stack(lambdas_and_bucket(), PRICES, EstimateOptions(free_tier=False))
    billed = stack.scaled_billing.totals({TRAFFIC: Fraction(3)})
    assert billed is not None and billed.total_monthly_usd == D("17.45003")


def test_what_if_rows_are_billed_without_pricing_the_scaled_copies(monkeypatch):
    resources = lambdas_and_bucket()
    stack = price_stack(resources, PRICES)

    def priced_in_full(*args, **kwargs):
        raise AssertionError("a row was priced in full")

    monkeypatch.setattr(whatif, "estimate_totals", priced_in_full)
    result = what_if(
        resources,
        PRICES,
        scenarios=(Scenario(multiplier=D(3)),),
        base=stack.estimate,
        run=stack.run,
    )
    row = next(r for r in result.rows if r.factor == 3)
    assert row.totals.total_monthly_usd == D("10.850014") and row.complete


def count_full_rows(monkeypatch) -> list[int]:
    calls: list[int] = []
    real = whatif.estimate_totals

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(whatif, "estimate_totals", counted)
    return calls


def rows_against_full_estimates(resources, options, factors=(Fraction(3), Fraction(1, 3))):
    stack = price_stack(resources, PRICES, options)
    result = what_if(
        resources,
        PRICES,
        options,
        tuple(Scenario(multiplier=D(f.numerator) / f.denominator) for f in factors),
        base=stack.estimate,
        run=stack.run,
    )
    for row in result.rows:
        full = Totals.of(estimate(scale_stack(resources, row.factor), PRICES, options))
        assert close(row.totals.total_monthly_usd, full.total_monthly_usd)
        assert row.totals.problems == full.problems
    return stack


def pc_config(resources):
    return [r for r in extras(resources) if r.type == PC_CONFIG]


@pytest.mark.parametrize(
    "case",
    ["provisioned-concurrency", "fail-closed-bound", "daily-and-monthly", "tags-map-unknown"],
)
def test_where_billing_from_the_charges_does_not_apply_the_copy_is_priced_in_full(
    case, monkeypatch
):
    """Each case priced in full (both sides: the plain stack is billed), with the full
    estimate's totals."""
    resources = lambdas_and_bucket()
    options = EstimateOptions()
    if case == "provisioned-concurrency":  # served up to its capacity: not proportional
        resources += pc_config(resources)
    elif case == "fail-closed-bound":  # the bound does not scale with the traffic
        resources.append(make(LAMBDA, "unknown", tags={"cost:monthly-requests": UNKNOWN}))
        options = EstimateOptions(fail_closed=True)
    elif case == "daily-and-monthly":  # they disagree (a warning); the copy keeps one
        resources.append(
            make(
                LAMBDA,
                "both",
                tags={"cost:monthly-requests": "100", "cost:daily-requests": "10"},
            )
        )
    else:  # a request figure in tagsAll, which the copy cannot rewrite
        resources.append(
            make(
                LAMBDA,
                "default-tags",
                tags=UNKNOWN,
                tagsAll={"cost:monthly-requests": "100", "cost:avg-duration-ms": "100"},
            )
        )
    calls = count_full_rows(monkeypatch)
    rows_against_full_estimates(resources, options)
    assert calls  # priced in full
    calls.clear()
    rows_against_full_estimates(lambdas_and_bucket(), EstimateOptions())
    assert not calls  # billed


def test_a_row_whose_figures_pass_their_maximum_is_priced_in_full(monkeypatch):
    """The plausible maximum of cost:monthly-requests is passed at a billion times 2M: that row
    is priced in full (its figure is unreadable there), the row at 3× is billed."""
    calls = count_full_rows(monkeypatch)
    rows_against_full_estimates(lambdas_and_bucket(), EstimateOptions(), (Fraction(3),))
    assert not calls
    rows_against_full_estimates(lambdas_and_bucket(), EstimateOptions(), (Fraction(10**9),))
    assert calls


def test_the_token_cut_is_billed_from_the_charges_and_agrees_with_full_estimates():
    stack = price_stack(services_stack(2 + 3 * 15), PRICES)
    (fast,) = fewer_tokens(BilledOnly.of(stack))
    (full,) = fewer_tokens(
        FullyPriced(stack.resources, stack.prices, stack.options, stack.estimate)
    )
    assert fast.detail == full.detail
    assert fast.monthly_saving_usd is not None and full.monthly_saving_usd is not None
    assert close(fast.monthly_saving_usd, full.monthly_saving_usd)
    assert fast.monthly_saving_usd > 0


def test_a_long_context_request_is_priced_in_full():
    """Above 200,000 input tokens a request pays the long-context price for every token; cutting
    the input by 25% can end that, so its charges do not say they scale."""
    model = "anthropic.claude-sonnet-4-20250514-v1:0"
    assert PRICES.get(f"bedrock.on_demand.{model}.input_tokens_above_200k") is not None
    resources = [
        make(
            LAMBDA,
            name,
            tags={
                "cost:monthly-requests": "1000",
                "cost:avg-duration-ms": "100",
                "cost:bedrock-model": model,
                "cost:input-tokens": tokens,
                "cost:output-tokens": "1000",
            },
        )
        for name, tokens in (("long", "250000"), ("short", "2000"))
    ]
    stack = price_stack(resources, PRICES)
    assert not stack.scaled_billing.usable
    (fast,) = fewer_tokens(stack)
    (full,) = fewer_tokens(
        FullyPriced(stack.resources, stack.prices, stack.options, stack.estimate)
    )
    assert str(fast.monthly_saving_usd) == str(full.monthly_saving_usd)


FACTORS = st.sampled_from([Fraction(1, 3), Fraction(7, 3), Fraction(3), Fraction(1, 1000)])


@settings(deadline=None, max_examples=200)
@given(
    resources=st.one_of(twisted_stacks(), mixed_stacks()),
    free_tier=st.booleans(),
    fail_closed=st.booleans(),
    factor=FACTORS,
    cut=st.sampled_from([(INPUT_TOKENS,), (OUTPUT_TOKENS,), (INPUT_TOKENS, OUTPUT_TOKENS)]),
)
def test_billed_totals_are_the_full_estimates_of_the_scaled_copies(
    resources, free_tier, fail_closed, factor, cut
):
    """Wherever billing from the charges applies (and only there: ``assume``), traffic × factor
    and the token cuts give the full estimate's totals, within the tolerance."""
    options = EstimateOptions(free_tier=free_tier, fail_closed=fail_closed)
    stack = price_stack(resources, PRICES, options)
    billing = stack.scaled_billing
    assume(billing.usable)
    scaling = whatif.StackScaling(resources)
    if scaling.rewrites_cleanly(stack.estimate.resources) and scaling.stays_plausible(factor):
        billed = billing.totals({TRAFFIC: factor})
        assert billed is not None
        event("traffic billed")
        full = Totals.of(estimate(scale_stack(resources, factor), PRICES, options))
        assert close(billed.total_monthly_usd, full.total_monthly_usd), (billed, full)
        assert list(billed.by_service) == list(full.by_service)
        assert all(close(billed.by_service[s], v) for s, v in full.by_service.items())
        assert billed.problems == full.problems
    tokens = (INPUT_TOKENS, OUTPUT_TOKENS)
    if all(
        rewrites_cleanly(r, result, tokens)
        for r, result in zip(resources, stack.estimate.resources, strict=True)
    ):
        dimensions = {
            INPUT_TOKENS: INPUT_TOKENS_PER_REQUEST,
            OUTPUT_TOKENS: OUTPUT_TOKENS_PER_REQUEST,
        }
        cut_totals = billing.totals({dimensions[tag]: Fraction(3, 4) for tag in cut})
        assert cut_totals is not None
        event("token cut billed")
        full_cut = estimate(
            [scale_usage(r, Fraction(3, 4), cut) for r in resources], PRICES, options
        )
        assert close(cut_totals.total_monthly_usd, full_cut.total_monthly_usd)


class BilledOnly:
    """A priced stack whose changed copies must not be priced (``total`` fails)."""

    @staticmethod
    def of(stack):
        class Billed(type(stack)):
            def total(self, resources):
                raise AssertionError("a changed copy was priced")

        return Billed(stack.resources, stack.prices, stack.options, stack.estimate, run=stack.run)


def test_arm64_is_billed_from_the_charges_worked_out_by_hand():
    """Free tier off. The x86 function's 2M × 0.1 s × 1 GB = 200,000 GB-s cost $0.0000166667
    each on x86_64 ($3.33334) and $0.0000133334 on arm64 ($2.66668): $0.66666 saved; the arm64
    function and everything else bill as they did."""
    options = EstimateOptions(free_tier=False)
    stack = price_stack(lambdas_and_bucket(), PRICES, options)
    (fast,) = arm64(BilledOnly.of(stack))
    (full,) = arm64(FullyPriced(stack.resources, stack.prices, stack.options, stack.estimate))
    assert fast.monthly_saving_usd == full.monthly_saving_usd == D("0.66666")
    assert fast.resources == ("x86",)


WAITS_ON_BEDROCK = {
    "cost:monthly-requests": "1000000",
    "cost:avg-duration-ms": "100",
    "cost:bedrock-model": "anthropic.claude-3-haiku-20240307-v1:0",
    "cost:input-tokens": "100",
    "cost:output-tokens": "10",
}
"""The tags of a function that calls Bedrock (its memory is offered halved)."""


def test_right_sized_memory_is_billed_from_the_charges_worked_out_by_hand():
    """Free tier off. A function that calls Bedrock, 1M × 0.1 s at 1,024 MB = 100,000 GB-s
    ($1.66667), halved to 512 MB: 50,000 GB-s ($0.833335), $0.833335 saved; its tokens are the
    same."""
    options = EstimateOptions(free_tier=False)
    waits = make(
        LAMBDA,
        "waits",
        memorySize=1024,
        tags=WAITS_ON_BEDROCK,
    )
    stack = price_stack([waits], PRICES, options)
    (fast,) = right_size_memory(BilledOnly.of(stack))
    (full,) = right_size_memory(
        FullyPriced(stack.resources, stack.prices, stack.options, stack.estimate)
    )
    assert fast.monthly_saving_usd == full.monthly_saving_usd == D("0.833335")


@pytest.mark.parametrize("case", ["provisioned-concurrency", "memory-past-its-maximum"])
def test_a_lambda_change_billing_cannot_follow_is_priced(case):
    """A provisioned-concurrency config reads its function's memory and architecture (and its
    function's duration is served up to the capacity): both copies are priced. A memory past
    10,240 MB is priced at the maximum (a finding), so halving it is not halving the cost: that
    copy is priced (arm64, which leaves the memory alone, is billed all the same)."""
    options = EstimateOptions(free_tier=False)
    memory = 20_000 if case == "memory-past-its-maximum" else 1024
    waits = make(
        LAMBDA,
        "waits",
        memorySize=memory,
        timeout=900,
        tags=WAITS_ON_BEDROCK,
    )
    resources = [waits, *pc_config([waits])] if case == "provisioned-concurrency" else [waits]
    stack = price_stack(resources, PRICES, options)
    full = FullyPriced(stack.resources, stack.prices, stack.options, stack.estimate)
    priced = (
        (arm64, right_size_memory) if case == "provisioned-concurrency" else (right_size_memory,)
    )
    for rule in priced:
        with pytest.raises(AssertionError, match="a changed copy was priced"):
            rule(BilledOnly.of(stack))
        assert [str(r.monthly_saving_usd) for r in rule(stack)] == [
            str(r.monthly_saving_usd) for r in rule(full)
        ]
    if case == "memory-past-its-maximum":
        ((fast,), (slow,)) = arm64(BilledOnly.of(stack)), arm64(full)
        assert fast.monthly_saving_usd == slow.monthly_saving_usd  # 10,240 MB: 1,000,000 GB-s


def test_on_many_services_every_change_the_charges_can_follow_is_billed():
    stack = BilledOnly.of(price_stack(services_stack(2 + 3 * 15), PRICES))
    for rule in (fewer_tokens, arm64, right_size_memory, http_api):
        assert rule(stack), rule.__name__


@pytest.mark.parametrize(
    ("variant", "billed"),
    [
        ("stage", True),
        ("api", True),
        ("two-stages", True),
        ("secret", True),
        ("both", True),  # the stage's figure flows on, and the HTTP API declares it
    ],
)
def test_the_http_api_switch_is_billed_where_the_traffic_it_sends_on_is_the_same(variant, billed):
    stack = price_stack(api_service(0, variant), PRICES, EstimateOptions(free_tier=False))
    full = http_api(FullyPriced(stack.resources, stack.prices, stack.options, stack.estimate))
    if billed:
        fast = http_api(BilledOnly.of(stack))
    else:
        with pytest.raises(AssertionError, match="a changed copy was priced"):
            http_api(BilledOnly.of(stack))
        fast = http_api(stack)
    assert [(r.code, r.detail, r.resources) for r in fast] == [
        (r.code, r.detail, r.resources) for r in full
    ]
    assert all(
        close(a.monthly_saving_usd, b.monthly_saving_usd)
        for a, b in zip(fast, full, strict=True)
        if a.monthly_saving_usd is not None and b.monthly_saving_usd is not None
    )
    assert fast and fast[0].monthly_saving_usd


def test_a_stage_that_belongs_to_the_only_rest_api_by_being_the_only_one_is_priced():
    """A stage with no reference to its API belongs to the stack's only REST API; switching that
    API (or another) changes which API such a stage belongs to, so the copy is priced."""
    resources = api_service(0, "stage")
    resources = [
        replace(r, property_dependencies={}, dependencies=()) if r.type == STAGE else r
        for r in resources
    ]
    stack = price_stack(resources, PRICES)
    with pytest.raises(AssertionError, match="a changed copy was priced"):
        http_api(BilledOnly.of(stack))
    (fast,), (full,) = (
        http_api(stack),
        http_api(FullyPriced(stack.resources, stack.prices, stack.options, stack.estimate)),
    )
    assert str(fast.monthly_saving_usd) == str(full.monthly_saving_usd)
