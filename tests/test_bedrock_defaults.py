"""Bedrock's optional choices and figures are never taken in silence: an undeclared billing mode
(on-demand), image variant (standard) or prompt cache (none, on a model that caches) each has a
``default`` row in the report's assumptions; declared but unknown or invalid, the estimate is
incomplete, and fail-closed prices the dearer choice (on-demand; the dearest image variant).
Prompt-cache tokens declared on a Lambda flow to the inference profile it calls, like its other
per-request figures, instead of being lost.

By hand from pricing/us-east-1/bedrock.yaml:

* Claude Sonnet 4.5 (regional): input $3.30, cache read $0.33, output $16.50 per 1M. 1,000 req ×
  (100 in, 50 out) = 100,000 × $3.30/M + 50,000 × $16.50/M = $0.33 + $0.825 = $1.155; with 10,000
  cache-read tokens a request, 10M × $0.33/M = $3.30 more: $4.455.
* Titan Image Generator v2: 10,000 req × 2 images = 20,000 images × $0.01 (standard) = $200, or
  × $0.012 (premium, the dearest variant) = $240.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from costline.core.completeness import completeness
from costline.core.model import Resource
from costline.core.values import UNKNOWN_STRING
from costline.estimator.pipeline import EstimateOptions, estimate
from tests.conftest import LAMBDA, PROFILE, make

SONNET_45 = "anthropic.claude-sonnet-4-5-20250929-v1:0"
TITAN_IMAGE = "amazon.titan-image-generator-v2:0"
TOKENS = {"cost:monthly-requests": "1000", "cost:input-tokens": "100", "cost:output-tokens": "50"}
IMAGES = {"cost:monthly-requests": "10000", "cost:images-per-request": "2"}


def profile(model: str, **tags: str) -> Resource:
    return make(PROFILE, "model", tags={"cost:bedrock-model": model, **tags})


def rows(resource, key: str) -> list[tuple[str, str]]:
    return [(a.value, a.source.value) for a in resource.assumptions if a.key == key]


def priced(resources, prices, *, fail_closed: bool = False):
    est = estimate(resources, prices, EstimateOptions(fail_closed=fail_closed))
    return est, next(r for r in est.resources if r.name == "model")


def assert_fail_closed_at(resources, prices, usd: str, bound: str) -> None:
    """Fail-closed, ``model`` costs ``usd`` and is complete, with ``bound`` its one bound."""
    est, model = priced(resources, prices, fail_closed=True)
    assert model.monthly_usd == D(usd)
    assert completeness(est).complete
    assert completeness(est).bounded_summary() == (
        f"1 resource priced at worst-case bounds: model ({bound})"
    )


# --- cost:bedrock-mode --------------------------------------------------------------------------
def test_an_undeclared_mode_is_on_demand_and_said_so(prices):
    est, model = priced([profile(SONNET_45, **TOKENS)], prices)
    assert model.monthly_usd == D("1.155")
    assert rows(model, "cost:bedrock-mode") == [("on-demand", "default")]
    assert completeness(est).complete


def test_an_unknown_mode_is_a_gap_then_bounded_at_on_demand(prices):
    resources = [profile(SONNET_45, **TOKENS, **{"cost:bedrock-mode": UNKNOWN_STRING})]
    est, model = priced(resources, prices)
    assert model.monthly_usd == D("1.155")
    assert completeness(est).summary() == (
        "1 resource not fully priced: model (cost:bedrock-mode unknown)"
    )
    assert rows(model, "cost:bedrock-mode") == []
    assert_fail_closed_at(resources, prices, "1.155", "cost:bedrock-mode at its bound on-demand")


# --- prompt cache -------------------------------------------------------------------------------
def test_no_cache_tokens_on_a_caching_model_is_one_row(prices):
    _, model = priced([profile(SONNET_45, **TOKENS)], prices)
    assert rows(model, "prompt cache") == [("0 tokens/request", "default")]
    (detail,) = [a.detail for a in model.assumptions if a.key == "prompt cache"]
    assert detail == (
        "cost:cache-read-tokens, cost:cache-write-tokens, cost:cache-write-1h-tokens not "
        "declared: no cache reads or writes priced"
    )
    # declared: the figure is the row, no "none declared"
    _, cached = priced(
        [profile(SONNET_45, **TOKENS, **{"cost:cache-read-tokens": "10000"})], prices
    )
    assert cached.monthly_usd == D("4.455")
    assert rows(cached, "prompt cache") == []
    # a model with no cache prices bills cache tokens as input tokens: nothing is left out
    _, deepseek = priced([profile("deepseek.r1-v1:0", **TOKENS)], prices)
    assert rows(deepseek, "prompt cache") == []


def test_cache_tokens_declared_on_the_calling_lambda_reach_the_profile(prices):
    profile_urn = f"urn:pulumi:dev::p::{PROFILE}::model"
    model = Resource.from_engine(
        urn=profile_urn,
        type=PROFILE,
        name="model",
        properties={"modelSource": {"copyFrom": SONNET_45}},
    )
    fn = Resource.from_engine(
        urn=f"urn:pulumi:dev::p::{LAMBDA}::fn",
        type=LAMBDA,
        name="fn",
        properties={
            "environment": {"variables": {"MODEL": "arn"}},
            "tags": {**TOKENS, "cost:avg-duration-ms": "1", "cost:cache-read-tokens": "10000"},
        },
        property_dependencies={"environment": [profile_urn]},
        dependencies=[profile_urn],
    )
    est, priced_model = priced([fn, model], prices)
    assert priced_model.monthly_usd == D("4.455")
    assert rows(priced_model, "cost:cache-read-tokens") == [("10000", "derived")]
    assert completeness(est).complete


# --- cost:image-variant -------------------------------------------------------------------------
def test_an_undeclared_variant_is_standard_and_said_so(prices):
    est, model = priced([profile(TITAN_IMAGE, **IMAGES)], prices)
    assert model.monthly_usd == D("200")
    assert rows(model, "cost:image-variant") == [("standard", "default")]
    assert completeness(est).complete


@pytest.mark.parametrize(
    ("variant", "what"), [(UNKNOWN_STRING, "unknown"), ("huge", "invalid")], ids=["unknown", "bad"]
)
def test_an_unreadable_variant_is_a_gap_then_the_dearest_variant(prices, variant, what):
    resources = [profile(TITAN_IMAGE, **IMAGES, **{"cost:image-variant": variant})]
    est, model = priced(resources, prices)
    assert model.monthly_usd == 0
    assert completeness(est).summary() == (
        f"1 resource not fully priced: model (cost:image-variant {what})"
    )
    # one finding about the variant, not a second one about a made-up price id
    assert len([f for f in model.findings if f.field == "tags.cost:image-variant"]) == 1
    assert_fail_closed_at(resources, prices, "240", "cost:image-variant at its bound premium")


# --- cost:model-copies and cost:days-per-month on an imported model ----------------------------
def test_imported_model_copies_and_days_say_where_they_came_from(prices):
    """2 h/day × 60 min × 30 days = 3,600 min × 1 copy × 4 CMU × $0.0785 = $1,130.40, storage
    4 × $1.95 = $7.80: $1,138.20 (one copy and 30 days, each an assumption row)."""
    tags = {
        "cost:daily-requests": "5",
        "cost:imported-model": "my-model",
        "cost:active-hours-per-day": "2",
        "cost:cmu": "4",
    }
    est, model = priced([make(PROFILE, "model", tags=tags)], prices)
    assert model.monthly_usd == D("1138.20")
    assert rows(model, "cost:model-copies") == [("1", "default")]
    assert ("30", "default") in rows(model, "cost:days-per-month")
    assert completeness(est).complete
    unknown = {**tags, "cost:model-copies": UNKNOWN_STRING}
    est, model = priced([make(PROFILE, "model", tags=unknown)], prices)
    assert model.monthly_usd == D("1138.20")  # at one copy, the least: incomplete
    assert rows(model, "cost:model-copies") == [("1", "assumed")]
    assert completeness(est).summary() == (
        "1 resource not fully priced: model (cost:model-copies unknown)"
    )
