"""Worked examples for every Bedrock billing mode, computed by hand from
pricing/us-east-1/bedrock.yaml."""

from dataclasses import replace
from decimal import Decimal as D

import pytest

from costline.estimator.pipeline import estimate
from costline.pricers.bedrock_imported import estimated_cmus, model_size
from tests.conftest import LAMBDA, PROFILE, make, seed_stack

PROVISIONED = "aws:bedrock/provisionedModelThroughput:ProvisionedModelThroughput"
CUSTOM_MODEL = "aws:bedrock/customModel:CustomModel"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"


def profile(model, **tags):
    return make(PROFILE, "model", tags={"cost:bedrock-model": model, **tags})


def only(est):
    (resource,) = est.resources
    return resource


def codes(resource):
    return {f.code for f in resource.findings}


def test_batch_inference_is_priced_at_the_batch_entries(prices):
    """Claude 3 Haiku batch $0.125 / $0.625 per 1M (on-demand $0.25 / $1.25).
    1,000,000 req × 1,000 input = 1B tokens × $0.125/M = $125; × 200 output = 200M × $0.625/M =
    $125.
    Batch $250 against $500 on-demand."""
    tags = {
        "cost:monthly-requests": "1000000",
        "cost:input-tokens": "1000",
        "cost:output-tokens": "200",
    }
    batch = only(estimate([profile(HAIKU, **tags, **{"cost:bedrock-mode": "batch"})], prices))
    assert {i.price_id for i in batch.line_items} == {
        f"bedrock.batch.{HAIKU}.input_tokens",
        f"bedrock.batch.{HAIKU}.output_tokens",
    }
    assert batch.monthly_usd == D(250)
    assert only(estimate([profile(HAIKU, **tags)], prices)).monthly_usd == D(500)


def test_batch_without_a_batch_price_is_a_finding_and_priced_on_demand(prices):
    """Claude 3.5 Haiku has no batch entry: 1,000 req × 1,000 × $0.80/M + 1,000 × 1,000 × $4.00/M
    = $4.80."""
    model = "anthropic.claude-3-5-haiku-20241022-v1:0"
    r = only(
        estimate(
            [
                profile(
                    model,
                    **{
                        "cost:monthly-requests": "1000",
                        "cost:input-tokens": "1000",
                        "cost:output-tokens": "1000",
                        "cost:bedrock-mode": "batch",
                    },
                )
            ],
            prices,
        )
    )
    assert "bedrock-batch-unavailable" in codes(r)
    assert r.monthly_usd == D("4.80")


def test_unknown_mode_is_malformed(prices):
    r = only(
        estimate(
            [
                profile(
                    HAIKU,
                    **{
                        "cost:monthly-requests": "1",
                        "cost:input-tokens": "1",
                        "cost:output-tokens": "1",
                        "cost:bedrock-mode": "cheap",
                    },
                )
            ],
            prices,
        )
    )
    assert any(
        f.code == "usage-tag-malformed" and f.field == "tags.cost:bedrock-mode" for f in r.findings
    )


def test_embeddings_are_priced_per_input_token_only(prices):
    """Titan Text Embeddings v2 $0.02 per 1M: 100,000 req × 2,000 tokens = 200M × $0.02/M =
    $4.00."""
    r = only(
        estimate(
            [
                profile(
                    "amazon.titan-embed-text-v2:0",
                    **{"cost:monthly-requests": "100000", "cost:input-tokens": "2000"},
                )
            ],
            prices,
        )
    )
    assert r.monthly_usd == D("4.00")
    assert not r.findings


@pytest.mark.parametrize(
    ("variant", "expected"), [(None, D("200")), ("premium", D("240")), ("small", D("160"))]
)
def test_image_models_are_priced_per_image(prices, variant, expected):
    """Titan Image Generator v2: 10,000 req × 2 images = 20,000 images × $0.01 (standard),
    $0.012 (premium) or $0.008 (512x512 or smaller)."""
    tags = {"cost:monthly-requests": "10000", "cost:images-per-request": "2"}
    if variant:
        tags["cost:image-variant"] = variant
    r = only(estimate([profile("amazon.titan-image-generator-v2:0", **tags)], prices))
    assert r.monthly_usd == expected


def test_unpriced_image_variant_lists_the_priced_ones(prices):
    r = only(
        estimate(
            [
                profile(
                    "amazon.titan-image-generator-v2:0",
                    **{
                        "cost:monthly-requests": "1",
                        "cost:images-per-request": "1",
                        "cost:image-variant": "huge",
                    },
                )
            ],
            prices,
        )
    )
    (finding,) = [f for f in r.findings if f.field == "tags.cost:image-variant"]
    assert "premium" in finding.suggestion and r.monthly_usd == 0


