"""Verdicts you can trust (issue #14): each case of the issue's "Why" that made a gate pass on
an estimate that was not whole, through a real entry point — ``costline check`` or the policy
pack over the gRPC Analyzer protocol — asserting the total, the verdict and the message.

Every figure is worked out by hand below from the list prices it names:
S3 GET $0.0004 / 1,000, PUT $0.005 / 1,000, Standard storage $0.023 / GB-month;
Lambda $0.20 / 1M requests and $0.0000166667 / GB-second (x86_64), free tier 1M requests and
400,000 GB-s a month; Claude Opus 4 (us-east-1) $15 / $75 per 1M input / output tokens;
Claude Opus 4.5 and 4.6 (eu-west-1) $5.50 / $27.50; WebSocket $1.00 / 1M messages and
$0.25 / 1M connection minutes; a 237 GB REST cache $3.80 / hour.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from costline.cli.main import main
from costline.core.values import UNKNOWN_NUMBER, UNKNOWN_STRING
from costline.engine import EngineResource, make_urn, secret
from tests.conftest import costline_on, preview_file

BUCKET = "aws:s3/bucket:Bucket"
LAMBDA = "aws:lambda/function:Function"
PROFILE = "aws:bedrock/inferenceProfile:InferenceProfile"
STAGE = "aws:apigateway/stage:Stage"
V2_API = "aws:apigatewayv2/api:Api"
PROVISIONED = "aws:bedrock/provisionedModelThroughput:ProvisionedModelThroughput"
AWS_PROVIDER = "pulumi:providers:aws"
SONNET_35 = "anthropic.claude-3-5-sonnet-20240620-v1:0"  # priced in us-east-1, not in eu-west-1


# --- the stacks ------------------------------------------------------------------------------
def bucket_12_07() -> tuple[str, str, dict]:
    """30,175,000 GETs × $0.0004 / 1,000 = $12.07 (and nothing stored or put)."""
    tags = {
        "cost:storage-gb": "0",
        "cost:monthly-get-requests": "30175000",
        "cost:monthly-put-requests": "0",
    }
    return BUCKET, "data", {"tags": tags}


def sonnet_profile() -> tuple[str, str, dict]:
    """100,000 requests × 1,000 input and 1,000 output tokens of Claude 3.5 Sonnet."""
    tags = {
        "cost:monthly-requests": "100000",
        "cost:input-tokens": "1000",
        "cost:output-tokens": "1000",
    }
    return PROFILE, "model", {"modelSource": {"copyFrom": SONNET_35}, "tags": tags}


def eu_provider() -> tuple[str, str, dict]:
    return AWS_PROVIDER, "default_eu", {"region": "eu-west-1"}


EU_SONNET = [eu_provider(), bucket_12_07(), sonnet_profile()]
EU_SONNET_GAP = f"model (no price for {SONNET_35} in eu-west-1)"
# fail-closed: the dearest model priced in eu-west-1 at 1,000 + 1,000 tokens is Claude Opus 4.5/4.6:
# 100,000 × 1,000 = 100M input tokens × $5.50/M = $550; 100M output tokens × $27.50/M = $2,750.
EU_SONNET_BOUNDED = "$3,312.07"  # $12.07 + $550 + $2,750
EU_SONNET_BOUND = (  # what the verdicts say the bounded total includes
    "1 resource priced at worst-case bounds: model (modelSource.copyFrom at its bound "
    "anthropic.claude-opus-4-6-v1)"
)
OPUS_4 = "anthropic.claude-opus-4-20250514-v1:0"  # the dearest model in us-east-1


def bounds(name: str, *whats: str) -> str:
    """How the verdicts name one resource priced at worst-case bounds."""
    return f"1 resource priced at worst-case bounds: {name} ({', '.join(whats)})"


def preview(tmp_path: Path, resources) -> Path:
    return preview_file(tmp_path, resources, project="verdicts")


def check(tmp_path: Path, resources, *args: str):
    return costline_on("check", preview(tmp_path, resources), *args)


def rendered(tmp_path: Path, resources, fmt: str, *args: str) -> str:
    """``costline estimate --format FMT`` of ``resources``' preview (exit 0 asserted)."""
    result = costline_on("estimate", preview(tmp_path, resources), "--format", fmt, *args)
    assert result.exit_code == 0, result.output
    return result.output


