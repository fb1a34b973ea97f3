"""What-if traffic scaling: rows recomputed by the estimator, the seed's scaling table corrected."""

from __future__ import annotations

from decimal import Decimal as D
from fractions import Fraction

import pytest

from costline.core.money import round_cents
from costline.core.values import SECRET_SIGNATURE, SIGNATURE_KEY
from costline.estimator.pipeline import estimate
from costline.scenarios.whatif import (
    DEFAULT_SCENARIOS,
    Scenario,
    ScenarioError,
    edge_traffic,
    parse_scenarios,
    scale_stack,
    what_if,
)
from tests.conftest import BUCKET, LAMBDA, PROFILE, make, seed_stack

SEED_ROWS = {D(30_000), D(100_000), D(500_000), D(1_000_000)}


def rows_by_volume(result):
    return {row.volume: row for row in result.rows}


def test_seed_scaling_table_with_the_seeds_own_prices(seed_prices):
    """The seed's rows, recomputed at its own prices (pricing/overrides/seed-template.yaml:
    Bedrock $0.50 / $2.00 per 1M input / output tokens, REST $3.50 per 1M flat, S3 $0.025/GB-month
    with free requests; Lambda list prices, $0.20 per 1M requests and $0.0000166667 per GB-s
    after the account's free 1M requests and 400,000 GB-s).

    Per call: 500 input + 500 output tokens = $0.00025 + $0.001 = $0.00125; a REST request
    $0.0000035; Lambda 512 MB × 1 s = 0.5 GB-s. S3 is 40 GB × $0.025 = $1.00 at every volume
    (storage does not scale; its GET requests scale but cost $0 at these prices, so whether they
    scale does not change these figures — at list prices it does, see the next test).

    ========  ==========  =======  =======================================  =====  =============
    calls     Bedrock     REST     Lambda                                   S3     total
    ========  ==========  =======  =======================================  =====  =============
    30,000    $37.50      $0.105   15,000 GB-s, free                        $1.00  $38.605
    100,000   $125.00     $0.35    50,000 GB-s, free                        $1.00  $126.35
    500,000   $625.00     $1.75    250,000 GB-s, free                       $1.00  $627.75
    1,000,000 $1,250.00   $3.50    500,000 − 400,000 = 100,000 GB-s         $1.00  $1,256.16667
                                   × $0.0000166667 = $1.66667; 1M requests
                                   = exactly the free 1M
    ========  ==========  =======  =======================================  =====  =============

    The seed's own table says $626.75 and $1,253.50: it drops the S3 line at 500k and 1M and
    keeps Lambda at $0 at 1M calls, where it has left the free tier.
    """
    result = what_if(seed_stack(), seed_prices)
    assert result.edge.monthly_calls == D(30_000) and result.edge.kind == "API Gateway requests"
    rows = rows_by_volume(result)
    assert set(rows) == SEED_ROWS
    assert {v: r.estimate.total_monthly_usd for v, r in rows.items()} == {
        D(30_000): D("38.605"),
        D(100_000): D("126.35"),
        D(500_000): D("627.75"),
        D(1_000_000): D("1256.16667"),
    }
    assert {v: round_cents(r.estimate.total_monthly_usd) for v, r in rows.items()} == {
        D(30_000): D("38.61"),
        D(100_000): D("126.35"),
        D(500_000): D("627.75"),
        D(1_000_000): D("1256.17"),
    }
    million = rows[D(1_000_000)].estimate.by_service()
    assert million == {
        "Bedrock": D(1250),
        "API Gateway": D("3.5"),
        "Lambda": D("1.66667"),
        "S3": D(1),
    }
    assert rows[D(500_000)].estimate.by_service()["S3"] == D(1)  # the seed's table drops this line
    assert rows[D(30_000)].current and rows[D(30_000)].factor == 1
    assert rows[D(500_000)].factor == Fraction(50, 3)
    assert all(r.complete for r in result.rows)