def test_provisioned_throughput_by_commitment_with_break_even(prices):
    """Titan Text Express, 2 model units, 1-month commitment: 2 × 730 h × $18.40 = $26,864.00.
    Break-even against on-demand ($0.20 / $0.60 per 1M): 26,864 / 0.20 = 134,320M input tokens,
    or 26,864 / 0.60 = 44,773.3M output tokens a month. No commitment: 730 × $20.50 = $14,965."""
    arn = "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-express-v1:0:8k"
    r = only(
        estimate(
            [make(PROVISIONED, "pt", modelArn=arn, modelUnits=2, commitmentDuration="OneMonth")],
            prices,
        )
    )
    (item,) = r.line_items
    assert item.price_id == "bedrock.provisioned.amazon.titan-text-express-v1.one_month"
    assert item.quantity == D(1460) and r.monthly_usd == D("26864.00")
    assert "134,320M input tokens" in item.note and "44,773M output tokens" in item.note
    r = only(estimate([make(PROVISIONED, "pt", modelArn=arn, modelUnits=1)], prices))
    assert r.monthly_usd == D("14965.00")


def test_provisioned_throughput_without_a_price_is_a_finding(prices):
    r = only(
        estimate(
            [
                make(
                    PROVISIONED,
                    "pt",
                    modelArn="anthropic.claude-3-haiku-20240307-v1:0",
                    modelUnits=1,
                    commitmentDuration="SixMonths",
                )
            ],
            prices,
        )
    )
    assert "bedrock-model-unknown" in codes(r) and r.monthly_usd == 0


def test_model_customization_training_and_storage(prices):
    """Titan Text Lite: 10M training tokens × 3 epochs = 30M × $0.40/M = $12.00, plus $1.95
    storage."""
    r = only(
        estimate(
            [
                make(
                    CUSTOM_MODEL,
                    "ft",
                    baseModelIdentifier="amazon.titan-text-lite-v1",
                    hyperparameters={"epochCount": "3"},
                    tags={"cost:training-tokens": "10000000"},
                )
            ],
            prices,
        )
    )
    assert r.monthly_usd == D("13.95")


def test_model_customization_with_bad_epochs_is_a_finding(prices):
    r = only(
        estimate(
            [
                make(
                    CUSTOM_MODEL,
                    "ft",
                    baseModelIdentifier="amazon.titan-text-lite-v1",
                    hyperparameters={"epochCount": "many"},
                    tags={"cost:training-tokens": "1000000"},
                )
            ],
            prices,
        )
    )
    assert "property-invalid" in codes(r)
    assert r.monthly_usd == D("0.40") + D("1.95")


# --- Custom Model Import ---------------------------------------------------------------------


def imported_seed_stack():
    """The seed scenario as the seed describes it: an imported DeepSeek-R1-Distill-Llama-70B,
    with the seed's per-token assumption still declared (cost:bedrock-model + tokens)."""
    stack = []
    for seed in seed_stack():
        r = seed
        if r.name in ("model", "api-handler"):
            r = replace(
                seed,
                properties={
                    **r.properties,
                    "tags": {
                        **r.properties["tags"],
                        "cost:imported-model": "deepseek-r1-distill-llama-70b",
                    },
                },
            )
        stack.append(r)
    return stack


def test_imported_model_on_the_seed_scenario(seed_prices):
    """1,000 calls/day over 8 working hours: a call every 0.48 min, closer than the 5-minute
    window, so the copy is active the whole 480 min/day × 30 days = 14,400 min.
    70B Llama architecture → 8 CMU (table examples): 8 × 14,400 = 115,200 CMU-min × $0.0785 =
    $9,043.20, plus storage 8 CMU × $1.95 = $15.60 → $9,058.80 against the seed's per-token
    $37.50."""
    est = estimate(imported_seed_stack(), seed_prices)
    r = {x.name: x for x in est.resources}
    assert r["model"].monthly_usd == D("9058.80")
    (finding,) = [f for f in r["model"].findings if f.code == "bedrock-imported-per-token"]
    assert "$37.50" in finding.message and "$9,058.80" in finding.message
    assert r["api-handler"].monthly_usd == 0  # its copy of the usage is counted on the profile
    assert est.total_monthly_usd == D("9058.80") + D("0.105") + D("1.00")


@pytest.mark.parametrize(
    ("daily", "minutes_per_day"), [("30", 150), ("96", 480), ("97", 480), ("1000", 480)]
)
def test_active_minutes_fill_the_working_day_at_one_call_per_window(prices, daily, minutes_per_day):
    """Calls spread over 8 h (480 min): each opens a 5-minute window until windows touch
    (96 calls × 5 = 480 min), then the copy stays up all day. × 30 days × 8 CMU × $0.0785 +
    $15.60."""
    r = only(
        estimate(
            [
                make(
                    PROFILE,
                    "m",
                    tags={
                        "cost:daily-requests": daily,
                        "cost:imported-model": "deepseek-r1-distill-llama-70b",
                    },
                )
            ],
            prices,
        )
    )
    assert r.monthly_usd == D(minutes_per_day) * 30 * 8 * D("0.0785") + D("15.60")
    assert "bedrock-imported-per-token" not in codes(r)