def estimate_json(tmp_path: Path, resources, *args: str) -> dict:
    return json.loads(rendered(tmp_path, resources, "json", *args))


def engine(resources) -> list[EngineResource]:
    return [
        EngineResource(urn=make_urn(type_, name), properties=inputs)
        for type_, name, inputs in resources
    ]


def gate(budget: int, fail_closed: bool) -> dict:
    return {
        "stack-budget": {"enforcementLevel": "mandatory", "monthlyBudgetUsd": budget},
        "usage-tags": {"failClosed": fail_closed},
    }


def stack_message(result) -> str:
    return next(v.message for v in result.by_policy("cost-estimate") if not v.urn)


# --- 1. a model with no price in the region ---------------------------------------------------
def test_check_says_an_estimate_with_an_unpriced_model_is_incomplete(tmp_path):
    result = check(tmp_path, EU_SONNET, "--budget", "100")
    assert result.exit_code == 0, result.output
    assert (
        "costline check passed, but the estimate is incomplete: $12.07/month + 1 resource not "
        f"fully priced: {EU_SONNET_GAP}, budget $100.00"
    ) in result.output


def test_the_json_report_lists_what_is_missing(tmp_path):
    result = costline_on("estimate", preview(tmp_path, EU_SONNET), "--format", "json")
    report = json.loads(result.output)
    assert report["total_monthly_usd"] == "12.07"
    assert report["complete"] is False
    assert report["incomplete_summary"] == f"1 resource not fully priced: {EU_SONNET_GAP}"
    (gap,) = report["incomplete"]
    assert gap["resource_name"] == "model"
    assert gap["what"] == f"no price for {SONNET_35} in eu-west-1"
    assert gap["code"] == "bedrock-model-unknown"


def test_check_fail_closed_prices_an_unpriced_model_at_the_dearest_in_the_region(tmp_path):
    result = check(tmp_path, EU_SONNET, "--budget", "100", "--fail-closed")
    assert result.exit_code == 1, result.output
    assert (
        f"costline check FAILED: {EU_SONNET_BOUNDED}/month, including {EU_SONNET_BOUND}, "
        "budget $100.00"
    ) in result.output
    assert "over the budget $100.00 by $3,212.07" in result.output


def test_the_pack_says_so_and_fails_closed_on_an_unpriced_model(pack):
    open_ = pack.run(engine(EU_SONNET), gate(100, fail_closed=False))
    assert not open_.mandatory
    assert (
        f"Stack total ~$12.07/month + 1 resource not fully priced: {EU_SONNET_GAP}"
        in stack_message(open_)
    )
    closed = pack.run(engine(EU_SONNET), gate(100, fail_closed=True))
    assert closed.mandatory
    (violation,) = closed.by_policy("stack-budget")
    assert (
        f"~{EU_SONNET_BOUNDED}/month, including {EU_SONNET_BOUND}, is over the budget $100.00 by "
        "$3,212.07" in violation.message
    )


# --- 2. usage missing in a preview: check --from-preview --------------------------------------
UNTAGGED_LAMBDA = [(LAMBDA, "fn", {})]
# fail-closed: 10,000,000 requests (documented worst case) at the 3 s default timeout, 128 MB:
# requests 9,000,000 above the free 1M × $0.20/M = $1.80; 10M × 3 s × 0.125 GB = 3,750,000 GB-s,
# 3,350,000 above the free 400,000 × $0.0000166667 = $55.833445; total $57.633445 → $57.63.


def test_check_from_preview_with_usage_missing_is_incomplete_and_fails_closed(tmp_path):
    result = check(tmp_path, UNTAGGED_LAMBDA, "--budget", "50")
    assert result.exit_code == 0, result.output
    assert (
        "passed, but the estimate is incomplete: $0.00/month + 1 resource not fully priced: "
        "fn (cost:monthly-requests missing)" in result.output
    )
    closed = check(tmp_path, UNTAGGED_LAMBDA, "--budget", "50", "--fail-closed")
    assert closed.exit_code == 1, closed.output
    bound = bounds(
        "fn",
        "cost:monthly-requests at its bound 10000000",
        "cost:avg-duration-ms at its bound 3000",
    )
    assert f"costline check FAILED: $57.63/month, including {bound}, budget $50.00" in (
        closed.output
    )


