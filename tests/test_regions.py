"""Region switching: the same stack priced from each region's tables.

Worked example (tables ``pricing/<region>/s3.yaml`` and ``apigateway.yaml``): the seed stack's
bucket stores 40 GB with 100 PUT and 30,000 GET a month.

* us-east-1: 40 × $0.023 = $0.92 storage; 100 × $0.005/1k = $0.0005; 30,000 × $0.0004/1k = $0.012.
* eu-central-1: 40 × $0.0245 = $0.98; 100 × $0.0054/1k = $0.00054; 30,000 × $0.00043/1k = $0.0129.
* ap-northeast-1: 40 × $0.025 = $1.00; 100 × $0.0047/1k = $0.00047; 30,000 × $0.00037/1k = $0.0111.

The REST API takes 30,000 calls: $3.50/M in us-east-1 → $0.105; $3.70/M in eu-central-1 → $0.111.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from click.testing import CliRunner

from costline.cli.main import main
from costline.estimator.pipeline import estimate
from costline.pricing import available_regions, load_price_book
from costline.readers.region import AWS_PROVIDER_TYPE, detect_region
from tests.conftest import REPO, make, seed_stack

REGIONS = ["ap-northeast-1", "eu-central-1", "eu-west-1", "us-east-1", "us-west-2"]


def _line(result, name: str, price_id: str) -> Decimal:
    resource = next(r for r in result.resources if r.name == name)
    return next(item.monthly_usd for item in resource.line_items if item.price_id == price_id)


def test_every_region_has_tables_with_the_us_east_1_service_ids():
    assert available_regions() == REGIONS
    reference = load_price_book("us-east-1")
    for region in REGIONS:
        book = load_price_book(region)
        assert book.region == region and book.version == reference.version
        non_bedrock = {i for i in reference.entries if not i.startswith("bedrock.")}
        assert non_bedrock <= set(book.entries), region
        for entry in book.entries.values():
            assert entry.source and entry.as_of
            if region != "us-east-1":
                assert (
                    "verified_against" in entry.attributes or "verification" in entry.attributes
                ), entry.id


@pytest.mark.parametrize(
    ("region", "storage", "put", "get"),
    [
        ("us-east-1", "0.92", "0.0005", "0.012"),
        ("eu-central-1", "0.98", "0.00054", "0.0129"),
        ("ap-northeast-1", "1.00", "0.00047", "0.0111"),
    ],
)
def test_s3_prices_follow_the_region(region, storage, put, get):
    result = estimate(seed_stack(), load_price_book(region))
    assert _line(result, "artifacts", "s3.storage.standard") == Decimal(storage)
    assert _line(result, "artifacts", "s3.requests.put") == Decimal(put)
    assert _line(result, "artifacts", "s3.requests.get") == Decimal(get)


def test_provider_region_picks_the_table_and_rest_api_costs_more_in_frankfurt():
    provider = make(AWS_PROVIDER_TYPE, "default", region="eu-central-1")
    stack = [provider, *seed_stack()]
    region = detect_region(stack)
    assert region == "eu-central-1"
    frankfurt = estimate(stack, load_price_book(region))
    virginia = estimate(stack, load_price_book("us-east-1"))
    assert frankfurt.pricing.region == "eu-central-1"
    assert _line(virginia, "dev", "apigateway.rest.requests") == Decimal("0.105")
    assert _line(frankfurt, "dev", "apigateway.rest.requests") == Decimal("0.111")


def test_bedrock_model_not_in_a_region_is_reported():
    """DeepSeek-R1 (the seed's model) has no ap-northeast-1 entry: a finding names it and the
    region."""
    result = estimate(seed_stack(), load_price_book("ap-northeast-1"))
    missing = [
        f
        for f in result.all_findings
        if f.code == "bedrock-model-unknown" and "ap-northeast-1" in f.message
    ]
    assert any("deepseek.r1-v1:0" in f.message for f in missing)


def test_cli_region_override_prices_the_same_preview_differently():
    preview = REPO / "tests" / "fixtures" / "preview" / "reference-stack.preview.json"
    runner = CliRunner()
    reports = {}
    for region in ("us-east-1", "ap-northeast-1"):
        out = runner.invoke(
            main,
            ["estimate", "--from-preview", str(preview), "--region", region, "--format", "json"],
        )
        assert out.exit_code == 0, out.output
        reports[region] = json.loads(out.stdout)
    assert reports["ap-northeast-1"]["pricing_region"] == "ap-northeast-1"
    assert reports["us-east-1"]["pricing_region"] == "us-east-1"


def test_cli_unknown_region_is_an_exit_2_one_liner():
    preview = REPO / "tests" / "fixtures" / "preview" / "reference-stack.preview.json"
    out = CliRunner().invoke(
        main, ["estimate", "--from-preview", str(preview), "--region", "mars-north-1"]
    )
    assert out.exit_code == 2
    assert "available: ap-northeast-1, eu-central-1" in out.output


def test_prices_copied_from_another_region_are_flagged():
    from costline.estimator.pipeline import estimate
    from costline.pricing import load_price_book
    from tests.conftest import seed_stack

    tokyo = estimate(seed_stack(), load_price_book("ap-northeast-1"))
    (finding,) = [f for f in tokyo.findings if f.code == "prices-unverified"]
    assert "apigateway.rest.requests" in finding.message
    virginia = estimate(seed_stack(), load_price_book("us-east-1"))
    assert not [f for f in virginia.findings if f.code == "prices-unverified"]
