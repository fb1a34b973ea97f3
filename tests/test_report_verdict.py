"""The verdict every format opens with (total, change and its direction, budget, completeness),
and type tokens shortened as ``pulumi preview`` prints them."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from costline.core.type_names import short_type
from costline.estimator.pipeline import estimate
from costline.readers import auto_detect
from costline.render.templates import render
from costline.render.verdict import verdict
from costline.review.budget import BudgetLimits
from costline.review.report import build_report
from costline.review.sections import Baseline
from tests.report_checks import tables
from tests.test_report_templates import PREVIEW, review, unpriced_stack


@pytest.mark.parametrize(
    ("token", "shown"),
    [
        ("aws:lambda/function:Function", "aws:lambda:Function"),
        ("aws:bedrock/inferenceProfile:InferenceProfile", "aws:bedrock:InferenceProfile"),
        ("aws:apigateway/restApi:RestApi", "aws:apigateway:RestApi"),
        ("aws:s3/bucketV2:BucketV2", "aws:s3:BucketV2"),
        # the module's last part is not the type's name in camelCase: kept whole
        ("aws:s3/bucketPolicy:Policy", "aws:s3/bucketPolicy:Policy"),
        ("aws:lambda/func:Function", "aws:lambda/func:Function"),
        ("aws:lambda/function:function", "aws:lambda:function"),  # camelCase of a lower name
        ("pulumi:pulumi:Stack", "pulumi:pulumi:Stack"),
        ("pulumi:providers:aws", "pulumi:providers:aws"),
        ("not-a-token", "not-a-token"),
        ("a:b/c:", "a:b/c:"),
        ("a:b:c:d", "a:b:c:d"),
    ],
)
def test_short_type_follows_pulumi_display(token, shown):
    assert short_type(token) == shown


def _report(total, *, base_total=None, statuses=("priced",), **extra):
    report = {
        "total_monthly_usd": D(total),
        "resources": [{"name": f"r{i}", "status": st} for i, st in enumerate(statuses)],
        "baseline": None
        if base_total is None
        else {"delta_usd": D(total) - D(base_total), "delta_percent": None},
        "budget": None,
        **extra,
    }
    return report


def test_direction_is_read_in_whole_cents_on_both_sides_of_zero():
    assert verdict(_report("10.00", base_total="9.99"))["direction"] == "up"
    assert verdict(_report("9.99", base_total="10.00"))["direction"] == "down"
    assert verdict(_report("10.004", base_total="10.00"))["direction"] == "none"  # rounds to $0.00
    assert verdict(_report("10.005", base_total="10.00"))["direction"] == "up"  # half-up: $0.01
    assert verdict(_report("10.00"))["direction"] == "none"
    assert verdict(_report("10.00"))["delta_usd"] is None


def test_completeness_from_statuses_or_from_the_report():
    assert verdict(_report("1", statuses=("priced", "free")))["complete"] is True
    for status in ("partial", "usage_missing", "not_priced"):
        v = verdict(_report("1", statuses=("priced", status)))
        assert v["complete"] is False and v["incomplete"] == ["r1"], status
    # fields set by the report model win over the statuses
    v = verdict(_report("1", complete=False, incomplete=[{"name": "lambda-x", "urn": "u"}]))
    assert v["complete"] is False and v["incomplete"] == ["lambda-x"]
    assert verdict(_report("1", statuses=("not_priced",), complete=True))["complete"] is True


def test_html_opens_with_the_verdict_block(seed_prices, prices):
    resources = auto_detect(PREVIEW)
    baseline = Baseline(build_report(estimate(resources, seed_prices)), "baseline.json", "report")
    report = review(resources, prices, baseline=baseline, limits=BudgetLimits(D(50)))
    page = render(report, "html")
    header = page.split("<header")[1].split("</header>")[0]
    assert page.index("<header") < page.index("<h2")  # before every section
    # $102.29 now against $38.61 at the seed's prices: +$63.68, 63.68 / 38.61 = +164.9% → +165%
    assert '<span class="amount">$102.29<small>/month</small></span>' in header
    assert '<span class="delta up">▲ +$63.68 (+165%) <small>vs baseline $38.61</small>' in header
    assert "over the limit: over budget $50.00 by $52.29" in header
    assert '<span class="complete">all costs known</span>' in header


def test_html_incomplete_verdict_names_the_resources(prices):
    page = render(review(unpriced_stack(), prices), "html")
    header = page.split("<header")[1].split("</header>")[0]
    assert '<span class="complete no">incomplete: the total is a lower bound</span>' in header
    assert (
        "Not fully known: fleet (aws:gamelift/fleet:Fleet not priced by costline), "
        "thing (aws:iot/thing:Thing not priced by costline) (see the findings)." in header
    )


def test_html_breakdown_groups_line_items_under_their_resource(prices):
    page = render(review(auto_detect(PREVIEW), prices), "html")
    assert (
        '<code title="aws:bedrock/inferenceProfile:InferenceProfile">'
        "aws:bedrock:InferenceProfile</code>" in page
    )
    breakdown = next(t for t in tables(page) if t[0][0] == "Item")
    groups = [row for row in breakdown if row[1:3] == ["", ""]]  # name + type span 3 columns
    # each group row carries its resource's subtotal: $20.25 + $81.00 list-price tokens for the
    # model; $0.01 + $0.00 + $0.92 for S3; $0.11 for 30,000 REST requests; Lambda in free tier
    assert [(row[0], row[3]) for row in groups] == [
        ("modelaws:bedrock:InferenceProfile", "$101.25"),
        ("artifactsaws:s3:Bucket", "$0.93"),
        ("devaws:apigateway:Stage", "$0.11"),
        ("api-handleraws:lambda:Function", "$0.00"),
    ]