def test_list_prices_scale_s3_gets_with_traffic(prices):
    """At list prices S3 GETs cost $0.0004 per 1,000: the bucket's 30,000 GETs a month follow
    traffic (1M calls → 1M GETs = $0.40), its 100 PUTs too (3,333.33 × $0.005/1,000), storage
    stays 40 GB × $0.023 = $0.92. S3 at 1M calls = $0.92 + $0.40 + $0.0166667 = $1.3366667."""
    row = rows_by_volume(what_if(seed_stack(), prices))[D(1_000_000)]
    s3 = next(r for r in row.estimate.resources if r.name == "artifacts")
    quantities = {i.price_id: i.quantity for i in s3.line_items}
    assert quantities["s3.requests.get"] == D(1_000_000)
    assert quantities["s3.storage.standard"] == D(40)
    assert round_cents(s3.monthly_usd) == D("1.34")


def test_rows_are_estimates_not_multiples(seed_prices):
    """33.33 × the 30k row's Lambda $0.00 would still be $0.00; the 1M row leaves the free tier."""
    rows = rows_by_volume(what_if(seed_stack(), seed_prices))
    assert rows[D(30_000)].estimate.by_service()["Lambda"] == 0
    assert rows[D(1_000_000)].estimate.by_service()["Lambda"] > 0


def test_multipliers_scale_the_declared_traffic(seed_prices):
    result = what_if(seed_stack(), seed_prices, scenarios=parse_scenarios("2x,10x"))
    now, two, ten = result.rows  # today's traffic is always a row
    assert now.current and now.estimate.total_monthly_usd == D("38.605")
    assert (two.volume, ten.volume) == (D(60_000), D(300_000))
    assert two.estimate.total_monthly_usd == D("76.21")  # 2 × $37.50 + $0.21 + $1.00 + Lambda free
    assert ten.estimate.by_service()["Bedrock"] == D(375)


def test_what_scales_and_what_does_not(prices):
    """Requests and S3 requests × factor; storage, tokens per request and duration unchanged."""
    (_api, _stage, fn, profile, bucket, role) = scale_stack(seed_stack(), Fraction(3))
    assert fn.properties["tags"]["cost:monthly-requests"] == "90000"
    assert "cost:daily-requests" not in fn.properties["tags"]  # rewritten as a monthly figure
    assert fn.properties["tags"]["cost:avg-duration-ms"] == "1000"
    assert profile.properties["tags"]["cost:input-tokens"] == "500"
    assert bucket.properties["tags"] == {
        "cost:storage-gb": "40",
        "cost:monthly-get-requests": "90000",
        "cost:monthly-put-requests": "300",
    }
    assert role == seed_stack()[-1]


def test_scaling_keeps_secrets_secret(prices):
    secret = {SIGNATURE_KEY: SECRET_SIGNATURE, "value": "1000"}
    fn = make(
        LAMBDA,
        "fn",
        memorySize=512,
        tags={"cost:daily-requests": secret, "cost:avg-duration-ms": "100"},
    )
    (scaled,) = scale_stack([fn], Fraction(2))
    assert scaled.properties["tags"]["cost:monthly-requests"] == "60000"
    assert "tags.cost:monthly-requests" in scaled.secret_paths
    result = what_if([fn], prices, scenarios=(Scenario(volume=D(60_000)),))
    assert result.edge.secret
    assert all(i.secret for i in result.rows[0].estimate.resources[0].line_items)


def test_edge_traffic_falls_back_to_lambdas_then_profiles():
    fn = make(LAMBDA, "fn", tags={"cost:monthly-requests": "5000"})
    profile = make(PROFILE, "model", tags={"cost:monthly-requests": "7000"})
    assert edge_traffic([fn, profile]).kind == "Lambda invocations"
    assert edge_traffic([fn, profile]).monthly_calls == D(5000)
    assert edge_traffic([profile]).sources == ("model",)
    assert edge_traffic([make(BUCKET, "b", tags={"cost:storage-gb": "1"})]) is None