def test_active_hours_cmu_and_copies_tags(prices):
    """2 h/day × 60 × 30 = 3,600 min × 2 copies × 4 CMU (cost:cmu) × $0.0785 = $2,260.80; storage
    4 × $1.95."""
    r = only(
        estimate(
            [
                make(
                    PROFILE,
                    "m",
                    tags={
                        "cost:daily-requests": "5",
                        "cost:imported-model": "my-model",
                        "cost:active-hours-per-day": "2",
                        "cost:cmu": "4",
                        "cost:model-copies": "2",
                    },
                )
            ],
            prices,
        )
    )
    assert r.monthly_usd == D("2260.80") + D("7.80")


def test_imported_model_of_unknown_size_asks_for_cmu(prices):
    r = only(
        estimate(
            [
                make(
                    PROFILE,
                    "m",
                    tags={"cost:daily-requests": "5", "cost:imported-model": "my-model"},
                )
            ],
            prices,
        )
    )
    assert any(f.field == "tags.cost:cmu" for f in r.findings) and r.monthly_usd == 0


@pytest.mark.parametrize(
    ("name", "family", "size", "cmus"),
    [
        ("deepseek-r1-distill-llama-70b", "llama", D(70), D(8)),
        ("deepseek-r1-distill-llama-8b", "llama", D(8), D(2)),
        ("my-llama-3b", "llama", D(3), D(2)),
        ("mixtral-8x7b", "mixtral", D(56), D(4)),
        ("qwen-7b", "qwen", D(7), None),
    ],
)
def test_cmus_from_architecture_and_size(prices, name, family, size, cmus):
    examples = prices.entries["bedrock.custom_model_import.cmu_minute"].attributes[
        "cmus_per_copy_examples"
    ]
    assert model_size(name) == (family, size)
    assert estimated_cmus(name, examples) == cmus


def test_imported_model_on_the_lambda_flows_to_its_profile(prices):
    """Declared on the Lambda only; the profile it calls (environment) prices it."""
    from costline.core.model import Resource

    profile_urn = "urn:pulumi:dev::p::aws:bedrock/inferenceProfile:InferenceProfile::m"
    fn = Resource.from_engine(
        urn="urn:pulumi:dev::p::aws:lambda/function:Function::fn",
        type=LAMBDA,
        name="fn",
        properties={
            "tags": {
                "cost:daily-requests": "1000",
                "cost:avg-duration-ms": "10",
                "cost:imported-model": "deepseek-r1-distill-llama-70b",
            }
        },
        property_dependencies={"environment": [profile_urn]},
    )
    est = estimate([fn, make(PROFILE, "m", urn=profile_urn)], prices)
    r = {x.name: x for x in est.resources}
    assert r["m"].monthly_usd == D("9058.80")


SONNET_45 = "anthropic.claude-sonnet-4-5-20250929-v1:0"


def _lines(resource):
    return {i.price_id: i.monthly_usd for i in resource.line_items}


def test_global_profile_is_priced_at_the_global_price_geo_at_the_regional(prices):
    """Sonnet 4.5: global. $3.00 / $15.00 per 1M, regional and us. $3.30 / $16.50.
    10,000 req × 1,000 in = 10M × $3.00 = $30.00; × 100 out = 1M × $15.00 = $15.00 → $45.00;
    at the regional price 10M × $3.30 = $33.00 + 1M × $16.50 = $16.50 → $49.50 (10% more)."""
    tags = {
        "cost:monthly-requests": "10000",
        "cost:input-tokens": "1000",
        "cost:output-tokens": "100",
    }
    global_ = only(estimate([profile(f"global.{SONNET_45}", **tags)], prices))
    assert _lines(global_) == {
        f"bedrock.global.{SONNET_45}.input_tokens": D("30.00"),
        f"bedrock.global.{SONNET_45}.output_tokens": D("15.00"),
    }
    for model in (f"us.{SONNET_45}", SONNET_45):
        assert only(estimate([profile(model, **tags)], prices)).monthly_usd == D("49.50")
    arn = f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/global.{SONNET_45}"
    assert only(estimate([profile(arn, **tags)], prices)).monthly_usd == D("45.00")


def test_global_prefix_without_a_global_price_pays_the_regional_price(prices):
    """DeepSeek-R1 has no bedrock.global entry: 1,000 req × 1,000 in × $1.35/M = $1.35."""
    tags = {"cost:monthly-requests": "1000", "cost:input-tokens": "1000", "cost:output-tokens": "0"}
    r = only(estimate([profile("global.deepseek.r1-v1:0", **tags)], prices))
    assert r.monthly_usd == D("1.35")
    assert "bedrock.on_demand.deepseek.r1-v1:0.input_tokens" in _lines(r)