# --- 3. an unknown memorySize -----------------------------------------------------------------
UNKNOWN_MEMORY = [
    (
        LAMBDA,
        "fn",
        {
            "memorySize": UNKNOWN_NUMBER,
            "tags": {"cost:monthly-requests": "1000000", "cost:avg-duration-ms": "1000"},
        },
    )
]
# fail-closed: 10,240 MB (the AWS maximum): 1,000,000 × 1 s × 10 GB = 10,000,000 GB-s, 9,600,000
# above the free tier × $0.0000166667 = $160.00032; requests inside the free 1M → $160.00.
# Fail-open: 128 MB: 125,000 GB-s, inside the free tier → $0.00, incomplete.


def test_unknown_memory_is_incomplete_then_priced_at_the_largest_memory(pack):
    open_ = pack.run(engine(UNKNOWN_MEMORY), gate(50, fail_closed=False))
    assert not open_.mandatory
    assert (
        "Stack total ~$0.00/month + 1 resource not fully priced: fn (memorySize unknown)"
        in stack_message(open_)
    )
    closed = pack.run(engine(UNKNOWN_MEMORY), gate(50, fail_closed=True))
    (violation,) = closed.by_policy("stack-budget")
    assert violation.enforcement_level == "mandatory"
    bound = bounds("fn", "memorySize at its bound 10240 MB")
    assert f"~$160.00/month, including {bound}, is over the budget $50.00 by $110.00" in (
        violation.message
    )


# --- 4. an unknown model: modelSource.copyFrom unknown, or a model id with no price -----------
def tokens_profile(model_source, model_tag=None):
    tags = {
        "cost:monthly-requests": "10000",
        "cost:input-tokens": "1000",
        "cost:output-tokens": "1000",
    }
    if model_tag is not None:
        tags["cost:bedrock-model"] = model_tag
    props = {"tags": tags}
    if model_source is not None:
        props["modelSource"] = model_source
    return [(PROFILE, "model", props)]


# fail-closed, us-east-1: the dearest model at 1,000 + 1,000 tokens is Claude Opus 4: 10,000 × 1,000
# = 10M input tokens × $15/M = $150; 10M output tokens × $75/M = $750; total $900.00.
@pytest.mark.parametrize(
    ("resources", "gap", "field"),
    [
        (
            tokens_profile({"copyFrom": UNKNOWN_STRING}),
            "modelSource.copyFrom unknown",
            "modelSource.copyFrom",
        ),
        (tokens_profile(UNKNOWN_STRING), "modelSource unknown", "modelSource"),
        (
            tokens_profile(None, "anthropic.claude-3-haiku-2024037-v1:0"),  # a typo
            "no price for anthropic.claude-3-haiku-2024037-v1:0 in us-east-1",
            "cost:bedrock-model",
        ),
        (tokens_profile(None, UNKNOWN_STRING), "cost:bedrock-model unknown", "cost:bedrock-model"),
    ],
    ids=["copyFrom-unknown", "modelSource-unknown", "model-typo", "model-tag-unknown"],
)
def test_an_unknown_model_is_incomplete_then_priced_at_the_dearest_model(
    pack, resources, gap, field
):
    open_ = pack.run(engine(resources), gate(50, fail_closed=False))
    assert not open_.mandatory
    assert f"~$0.00/month + 1 resource not fully priced: model ({gap})" in stack_message(open_)
    closed = pack.run(engine(resources), gate(50, fail_closed=True))
    (violation,) = closed.by_policy("stack-budget")
    assert violation.enforcement_level == "mandatory"
    bound = bounds("model", f"{field} at its bound {OPUS_4}")
    assert f"~$900.00/month, including {bound}, is over the budget $50.00 by $850.00" in (
        violation.message
    )


