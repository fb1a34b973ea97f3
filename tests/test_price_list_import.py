"""``costline pricing import`` on small offer files written in the AWS Price List bulk format.

Fixtures (``tests/fixtures/price-list/*.json``, eu-central-1, usagetype prefix ``EUC1-``):

* Lambda ``EUC1-Lambda-GB-Second``: three dimensions given out of order (0-6B, 15B-Inf, 6B-15B)
  at $0.0000166667 / $0.0000133334 / $0.000015 per GB-second -> tiers up to 6e9, 15e9, open.
* ``EUC1-Request`` $0.0000002 per request -> $0.20 per 1,000,000 (price_per 1e6).
* API Gateway ``EUC1-ApiGatewayRequest`` $0.0000037 per request -> $3.70 per million, tiers at
  333M / 1B / 20B; ``EUC1-ApiGatewayHttpRequest`` $0.0000012 -> $1.20 per million.
* S3 ``EUC1-TimedStorage-ByteHrs`` is priced per ``GB-Mo`` (AWS meters byte-hours, prices
  GB-months): $0.0245 per GB-month for the first 51,200 GB; ``Requests-Tier1`` $0.0000054 per
  request -> $0.0054 per 1,000; ``Requests-Tier2`` $0.00000043 -> $0.00043 per 1,000.
* Bedrock ``EUC1-Claude3Haiku-input-tokens`` $0.00025 per ``1K tokens`` -> $0.25 per 1M tokens;
  the ``-batch`` variant $0.000125 -> $0.125 per 1M.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from click.testing import CliRunner

from costline.cli.main import main
from costline.estimator.pipeline import estimate
from costline.pricing import Tier, load_price_book
from costline.pricing.aws_offers import OfferFile, PriceListError, convert
from tests.conftest import REPO, seed_stack

FIXTURES = REPO / "tests" / "fixtures" / "price-list"
GOOD = ["lambda-euc1.json", "apigateway-euc1.json", "s3-euc1.json", "bedrock-euc1.json"]


def _offers(*names: str) -> list[OfferFile]:
    return [OfferFile(name, json.loads((FIXTURES / name).read_text())) for name in names]


def _import(tmp_path, *extra: str):
    args = ["pricing", "import", "--region", "eu-central-1", "--out", str(tmp_path)]
    for name in GOOD:
        args += ["--offer", str(FIXTURES / name)]
    return CliRunner().invoke(main, [*args, *extra])


def test_convert_maps_usagetypes_units_and_tiers():
    result = convert(_offers(*GOOD), "eu-central-1", "2026.10.0")
    lam = result.tables["lambda"]["entries"]
    assert [t.get("up_to") for t in lam["lambda.duration.x86_64"]["tiers"]] == [
        Decimal(6000000000),
        Decimal(15000000000),
        None,
    ]
    assert [t["usd"] for t in lam["lambda.duration.x86_64"]["tiers"]] == [
        Decimal("0.0000166667"),
        Decimal("0.000015"),
        Decimal("0.0000133334"),
    ]
    assert lam["lambda.requests"]["tiers"] == [{"usd": Decimal("0.2")}]
    assert lam["lambda.requests"]["as_of"] == "2026-10-01"
    assert lam["lambda.requests"]["source"].endswith(
        "/AWSLambda/current/eu-central-1/index.json usagetype EUC1-Request"
    )
    api = result.tables["apigateway"]["entries"]
    assert api["apigateway.rest.requests"]["tiers"][0] == {
        "up_to": Decimal(333000000),
        "usd": Decimal("3.7"),
    }
    assert api["apigateway.http.requests"]["tiers"][0]["usd"] == Decimal("1.2")
    s3 = result.tables["s3"]["entries"]
    assert s3["s3.storage.standard"]["tiers"][0] == {
        "up_to": Decimal(51200),
        "usd": Decimal("0.0245"),
    }
    assert s3["s3.requests.put"]["tiers"] == [{"usd": Decimal("0.0054")}]
    bedrock = result.tables["bedrock"]["entries"]
    assert bedrock["bedrock.on_demand.anthropic.claude-3-haiku-20240307-v1:0.input_tokens"][
        "tiers"
    ] == [{"usd": Decimal("0.25")}]
    assert bedrock["bedrock.batch.anthropic.claude-3-haiku-20240307-v1:0.input_tokens"][
        "tiers"
    ] == [{"usd": Decimal("0.125")}]
    assert any("Lambda-Edge-Request" in line for line in result.skipped)
    assert any("SomeNewModel" in line for line in result.skipped)
    assert not any(
        "USE1-Request" in line for line in result.skipped
    )  # other regions are filtered, not reported


def test_cli_writes_tables_the_loader_accepts_and_the_estimator_uses(tmp_path):
    out = _import(tmp_path, "--version", "2026.10.0")
    assert out.exit_code == 0, out.output
    book = load_price_book("eu-central-1", tables_dir=tmp_path)
    assert book.version == "2026.10.0"
    assert book.get("s3.storage.standard").as_of == "2026-09-20"  # the S3 offer's publicationDate
    assert book.get("s3.storage.standard").tiers[0] == Tier(
        up_to=Decimal(51200), usd=Decimal("0.0245")
    )
    assert book.free_tier_for("lambda.requests") is not None  # copied from the bundled tables
    result = estimate(seed_stack(), book)
    artifacts = next(r for r in result.resources if r.name == "artifacts")
    storage = next(i for i in artifacts.line_items if i.price_id == "s3.storage.standard")
    assert storage.monthly_usd == Decimal("0.98")  # 40 GB × $0.0245


def test_cli_version_defaults_from_the_publication_date(tmp_path):
    out = _import(tmp_path)
    assert out.exit_code == 0, out.output
    assert load_price_book("eu-central-1", tables_dir=tmp_path).version == "2026.8.0"


@pytest.mark.parametrize(
    ("name", "path", "message"),
    [
        ("bad-gap.json", "$.terms.OnDemand.SSTD", "gap or overlap at 60000"),
        (
            "bad-price.json",
            "$.terms.OnDemand.SGET.SGET.JRTCKXETXF.priceDimensions.SGET.JRTCKXETXF.0.pricePerUnit.USD",
            "not a decimal number",
        ),
    ],
)
def test_bad_offer_files_exit_2_naming_file_and_json_path(tmp_path, name, path, message):
    out = CliRunner().invoke(
        main,
        [
            "pricing",
            "import",
            "--offer",
            str(FIXTURES / name),
            "--region",
            "eu-central-1",
            "--out",
            str(tmp_path),
        ],
    )
    assert out.exit_code == 2
    lines = out.output.strip().splitlines()
    assert len(lines) == 1
    assert name in lines[0] and path in lines[0] and message in lines[0]


def test_not_json_and_wrong_shape_exit_2(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    out = CliRunner().invoke(
        main,
        [
            "pricing",
            "import",
            "--offer",
            str(broken),
            "--region",
            "eu-central-1",
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert out.exit_code == 2 and "broken.json: $: not valid JSON" in out.output
    with pytest.raises(PriceListError, match=r"x.json: \$.products: expected an object"):
        convert(
            [
                OfferFile(
                    "x.json",
                    {
                        "offerCode": "AmazonS3",
                        "publicationDate": "2026-01-01T00:00:00Z",
                        "products": [],
                        "terms": {"OnDemand": {}},
                    },
                )
            ],
            "eu-central-1",
            "2026.1.0",
        )


def test_unknown_unit_is_named():
    doc = json.loads((FIXTURES / "s3-euc1.json").read_text())
    dims = doc["terms"]["OnDemand"]["SPUT"]["SPUT.JRTCKXETXF"]["priceDimensions"]
    next(iter(dims.values()))["unit"] = "Furlongs"
    with pytest.raises(PriceListError, match="unknown unit 'Furlongs'"):
        convert([OfferFile("s3.json", doc)], "eu-central-1", "2026.1.0")


def _bedrock_offer(usagetypes_and_usd):
    products, terms = {}, {}
    for n, (usagetype, usd) in enumerate(usagetypes_and_usd):
        sku = f"SKU{n}"
        products[sku] = {
            "sku": sku,
            "productFamily": "Amazon Bedrock",
            "attributes": {"usagetype": usagetype, "regionCode": "us-east-1"},
        }
        terms[sku] = {
            f"{sku}.T": {
                "offerTermCode": "T",
                "sku": sku,
                "effectiveDate": "2026-11-01T00:00:00Z",
                "priceDimensions": {
                    f"{sku}.T.0": {
                        "rateCode": f"{sku}.T.0",
                        "description": usagetype,
                        "beginRange": "0",
                        "endRange": "Inf",
                        "unit": "1K tokens",
                        "pricePerUnit": {"USD": usd},
                    }
                },
            }
        }
    return {
        "formatVersion": "v1.0",
        "offerCode": "AmazonBedrock",
        "version": "20261101000000",
        "publicationDate": "2026-11-01T00:00:00Z",
        "products": products,
        "terms": {"OnDemand": terms},
    }


def test_bedrock_usagetypes_as_aws_spells_them():
    """AWS writes USE1-DeepSeek-R1-, USE1-Llama3-3-70B-, USE1-Llama3-1-405B- and
    USE1-TitanTextG1-Lite-<side>-tokens; $0.00135 per 1K tokens is $1.35 per 1M."""
    offer = _bedrock_offer(
        [
            ("USE1-DeepSeek-R1-input-tokens", "0.00135"),
            ("USE1-Llama3-3-70B-output-tokens", "0.00072"),
            ("USE1-Llama3-1-405B-input-tokens", "0.0024"),
            ("USE1-TitanTextG1-Lite-input-tokens", "0.00015"),
        ]
    )
    result = convert([OfferFile("bedrock.json", offer)], "us-east-1", "2026.12.0")
    entries = result.tables["bedrock"]["entries"]
    assert {i: e["tiers"][0]["usd"] for i, e in entries.items()} == {
        "bedrock.on_demand.deepseek.r1-v1:0.input_tokens": Decimal("1.35"),
        "bedrock.on_demand.meta.llama3-3-70b-instruct-v1:0.output_tokens": Decimal("0.72"),
        "bedrock.on_demand.meta.llama3-1-405b-instruct-v1:0.input_tokens": Decimal("2.4"),
        "bedrock.on_demand.amazon.titan-text-lite-v1.input_tokens": Decimal("0.15"),
    }


# --- the three Bedrock offers (tests/fixtures/price-list/README.md says where each figure is from)

BEDROCK_USE1 = [
    "bedrock-foundation-models-use1.json",
    "bedrock-service-use1.json",
    "bedrock-use1.json",
]


def test_the_three_bedrock_offers_map_to_costline_prices():
    """FoundationModels prices per 1M tokens (unit `Units` or `1M tokens`): Sonnet 4.6 regional
    3.30 / 16.50, global 3.00 / 15.00, cache read 0.33, 5-minute write 4.125, global 1-hour
    write 6.00; Sonnet 4.5 batch input 1.65; Jamba 1.5 Mini 0.20 / 0.40. Service and
    AmazonBedrock prices per 1K tokens × 1,000: Sonnet 4 long context 0.006 → 6.00 and
    0.0225 → 22.50, global 0.003 → 3.00; Nova Micro 0.000035 → 0.035, batch output 0.00007 →
    0.07, cache read 0.00000875 → 0.00875; DeepSeek-R1 0.00135 → 1.35."""
    result = convert(_offers(*BEDROCK_USE1), "us-east-1", "2026.12.0")
    got = {i: e["tiers"][0]["usd"] for i, e in result.tables["bedrock"]["entries"].items()}
    s46, s4 = "anthropic.claude-sonnet-4-6", "anthropic.claude-sonnet-4-20250514-v1:0"
    expected = {
        f"bedrock.on_demand.{s46}.input_tokens": "3.30",
        f"bedrock.on_demand.{s46}.output_tokens": "16.50",
        f"bedrock.global.{s46}.input_tokens": "3.00",
        f"bedrock.global.{s46}.output_tokens": "15.00",
        f"bedrock.on_demand.{s46}.cache_read_tokens": "0.33",
        f"bedrock.on_demand.{s46}.cache_write_tokens": "4.125",
        f"bedrock.global.{s46}.cache_write_1h_tokens": "6.00",
        "bedrock.batch.anthropic.claude-sonnet-4-5-20250929-v1:0.input_tokens": "1.65",
        "bedrock.on_demand.ai21.jamba-1-5-mini-v1:0.input_tokens": "0.20",
        "bedrock.on_demand.ai21.jamba-1-5-mini-v1:0.output_tokens": "0.40",
        f"bedrock.on_demand.{s4}.input_tokens_above_200k": "6.00",
        f"bedrock.on_demand.{s4}.output_tokens_above_200k": "22.50",
        f"bedrock.global.{s4}.input_tokens": "3.00",
        f"bedrock.global.{s4}.output_tokens_above_200k": "22.50",
        "bedrock.on_demand.amazon.nova-micro-v1:0.input_tokens": "0.035",
        "bedrock.batch.amazon.nova-micro-v1:0.output_tokens": "0.07",
        "bedrock.on_demand.amazon.nova-micro-v1:0.cache_read_tokens": "0.00875",
        "bedrock.on_demand.deepseek.r1-v1:0.input_tokens": "1.35",
        "bedrock.on_demand.deepseek.r1-v1:0.output_tokens": "5.40",
        "bedrock.on_demand.meta.llama3-3-70b-instruct-v1:0.input_tokens": "0.72",
    }
    assert got == {k: Decimal(v) for k, v in expected.items()}
    entry = result.tables["bedrock"]["entries"][f"bedrock.global.{s46}.input_tokens"]
    assert entry["attributes"]["model_name"] == "Claude Sonnet 4.6"  # from servicename
    assert entry["usagetype"] == "USE1-MP:USE1_InputTokenCount_Global-Units"
    assert sorted(line.split(" ")[0] for line in result.skipped) == [
        "USE1-MP:USE1_Reserved_1Month_InputTPM_Geo-Units",
        "USE1-NovaPro-input-tokens-priority",
    ]


@pytest.mark.parametrize(
    ("offer", "usagetype", "servicename", "price_id"),
    [
        (
            "AmazonBedrockFoundationModels",
            "MP:USE1_input_tokens_global_standard-Units",
            "Claude Opus 4.6 (Amazon Bedrock Edition)",
            "bedrock.global.anthropic.claude-opus-4-6-v1.input_tokens",
        ),
        (
            "AmazonBedrockFoundationModels",
            "MP:USE1_cache_write_tokens_1h_standard-Units",
            "Claude Opus 4.6 (Amazon Bedrock Edition)",
            "bedrock.on_demand.anthropic.claude-opus-4-6-v1.cache_write_1h_tokens",
        ),
        (
            "AmazonBedrockFoundationModels",
            "MP:USE1_MillionBatchInputTokens-Units",
            "Claude Haiku 4.5 (Amazon Bedrock Edition)",
            "bedrock.batch.anthropic.claude-haiku-4-5-20251001-v1:0.input_tokens",
        ),
        ("AmazonBedrockFoundationModels", "MP:USE1_InputTokenCount-Units", "Unknown Model", None),
        ("AmazonBedrockFoundationModels", "MP:USE1_InputTokenCount-Units", None, None),
        (
            "AmazonBedrockFoundationModels",
            "MP:USE1_InputTokenCount_Global_Batch-Units",
            "Claude Sonnet 4.5 (Amazon Bedrock Edition)",
            None,  # costline has no global-batch prices
        ),
        (
            "AmazonBedrockService",
            "Claude4Sonnet-input-tokens-cross-region-global-batch",
            None,
            None,
        ),
        ("AmazonBedrock", "NovaPro-input-tokens-latency-optimized", None, None),
        ("AmazonBedrock", "NovaMicro-cache-read-input-token-count-custom-model", None, None),
        (
            "AmazonBedrock",
            "Llama3-1-405B-output-tokens-batch",
            None,
            "bedrock.batch.meta.llama3-1-405b-instruct-v1:0.output_tokens",
        ),
    ],
)
def test_bedrock_usagetype_grammar(offer, usagetype, servicename, price_id):
    from costline.pricing.bedrock_usagetypes import parse_bedrock_usagetype

    usage = parse_bedrock_usagetype(offer, usagetype, servicename)
    assert (usage.price_id if usage else None) == price_id


# --- costline pricing update: AWS's endpoint played by a loopback server ------------------------


@pytest.fixture
def offer_server():
    """Serves tests/fixtures/price-list at AWS's paths on 127.0.0.1; 404 for any other offer."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    served = {
        "/offers/v1.0/aws/AmazonBedrock/current/us-east-1/index.json": "bedrock-use1.json",
        "/offers/v1.0/aws/AmazonBedrockFoundationModels/current/us-east-1/index.json": (
            "bedrock-foundation-models-use1.json"
        ),
        "/offers/v1.0/aws/AmazonBedrockService/current/us-east-1/index.json": (
            "bedrock-service-use1.json"
        ),
        "/offers/v1.0/aws/AWSLambda/current/us-east-1/index.json": "not-json",
    }
    requests = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            name = served.get(self.path)
            if name is None:
                self.send_error(404)
                return
            body = b"{ nope" if name == "not-json" else (FIXTURES / name).read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _update(tmp_path, endpoint, *codes):
    args = ["pricing", "update", "--region", "us-east-1", "--out", str(tmp_path / "tables")]
    args += ["--endpoint", endpoint]
    for code in codes:
        args += ["--offer-code", code]
    return CliRunner().invoke(main, args)