def test_prompt_cache_reads_and_writes_per_request(prices):
    """Sonnet 4.5 regional: input $3.30, cache read $0.33 (0.1×), 5-minute write $4.125 (1.25×),
    1-hour write $6.60 (2×) per 1M. 1,000 req × (100 in, 10,000 read, 2,000 write, 1,000 1h write,
    50 out): 100k × 3.30 = $0.33; 10M × 0.33 = $3.30; 2M × 4.125 = $8.25; 1M × 6.60 = $6.60;
    50k × 16.50 = $0.825 → $19.305."""
    tags = {
        "cost:monthly-requests": "1000",
        "cost:input-tokens": "100",
        "cost:cache-read-tokens": "10000",
        "cost:cache-write-tokens": "2000",
        "cost:cache-write-1h-tokens": "1000",
        "cost:output-tokens": "50",
    }
    r = only(estimate([profile(SONNET_45, **tags)], prices))
    base = f"bedrock.on_demand.{SONNET_45}"
    assert _lines(r) == {
        f"{base}.input_tokens": D("0.33"),
        f"{base}.cache_read_tokens": D("3.30"),
        f"{base}.cache_write_tokens": D("8.25"),
        f"{base}.cache_write_1h_tokens": D("6.60"),
        f"{base}.output_tokens": D("0.825"),
    }
    assert r.monthly_usd == D("19.305")
    # through the global profile: read $0.30, write $3.75 per 1M
    g = only(estimate([profile(f"global.{SONNET_45}", **tags)], prices))
    assert _lines(g)[f"bedrock.global.{SONNET_45}.cache_read_tokens"] == D("3.00")
    assert _lines(g)[f"bedrock.global.{SONNET_45}.cache_write_tokens"] == D("7.50")


def test_cache_tokens_of_a_model_without_cache_prices_are_input_tokens(prices):
    """DeepSeek-R1 lists no cache price: 1,000 req × 1,000 cache-read tokens at the input
    price $1.35/M = $1.35, with a finding."""
    tags = {
        "cost:monthly-requests": "1000",
        "cost:input-tokens": "0",
        "cost:output-tokens": "0",
        "cost:cache-read-tokens": "1000",
    }
    r = only(estimate([profile("deepseek.r1-v1:0", **tags)], prices))
    assert r.monthly_usd == D("1.35")
    assert "bedrock-cache-unpriced" in codes(r)


@pytest.mark.parametrize(
    ("input_tokens", "cache_read", "expected"),
    [
        # 200,000 input tokens is not above 200K: $3.30/M → 100 × 200k × 3.30/M = $66.00 (+ out)
        ("200000", "0", D("66.00") + D("1.65")),
        # 200,001: every token at the long-context $6.60 / $24.75 per 1M
        ("200001", "0", D("132.00066") + D("2.475")),
        # 150,000 + 60,000 cache reads = 210,000 input: long context, reads at $0.66/M
        ("150000", "60000", D("99.00") + D("3.96") + D("2.475")),
    ],
)
def test_long_context_requests_pay_the_long_context_price(
    prices, input_tokens, cache_read, expected
):
    """Sonnet 4.5 regional: above 200K input tokens per request, input $6.60, output $24.75,
    cache read $0.66 per 1M (standard $3.30 / $16.50 / $0.33). 100 requests, 1,000 output tokens:
    100k out × $16.50/M = $1.65, or × $24.75/M = $2.475."""
    tags = {
        "cost:monthly-requests": "100",
        "cost:input-tokens": input_tokens,
        "cost:output-tokens": "1000",
    }
    if cache_read != "0":
        tags["cost:cache-read-tokens"] = cache_read
    assert only(estimate([profile(SONNET_45, **tags)], prices)).monthly_usd == expected


@pytest.mark.parametrize(
    ("hours", "billed_minutes"), [("1", 60), ("1.01", 65), ("0.0001", 5), ("1.0833", 65)]
)
def test_imported_model_active_time_is_billed_in_whole_5_minute_windows(
    prices, hours, billed_minutes
):
    """Each day's active period is rounded up to whole 5-minute windows: 1.01 h = 60.6 min → 65;
    0.36 s → 5. 30 days × billed minutes × 2 CMU × $0.0785 + storage 2 × $1.95 = $3.90."""
    tags = {
        "cost:daily-requests": "5",
        "cost:imported-model": "my-model",
        "cost:active-hours-per-day": hours,
        "cost:cmu": "2",
    }
    r = only(estimate([make(PROFILE, "m", tags=tags)], prices))
    assert r.monthly_usd == D(30 * billed_minutes * 2) * D("0.0785") + D("3.90")
