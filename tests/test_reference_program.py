"""The bundled reference stack, run under Pulumi's mocks through ``run_program``.

Each mock run costs 1–2 s (a subprocess importing pulumi and pulumi_aws), so this module makes
three: the dev stack as configured (shared by most tests), one with config overrides, one with
bad config. Pure helpers of the program (config → tags, model → source, the Lambda handler)
are tested directly, without Pulumi.
"""

from __future__ import annotations

import importlib.util
import io
import json
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from costline.core.values import UNKNOWN
from costline.readers import ProgramError, read_preview
from costline.readers.mocks import bundled_project_dir, mock_run, run_program
from costline.readers.region import detect_region

REPO = Path(__file__).resolve().parents[1]
PROGRAM = REPO / "program"
PREVIEW_FIXTURE = REPO / "tests" / "fixtures" / "preview" / "reference-stack.preview.json"

LAMBDA = "aws:lambda/function:Function"
REST_API = "aws:apigateway/restApi:RestApi"
STAGE = "aws:apigateway/stage:Stage"
INTEGRATION = "aws:apigateway/integration:Integration"
PROFILE = "aws:bedrock/inferenceProfile:InferenceProfile"
BUCKET = "aws:s3/bucket:Bucket"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
DEEPSEEK_PROFILE_ARN = (
    "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.deepseek.r1-v1:0"
)