# --- 5. deleted S3 request tags, a WebSocket API with no tags, unknown cache settings ---------
@pytest.mark.parametrize(
    ("resources", "gap_open", "bounded", "bound"),
    [
        # 40 GB × $0.023 = $0.92; fail-closed adds 10M GETs × $0.0004/1,000 = $4.00 and
        # 1M PUTs × $0.005/1,000 = $5.00: $9.92.
        (
            [(BUCKET, "data", {"tags": {"cost:storage-gb": "40"}})],
            "data (cost:monthly-put-requests missing, cost:monthly-get-requests missing)",
            "$9.92",
            bounds(
                "data",
                "cost:monthly-put-requests at its bound 1000000",
                "cost:monthly-get-requests at its bound 10000000",
            ),
        ),
        # 10M messages × $1.00/M = $10.00 and 10M connection minutes × $0.25/M = $2.50.
        (
            [(V2_API, "ws", {"protocolType": "WEBSOCKET"})],
            "ws (cost:monthly-messages missing, cost:monthly-connection-minutes missing)",
            "$12.50",
            bounds(
                "ws",
                "cost:monthly-messages at its bound 10000000",
                "cost:monthly-connection-minutes at its bound 10000000",
            ),
        ),
        # the largest cache (237 GB) at $3.80 an hour × 730 hours = $2,774.00.
        (
            [
                (
                    STAGE,
                    "dev",
                    {"cacheClusterEnabled": UNKNOWN_STRING, "cacheClusterSize": UNKNOWN_STRING},
                )
            ],
            "dev (cacheClusterEnabled unknown)",
            "$2,774.00",
            bounds(
                "dev", "cacheClusterEnabled at its bound true", "cacheClusterSize at its bound 237"
            ),
        ),
    ],
    ids=["s3-request-tags-deleted", "websocket-untagged", "stage-cache-unknown"],
)
def test_usage_and_settings_take_their_documented_bounds(pack, resources, gap_open, bounded, bound):
    open_ = pack.run(engine(resources), gate(5, fail_closed=False))
    assert f"+ 1 resource not fully priced: {gap_open}" in stack_message(open_)
    closed = pack.run(engine(resources), gate(5, fail_closed=True))
    (violation,) = closed.by_policy("stack-budget")
    assert violation.enforcement_level == "mandatory"
    assert f"~{bounded}/month, including {bound}, is over the budget $5.00" in violation.message


def test_an_unknown_provisioned_model_is_priced_at_the_dearest_one(pack):
    """Fail-closed: Titan Text Express, the dearest provisioned model in us-east-1 with no
    commitment, $20.50 per model unit-hour × 730 hours = $14,965.00."""
    resources = [(PROVISIONED, "pt", {"modelUnits": 1, "modelArn": UNKNOWN_STRING})]
    open_ = pack.run(engine(resources), gate(1000, fail_closed=False))
    assert "+ 1 resource not fully priced: pt (modelArn unknown)" in stack_message(open_)
    closed = pack.run(engine(resources), gate(1000, fail_closed=True))
    (violation,) = closed.by_policy("stack-budget")
    bound = bounds("pt", "modelArn at its bound amazon.titan-text-express-v1")
    assert (
        f"~$14,965.00/month, including {bound}, is over the budget $1,000.00 by $13,965.00"
    ) in violation.message


