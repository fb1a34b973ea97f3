"""The shipped price tables, the loader's validation, and the seed override.

Bad-file cases build a small valid region in ``tmp_path``, break one thing, and check that
the PricingError names the file, the entry and the field.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from decimal import Decimal as D
from pathlib import Path

import pytest
import yaml

import costline.pricing as pricing
from costline.core import paths as resources_path
from costline.pricing import PricingError, Tier, available_regions, load_price_book
from costline.pricing.loader import clear_cache
from costline.pricing.yaml_decimal import parse_decimal_yaml
from tests.conftest import run_python

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "pricing" / "overrides" / "seed-template.yaml"
REGION = "us-east-1"


@pytest.fixture(autouse=True)
def fresh_validation(tmp_path, monkeypatch):
    """Every test validates against the schema for real: empty stamp cache, no cached books."""
    monkeypatch.setenv("COSTLINE_CACHE_DIR", str(tmp_path / "costline-cache"))
    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def book():
    return load_price_book(REGION)


# --- the shipped tables ------------------------------------------------------------------------


def test_shipped_tables_load_validate_and_name_their_version(book):
    assert (book.version, book.region, book.currency) == ("2026.12.0", REGION, "USD")
    assert book.overrides == ()
    assert book.as_of == min(e.as_of for e in [*book.entries.values(), *book.free_tiers.values()])
    assert REGION in available_regions()
    assert {e.origin for e in book.entries.values()} == {
        f"pricing/{REGION}/{name}.yaml" for name in ("lambda", "apigateway", "s3", "bedrock")
    }


REQUIRED_IDS = [
    "lambda.requests",
    "lambda.duration.x86_64",
    "lambda.duration.arm64",
    "lambda.ephemeral_storage",
    "lambda.provisioned_concurrency.x86_64",
    "lambda.provisioned_concurrency.arm64",
    "lambda.provisioned_duration.x86_64",
    "lambda.provisioned_duration.arm64",
    "apigateway.rest.requests",
    "apigateway.http.requests",
    "apigateway.websocket.messages",
    "apigateway.websocket.connection_minutes",
    *(
        f"apigateway.rest.cache.{size}"
        for size in ("0.5", "1.6", "6.1", "13.5", "28.4", "58.2", "118", "237")
    ),
    "s3.storage.standard",
    "s3.requests.put",
    "s3.requests.get",
    "s3.storage.standard_ia",
    "s3.requests.standard_ia.put",
    "s3.requests.standard_ia.get",
    "s3.retrieval.standard_ia",
    "s3.storage.one_zone_ia",
    "s3.storage.glacier_ir",
    "s3.requests.glacier_ir.put",
    "s3.requests.glacier_ir.get",
    "s3.retrieval.glacier_ir",
    "s3.storage.glacier_flexible",
    "s3.storage.deep_archive",
    "s3.data_transfer_out.internet",
    "bedrock.on_demand.deepseek.r1-v1:0.input_tokens",
    "bedrock.on_demand.deepseek.r1-v1:0.output_tokens",
    "bedrock.on_demand.amazon.titan-embed-text-v2:0.input_tokens",
    "bedrock.provisioned.amazon.titan-text-express-v1.no_commitment",
    "bedrock.provisioned.amazon.titan-text-express-v1.one_month",
    "bedrock.provisioned.amazon.titan-text-express-v1.six_months",
    "bedrock.custom_model_import.cmu_minute",
    "bedrock.custom_model_import.storage_cmu_month",
]


def test_every_id_the_estimator_needs_is_there(book):
    assert [i for i in REQUIRED_IDS if book.get(i) is None] == []


def test_every_entry_and_free_tier_has_a_source_and_a_past_date(book):
    today = dt.date.today()
    for item in [*book.entries.values(), *book.free_tiers.values()]:
        assert item.source.strip(), item.id
        assert dt.date.fromisoformat(item.as_of) <= today, item.id


def test_no_float_anywhere(book):
    def walk(value, where):
        assert not isinstance(value, float), where
        if isinstance(value, (dict, type(book.entries))):
            for key, item in value.items():
                walk(item, f"{where}/{key}")
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                walk(item, f"{where}/{index}")

    for entry in book.entries.values():
        assert isinstance(entry.price_per, D)
        assert all(
            isinstance(t.usd, D) and (t.up_to is None or isinstance(t.up_to, D))
            for t in entry.tiers
        )
        walk(entry.attributes, entry.id)
    assert all(isinstance(t.quantity, D) for t in book.free_tiers.values())


@pytest.mark.parametrize(
    ("price_id", "tier", "usd", "price_per"),
    [
        ("lambda.requests", 0, "0.20", "1000000"),
        ("lambda.duration.x86_64", 0, "0.0000166667", "1"),
        ("lambda.duration.x86_64", 2, "0.0000133334", "1"),
        ("lambda.duration.arm64", 1, "0.0000120001", "1"),
        ("lambda.ephemeral_storage", 0, "0.0000000309", "1"),
        ("lambda.provisioned_duration.arm64", 0, "0.0000077778", "1"),
        ("apigateway.rest.requests", 3, "1.51", "1000000"),
        ("apigateway.http.requests", 1, "0.90", "1000000"),
        ("apigateway.rest.cache.237", 0, "3.800", "1"),
        ("s3.storage.standard", 0, "0.023", "1"),
        ("s3.requests.get", 0, "0.0004", "1000"),
        ("s3.storage.deep_archive", 0, "0.00099", "1"),
        ("bedrock.on_demand.deepseek.r1-v1:0.output_tokens", 0, "5.40", "1000000"),
        ("bedrock.on_demand.amazon.nova-micro-v1:0.input_tokens", 0, "0.035", "1000000"),
        (
            "bedrock.batch.meta.llama4-maverick-17b-instruct-v1:0.output_tokens",
            0,
            "0.485",
            "1000000",
        ),
        ("bedrock.provisioned.amazon.titan-text-express-v1.one_month", 0, "18.40", "1"),
        ("bedrock.custom_model_import.cmu_minute", 0, "0.0785", "1"),
    ],
)
def test_prices_are_the_exact_decimals_of_the_table_text(book, price_id, tier, usd, price_per):
    entry = book.get(price_id)
    assert entry.tiers[tier].usd == D(usd)
    assert (
        entry.tiers[tier].usd.as_tuple() == D(usd).as_tuple()
    )  # same digits: from the text, not a float
    assert entry.price_per == D(price_per)


@pytest.mark.parametrize(
    ("price_id", "bounds"),
    [
        ("lambda.duration.x86_64", ["6000000000", "15000000000", None]),
        ("lambda.duration.arm64", ["7500000000", "18750000000", None]),
        ("apigateway.rest.requests", ["333000000", "1000000000", "20000000000", None]),
        ("apigateway.http.requests", ["300000000", None]),
        ("apigateway.websocket.messages", ["1000000000", None]),
        ("s3.storage.standard", ["51200", "512000", None]),
        ("s3.data_transfer_out.internet", ["10240", "51200", "153600", None]),
    ],
)
def test_tier_bands(book, price_id, bounds):
    assert [t.up_to for t in book.get(price_id).tiers] == [
        None if b is None else D(b) for b in bounds
    ]


def test_every_entry_has_increasing_bands_and_one_open_last_band(book):
    for entry in book.entries.values():
        bounds = [t.up_to for t in entry.tiers]
        assert bounds[-1] is None and None not in bounds[:-1], entry.id
        assert bounds[:-1] == sorted(set(bounds[:-1])), entry.id


def test_free_tiers(book):
    requests, gb_seconds = (
        book.free_tiers["lambda.free.requests"],
        book.free_tiers["lambda.free.gb_seconds"],
    )
    assert (requests.quantity, requests.applies_to, requests.always_free) == (
        D(1000000),
        ("lambda.requests",),
        True,
    )
    assert gb_seconds.quantity == D(400000)
    assert gb_seconds.applies_to == ("lambda.duration.x86_64", "lambda.duration.arm64")
    assert book.free_tier_for("lambda.duration.arm64") is gb_seconds
    assert book.free_tiers["s3.free.data_transfer_out"].always_free is True
    assert book.free_tiers["s3.free.data_transfer_out"].quantity == D(100)
    api = [t for t in book.free_tiers.values() if t.id.startswith("apigateway.")]
    assert api and not any(t.always_free for t in api)  # 12-month free tier: off by default


def _text_models(book):
    return {
        e.attributes["model_id"]
        for i, e in book.entries.items()
        if i.startswith("bedrock.on_demand.")
        and i.endswith(".input_tokens")
        and e.attributes["kind"] == "text"
    }


def test_at_least_30_bedrock_text_models_with_input_and_output_prices(book):
    models = _text_models(book)
    assert len(models) >= 30
    assert {
        "anthropic.claude-3-haiku-20240307-v1:0",
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        "anthropic.claude-3-5-sonnet-20240620-v1:0",
        "anthropic.claude-3-7-sonnet-20250219-v1:0",
        "anthropic.claude-sonnet-4-20250514-v1:0",
        "anthropic.claude-opus-4-20250514-v1:0",
        "meta.llama3-8b-instruct-v1:0",
        "meta.llama3-1-405b-instruct-v1:0",
        "meta.llama3-2-90b-instruct-v1:0",
        "meta.llama3-3-70b-instruct-v1:0",
        "amazon.nova-lite-v1:0",
        "amazon.nova-premier-v1:0",
        "amazon.titan-text-express-v1",
        "mistral.mixtral-8x7b-instruct-v0:1",
        "mistral.mistral-large-2407-v1:0",
        "cohere.command-r-plus-v1:0",
        "deepseek.r1-v1:0",
    } <= models
    for model in models:
        output = book.get(f"bedrock.on_demand.{model}.output_tokens")
        assert output is not None and output.unit == "token" and output.price_per == D(1000000), (
            model
        )
        assert {"model_id", "provider", "model_name", "kind"} <= set(output.attributes), model


def test_batch_prices_are_half_of_on_demand(book):
    batch = [i for i in book.entries if i.startswith("bedrock.batch.")]
    assert batch
    for price_id in batch:
        on_demand = book.get(price_id.replace("bedrock.batch.", "bedrock.on_demand.", 1))
        assert book.get(price_id).first_tier_usd * 2 == on_demand.first_tier_usd, price_id


def test_custom_model_import_records_both_figures(book):
    cmu = book.get("bedrock.custom_model_import.cmu_minute")
    assert cmu.unit == "CMU-minute" and cmu.first_tier_usd == D("0.0785")
    assert any("0.05718" in note for note in cmu.attributes["alternative_sources"])
    assert book.get("bedrock.custom_model_import.storage_cmu_month").first_tier_usd == D("1.95")


# Prices of 2026 (issue #17), typed by hand from the sources, never read from the tables:
# LiteLLM 1.110.2 model_prices_and_context_window_backup.json gives USD per token; the figures
# below are those × 1,000,000 (e.g. Sonnet 4.6 `us.` input_cost_per_token 3.3e-06 → 3.30 per 1M).
PRICES_2026 = [
    # Claude 4.6 and 4.5: regional (us.) on on_demand, global. 10% lower
    ("us-east-1", "bedrock.on_demand.anthropic.claude-sonnet-4-6.input_tokens", "3.30"),
    ("us-east-1", "bedrock.on_demand.anthropic.claude-sonnet-4-6.output_tokens", "16.50"),
    ("us-east-1", "bedrock.global.anthropic.claude-sonnet-4-6.input_tokens", "3.00"),
    ("us-east-1", "bedrock.global.anthropic.claude-sonnet-4-6.output_tokens", "15.00"),
    ("us-east-1", "bedrock.on_demand.anthropic.claude-opus-4-6-v1.input_tokens", "5.50"),
    ("us-east-1", "bedrock.global.anthropic.claude-opus-4-6-v1.output_tokens", "25.00"),
    ("us-east-1", "bedrock.global.anthropic.claude-sonnet-4-5-20250929-v1:0.input_tokens", "3.00"),
    ("us-east-1", "bedrock.global.anthropic.claude-haiku-4-5-20251001-v1:0.output_tokens", "5.00"),
    # batch: 50% of on-demand where a source lists it
    ("us-east-1", "bedrock.batch.anthropic.claude-sonnet-4-5-20250929-v1:0.input_tokens", "1.65"),
    ("us-east-1", "bedrock.batch.anthropic.claude-haiku-4-5-20251001-v1:0.output_tokens", "2.75"),
    ("us-east-1", "bedrock.batch.openai.gpt-oss-120b-1:0.output_tokens", "0.30"),
    ("us-east-1", "bedrock.batch.deepseek.v3.2.output_tokens", "0.925"),
    # prompt caching: read 0.1×, 5-minute write 1.25×, 1-hour write 2× the input price
    (
        "us-east-1",
        "bedrock.on_demand.anthropic.claude-sonnet-4-5-20250929-v1:0.cache_read_tokens",
        "0.33",
    ),
    (
        "us-east-1",
        "bedrock.on_demand.anthropic.claude-sonnet-4-5-20250929-v1:0.cache_write_tokens",
        "4.125",
    ),
    (
        "us-east-1",
        "bedrock.on_demand.anthropic.claude-sonnet-4-5-20250929-v1:0.cache_write_1h_tokens",
        "6.60",
    ),
    (
        "us-east-1",
        "bedrock.on_demand.anthropic.claude-3-7-sonnet-20250219-v1:0.cache_write_tokens",
        "3.75",
    ),
    ("us-east-1", "bedrock.on_demand.amazon.nova-pro-v1:0.cache_read_tokens", "0.20"),
    # long context (> 200K input tokens): Sonnet 4 and 4.5
    (
        "us-east-1",
        "bedrock.on_demand.anthropic.claude-sonnet-4-20250514-v1:0.input_tokens_above_200k",
        "6.00",
    ),
    (
        "us-east-1",
        "bedrock.on_demand.anthropic.claude-sonnet-4-20250514-v1:0.output_tokens_above_200k",
        "22.50",
    ),
    (
        "us-east-1",
        "bedrock.on_demand.anthropic.claude-sonnet-4-5-20250929-v1:0.output_tokens_above_200k",
        "24.75",
    ),
    (
        "us-east-1",
        "bedrock.global.anthropic.claude-sonnet-4-5-20250929-v1:0.input_tokens_above_200k",
        "6.00",
    ),
    # models added in 2026
    ("us-east-1", "bedrock.on_demand.amazon.nova-2-lite-v1:0.output_tokens", "2.75"),
    ("us-east-1", "bedrock.global.amazon.nova-2-lite-v1:0.input_tokens", "0.30"),
    (
        "us-east-1",
        "bedrock.on_demand.amazon.nova-2-pro-preview-20251202-v1:0.input_tokens",
        "1.375",
    ),
    (
        "us-east-1",
        "bedrock.on_demand.amazon.nova-2-multimodal-embeddings-v1:0.input_tokens",
        "0.135",
    ),
    ("us-east-1", "bedrock.on_demand.openai.gpt-oss-20b-1:0.input_tokens", "0.07"),
    ("us-east-1", "bedrock.on_demand.deepseek.v3-v1:0.output_tokens", "1.68"),
    ("us-east-1", "bedrock.on_demand.deepseek.v3.2.input_tokens", "0.62"),
    ("us-east-1", "bedrock.on_demand.qwen.qwen3-32b-v1:0.output_tokens", "0.60"),
    ("us-east-1", "bedrock.on_demand.qwen.qwen3-235b-a22b-2507-v1:0.input_tokens", "0.22"),
    ("us-east-1", "bedrock.on_demand.qwen.qwen3-coder-480b-a35b-v1:0.output_tokens", "1.80"),
    ("us-east-1", "bedrock.on_demand.mistral.mistral-large-3-675b-instruct.input_tokens", "0.50"),
    ("us-east-1", "bedrock.on_demand.mistral.pixtral-large-2502-v1:0.output_tokens", "6.00"),
    ("us-east-1", "bedrock.on_demand.cohere.embed-v4:0.input_tokens", "0.12"),
    ("us-east-1", "bedrock.on_demand.ai21.jamba-1-5-large-v1:0.output_tokens", "8.00"),
    ("us-east-1", "bedrock.on_demand.ai21.jamba-1-5-mini-v1:0.input_tokens", "0.20"),
    # the reference stack's model, re-checked: us.deepseek.r1-v1:0 1.35e-06 / 5.4e-06
    ("us-east-1", "bedrock.on_demand.deepseek.r1-v1:0.input_tokens", "1.35"),
    # Nova outside the US: the eu. / apac. profile prices, above the US ones
    ("eu-central-1", "bedrock.on_demand.amazon.nova-lite-v1:0.input_tokens", "0.078"),
    ("eu-west-1", "bedrock.on_demand.amazon.nova-pro-v1:0.output_tokens", "4.20"),
    ("ap-northeast-1", "bedrock.on_demand.amazon.nova-micro-v1:0.input_tokens", "0.037"),
    ("ap-northeast-1", "bedrock.on_demand.anthropic.claude-sonnet-4-6.input_tokens", "3.30"),
    ("ap-northeast-1", "bedrock.global.anthropic.claude-sonnet-4-6.input_tokens", "3.00"),
    ("ap-northeast-1", "bedrock.batch.deepseek.v3.2.input_tokens", "0.37"),
    ("eu-west-1", "bedrock.on_demand.meta.llama3-70b-instruct-v1:0.input_tokens", "2.86"),
    (
        "us-west-2",
        "bedrock.on_demand.anthropic.claude-haiku-4-5-20251001-v1:0.input_tokens",
        "1.10",
    ),
]


def test_2026_prices_are_the_sources_figures_and_name_them():
    books = {region: load_price_book(region) for region in {region for region, _, _ in PRICES_2026}}
    wrong = []
    for region, price_id, usd in PRICES_2026:
        entry = books[region].get(price_id)
        if (
            entry is None
            or entry.price_per != D(1000000)
            or entry.first_tier_usd != D(usd)
            or entry.as_of != "2026-12-02"
            or "verification" in entry.attributes
            or "LiteLLM 1.110.2" not in entry.attributes.get("verified_against", "")
        ):
            wrong.append((region, price_id, entry and entry.first_tier_usd))
    assert wrong == []


def test_derived_or_third_party_2026_prices_stay_unverified(book):
    # Claude 3.5 Sonnet moved to extended access on 2025-12-01: $6 / $30 per 1M tokens
    for model in (
        "anthropic.claude-3-5-sonnet-20240620-v1:0",
        "anthropic.claude-3-5-sonnet-20241022-v2:0",
    ):
        assert book.get(f"bedrock.on_demand.{model}.input_tokens").first_tier_usd == D("6.00")
        assert book.get(f"bedrock.on_demand.{model}.output_tokens").first_tier_usd == D("30.00")
        assert (
            "not found in a dated AWS copy"
            in book.get(f"bedrock.on_demand.{model}.input_tokens").attributes["verification"]
        )
        assert (
            book.get(f"bedrock.batch.{model}.input_tokens") is None
        )  # the old batch price no longer applies
    # batch for Claude 3.7 Sonnet / Sonnet 4 / Opus 4 / Opus 4.5: half of on-demand, figure derived
    for price_id, usd in (
        ("bedrock.batch.anthropic.claude-3-7-sonnet-20250219-v1:0.input_tokens", "1.50"),
        ("bedrock.batch.anthropic.claude-sonnet-4-20250514-v1:0.output_tokens", "7.50"),
        ("bedrock.batch.anthropic.claude-opus-4-20250514-v1:0.input_tokens", "7.50"),
        ("bedrock.batch.anthropic.claude-opus-4-5-20251101-v1:0.output_tokens", "13.75"),
    ):
        entry = book.get(price_id)
        assert (
            entry.first_tier_usd == D(usd) and "derived as half" in entry.attributes["verification"]
        )


def test_known_wrong_regional_copies_are_fixed_or_say_so():
    tokyo, frankfurt = load_price_book("ap-northeast-1"), load_price_book("eu-central-1")
    # Tokyo data transfer out: 0.114 for the first 10 TB, 0.089 for the next 40 TB
    # (was 0.085, us-east-1's)
    bands = tokyo.get("s3.data_transfer_out.internet").tiers
    assert [(t.up_to, t.usd) for t in bands[:2]] == [(D(10240), D("0.114")), (D(51200), D("0.089"))]
    # Tokyo S3 Standard: 0.025 / 0.024 / 0.023 (was 0.025 / 0.022 / 0.021)
    assert [t.usd for t in tokyo.get("s3.storage.standard").tiers] == [
        D("0.025"),
        D("0.024"),
        D("0.023"),
    ]
    # no figure found for these: they stay flagged, and the flag says the copy is known to be low
    assert (
        "known to be below Tokyo's"
        in tokyo.get("apigateway.rest.requests").attributes["verification"]
    )
    assert (
        "known to be below Frankfurt's"
        in frankfurt.get("s3.storage.standard").attributes["verification"]
    )
    for entry in (tokyo.get("s3.data_transfer_out.internet"), tokyo.get("s3.storage.standard")):
        assert (
            "test fixture" in entry.attributes["verification"]
        )  # a weak source is still not verified


def test_book_is_read_only(book):
    with pytest.raises(TypeError):
        book.entries["x.y"] = None
    with pytest.raises(TypeError):
        book.get("bedrock.custom_model_import.cmu_minute").attributes["cmu_version"] = "v9"


# --- the seed override -------------------------------------------------------------------------

SEED_CHANGES = {
    "apigateway.rest.requests": ("1000000", [(None, "3.50")]),
    "bedrock.on_demand.deepseek.r1-v1:0.input_tokens": ("1000000", [(None, "0.50")]),
    "bedrock.on_demand.deepseek.r1-v1:0.output_tokens": ("1000000", [(None, "2.00")]),
    "s3.storage.standard": ("1", [(None, "0.025")]),
    "s3.requests.get": ("1000", [(None, "0")]),
    "s3.requests.put": ("1000", [(None, "0")]),
}


def test_seed_override_changes_exactly_the_seed_assumptions(book):
    seed = load_price_book(REGION, overrides=[SEED])
    changed = {i for i in book.entries if seed.entries[i] != book.entries[i]}
    assert changed == set(SEED_CHANGES)
    assert set(seed.entries) == set(book.entries) and seed.free_tiers == book.free_tiers
    for price_id, (per, tiers) in SEED_CHANGES.items():
        entry = seed.get(price_id)
        assert entry.price_per == D(per)
        assert entry.tiers == tuple(Tier(up, D(usd)) for up, usd in tiers)
        assert entry.origin == "pricing/overrides/seed-template.yaml"
    assert seed.overrides == ("pricing/overrides/seed-template.yaml",)
    assert (seed.version, seed.as_of) == (book.version, book.as_of)


def test_seed_s3_assumption_is_exactly_one_dollar_for_the_reference_40_gb():
    storage = load_price_book(REGION, overrides=[SEED]).get("s3.storage.standard")
    assert D(40) * storage.first_tier_usd / storage.price_per == D("1.00")


# --- a small region in tmp_path, broken one way at a time ----------------------------------------


def _table():
    return {
        "schema": "costline-pricing/1",
        "version": "2026.11.0",
        "region": REGION,
        "currency": "USD",
        "service": "lambda",
        "entries": {
            "lambda.requests": {
                "description": "Requests",
                "unit": "request",
                "price_per": 1000000,
                "tiers": [{"usd": "0.20"}],
                "source": "https://aws.amazon.com/lambda/pricing/",
                "as_of": "2026-09-06",
            },
            "lambda.duration.x86_64": {
                "description": "Duration",
                "unit": "GB-second",
                "price_per": 1,
                "tiers": [
                    {"up_to": 6000000000, "usd": "0.0000166667"},
                    {"up_to": 15000000000, "usd": "0.000015"},
                    {"usd": "0.0000133334"},
                ],
                "source": "Lambda-GB-Second",
                "as_of": "2026-09-06",
            },
        },
        "free_tiers": {
            "lambda.free.requests": {
                "description": "1M requests",
                "quantity": 1000000,
                "unit": "request",
                "applies_to": ["lambda.requests"],
                "always_free": True,
                "source": "https://aws.amazon.com/lambda/pricing/",
                "as_of": "2026-09-20",
            },
        },
    }


def _manifest():
    return {
        "schema": "costline-pricing-region/1",
        "region": REGION,
        "version": "2026.11.0",
        "currency": "USD",
    }


def _write_region(root: Path, table=None, manifest=None, region=REGION, extra=None) -> Path:
    folder = root / "pricing" / region
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "region.yaml").write_text(
        yaml.safe_dump(manifest or {**_manifest(), "region": region})
    )
    (folder / "lambda.yaml").write_text(
        table if isinstance(table, str) else yaml.safe_dump(table or _table())
    )
    for name, document in (extra or {}).items():
        (folder / name).write_text(yaml.safe_dump(document))
    return root / "pricing"


def _load(tables, overrides=()):
    return load_price_book(REGION, overrides=overrides, tables_dir=tables)


def test_small_region_loads_with_prices_written_as_strings(tmp_path):
    book = _load(_write_region(tmp_path))
    assert book.get("lambda.duration.x86_64").tiers[0] == Tier(D("6000000000"), D("0.0000166667"))
    assert str(book.get("lambda.requests").first_tier_usd) == "0.20"
    assert book.as_of == "2026-09-06"


def _with(change):
    def make():
        table = _table()
        change(table)
        return table

    return make


LAMBDA_FILE = f"pricing/{REGION}/lambda.yaml"

BAD_TABLES = {
    "missing field": (
        _with(lambda t: t["entries"]["lambda.requests"].pop("source")),
        "lambda.requests",
        "source",
        "'source' is a required property",
    ),
    "negative price": (
        _with(lambda t: t["entries"]["lambda.requests"]["tiers"][0].update(usd="-0.2")),
        "lambda.requests",
        "tiers/0/usd",
        "-0.2 is less than the minimum of 0",
    ),
    "price not a number": (
        _with(lambda t: t["entries"]["lambda.requests"]["tiers"][0].update(usd="cheap")),
        "lambda.requests",
        "tiers/0/usd",
        "'cheap' is not of type 'number'",
    ),
    "zero price_per": (
        _with(lambda t: t["entries"]["lambda.requests"].update(price_per=0)),
        "lambda.requests",
        "price_per",
        "0 is less than the minimum of 1",
    ),
    "non-increasing tiers": (
        _with(lambda t: t["entries"]["lambda.duration.x86_64"]["tiers"][1].update(up_to=5000)),
        "lambda.duration.x86_64",
        "tiers/1/up_to",
        "must be greater than the previous tier's",
    ),
    "overlapping tiers": (
        _with(
            lambda t: t["entries"]["lambda.duration.x86_64"]["tiers"][1].update(up_to=6000000000)
        ),
        "lambda.duration.x86_64",
        "tiers/1/up_to",
        "must be greater than the previous tier's",
    ),
    "open tier not last": (
        _with(lambda t: t["entries"]["lambda.duration.x86_64"]["tiers"][0].pop("up_to")),
        "lambda.duration.x86_64",
        "tiers/0/up_to",
        "only the last tier may be open-ended",
    ),
    "closed last tier": (
        _with(
            lambda t: t["entries"]["lambda.duration.x86_64"]["tiers"][2].update(up_to=20000000000)
        ),
        "lambda.duration.x86_64",
        "tiers/2/up_to",
        "the last tier must be open-ended",
    ),
    "no tiers": (
        _with(lambda t: t["entries"]["lambda.requests"].update(tiers=[])),
        "lambda.requests",
        "tiers",
        "should be non-empty",
    ),
    "unknown field": (
        _with(lambda t: t["entries"]["lambda.requests"].update(pirce="1")),
        "lambda.requests",
        "pirce",
        "'pirce' was unexpected",
    ),
    "impossible date": (
        _with(lambda t: t["entries"]["lambda.requests"].update(as_of="2026-13-01")),
        "lambda.requests",
        "as_of",
        "is not a calendar date",
    ),
    "wrong currency": (
        _with(lambda t: t.update(currency="EUR")),
        None,
        "currency",
        "costline prices are in USD",
    ),
    "version mismatch": (
        _with(lambda t: t.update(version="2026.12.0")),
        None,
        "version",
        "one version per region",
    ),
    "region mismatch": (
        _with(lambda t: t.update(region="us-west-2")),
        None,
        "region",
        "does not match its folder",
    ),
    "id of another service": (
        _with(lambda t: t["entries"].update({"s3.requests.get": t["entries"]["lambda.requests"]})),
        "s3.requests.get",
        None,
        "start with 'lambda.'",
    ),
    "malformed id": (
        _with(lambda t: t["entries"].update({"Lambda Requests": t["entries"]["lambda.requests"]})),
        "Lambda Requests",
        None,
        "does not match",
    ),
    "free tier for a missing entry": (
        _with(
            lambda t: t["free_tiers"]["lambda.free.requests"].update(applies_to=["lambda.requestz"])
        ),
        "lambda.free.requests",
        "applies_to/0",
        "no entry 'lambda.requestz'",
    ),
    "free tier in another unit": (
        _with(lambda t: t["free_tiers"]["lambda.free.requests"].update(unit="GB-second")),
        "lambda.free.requests",
        "unit",
        "differs from the unit of 'lambda.requests'",
    ),
    "free tier without always_free": (
        _with(lambda t: t["free_tiers"]["lambda.free.requests"].pop("always_free")),
        "lambda.free.requests",
        "always_free",
        "'always_free' is a required property",
    ),
}


@pytest.mark.parametrize("case", BAD_TABLES, ids=list(BAD_TABLES))
def test_bad_table_names_file_entry_and_field(tmp_path, case):
    make, entry, field, message = BAD_TABLES[case]
    tables = _write_region(tmp_path, table=make())
    with pytest.raises(PricingError) as caught:
        _load(tables)
    error = caught.value
    assert (error.file, error.entry, error.field) == (LAMBDA_FILE, entry, field)
    assert message in error.detail
    assert str(error).startswith(LAMBDA_FILE + ": ") and str(error).endswith(error.detail)


def test_error_message_format(tmp_path):
    tables = _write_region(tmp_path, table=BAD_TABLES["negative price"][0]())
    with pytest.raises(
        PricingError,
        match=r"^pricing/us-east-1/lambda\.yaml: entry 'lambda\.requests': "
        r"field 'tiers/0/usd': -0\.2 is less than the minimum of 0$",
    ):
        _load(tables)
    stamps = list((tmp_path / "costline-cache" / "validated").iterdir())
    assert len(stamps) == 1  # region.yaml passed the schema; the broken table was not stamped


BAD_YAML = {
    "malformed YAML": (
        "entries:\n  lambda.requests: {description: [unclosed\n",
        "malformed YAML: line 3",
    ),
    "not a mapping": (
        "- lambda.requests\n- lambda.duration.x86_64\n",
        "expected a mapping at the top level, got a list",
    ),
    "empty file": ("", "expected a mapping at the top level, got an empty document"),
    "duplicate key": (
        "entries:\n  lambda.requests: {}\n  lambda.requests: {}\n",
        "found duplicate key 'lambda.requests'",
    ),
    "not finite": ("schema: costline-pricing/1\nversion: !!float .nan\n", "malformed YAML"),
}


@pytest.mark.parametrize("case", BAD_YAML, ids=list(BAD_YAML))
def test_unreadable_file_names_the_file(tmp_path, case):
    text, message = BAD_YAML[case]
    tables = _write_region(tmp_path, table=text)
    with pytest.raises(PricingError) as caught:
        _load(tables)
    assert (caught.value.file, caught.value.entry, caught.value.field) == (LAMBDA_FILE, None, None)
    assert message in caught.value.detail


def test_duplicate_id_across_files(tmp_path):
    other = _table()
    other["free_tiers"] = {}
    del other["entries"]["lambda.duration.x86_64"]
    tables = _write_region(tmp_path, extra={"more.yaml": other})
    with pytest.raises(PricingError) as caught:
        _load(tables)
    assert (caught.value.file, caught.value.entry, caught.value.field) == (
        f"pricing/{REGION}/more.yaml",
        "lambda.requests",
        None,
    )
    assert f"already defined in {LAMBDA_FILE}" in caught.value.detail


def test_bad_manifest(tmp_path):
    tables = _write_region(tmp_path, manifest={**_manifest(), "currency": "GBP"})
    with pytest.raises(PricingError) as caught:
        _load(tables)
    assert (caught.value.file, caught.value.field) == (f"pricing/{REGION}/region.yaml", "currency")


def test_unknown_region_lists_the_available_ones(tmp_path):
    tables = _write_region(tmp_path)
    _write_region(tmp_path, region="eu-west-1")
    assert available_regions(tables) == ["eu-west-1", REGION]
    with pytest.raises(
        PricingError,
        match=r"no price tables for region 'mars-north-1'; available: eu-west-1, us-east-1",
    ):
        load_price_book("mars-north-1", tables_dir=tables)
    with pytest.raises(PricingError, match=r"available: .*us-east-1"):
        load_price_book("ap-south-7")


def test_bedrock_attributes_must_match_the_id(tmp_path):
    table = {
        **_manifest(),
        "schema": "costline-pricing/1",
        "service": "bedrock",
        "entries": {
            "bedrock.on_demand.amazon.nova-lite-v1:0.input_tokens": {
                "description": "x",
                "unit": "token",
                "price_per": 1000000,
                "tiers": [{"usd": "0.06"}],
                "source": "x",
                "as_of": "2025-07-20",
                "attributes": {
                    "model_id": "amazon.nova-pro-v1:0",
                    "provider": "Amazon",
                    "model_name": "Nova Lite",
                    "kind": "text",
                },
            }
        },
    }
    tables = _write_region(tmp_path, extra={"bedrock.yaml": table})
    with pytest.raises(PricingError) as caught:
        _load(tables)
    assert (caught.value.entry, caught.value.field) == (
        "bedrock.on_demand.amazon.nova-lite-v1:0.input_tokens",
        "attributes/model_id",
    )


# --- override files --------------------------------------------------------------------------


def _override(tmp_path, entries=None, free_tiers=None, **extra) -> Path:
    document = {"schema": "costline-price-overrides/1", "description": "test override", **extra}
    if entries is not None:
        document["entries"] = entries
    if free_tiers is not None:
        document["free_tiers"] = free_tiers
    path = tmp_path / "override.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def _requests_entry(usd="0.10", **extra):
    return {
        "description": "Cheaper requests",
        "unit": "request",
        "price_per": 1000000,
        "tiers": [{"usd": usd}],
        "source": "test",
        "as_of": "2026-11-01",
        **extra,
    }


def test_override_replaces_an_entry_and_adds_new_ones(tmp_path):
    tables = _write_region(tmp_path)
    path = _override(
        tmp_path,
        entries={
            "lambda.requests": _requests_entry(),
            "lambda.extra": _requests_entry(usd="1", new=True),
        },
    )
    book = _load(tables, [path])
    assert book.get("lambda.requests").first_tier_usd == D("0.10")
    assert book.get("lambda.extra").origin == "override.yaml"
    assert book.overrides == ("override.yaml",)
    assert book.get("lambda.duration.x86_64").origin == LAMBDA_FILE


BAD_OVERRIDES = {
    "unknown id": (
        {"entries": {"lambda.requestz": _requests_entry()}},
        "lambda.requestz",
        None,
        "no such id",
    ),
    "new but exists": (
        {"entries": {"lambda.requests": _requests_entry(new=True)}},
        "lambda.requests",
        "new",
        "already have this id",
    ),
    "negative price": (
        {"entries": {"lambda.requests": _requests_entry(usd="-1")}},
        "lambda.requests",
        "tiers/0/usd",
        "-1 is less than the minimum of 0",
    ),
    "other region": (
        {"entries": {"lambda.requests": _requests_entry()}, "region": "eu-west-1"},
        None,
        "region",
        "for region 'eu-west-1'",
    ),
    "nothing to override": ({}, None, None, "is not valid under any of the given schemas"),
    "free tier for a missing entry": (
        {
            "free_tiers": {
                "lambda.free.requests": {
                    "description": "x",
                    "quantity": 5,
                    "unit": "request",
                    "applies_to": ["lambda.nope"],
                    "always_free": True,
                    "source": "x",
                    "as_of": "2026-11-01",
                }
            }
        },
        "lambda.free.requests",
        "applies_to/0",
        "no entry 'lambda.nope'",
    ),
}


@pytest.mark.parametrize("case", BAD_OVERRIDES, ids=list(BAD_OVERRIDES))
def test_bad_override_names_file_entry_and_field(tmp_path, case):
    content, entry, field, message = BAD_OVERRIDES[case]
    tables = _write_region(tmp_path)
    path = _override(tmp_path, **content)
    with pytest.raises(PricingError) as caught:
        _load(tables, [path])
    assert (caught.value.file, caught.value.entry, caught.value.field) == (
        "override.yaml",
        entry,
        field,
    )
    assert message in caught.value.detail


def test_missing_override_file(tmp_path):
    with pytest.raises(PricingError, match="price override file not found"):
        _load(_write_region(tmp_path), [tmp_path / "nope.yaml"])


# --- YAML numbers, caching, layout ----------------------------------------------------------------


def test_yaml_numbers_are_exact_decimals_and_dates_stay_text():
    document = parse_decimal_yaml(
        "a: 0.0000166667\nb: 1_000_000\nc: 6e9\nd: !!float 0.1\ne: 2026-11-01\n"
        "f: '0.5'\ng: true\nh: 010\n"
    )
    assert document == {
        "a": D("0.0000166667"),
        "b": D(1000000),
        "c": D("6e9"),
        "d": D("0.1"),
        "e": "2026-11-01",
        "f": "0.5",
        "g": True,
        "h": D(10),
    }
    assert str(document["a"]) == "0.0000166667"


def test_books_are_cached_until_a_file_changes(tmp_path):
    tables = _write_region(tmp_path)
    first = _load(tables)
    assert _load(tables) is first
    table_path = tables / REGION / "lambda.yaml"
    table_path.write_text(table_path.read_text().replace("'0.20'", "'0.25'"))
    stat = table_path.stat()
    os.utime(table_path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert _load(tables).get("lambda.requests").first_tier_usd == D("0.25")


def test_a_warm_load_reads_the_cache_and_imports_neither_yaml_nor_jsonschema(tmp_path):
    cache = tmp_path / "cache"
    env = {**os.environ, "COSTLINE_CACHE_DIR": str(cache), "PYTHONPATH": str(REPO)}
    script = (
        "import sys, costline.pricing as p; book = p.load_price_book(); "
        "heavy = ('yaml', 'jsonschema', 'pulumi', 'jinja2', 'click'); "
        "print(len(book.entries), sorted(m for m in heavy if m in sys.modules))"
    )
    runs = [run_python(script, env=env, cwd=REPO).split(" ", 1) for _ in range(2)]
    assert runs[0][0] == runs[1][0]  # same book either way
    assert [run[1].strip() for run in runs] == ["['jsonschema', 'yaml']", "[]"]
    assert len(list((cache / "validated").glob("*.json"))) == 5  # region.yaml and four tables


def test_cached_documents_give_the_same_book(tmp_path, monkeypatch):
    cold = load_price_book(REGION, overrides=[SEED])  # fills the (empty, per-test) cache
    clear_cache()
    warm = load_price_book(REGION, overrides=[SEED])
    assert warm is not cold and warm == cold
    assert (
        warm.get("bedrock.custom_model_import.cmu_minute").attributes
        == cold.get("bedrock.custom_model_import.cmu_minute").attributes
    )
    monkeypatch.setenv("COSTLINE_CACHE_DIR", "")  # cache off
    clear_cache()
    assert load_price_book(REGION, overrides=[SEED]) == cold


def test_data_dir_prefers_the_installed_copy(tmp_path, monkeypatch):
    assert resources_path.data_dir("pricing") == REPO / "pricing"
    (tmp_path / "_data" / "pricing").mkdir(parents=True)
    monkeypatch.setattr(resources_path, "_PACKAGE_DIR", tmp_path)
    assert resources_path.data_dir("pricing") == tmp_path / "_data" / "pricing"
    assert resources_path.data_dir("templates") == tmp_path.parent / "templates"


def test_public_surface():
    assert pricing.__all__ == sorted(pricing.__all__)
    assert set(pricing.__all__) == {
        "FreeTier",
        "PriceBook",
        "PriceEntry",
        "PricingError",
        "Tier",
        "available_regions",
        "load_price_book",
    }
    assert issubclass(PricingError, ValueError)


def test_schema_file_is_draft_2020_12_and_self_consistent():
    from jsonschema import Draft202012Validator

    schema = json.loads((REPO / "costline" / "pricing" / "schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    shipped = [
        REPO / "pricing" / REGION / "region.yaml",
        SEED,
        *sorted(p for p in (REPO / "pricing" / REGION).glob("*.yaml") if p.name != "region.yaml"),
    ]
    for path in shipped:  # the top-level schema dispatches on `schema:` (for editors and CI)
        assert (
            list(Draft202012Validator(schema).iter_errors(parse_decimal_yaml(path.read_bytes())))
            == []
        ), path
    broken = {"schema": "costline-pricing/1", "version": "2026.11.0"}
    assert list(Draft202012Validator(schema).iter_errors(broken))  # dispatches to $defs/table


def test_costline_pricing_dir_replaces_the_bundled_tables(tmp_path, monkeypatch):
    """COSTLINE_PRICING_DIR (what `costline pricing update --out DIR` wrote) is where every
    estimate, the policy pack's included, reads its tables; unset, the bundled ones."""
    tables = _write_region(tmp_path)
    monkeypatch.setenv("COSTLINE_PRICING_DIR", str(tables))
    clear_cache()
    book = load_price_book(REGION)
    assert (
        book.get("lambda.requests").origin == LAMBDA_FILE
        and book.get("s3.storage.standard") is None
    )
    assert available_regions() == [REGION]
    monkeypatch.delenv("COSTLINE_PRICING_DIR")
    clear_cache()
    assert load_price_book(REGION).get("s3.storage.standard") is not None
