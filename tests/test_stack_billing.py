"""Worked examples for Lambda provisioned concurrency, HTTP and WebSocket APIs and S3 transfer,
computed by hand from pricing/us-east-1/{lambda,apigateway,s3}.yaml, with tier boundaries."""

from decimal import Decimal as D

import pytest

from costline.core.model import Resource
from costline.estimator.pipeline import EstimateOptions, estimate
from tests.conftest import BUCKET, LAMBDA, make

V2_API = "aws:apigatewayv2/api:Api"
PC = "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig"


def only(est):
    (resource,) = est.resources
    return resource


def test_provisioned_concurrency_uses_the_functions_memory_and_architecture(prices):
    """5 × 2 GB (2,048 MB, arm64) × 730 h × 3,600 s = 26,280,000 GB-s × $0.0000033334 = $87.601752.
    With cost:active-hours-per-day=10: 5 × 2 × 300 h × 3,600 = 10,800,000 GB-s → $36.00072."""
    fn_urn = "urn:pulumi:dev::p::aws:lambda/function:Function::fn"
    fn = make(LAMBDA, "fn", urn=fn_urn, memorySize=2048, architectures=["arm64"])

    def config(**tags):
        return Resource.from_engine(
            urn="urn:pulumi:dev::p::" + PC + "::pc",
            type=PC,
            name="pc",
            properties={"provisionedConcurrentExecutions": 5, "tags": tags},
            property_dependencies={"functionName": [fn_urn]},
        )

    est = {r.name: r for r in estimate([fn, config()], prices).resources}
    (item,) = est["pc"].line_items
    assert item.price_id == "lambda.provisioned_concurrency.arm64" and item.quantity == D(
        26_280_000
    )
    assert est["pc"].monthly_usd == D("87.601752")
    est = {
        r.name: r
        for r in estimate([fn, config(**{"cost:active-hours-per-day": "10"})], prices).resources
    }
    assert est["pc"].monthly_usd == D("36.00072")


@pytest.mark.parametrize(("size_kb", "units"), [(None, 1), ("512", 1), ("513", 2), ("1100", 3)])
def test_http_api_requests_are_metered_in_512_kb_increments(prices, size_kb, units):
    """1M requests × ceil(size / 512 KB) × $1.00/M (first 300M)."""
    tags = {"cost:monthly-requests": "1000000"}
    if size_kb:
        tags["cost:avg-request-kb"] = size_kb
    r = only(estimate([make(V2_API, "http", protocolType="HTTP", tags=tags)], prices))
    assert r.monthly_usd == D(units)


def test_http_api_tier_boundary(prices):
    """300M at $1.00/M = $300, the next 1M at $0.90/M: 301M requests cost $300.90."""
    r = only(estimate([make(V2_API, "http", tags={"cost:monthly-requests": "301000000"})], prices))
    assert r.monthly_usd == D("300.90")


def test_websocket_messages_and_connection_minutes(prices):
    """2M messages of 40 KB = 2 increments of 32 KB → 4M billed × $1.00/M = $4.00;
    10M connection minutes × $0.25/M = $2.50. Over 1B messages: $0.80/M."""
    tags = {
        "cost:monthly-messages": "2000000",
        "cost:avg-request-kb": "40",
        "cost:monthly-connection-minutes": "10000000",
    }
    r = only(estimate([make(V2_API, "ws", protocolType="WEBSOCKET", tags=tags)], prices))
    assert r.monthly_usd == D("6.50")
    r = only(
        estimate(
            [
                make(
                    V2_API,
                    "ws",
                    protocolType="WEBSOCKET",
                    tags={
                        "cost:monthly-messages": "1001000000",
                        "cost:monthly-connection-minutes": "0",
                    },
                )
            ],
            prices,
        )
    )
    assert r.monthly_usd == D(1000) + D("0.80")


def test_s3_data_transfer_out_with_the_free_100_gb(prices):
    """500 GB out: 100 GB free, 400 × $0.09 = $36.00; without the free tier 500 × $0.09 = $45.00.
    Tier boundary: 10,340 GB = 100 free + 10,240 at $0.09 ($921.60), nothing above 10 TB."""

    def bucket(gb):
        return make(BUCKET, "b", tags={"cost:storage-gb": "0", "cost:monthly-transfer-out-gb": gb})

    assert only(estimate([bucket("500")], prices)).monthly_usd == D("36.00")
    assert only(
        estimate([bucket("500")], prices, EstimateOptions(free_tier=False))
    ).monthly_usd == D("45.00")
    assert only(estimate([bucket("10340")], prices)).monthly_usd == D("921.60")
    assert only(estimate([bucket("10341")], prices)).monthly_usd == D("921.60") + D("0.085")


def test_stale_price_tables_are_a_finding(prices):
    """The us-east-1 tables' oldest entry is prices.as_of; one day past the limit warns."""
    import datetime as dt

    as_of = dt.date.fromisoformat(prices.as_of)
    fresh = estimate(
        [], prices, EstimateOptions(max_price_age_days=90, today=as_of + dt.timedelta(days=90))
    )
    assert fresh.findings == ()
    stale = estimate(
        [], prices, EstimateOptions(max_price_age_days=90, today=as_of + dt.timedelta(days=91))
    )
    (finding,) = stale.findings
    assert finding.code == "prices-stale" and "91 days ago" in finding.message
    assert estimate([], prices).findings == ()  # off unless asked for