# --- 6. no bound: the gate fails, naming the resource and what is missing ---------------------
@pytest.mark.parametrize(
    ("resources", "gap"),
    [
        (
            [
                (
                    PROVISIONED,
                    "pt",
                    {
                        "modelUnits": UNKNOWN_NUMBER,
                        "modelArn": "amazon.titan-text-express-v1",
                    },
                )
            ],
            "pt (modelUnits unknown)",
        ),
        (
            [("aws:ec2/instance:Instance", "vm", {"tags": {"cost:monthly-requests": "1000"}})],
            "vm (aws:ec2/instance:Instance not priced by costline)",
        ),
    ],
    ids=["pt-model-units-unknown", "cost-tags-on-unpriced-type"],
)
def test_a_gap_with_no_bound_fails_closed(tmp_path, pack, resources, gap):
    closed = pack.run(engine(resources), gate(100000, fail_closed=True))
    assert closed.mandatory
    (violation,) = closed.by_policy("stack-budget")
    assert (
        f"1 resource not fully priced: {gap}: failClosed cannot check the budget $100,000.00"
        in (violation.message)
    )
    result = check(tmp_path, resources, "--budget", "100000", "--fail-closed")
    assert result.exit_code == 1, result.output
    assert "costline check FAILED" in result.output
    name, whats = gap.split(" (", 1)
    assert f"{name}: {whats[:-1]}, with no worst-case bound" in result.output
    passed = check(tmp_path, resources, "--budget", "100000")
    assert passed.exit_code == 0 and "but the estimate is incomplete" in passed.output


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({}, "no price tables for region"),
        ({"cost-estimate": {"priceOverrides": ["/nonexistent/overrides.yaml"]}}, "overrides.yaml"),
    ],
    ids=["region-without-tables", "broken-price-overrides"],
)
def test_an_estimate_that_cannot_be_made_fails_closed(pack, config, problem):
    resources = (
        engine([(AWS_PROVIDER, "default_ca", {"region": "ca-central-1"})])
        if not config
        else engine([bucket_12_07()])
    )
    open_ = pack.run(resources, {**gate(50, fail_closed=False), **config})
    assert not open_.mandatory
    closed = pack.run(resources, {**gate(50, fail_closed=True), **config})
    assert closed.mandatory
    (violation,) = closed.by_policy("stack-budget")
    assert "costline could not run policy stack-budget" in violation.message
    assert problem in violation.message
    assert "failClosed: the gate fails" in violation.message


# --- 7. tokens with no model ------------------------------------------------------------------
def test_a_lambda_with_tokens_but_no_model_says_the_model_is_missing(pack):
    fn = (
        LAMBDA,
        "fn",
        {
            "environment": {
                "variables": {
                    "PROFILE_ARN": "arn:aws:bedrock:us-east-1:1:application-inference-profile/gone"
                }
            },
            "tags": {
                "cost:monthly-requests": "10000",
                "cost:avg-duration-ms": "100",
                "cost:input-tokens": "1000",
                "cost:output-tokens": "1000",
            },
        },
    )
    open_ = pack.run(engine([fn]), gate(50, fail_closed=False))
    assert "+ 1 resource not fully priced: fn (cost:bedrock-model missing)" in stack_message(open_)
    usage = [v.message for v in open_.by_policy("usage-tags")]
    assert any("no cost:bedrock-model tag" in m for m in usage)
    closed = pack.run(engine([fn]), gate(50, fail_closed=True))
    (violation,) = closed.by_policy("stack-budget")
    # $900.00 of Claude Opus 4 tokens (as above); Lambda inside the free tier.
    bound = bounds("fn", f"cost:bedrock-model at its bound {OPUS_4}")
    assert f"~$900.00/month, including {bound}, is over the budget $50.00 by $850.00" in (
        violation.message
    )


# --- secrets ----------------------------------------------------------------------------------
def test_a_secret_model_id_is_never_printed_in_the_completeness_line(pack):
    hidden = "anthropic.claude-hidden-model-v9:0"
    resources = [
        EngineResource(
            urn=make_urn(PROFILE, "model"),
            properties={
                "tags": {
                    "cost:monthly-requests": "1000",
                    "cost:input-tokens": "10",
                    "cost:output-tokens": "10",
                    "cost:bedrock-model": secret(hidden),
                }
            },
        )
    ]
    result = pack.run(resources, gate(50, fail_closed=False))
    assert "1 resource not fully priced: model (no price for [secret] in us-east-1)" in (
        stack_message(result)
    )
    assert all(hidden not in v.message for v in result.violations)


# --- config typos -----------------------------------------------------------------------------
def test_a_config_typo_is_a_violation_naming_the_closest_key(pack):
    """`monthlyBudgetUSD` is not `monthlyBudgetUsd`: the engine passes unknown keys through, so
    the budget would silently not exist; the pack reports it at the policy's level."""
    result = pack.run(
        engine([bucket_12_07()]),
        {"stack-budget": {"enforcementLevel": "mandatory", "monthlyBudgetUSD": 10}},
    )
    assert result.mandatory
    (violation,) = result.by_policy("stack-budget")
    assert violation.enforcement_level == "mandatory"
    assert (
        "stack-budget: unknown config key 'monthlyBudgetUSD'; did you mean monthlyBudgetUsd? "
        "(valid keys: monthlyBudgetUsd, warnAtPercent)"
    ) in violation.message


