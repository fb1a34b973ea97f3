"""Worked examples on the reference stack, computed by hand from the price tables."""

from decimal import Decimal as D

import pytest

from costline.core.model import ResourceStatus
from costline.core.money import format_usd, round_cents
from costline.estimator.pipeline import EstimateOptions, estimate
from tests.conftest import BUCKET, LAMBDA, STAGE, make, seed_stack


def by_name(est):
    return {r.name: r for r in est.resources}


def test_seed_base_case_line_by_line(seed_prices):
    """The seed template under its own prices (pricing/overrides/seed-template.yaml).

    Lambda: 30,000 req × 1 s × 0.5 GB = 15,000 GB-s, inside the 400,000 GB-s free tier → $0.
    Bedrock: 30,000 × (500 × $0.50 + 500 × $2.00) / 1M = $7.50 + $30.00 = $37.50.
    API Gateway: 30,000 × $3.50 / 1M = $0.105 (shown $0.11).
    S3: the seed's flat "~$1" = 40 GB × $0.025 with free requests = $1.00.
    Total $38.605 → $38.61 (half-up).
    """
    est = estimate(seed_stack(), seed_prices)
    r = by_name(est)
    fn = r["api-handler"]
    duration = next(i for i in fn.line_items if i.price_id == "lambda.duration.x86_64")
    assert duration.quantity == D(15000)
    assert duration.free_quantity == D(15000)
    assert fn.monthly_usd == 0
    assert r["model"].monthly_usd == D("37.50")
    assert r["dev"].monthly_usd == D("0.105")
    assert r["api"].monthly_usd == 0  # its traffic is counted once, on the stage
    assert r["artifacts"].monthly_usd == D("1.00")
    assert est.total_monthly_usd == D("38.605")
    assert format_usd(est.total_monthly_usd) == "$38.61"
    assert est.by_service() == {
        "Lambda": D(0),
        "Bedrock": D("37.50"),
        "API Gateway": D("0.105"),
        "S3": D("1.000"),
    }


def test_reference_stack_at_list_prices(prices):
    """DeepSeek-R1 on-demand $1.35 / $5.40 per 1M: 15M × 1.35 + 15M × 5.40 = $20.25 + $81.00.
    S3: 40 GB × $0.023 + 30,000 GET × $0.0004/1k + 100 PUT × $0.005/1k = $0.9325."""
    est = estimate(seed_stack(), prices)
    r = by_name(est)
    assert r["model"].monthly_usd == D("101.25")
    assert r["artifacts"].monthly_usd == D("0.9325")
    assert r["dev"].monthly_usd == D("0.105")
    assert est.total_monthly_usd == D("102.2875")


def test_lambda_without_free_tier(prices):
    """30,000 × $0.20/1M = $0.006; 15,000 GB-s × $0.0000166667 = $0.2500005."""
    est = estimate(seed_stack(), prices, EstimateOptions(free_tier=False))
    assert by_name(est)["api-handler"].monthly_usd == D("0.006") + D("0.2500005")


def lambda_fn(**props):
    return make(LAMBDA, "fn", **props)


def test_arm64_uses_the_arm_price(prices):
    fn = lambda_fn(
        memorySize=1024,
        architectures=["arm64"],
        tags={"cost:monthly-requests": "1000000", "cost:avg-duration-ms": "1000"},
    )
    est = estimate([fn], prices, EstimateOptions(free_tier=False))
    (duration,) = [
        i for i in est.resources[0].line_items if i.price_id.startswith("lambda.duration")
    ]
    assert duration.price_id == "lambda.duration.arm64"
    assert duration.quantity == D(1_000_000)
    assert duration.monthly_usd == D(1_000_000) * D("0.0000133334")