def test_update_downloads_the_offers_and_writes_tables_estimates_can_use(
    tmp_path, offer_server, monkeypatch
):
    endpoint, requests = offer_server
    codes = ("AmazonBedrock", "AmazonBedrockFoundationModels", "AmazonBedrockService", "AmazonS3")
    out = _update(tmp_path, endpoint, *codes)
    assert out.exit_code == 0, out.output
    assert sorted(requests) == sorted(
        f"/offers/v1.0/aws/{code}/current/us-east-1/index.json" for code in codes
    )
    assert "skipped" in out.stderr and "AmazonS3" in out.stderr  # 404: not offered, skipped
    tables = tmp_path / "tables"
    book = load_price_book("us-east-1", tables_dir=tables)
    assert book.version == "2026.11.0"  # from publicationDate 2026-11-20
    assert book.get("bedrock.global.anthropic.claude-sonnet-4-6.input_tokens").first_tier_usd == (
        Decimal("3")
    )
    # the imported tables price an estimate through --pricing-dir and COSTLINE_PRICING_DIR
    preview = REPO / "tests" / "fixtures" / "preview" / "reference-stack.preview.json"
    args = ["estimate", "--from-preview", str(preview), "--region", "us-east-1", "--format", "json"]
    for extra, env in (
        ([f"--pricing-dir={tables}"], {}),
        ([], {"COSTLINE_PRICING_DIR": str(tables)}),
    ):
        result = CliRunner().invoke(main, [*args, *extra], env=env)
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        assert report["pricing_version"] == "2026.11.0"
        model = next(r for r in report["resources"] if r["name"] == "model")
        # DeepSeek-R1 at the imported $1.35 / $5.40: 30,000 × 500 × (1.35 + 5.40) / 1M = $101.25
        assert Decimal(model["monthly_usd"]) == Decimal("101.25")