@pytest.mark.parametrize(
    ("policy", "key", "closest"),
    [
        ("usage-tags", "failClose", "failClosed"),
        ("resource-budget", "maxMonthlyUSD", "maxMonthlyUsd"),
        ("cost-estimate", "priceOverride", "priceOverrides"),
        ("lambda-worst-case", "maxMultipleOfExpectd", "maxMultipleOfExpected"),
    ],
)
def test_every_policy_names_its_closest_key(pack, policy, key, closest):
    result = pack.run(engine([bucket_12_07()]), {policy: {"enforcementLevel": "advisory", key: 1}})
    messages = [v.message for v in result.by_policy(policy)]
    assert any(f"unknown config key {key!r}; did you mean {closest}?" in m for m in messages)


def test_a_correct_config_reports_nothing_about_config(pack):
    result = pack.run(
        engine([bucket_12_07()]),
        {"stack-budget": {"monthlyBudgetUsd": 100, "warnAtPercent": 90}, "all": "mandatory"},
    )
    assert not any("config" in v.message for v in result.violations)
    assert not result.mandatory


def test_a_wrong_type_is_a_violation_when_the_engine_lets_it_through():
    """The engine rejects a wrong type against the schema before the pack runs (as `costline
    preview` does); a config that reaches the pack anyway is still checked."""
    from costline.policy.config import config_problems

    assert config_problems("stack-budget", {"monthlyBudgetUsd": "fifty"}) == [
        "stack-budget: config monthlyBudgetUsd: 'fifty' is not of type 'number'"
    ]
    assert config_problems("stack-budget", {"monthlyBudgetUsd": 50}) == []


def test_costline_preview_accepts_unknown_policy_names_with_a_level_as_the_engine_does(tmp_path):
    """The engine passes a name that is no policy of the pack on to it (the SDK ignores it);
    only a name with no enforcement level cannot be marshalled (the engine fails)."""
    config = tmp_path / "policy.json"
    config.write_text(json.dumps({"no-such-policy": "mandatory", "all": "advisory"}))
    result = CliRunner().invoke(main, ["preview", "--policy-pack-config", str(config)])
    assert result.exit_code == 0, result.output
    assert "Stack total ~$102.29/month" in result.output


# --- the current folder is the default program ------------------------------------------------
REPO = Path(__file__).resolve().parents[1]


def test_check_in_a_project_folder_checks_that_folder_not_the_reference_stack(
    tmp_path, monkeypatch
):
    """A project whose artifacts bucket stores 140 GB instead of the reference stack's 40:
    100 GB × $0.023 = $2.30 more than the reference stack's $102.29, so $104.59."""
    import shutil

    project = tmp_path / "project"
    shutil.copytree(
        REPO / "program", project / "program", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(REPO / "Pulumi.yaml", project / "Pulumi.yaml")
    config = (
        (REPO / "Pulumi.dev.yaml")
        .read_text()
        .replace("artifactStorageGb: 40", "artifactStorageGb: 140")
    )
    assert "artifactStorageGb: 140" in config
    (project / "Pulumi.dev.yaml").write_text(config)
    monkeypatch.chdir(project)
    fast = ["--what-if", "none", "--no-recommendations"]
    here = CliRunner().invoke(main, ["check", "--budget", "103", *fast])
    assert here.exit_code == 1, here.output
    assert "costline check FAILED: $104.59/month, budget $103.00" in here.output
    assert "over the budget $103.00 by $1.59" in here.output
    reference = CliRunner().invoke(main, ["check", "--budget", "103", "--reference", *fast])
    assert reference.exit_code == 0, reference.output
    assert "costline check passed with a warning: $102.29/month, budget $103.00" in reference.output


def test_a_folder_without_a_project_needs_a_program_or_reference(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "--budget", "50"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert (
        f"costline: error: no Pulumi.yaml in the current folder ({tmp_path}): give PROGRAM_DIR, "
        "--from-preview FILE, or --reference for the bundled reference stack"
    ) in result.stderr
    both = CliRunner().invoke(main, ["estimate", "--reference", str(tmp_path)])
    assert both.exit_code == 2
    assert "give --reference alone" in both.stderr