def test_duration_is_billed_in_whole_milliseconds_rounded_up(prices):
    """1.2 ms bills as 2 ms: 1,000,000 × 0.002 s × 0.125 GB = 250 GB-s."""
    fn = lambda_fn(tags={"cost:monthly-requests": "1000000", "cost:avg-duration-ms": "1.2"})
    est = estimate([fn], prices, EstimateOptions(free_tier=False))
    (duration,) = [i for i in est.resources[0].line_items if i.price_id == "lambda.duration.x86_64"]
    assert duration.quantity == D(250)
    assert "rounded up from 1.2 ms" in duration.note


def test_absent_properties_take_aws_defaults(prices):
    """128 MB, 3 s timeout, x86_64: 1,000 req × 100 ms × 0.125 GB = 12.5 GB-s."""
    fn = lambda_fn(tags={"cost:monthly-requests": "1000", "cost:avg-duration-ms": "100"})
    est = estimate([fn], prices, EstimateOptions(free_tier=False))
    (duration,) = [
        i for i in est.resources[0].line_items if i.price_id.startswith("lambda.duration")
    ]
    assert duration.price_id == "lambda.duration.x86_64" and duration.quantity == D("12.5")
    defaults = {a.key: a.value for a in est.resources[0].assumptions if a.source.value == "default"}
    assert defaults == {
        "memorySize": "128",
        "timeout": "3",
        "architectures": "x86_64",
        "ephemeralStorage.size": "512",
        "cost:init-duration-ms": "0",  # not declared: no INIT time priced, and said so
    }


def test_lambda_x86_duration_tier_boundary(prices):
    """6,000,000,000 GB-s is the end of the first x86 band; the next 1,000 GB-s cost $0.000015
    each."""
    gb_seconds = D(6_000_001_000)
    requests = gb_seconds  # 1 s × 1 GB each
    fn = lambda_fn(
        memorySize=1024,
        timeout=900,
        tags={"cost:monthly-requests": str(requests), "cost:avg-duration-ms": "1000"},
    )
    est = estimate([fn], prices, EstimateOptions(free_tier=False))
    (duration,) = [i for i in est.resources[0].line_items if i.price_id == "lambda.duration.x86_64"]
    assert duration.monthly_usd == D(6_000_000_000) * D("0.0000166667") + D(1000) * D("0.000015")


def test_free_tier_is_applied_once_across_functions(prices):
    """Two functions of 300,000 GB-s each: 400,000 free in all, split 200,000 each."""
    tags = {"cost:monthly-requests": "300000", "cost:avg-duration-ms": "1000"}
    est = estimate(
        [
            make(LAMBDA, "a", memorySize=1024, tags=tags),
            make(LAMBDA, "b", memorySize=1024, architectures=["arm64"], tags=tags),
        ],
        prices,
    )
    frees = [
        i.free_quantity
        for r in est.resources
        for i in r.line_items
        if i.price_id.startswith("lambda.duration")
    ]
    assert frees == [D(200000), D(200000)]
    assert round_cents(est.total_monthly_usd) == round_cents(
        D(100000) * D("0.0000166667") + D(100000) * D("0.0000133334")
    )


def test_duration_longer_than_timeout_is_capped(prices):
    fn = lambda_fn(
        timeout=1, tags={"cost:monthly-requests": "1000", "cost:avg-duration-ms": "5000"}
    )
    est = estimate([fn], prices, EstimateOptions(free_tier=False))
    assert any(f.code == "usage-exceeds-timeout" for f in est.resources[0].findings)
    (duration,) = [
        i for i in est.resources[0].line_items if i.price_id.startswith("lambda.duration")
    ]
    assert duration.quantity == D(125)  # 1,000 × 1 s × 0.125 GB


@pytest.mark.parametrize("value", ["abc", "-5", "1e400", "", "NaN", "1,000"])
def test_malformed_traffic_is_a_finding_not_a_silent_zero(prices, value):
    est = estimate([lambda_fn(tags={"cost:monthly-requests": value})], prices)
    (r,) = est.resources
    assert r.status is ResourceStatus.USAGE_MISSING
    assert any(
        f.code == "usage-tag-malformed" and f.field == "tags.cost:monthly-requests"
        for f in r.findings
    )