def test_absolute_rows_need_declared_edge_traffic(prices):
    bucket = make(BUCKET, "b", tags={"cost:storage-gb": "100"})
    result = what_if([bucket], prices, scenarios=(*DEFAULT_SCENARIOS, Scenario(multiplier=D(2))))
    assert [s.volume for s in result.skipped] == sorted(SEED_ROWS)
    now, row = result.rows  # the multiplier still works: storage does not scale
    assert now.current and row.estimate.total_monthly_usd == now.estimate.total_monthly_usd == D(
        "2.3"
    )


def test_a_row_past_the_plausible_maximum_is_marked_incomplete(prices):
    fn = make(
        LAMBDA, "fn", tags={"cost:monthly-requests": "10000000000000", "cost:avg-duration-ms": "1"}
    )
    result = what_if([fn], prices, scenarios=parse_scenarios("1x,10x"))
    now, ten = result.rows
    assert now.complete and not ten.complete
    assert any(f.code == "usage-tag-out-of-range" for f in ten.estimate.all_findings)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2x,10x", (Scenario(multiplier=D(2)), Scenario(multiplier=D(10)))),
        ("100000, 1M", (Scenario(volume=D(100_000)), Scenario(volume=D(1_000_000)))),
        (
            "30k,1.5X,2b",
            (
                Scenario(volume=D(30_000)),
                Scenario(multiplier=D("1.5")),
                Scenario(volume=D(2_000_000_000)),
            ),
        ),
        ("none", ()),
    ],
)
def test_parse_scenarios(text, expected):
    assert parse_scenarios(text) == expected


@pytest.mark.parametrize(
    "text", ["2y", "-3x", "0", "1e6", "1,,2", "x2", "10 000", "99999999999999999"]
)
def test_bad_scenarios_are_one_line_errors(text):
    with pytest.raises(ScenarioError, match="--what-if"):
        parse_scenarios(text)


def test_what_if_reuses_the_base_estimate_for_the_current_row(seed_prices):
    base = estimate(seed_stack(), seed_prices)
    result = what_if(seed_stack(), seed_prices, scenarios=parse_scenarios("1x"), base=base)
    assert result.rows[0].estimate is base


def test_a_secret_edge_volume_is_not_shown_in_the_report(prices):
    from costline.estimator.priced import price_stack
    from costline.render.templates import render
    from costline.review.sections import review_report

    secret = {SIGNATURE_KEY: SECRET_SIGNATURE, "value": "12345"}
    fn = make(
        LAMBDA,
        "fn",
        memorySize=512,
        tags={"cost:daily-requests": secret, "cost:avg-duration-ms": "100"},
    )
    report = review_report(price_stack([fn], prices), scenarios=parse_scenarios("2x,1M"))
    assert report["what_if"]["edge"]["monthly_calls"] is None
    now, two, million = report["what_if"][
        "rows"
    ]  # in the order asked: sorting would hint at the volume
    assert now["current"] and now["volume"] is None and now["factor"] == D(1)
    assert two["volume"] is None and two["factor"] == D(2)
    assert (
        million["volume"] == D(1_000_000) and million["factor"] is None
    )  # 1M / secret would reveal it
    for fmt in ("markdown", "html", "json"):
        text = render(report, fmt)
        for figure in ("12345", "12,345", "370350", "370,350", "740700", "740,700"):
            assert figure not in text, (fmt, figure)


def test_rows_are_in_order_of_traffic_with_todays_row_added(seed_prices):
    result = what_if(seed_stack(), seed_prices, scenarios=parse_scenarios("2x,60k,10k"))
    assert [(row.volume, row.current) for row in result.rows] == [
        (D(10_000), False),
        (D(30_000), True),
        (D(60_000), False),
        (D(60_000), False),
    ]
    assert result.rows[1].estimate.total_monthly_usd == D(
        "38.605"
    )  # today's row is the base estimate