def _load(name: str, path: Path):
    """Import one of the program's modules by path, under a name that cannot clash."""
    spec = importlib.util.spec_from_file_location(f"costline_reference_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    writes_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # keep program/ clean
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = writes_bytecode
    return module


usage = _load("usage", PROGRAM / "usage.py")
model_source = _load("model_source", PROGRAM / "model_source.py")
app = _load("handler_app", PROGRAM / "handler" / "app.py")


def cost_tags(resource) -> dict[str, str]:
    return {
        k: v for k, v in (resource.properties.get("tags") or {}).items() if k.startswith("cost:")
    }


class Stack:
    """A mock run indexed by type and logical name."""

    def __init__(self, run):
        self.run = run
        self.resources = list(run.resources)
        self.by_name = {r.name: r for r in self.resources}

    def one(self, type_token):
        (found,) = [r for r in self.resources if r.type == type_token]
        return found


@pytest.fixture(scope="module")
def dev():
    return Stack(mock_run())


@pytest.fixture(scope="module")
def overridden():
    return Stack(
        mock_run(
            config={
                "developers": "25",
                "callsPerDeveloperPerDay": "40",
                "daysPerMonth": "22",
                "lambdaArchitecture": "arm64",
                "lambdaMemoryMb": "1024",
                "bedrockModelId": "anthropic.claude-3-haiku-20240307-v1:0",
                "artifactReadsPerCall": "0",
            }
        )
    )


# --- the registered stack -------------------------------------------------------------------------
def test_the_stack_declares_the_seed_architecture(dev):
    types = {r.type for r in dev.resources}
    assert {
        "pulumi:pulumi:Stack",
        "pulumi:providers:aws",
        "aws:iam/role:Role",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        ROLE_POLICY,
        LAMBDA,
        REST_API,
        "aws:apigateway/resource:Resource",
        "aws:apigateway/method:Method",
        INTEGRATION,
        "aws:apigateway/deployment:Deployment",
        STAGE,
        "aws:lambda/permission:Permission",
        PROFILE,
        BUCKET,
        "aws:s3/bucketVersioning:BucketVersioning",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    } == types
    assert len(dev.resources) == 17
    # dependency order: the stack, then its default provider, then resources after what they use
    assert [r.type for r in dev.resources[:2]] == ["pulumi:pulumi:Stack", "pulumi:providers:aws"]
    position = {r.urn: i for i, r in enumerate(dev.resources)}
    for resource in dev.resources:
        assert all(position[dep] < position[resource.urn] for dep in resource.dependencies)


def test_urns_are_the_engines_and_everything_hangs_off_the_stack(dev):
    stack = dev.one("pulumi:pulumi:Stack")
    assert (
        stack.urn
        == "urn:pulumi:dev::costline-reference::pulumi:pulumi:Stack::costline-reference-dev"
    )
    fn = dev.one(LAMBDA)
    assert fn.urn == "urn:pulumi:dev::costline-reference::aws:lambda/function:Function::api-handler"
    assert fn.parent == stack.urn
    provider = dev.one("pulumi:providers:aws")
    assert provider.name == "default_7_51_1"
    assert provider.properties == {"region": "us-east-1", "version": "7.51.1"}
    assert detect_region(dev.resources) == "us-east-1"


def test_lambda_inputs_are_camel_case_wire_names(dev):
    fn = dev.one(LAMBDA).properties
    assert fn["memorySize"] == 512 and isinstance(fn["memorySize"], int)
    assert fn["timeout"] == 30
    assert fn["architectures"] == ["x86_64"]
    assert fn["runtime"] == "python3.12"
    assert fn["handler"] == "app.handler"
    assert "memory_size" not in fn
    variables = fn["environment"]["variables"]
    assert variables["BEDROCK_MODEL_ID"] == dev.run.outputs["modelArn"]
    assert variables["ARTIFACT_BUCKET"] == dev.run.outputs["artifactBucket"]
    assert "API_KEY" not in variables  # apiKey is not configured for dev


def test_tags_are_computed_from_config(dev):
    daily = {"cost:daily-requests": "1000"}
    model = {
        "cost:bedrock-model": "deepseek.r1-v1:0",
        "cost:input-tokens": "500",
        "cost:output-tokens": "500",
    }
    assert cost_tags(dev.one(REST_API)) == daily
    assert cost_tags(dev.one(STAGE)) == daily
    assert cost_tags(dev.one(LAMBDA)) == {**daily, "cost:avg-duration-ms": "1000", **model}
    assert cost_tags(dev.one(PROFILE)) == {**daily, **model}
    assert cost_tags(dev.one(BUCKET)) == {
        "cost:storage-gb": "40",
        "cost:monthly-get-requests": "30000",
        "cost:monthly-put-requests": "100",
    }
    for resource in (
        dev.one(REST_API),
        dev.one(LAMBDA),
        dev.one(BUCKET),
        dev.one("aws:iam/role:Role"),
    ):
        tags = resource.properties["tags"]
        assert (tags["project"], tags["owner"], tags["stack"]) == (
            "costline-reference",
            "platform-team",
            "dev",
        )


def test_api_integration_is_a_lambda_proxy(dev):
    integration = dev.one(INTEGRATION)
    assert integration.properties["type"] == "AWS_PROXY"
    assert integration.properties["integrationHttpMethod"] == "POST"
    assert integration.properties["uri"].endswith(":function:api-handler-738dd97/invocations")
    assert dev.one("aws:apigateway/method:Method").properties["httpMethod"] == "ANY"
    assert dev.one("aws:apigateway/resource:Resource").properties["pathPart"] == "{proxy+}"
    assert dev.one(STAGE).properties["stageName"] == "dev"
    api_id = dev.one(STAGE).properties["restApi"]
    assert dev.run.outputs["apiUrl"] == f"https://{api_id}.execute-api.us-east-1.amazonaws.com/dev"


def test_the_profile_copies_the_us_cross_region_deepseek_profile(dev):
    profile = dev.one(PROFILE)
    assert profile.properties["modelSource"] == {"copyFrom": DEEPSEEK_PROFILE_ARN}
    policy = json.loads(dev.one(ROLE_POLICY).properties["policy"])
    invoke = next(s for s in policy["Statement"] if s["Sid"] == "InvokeModel")
    assert "bedrock:InvokeModel" in invoke["Action"]
    assert invoke["Resource"] == [
        dev.run.outputs["modelArn"],
        DEEPSEEK_PROFILE_ARN,
        "arn:aws:bedrock:*::foundation-model/deepseek.r1-v1:0",
    ]


def test_dependencies_link_api_to_lambda_to_model_and_bucket(dev):
    fn, profile, bucket = dev.one(LAMBDA), dev.one(PROFILE), dev.one(BUCKET)
    integration, stage, api = dev.one(INTEGRATION), dev.one(STAGE), dev.one(REST_API)
    assert integration.property_dependencies["uri"] == (fn.urn,)
    assert fn.urn in integration.dependencies
    assert set(fn.property_dependencies["environment"]) == {profile.urn, bucket.urn}
    assert {profile.urn, bucket.urn} <= set(fn.dependencies)
    assert set(dev.one(ROLE_POLICY).property_dependencies["policy"]) == {profile.urn, bucket.urn}
    assert stage.property_dependencies["restApi"] == (api.urn,)
    permission = dev.one("aws:lambda/permission:Permission")
    assert permission.property_dependencies["function"] == (fn.urn,)


def test_stack_outputs_are_exported(dev):
    assert set(dev.run.outputs) == {
        "apiUrl",
        "modelArn",
        "artifactBucket",
        "expectedMonthlyRequests",
    }
    assert dev.run.outputs["expectedMonthlyRequests"] == "30000"
    assert dev.run.diagnostics == ()


def test_the_preview_fixture_matches_the_program(dev):
    """tests/fixtures/preview was written from this program: same resources, same cost tags."""
    preview = {r.urn: r for r in read_preview(PREVIEW_FIXTURE)}
    assert set(preview) == {r.urn for r in dev.resources}
    for resource in dev.resources:
        assert preview[resource.urn].type == resource.type
        assert cost_tags(preview[resource.urn]) == cost_tags(resource), resource.name
    assert (
        preview[dev.one(LAMBDA).urn].properties["environment"]["variables"]["BEDROCK_MODEL_ID"]
        is UNKNOWN
    )


# --- config overrides and bad config --------------------------------------------------------------
def test_config_overrides_change_the_tags(overridden):
    daily = {"cost:daily-requests": "1000", "cost:days-per-month": "22"}  # 25 × 40
    assert cost_tags(overridden.one(STAGE)) == daily
    fn = overridden.one(LAMBDA)
    assert cost_tags(fn)["cost:daily-requests"] == "1000"
    assert cost_tags(fn)["cost:bedrock-model"] == "anthropic.claude-3-haiku-20240307-v1:0"
    assert fn.properties["architectures"] == ["arm64"]
    assert fn.properties["memorySize"] == 1024
    # an in-region model: the profile copies its foundation-model ARN
    assert (
        overridden.one(PROFILE).properties["modelSource"]["copyFrom"]
        == "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
    )
    assert cost_tags(overridden.one(BUCKET))["cost:monthly-get-requests"] == "0"
    assert overridden.run.config["costline-reference:developers"] == "25"


def test_bad_config_is_a_one_line_program_error():
    with pytest.raises(ProgramError) as caught:
        run_program(
            bundled_project_dir(),
            config={"developers": "-3", "lambdaAvgDurationMs": "ten", "artifactStorageGb": "0"},
        )
    message = str(caught.value)
    assert "\n" not in message
    assert "ConfigError: invalid stack config" in message
    assert "costline-reference:developers must be greater than zero, got '-3'" in message
    assert "costline-reference:lambdaAvgDurationMs must be a positive number, got 'ten'" in message
    assert "costline-reference:artifactStorageGb must be greater than zero, got '0'" in message
    assert "(__main__.py:" in message or "(usage.py:" in message
    assert "Traceback" in caught.value.stderr_tail


def test_an_unknown_stack_names_the_stacks_there():
    with pytest.raises(ProgramError, match=r"no Pulumi.prod.yaml .*stacks found: dev"):
        run_program(stack="prod")


# --- the program's pure parts ---------------------------------------------------------------------
SEED = {
    "developers": "10",
    "callsPerDeveloperPerDay": "100",
    "inputTokensPerCall": "500",
    "outputTokensPerCall": "500",
    "bedrockModelId": "deepseek.r1-v1:0",
    "lambdaAvgDurationMs": "1000",
    "artifactStorageGb": "40",
}


def test_settings_defaults_and_derived_figures():
    settings = usage.settings_from_mapping(SEED)
    assert settings.daily_requests == Decimal(1000)
    assert settings.monthly_requests == Decimal(30000)
    assert (settings.lambda_memory_mb, settings.lambda_timeout_s, settings.lambda_architecture) == (
        512,
        30,
        "x86_64",
    )
    assert "cost:days-per-month" not in settings.traffic_tags()


@pytest.mark.parametrize(
    "key, value, expected",
    [
        ("developers", "2.5", "developers must be a whole number, got '2.5'"),
        (
            "callsPerDeveloperPerDay",
            "1e3",
            "callsPerDeveloperPerDay must be a positive number, got '1e3'",
        ),
        (
            "callsPerDeveloperPerDay",
            "1,000",
            "callsPerDeveloperPerDay must be a positive number, got '1,000'",
        ),
        ("lambdaMemoryMb", "64", "lambdaMemoryMb must be between 128 and 10240, got '64'"),
        ("lambdaArchitecture", "arm", "lambdaArchitecture must be one of x86_64, arm64, got 'arm'"),
        (
            "lambdaAvgDurationMs",
            "45000",
            "lambdaAvgDurationMs is 45000 ms, longer than the 30 s timeout",
        ),
        ("daysPerMonth", "40", "daysPerMonth must be between 1 and 31, got '40'"),
        ("bedrockModelId", " ", "bedrockModelId is not set"),
    ],
)
def test_invalid_settings_name_the_key(key, value, expected):
    with pytest.raises(
        usage.ConfigError, match="costline-reference:" + expected.replace("(", r"\(")
    ):
        usage.settings_from_mapping({**SEED, key: value})


def test_missing_settings_are_all_reported_at_once():
    with pytest.raises(usage.ConfigError) as caught:
        usage.settings_from_mapping({})
    assert str(caught.value).count("is not set") == 7


def test_fractional_figures_are_plain_decimals():
    settings = usage.settings_from_mapping(
        {**SEED, "developers": "3", "callsPerDeveloperPerDay": "2.5"}
    )
    assert settings.traffic_tags() == {"cost:daily-requests": "7.5"}
    assert settings.bucket_tags()["cost:monthly-get-requests"] == "225"


@pytest.mark.parametrize(
    "model, region, override, copy_from",
    [
        (
            "deepseek.r1-v1:0",
            "us-east-1",
            None,
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.deepseek.r1-v1:0",
        ),
        (
            "deepseek.r1-v1:0",
            "us-west-2",
            None,
            "arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.deepseek.r1-v1:0",
        ),
        (
            "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
            "us-east-1",
            None,
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-7-sonnet-20250219-v1:0",
        ),
        (
            "amazon.nova-pro-v1:0",
            "eu-west-1",
            "eu.amazon.nova-pro-v1:0",
            "arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.amazon.nova-pro-v1:0",
        ),
        (
            "anthropic.claude-3-haiku-20240307-v1:0",
            "us-east-1",
            None,
            "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
        ),
    ],
)
def test_model_source(model, region, override, copy_from):
    source = model_source.resolve(model, region, override)
    assert (
        source.copy_from_arn(partition="aws", region=region, account_id="123456789012") == copy_from
    )


def test_geo_prefixes():
    assert [
        model_source.geo_prefix(r)
        for r in ("us-east-1", "eu-central-1", "ap-south-1", "us-gov-west-1")
    ] == ["us", "eu", "apac", "us-gov"]


# --- the Lambda handler ---------------------------------------------------------------------------
class FakeS3:
    class exceptions:
        class NoSuchKey(Exception):
            pass

    def __init__(self, text: str | None):
        self.text, self.calls = text, 0

    def get_object(self, Bucket, Key):
        self.calls += 1
        if self.text is None:
            raise self.exceptions.NoSuchKey(Key)
        return {"Body": io.BytesIO(self.text.encode())}


class FakeBedrock:
    def __init__(self):
        self.requests = []

    def converse(self, **request):
        self.requests.append(request)
        return {
            "output": {
                "message": {
                    "content": [
                        {"reasoningContent": {"reasoningText": {"text": "hmm"}}},
                        {"text": "Paris."},
                    ]
                }
            },
            "stopReason": "end_turn",
            "usage": {"inputTokens": 12, "outputTokens": 34},
        }


@pytest.fixture()
def clients(monkeypatch):
    s3, bedrock = FakeS3("Answer briefly."), FakeBedrock()
    monkeypatch.setattr(app, "_clients", {"s3": s3, "bedrock-runtime": bedrock})
    monkeypatch.setenv(
        "BEDROCK_MODEL_ID", "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/p"
    )
    monkeypatch.setenv("ARTIFACT_BUCKET", "artifacts")
    monkeypatch.delenv("API_KEY", raising=False)
    return s3, bedrock


def test_handler_reads_the_prompt_once_and_calls_converse(clients):
    s3, bedrock = clients
    reply = app.handler({"body": json.dumps({"prompt": "Capital of France?"})}, None)
    assert reply["statusCode"] == 200
    assert json.loads(reply["body"]) == {
        "completion": "Paris.",
        "stopReason": "end_turn",
        "usage": {"inputTokens": 12, "outputTokens": 34},
    }
    (request,) = bedrock.requests
    assert request["modelId"].endswith("application-inference-profile/p")
    assert request["system"] == [{"text": "Answer briefly."}]
    assert s3.calls == 1


def test_handler_rejects_bad_requests_and_wrong_keys(clients, monkeypatch):
    assert app.handler({"body": "not json"}, None)["statusCode"] == 400
    assert app.handler({"body": json.dumps({"prompt": ""})}, None)["statusCode"] == 400
    monkeypatch.setenv("API_KEY", "s3cret")
    assert app.handler({"body": json.dumps({"prompt": "hi"})}, None)["statusCode"] == 401
    ok = app.handler(
        {"body": json.dumps({"prompt": "hi"}), "headers": {"X-Api-Key": "s3cret"}}, None
    )
    assert ok["statusCode"] == 200