def test_missing_tags_mark_the_resource_usage_missing(prices):
    est = estimate([make(BUCKET, "b")], prices)
    assert est.resources[0].status is ResourceStatus.USAGE_MISSING
    assert est.resources[0].findings[0].suggestion == "add the tag cost:storage-gb=40"


def test_unknown_bedrock_model_suggests_close_ids(prices):
    profile = make(
        "aws:bedrock/inferenceProfile:InferenceProfile",
        "m",
        tags={
            "cost:monthly-requests": "10",
            "cost:input-tokens": "1",
            "cost:output-tokens": "1",
            "cost:bedrock-model": "deepseek.r1-v2:0",
        },
    )
    (finding,) = [
        f
        for f in estimate([profile], prices).resources[0].findings
        if f.code == "bedrock-model-unknown"
    ]
    assert "deepseek.r1-v1:0" in finding.suggestion


def test_unpriced_type_is_counted_not_priced(prices):
    est = estimate([make("aws:ec2/instance:Instance", "vm")], prices)
    assert est.resources[0].status is ResourceStatus.NOT_PRICED
    assert est.total_monthly_usd == 0


def test_pricer_failure_becomes_a_finding(prices, monkeypatch):
    from costline.pricers import registry

    def broken(*_):
        raise RuntimeError("boom")

    monkeypatch.setitem(registry.PRICERS, LAMBDA, broken)
    est = estimate([lambda_fn()], prices)
    assert est.resources[0].findings[-1].code == "internal-error"


def test_a_charge_without_a_price_entry_is_a_finding_and_the_rest_is_still_priced(prices):
    """A price book without ``lambda.requests`` (e.g. a region's tables that lack it): the Lambda's
    duration is still billed; its requests are named in a price-missing error, not priced at $0."""
    from dataclasses import replace

    book = replace(
        prices, entries={k: v for k, v in prices.entries.items() if k != "lambda.requests"}
    )
    fn = make(
        LAMBDA,
        "worker",
        memorySize=1024,
        tags={"cost:monthly-requests": "10000000", "cost:avg-duration-ms": "200"},
    )
    resource = estimate([fn], book).resources[0]
    assert [i.price_id for i in resource.line_items] == ["lambda.duration.x86_64"]
    assert resource.monthly_usd > 0
    missing = [f for f in resource.findings if f.code == "price-missing"]
    assert (
        len(missing) == 1
        and "'lambda.requests'" in missing[0].message
        and "requests" in missing[0].message
    )
    assert resource.status is ResourceStatus.PARTIAL


def test_traffic_pass_failure_becomes_a_finding(prices, monkeypatch):
    """A bug in the traffic pre-pass must not make the estimate raise: the resources' own tags
    are still priced, and a stack finding says that flowed usage is missing."""
    from costline.estimator import pipeline as estimator
    from costline.testing.stacks import services_stack

    def broken(*_):
        raise KeyError("urn")

    monkeypatch.setattr(estimator, "derive_usage", broken)
    est = estimate(services_stack(2 + 15), prices)
    assert next(f.code for f in est.findings) == "internal-error"
    assert "traffic" in est.findings[0].message
    stage = next(r for r in est.resources if r.type == STAGE)
    handler = next(r for r in est.resources if r.type == LAMBDA)
    assert stage.monthly_usd > 0  # its own cost:daily-requests tag
    assert handler.status is ResourceStatus.USAGE_MISSING  # its requests would have flowed in


def test_component_resources_are_free_not_unpriced(prices):
    from costline.core.model import Resource

    component = Resource(
        urn="urn:pulumi:dev::p::my:app:Service::svc",
        type="my:app:Service",
        name="svc",
        custom=False,
    )
    assert estimate([component], prices).resources[0].status is ResourceStatus.FREE