def test_update_fails_with_one_line_on_a_bad_answer(tmp_path, offer_server):
    endpoint, _ = offer_server
    out = _update(tmp_path, endpoint, "AWSLambda")
    assert out.exit_code == 2
    assert "AWSLambda/current/us-east-1/index.json: $: not valid JSON" in out.output
    out = _update(tmp_path, endpoint, "AmazonS3")
    assert out.exit_code == 2 and "none of the offers AmazonS3 exists for us-east-1" in out.output
    out = _update(tmp_path, "ftp://example.invalid", "AmazonBedrock")
    assert out.exit_code == 2 and "expected an http:// or https:// URL" in out.output
    assert not (tmp_path / "tables").exists()


def test_import_and_update_share_their_region_out_and_version_options():
    """Declared once: both commands document --region, --out and --version alike."""
    for command in ("import", "update"):
        result = CliRunner().invoke(main, ["pricing", command, "--help"])
        assert result.exit_code == 0, result.output
        text = " ".join(result.output.split())
        assert "--region TEXT Region code of the tables, e.g. eu-central-1. [required]" in text
        assert (
            "--out DIRECTORY Tables folder to write into (OUT/<region>/*.yaml); use it with "
            "--pricing-dir. [required]"
        ) in text
        assert (
            "--version TEXT Table version (YYYY.M.N; default: from the newest publicationDate)."
        ) in text
