"""Bad input, case by case: every row says exactly what costline must answer.

A cost policy runs in every ``pulumi preview`` of a team; if it raises, hangs or floods the
terminal it gets removed. So each bad resource below goes through the real policy pack over the
gRPC harness (one pack process for the module; each ``run`` reconfigures it, as a new preview
would) *and* through the estimator core, and both answers are pinned: the finding's code, the
resource and the field, and the violation that carries it (policy, URN, message). Every pack run
also checks the invariants no input may break (:func:`assert_healthy`).

Bad files (preview JSON, price tables and override files, policy config) go through the CLI and
must end with exit 2 and one line on stderr naming the file and the field; bad policy config goes
through the harness as the engine would validate it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from costline.cli.main import main
from costline.core.model import Resource, ResourceStatus, UsageSource
from costline.core.paths import data_dir
from costline.core.values import UNKNOWN_NUMBER, UNKNOWN_STRING
from costline.engine import (
    UNKNOWN_ARRAY,
    UNKNOWN_BOOL,
    UNKNOWN_OBJECT,
    EngineResource,
    HarnessConfigError,
    PolicyPackProcess,
    RunResult,
    make_urn,
    secret,
)
from costline.estimator.pipeline import estimate
from costline.pricing import PricingError, load_price_book
from costline.testing.stacks import services_stack
from tests.conftest import ResourceLines

PACK = data_dir("policypack")
LAMBDA = "aws:lambda/function:Function"
BUCKET = "aws:s3/bucket:Bucket"
PROFILE = "aws:bedrock/inferenceProfile:InferenceProfile"
STAGE = "aws:apigateway/stage:Stage"
HTTP_API = "aws:apigatewayv2/api:Api"
PROVISIONED = "aws:bedrock/provisionedModelThroughput:ProvisionedModelThroughput"
CUSTOM_MODEL = "aws:bedrock/customModel:CustomModel"
CONCURRENCY = "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig"
TRAFFIC = {"cost:monthly-requests": "1000", "cost:avg-duration-ms": "100"}
TOKENS = {"cost:monthly-requests": "1000", "cost:input-tokens": "10", "cost:output-tokens": "10"}
MAX_MESSAGE_CHARS = 2_000


@pytest.fixture(scope="module")
def pack():
    with PolicyPackProcess(PACK) as process:
        yield ResourceLines(process)  # tests read resources' cost lines


# --- building resources -----------------------------------------------------------------------
def res(type_token: str, name: str, **properties: Any) -> EngineResource:
    return EngineResource(urn=make_urn(type_token, name), properties=properties)


def fn(tags: Any = None, **properties: Any) -> EngineResource:
    """A Lambda ``fn`` with valid traffic unless ``tags`` says otherwise."""
    return res(LAMBDA, "fn", tags=TRAFFIC if tags is None else tags, **properties)


def requests(value: Any) -> EngineResource:
    """A Lambda whose ``cost:monthly-requests`` tag is ``value``."""
    return res(LAMBDA, "fn", tags={"cost:monthly-requests": value, "cost:avg-duration-ms": "100"})


def as_resource(r: EngineResource) -> Resource:
    return Resource.from_engine(
        urn=r.urn,
        type=r.type,
        name=r.name,
        properties=r.properties,
        dependencies=r.dependencies,
        property_dependencies=r.property_dependencies,
    )


def _nest(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


# --- the matrix -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Bad:
    """One bad input and its exact outcome.

    ``code`` and ``field`` are the finding on resource ``target`` (:func:`bad`: the row's resource
    when it has one; ``fn`` by default among several) (``code=None``: no finding on
    ``field``, the value is ``assumed`` instead); ``text`` is in the finding's message and in the
    violation ``policy`` reports against the resource's URN (``pack_text`` when the pack words it
    differently, e.g. an INFO finding summarised in the resource's estimate line).
    """

    resources: tuple[EngineResource, ...]
    code: str | None
    field: str | None
    text: str
    policy: str = "usage-tags"
    target: str = "fn"
    pack_text: str | None = None
    assumed: tuple[str, str, UsageSource] | None = None
    core_only: bool = False  # values the engine cannot send (NaN and infinite numbers)


def bad(
    resources: EngineResource | list[EngineResource],
    code: str | None,
    field_: str | None,
    text: str,
    **kw: Any,
) -> Bad:
    """A row; the finding is on the resource itself unless ``target`` names another."""
    if isinstance(resources, list):
        return Bad(tuple(resources), code, field_, text, **kw)
    return Bad((resources,), code, field_, text, **{"target": resources.name, **kw})


def prop(
    resources: EngineResource | list[EngineResource],
    code: str | None,
    field_: str | None,
    text: str,
    **kw: Any,
) -> Bad:
    """A row about a resource property: the cost-estimate policy reports those findings."""
    return bad(resources, code, field_, text, policy=CE, **kw)


MR = "tags.cost:monthly-requests"
MALFORMED, RANGE, UNKNOWN = "usage-tag-malformed", "usage-tag-out-of-range", "usage-tag-unknown"
P_INVALID, P_RANGE, P_UNKNOWN = "property-invalid", "property-out-of-range", "property-unknown"
CE = "cost-estimate"

CASES: dict[str, Bad] = {
    # -- malformed and extreme tag values -------------------------------------------------------
    "tag empty": bad(requests(""), MALFORMED, MR, "cost:monthly-requests='' is empty"),
    "tag text": bad(
        requests("abc"), MALFORMED, MR, "cost:monthly-requests='abc' is not a plain decimal number"
    ),
    "tag negative": bad(requests("-5"), MALFORMED, MR, "cost:monthly-requests='-5' is negative"),
    "tag NaN": bad(
        requests("NaN"), MALFORMED, MR, "cost:monthly-requests='NaN' is not a finite number"
    ),
    "tag Infinity": bad(requests("Infinity"), MALFORMED, MR, "='Infinity' is not a finite number"),
    "tag -Infinity": bad(
        requests("-Infinity"), MALFORMED, MR, "='-Infinity' is not a finite number"
    ),
    "tag 1e400": bad(
        requests("1e400"), MALFORMED, MR, "cost:monthly-requests='1e400' uses an exponent"
    ),
    "tag 1E3": bad(requests("1E3"), MALFORMED, MR, "='1E3' uses an exponent"),
    "tag 30-digit integer": bad(
        requests("1" * 30),
        RANGE,
        MR,
        "is larger than the plausible maximum 10,000,000,000,000 requests/month",
    ),
    "tag a million digits": bad(
        requests("9" * 1_000_000), RANGE, MR, f"='{'9' * 40}…' is larger than"
    ),
    "tag Arabic-Indic digits": bad(
        requests("١٢٣"), MALFORMED, MR, "='١٢٣' contains non-ASCII digits"
    ),
    "tag full-width digits": bad(requests("１２３"), MALFORMED, MR, "contains non-ASCII digits"),
    "tag leading space": bad(
        requests(" 12"), MALFORMED, MR, "=' 12' has leading or trailing whitespace"
    ),
    "tag trailing newline": bad(
        requests("12\n"), MALFORMED, MR, "='12\\n' has leading or trailing whitespace"
    ),
    "tag no-break space": bad(
        requests("\u00a012"), MALFORMED, MR, "has leading or trailing whitespace"
    ),
    "tag inner space": bad(
        requests("1 000"), MALFORMED, MR, "='1 000' is not a plain decimal number"
    ),
    "tag comma separator": bad(
        requests("1,000"), MALFORMED, MR, "='1,000' contains a thousands separator"
    ),
    "tag underscore separator": bad(
        requests("1_000"), MALFORMED, MR, "contains a thousands separator"
    ),
    "tag plus sign": bad(requests("+5"), MALFORMED, MR, "='+5' is not a plain decimal number"),
    "tag hexadecimal": bad(
        requests("0x1F"), MALFORMED, MR, "='0x1F' is not a plain decimal number"
    ),
    "tag leading dot": bad(requests(".5"), MALFORMED, MR, "='.5' is not a plain decimal number"),
    "tag null": bad(
        requests(None),
        MALFORMED,
        MR,
        "cost:monthly-requests=None is a NoneType, not a plain decimal",
    ),
    "tag list": bad(requests(["5"]), MALFORMED, MR, "is a list, not a plain decimal string"),
    "tag boolean": bad(
        requests(True), MALFORMED, MR, "cost:monthly-requests=True is a boolean, not a number"
    ),
    "tag float NaN": bad(
        requests(float("nan")), MALFORMED, MR, "=nan is not a finite number", core_only=True
    ),
    "tag float infinity": bad(
        requests(float("inf")), MALFORMED, MR, "=inf is not a finite number", core_only=True
    ),
    "duration text": bad(
        fn({"cost:monthly-requests": "10", "cost:avg-duration-ms": "fast"}),
        MALFORMED,
        "tags.cost:avg-duration-ms",
        "cost:avg-duration-ms='fast' is not a plain decimal number",
    ),
    "duration above maximum": bad(
        fn({"cost:monthly-requests": "10", "cost:avg-duration-ms": "900001"}),
        RANGE,
        "tags.cost:avg-duration-ms",
        "larger than the plausible maximum 900,000 ms",
    ),
    "zero days per month": bad(
        fn({"cost:daily-requests": "10", "cost:days-per-month": "0"}),
        RANGE,
        "tags.cost:days-per-month",
        "cost:days-per-month=0 leaves no days in the month",
    ),
    "32 days per month": bad(
        fn({"cost:daily-requests": "10", "cost:days-per-month": "32"}),
        RANGE,
        "tags.cost:days-per-month",
        "='32' is larger than the plausible maximum 31 days",
    ),
    "monthly and daily disagree": bad(
        fn({"cost:monthly-requests": "100", "cost:daily-requests": "10"}),
        "usage-tags-inconsistent",
        MR,
        "cost:monthly-requests (100) disagrees with cost:daily-requests × days (300)",
    ),
    "misspelt tag key": bad(
        fn({**TRAFFIC, "cost:monthly-request": "5"}),
        "usage-tag-unrecognized",
        "tags.cost:monthly-request",
        "tag cost:monthly-request is not a costline usage tag",
    ),
    "no usage tags": bad(
        fn({}), "usage-tag-missing", MR, "no cost:monthly-requests or cost:daily-requests tag"
    ),
    "tags not a map": bad(
        fn("cost:monthly-requests=5"), "usage-tag-missing", MR, "no cost:monthly-requests"
    ),
    "negative storage": bad(
        res(BUCKET, "b", tags={"cost:storage-gb": "-1"}),
        MALFORMED,
        "tags.cost:storage-gb",
        "cost:storage-gb='-1' is negative",
    ),
    "token count text": bad(
        res(
            PROFILE,
            "p",
            modelSource={"copyFrom": "anthropic.claude-3-haiku-20240307-v1:0"},
            tags={**TOKENS, "cost:input-tokens": "lots"},
        ),
        MALFORMED,
        "tags.cost:input-tokens",
        "cost:input-tokens='lots' is not a plain decimal number",
    ),
    # -- wrong property types -------------------------------------------------------------------
    "memorySize string": prop(
        fn(memorySize="512"),
        P_INVALID,
        "memorySize",
        "memorySize is a str, expected a number in MB; assumed the AWS default 128 MB",
    ),
    "memorySize list": prop(
        fn(memorySize=[512]),
        P_INVALID,
        "memorySize",
        "memorySize is a list, expected a number",
    ),
    "memorySize null": prop(
        fn(memorySize=None),
        None,
        "memorySize",
        "",
        assumed=("memorySize", "128", UsageSource.DEFAULT),
    ),
    "memorySize boolean": prop(
        fn(memorySize=True), P_INVALID, "memorySize", "memorySize is a bool"
    ),
    "memorySize object": prop(
        fn(memorySize={"mb": 512}), P_INVALID, "memorySize", "memorySize is a dict"
    ),
    "memorySize 1e308": prop(
        fn(memorySize=1e308),
        P_RANGE,
        "memorySize",
        f"memorySize=1{'0' * 39}… is outside AWS's limits 128–10240 MB; priced at 10240",
    ),
    "memorySize negative": prop(
        fn(memorySize=-1),
        P_RANGE,
        "memorySize",
        "memorySize=-1 is outside AWS's limits 128–10240 MB; priced at 128",
    ),
    "timeout string": prop(
        fn(timeout="30"),
        P_INVALID,
        "timeout",
        "timeout is a str, expected a number in s",
    ),
    "timeout zero": prop(
        fn(timeout=0),
        P_RANGE,
        "timeout",
        "timeout=0 is outside AWS's limits 1–900 s; priced at 1",
    ),
    "architecture unknown name": prop(
        fn(architectures=["sparc"]),
        P_INVALID,
        "architectures",
        "architectures='sparc' is not one of x86_64, arm64; assumed x86_64",
    ),
    "ephemeral storage string": prop(
        fn(ephemeralStorage="big"),
        P_INVALID,
        "ephemeralStorage.size",
        "ephemeralStorage.size is a str",
    ),
    "stage cache flag string": prop(
        res(STAGE, "s", cacheClusterEnabled="yes", tags=TRAFFIC),
        P_INVALID,
        "cacheClusterEnabled",
        "cacheClusterEnabled is not a boolean; assumed false",
    ),
    "stage cache size number": prop(
        res(STAGE, "s", cacheClusterEnabled=True, cacheClusterSize=99),
        P_INVALID,
        "cacheClusterSize",
        "is not one of 0.5, 1.6, 6.1",
    ),
    "HTTP API protocol": prop(
        res(HTTP_API, "h", protocolType="GRPC", tags=TRAFFIC),
        P_INVALID,
        "protocolType",
        "protocolType='GRPC' is not one of HTTP, WEBSOCKET; assumed HTTP",
    ),
    "profile modelSource string": bad(
        res(PROFILE, "p", modelSource="claude", tags=TOKENS),
        "usage-tag-missing",
        "tags.cost:bedrock-model",
        "no cost:bedrock-model tag",
    ),
    "throughput commitment": prop(
        res(
            PROVISIONED,
            "pt",
            modelArn="anthropic.claude-3-haiku-20240307-v1:0",
            commitmentDuration="TwoYears",
        ),
        P_INVALID,
        "commitmentDuration",
        "commitmentDuration must be OneMonth, SixMonths or absent",
    ),
    "custom model epochs": prop(
        res(
            CUSTOM_MODEL,
            "cm",
            baseModelIdentifier="amazon.titan-text-lite-v1",
            hyperparameters={"epochCount": "many"},
        ),
        P_INVALID,
        "hyperparameters.epochCount",
        "hyperparameters.epochCount is not a whole number 1–100",
    ),
    # -- unknown values during preview, in every priced property ----------------------------
    "unknown memorySize": prop(
        fn(memorySize=UNKNOWN_NUMBER),
        P_UNKNOWN,
        "memorySize",
        "memorySize is not known until the update runs; assumed the AWS default 128 MB",
    ),
    "unknown timeout": prop(
        fn(timeout=UNKNOWN_NUMBER),
        P_UNKNOWN,
        "timeout",
        "timeout is not known until the update runs; assumed the AWS default 3 s",
    ),
    "unknown architectures": prop(
        fn(architectures=UNKNOWN_ARRAY),
        P_UNKNOWN,
        "architectures",
        "architectures is not known until the update runs; assumed x86_64",
    ),
    "unknown first architecture": prop(
        fn(architectures=[UNKNOWN_STRING]),
        P_UNKNOWN,
        "architectures",
        "architectures is not known",
    ),
    "unknown ephemeralStorage": prop(
        fn(ephemeralStorage=UNKNOWN_OBJECT),
        P_UNKNOWN,
        "ephemeralStorage.size",
        "ephemeralStorage.size is not known until the update runs",
    ),
    "unknown ephemeralStorage.size": prop(
        fn(ephemeralStorage={"size": UNKNOWN_NUMBER}),
        P_UNKNOWN,
        "ephemeralStorage.size",
        "assumed the AWS default 512 MB",
    ),
    "unknown tag map": bad(
        fn(UNKNOWN_OBJECT),
        UNKNOWN,
        MR,
        "tags are not known until the update runs, so cost:monthly-requests could not be read",
    ),
    "unknown request tag": bad(
        requests(UNKNOWN_STRING),
        UNKNOWN,
        MR,
        "cost:monthly-requests is not known until the update runs",
    ),
    "unknown duration tag": bad(
        fn({"cost:monthly-requests": "10", "cost:avg-duration-ms": UNKNOWN_STRING}),
        UNKNOWN,
        "tags.cost:avg-duration-ms",
        "cost:avg-duration-ms is not known until the update runs",
    ),
    "unknown model tag": bad(
        res(PROFILE, "p", tags={**TOKENS, "cost:bedrock-model": UNKNOWN_STRING}),
        UNKNOWN,
        "tags.cost:bedrock-model",
        "cost:bedrock-model is not known until the update runs",
    ),
    "unknown modelSource": prop(
        res(PROFILE, "p", modelSource=UNKNOWN_OBJECT, tags=TOKENS),
        P_UNKNOWN,
        "modelSource",
        "modelSource is not known until the update runs, so the model is unknown",
    ),
    "unknown modelSource.copyFrom": prop(
        res(PROFILE, "p", modelSource={"copyFrom": UNKNOWN_STRING}, tags=TOKENS),
        P_UNKNOWN,
        "modelSource.copyFrom",
        "modelSource.copyFrom is not known",
    ),
    "unknown storage tag": bad(
        res(BUCKET, "b", tags={"cost:storage-gb": UNKNOWN_STRING}),
        UNKNOWN,
        "tags.cost:storage-gb",
        "cost:storage-gb is not known until the update runs",
    ),
    "unknown cache flag": prop(
        res(STAGE, "s", cacheClusterEnabled=UNKNOWN_BOOL, tags=TRAFFIC),
        P_UNKNOWN,
        "cacheClusterEnabled",
        "cacheClusterEnabled is not known until the update runs; assumed false",
    ),
    "unknown cache size": prop(
        res(STAGE, "s", cacheClusterEnabled=True, cacheClusterSize=UNKNOWN_STRING),
        P_UNKNOWN,
        "cacheClusterSize",
        "cacheClusterSize is not known until the update runs; assumed 0.5",
    ),
    "unknown protocol": prop(
        res(HTTP_API, "h", protocolType=UNKNOWN_STRING, tags=TRAFFIC),
        P_UNKNOWN,
        "protocolType",
        "protocolType is not known until the update runs; assumed HTTP",
    ),
    "unknown concurrency": prop(
        res(CONCURRENCY, "pc", provisionedConcurrentExecutions=UNKNOWN_NUMBER),
        P_UNKNOWN,
        "provisionedConcurrentExecutions",
        "provisionedConcurrentExecutions is not known",
    ),
    "unknown throughput model": prop(
        res(PROVISIONED, "pt", modelArn=UNKNOWN_STRING),
        P_UNKNOWN,
        "modelArn",
        "modelArn is not known until the update runs",
    ),
    "unknown throughput units": prop(
        res(
            PROVISIONED,
            "pt",
            modelArn="anthropic.claude-3-haiku-20240307-v1:0",
            modelUnits=UNKNOWN_NUMBER,
        ),
        P_UNKNOWN,
        "modelUnits",
        "modelUnits is not known until the update runs",
    ),
    "unknown throughput commitment": prop(
        res(
            PROVISIONED,
            "pt",
            modelArn="anthropic.claude-3-haiku-20240307-v1:0",
            commitmentDuration=UNKNOWN_STRING,
        ),
        P_UNKNOWN,
        "commitmentDuration",
        "commitmentDuration is not known until the update runs; priced with no commitment",
    ),
    "unknown base model": prop(
        res(CUSTOM_MODEL, "cm", baseModelIdentifier=UNKNOWN_STRING),
        P_UNKNOWN,
        "baseModelIdentifier",
        "baseModelIdentifier is not known until the update runs",
    ),
    # -- unknown resource types and Bedrock models ----------------------------------------------
    "unpriced AWS type": prop(
        res("aws:ec2/instance:Instance", "vm", instanceType="t3.micro"),
        "not-priced",
        None,
        "costline does not price aws:ec2/instance:Instance yet",
        pack_text="vm (aws:ec2:Instance): not priced by costline",
    ),
    "made-up type": prop(
        res("acme:widgets/gizmo:Gizmo", "g"),
        "not-priced",
        None,
        "costline does not price acme:widgets/gizmo:Gizmo yet",
        pack_text="g (acme:widgets:Gizmo): not priced by costline",
    ),
    "unknown model id tag": bad(
        res(PROFILE, "p", tags={**TOKENS, "cost:bedrock-model": "acme.gpt-9"}),
        "bedrock-model-unknown",
        "tags.cost:bedrock-model",
        "no on-demand price for Bedrock model 'acme.gpt-9' in us-east-1",
    ),
    "unknown model ARN": bad(
        res(
            PROFILE,
            "p",
            modelSource={
                "copyFrom": "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-9-v1:0"
            },
            tags=TOKENS,
        ),
        "bedrock-model-unknown",
        "modelSource.copyFrom",
        "no on-demand price for Bedrock model 'anthropic.claude-9-v1:0'",
    ),
    "unknown throughput model id": bad(
        res(PROVISIONED, "pt", modelArn="acme.gpt-9"),
        "bedrock-model-unknown",
        "modelArn",
        "no provisioned-throughput price (no_commitment) for 'acme.gpt-9'",
    ),
    # -- nesting and size -----------------------------------------------------------------------
    "properties 400 levels deep": prop(
        fn(deep=_nest(400)),
        None,
        "memorySize",
        "",
        assumed=("memorySize", "128", UsageSource.DEFAULT),
    ),
}


def test_the_matrix_has_at_least_fifty_bad_inputs():
    assert len(CASES) + len(SECRET_CASES) + len(CLI_FILE_CASES) + len(CONFIG_CASES) >= 50


def assert_healthy(pack: PolicyPackProcess, result: RunResult) -> None:
    """What no input may do: raise inside a policy, kill or hang the pack, flood or escape the
    terminal."""
    assert pack.returncode is None, pack.stderr_text
    for v in result.violations:
        assert "could not run policy" not in v.message, v.message
        assert len(v.message) < MAX_MESSAGE_CHARS, v.message[:200]
        assert "\x1b" not in v.message and "\r" not in v.message


def core_finding(case: Bad):
    stack = [as_resource(r) for r in case.resources]
    est = estimate(stack, load_price_book("us-east-1"))
    (target,) = [r for r in est.resources if r.name == case.target]
    return target, [f for f in target.findings if f.field == case.field]


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_resource_input_in_the_core(case: Bad):
    target, findings = core_finding(case)
    if case.code is None:
        assert findings == []
        key, value, source = case.assumed
        assert (key, value, source) in [(a.key, a.value, a.source) for a in target.assumptions]
        return
    assert [f.code for f in findings] == [case.code], target.findings
    (finding,) = findings
    assert case.text in finding.message
    assert finding.resource_name == case.target and finding.resource_urn == target.urn


@pytest.mark.parametrize(
    "case",
    [c for c in CASES.values() if not c.core_only],
    ids=[k for k, c in CASES.items() if not c.core_only],
)
def test_bad_resource_input_over_the_pack(pack, case: Bad):
    result = pack.run(list(case.resources))
    assert_healthy(pack, result)
    urn = next(r.urn for r in case.resources if r.name == case.target)
    mine = [v.message for v in result.by_policy(case.policy) if v.urn == urn]
    if case.code is None:
        assert mine and not any(f"  - {case.field}" in m for m in mine), mine
        return
    expected = case.pack_text or case.text
    assert any(expected in m for m in mine), (expected, mine)


# --- secrets in tags and properties: used, never shown ------------------------------------------
@dataclass(frozen=True)
class Secret:
    """Secret values (and the forms they could be printed in) that must appear in no output."""

    resources: tuple[EngineResource, ...]
    never: tuple[str, ...]
    shown: str = "[secret]"  # what appears instead, somewhere in the violations


SONNET = "anthropic.claude-3-5-sonnet-20241022-v2:0"  # not the contract's example model id
SECRET_CASES: dict[str, Secret] = {
    "secret traffic is priced": Secret(
        (
            fn(
                {
                    "cost:monthly-requests": secret("987654321"),
                    "cost:avg-duration-ms": secret("31337.5"),
                },
                memorySize=512,
            ),
        ),
        ("987654321", "987,654,321", "31337", "31,337"),
    ),
    "secret malformed tag": Secret((requests(secret("s3cr3t-traffic")),), ("s3cr3t-traffic",)),
    "secret memorySize out of range": Secret((fn(memorySize=secret(99999)),), ("99999", "99,999")),
    "secret tag map": Secret(
        (fn(secret({"cost:monthly-requests": "123456789", "cost:avg-duration-ms": "s3cr3t-dur"})),),
        ("123456789", "123,456,789", "s3cr3t-dur"),
    ),
    "secret architecture": Secret((fn(architectures=secret(["s3cr3t-arch"])),), ("s3cr3t-arch",)),
    "secret unknown model": Secret(
        (res(PROFILE, "p", tags={**TOKENS, "cost:bedrock-model": secret("acme.s3cr3t-model")}),),
        ("s3cr3t-model",),
    ),
    "secret priced model": Secret(
        (res(PROFILE, "p", tags={**TOKENS, "cost:bedrock-model": secret(SONNET)}),),
        (SONNET, "claude-3-5-sonnet"),
        shown="usage from a secret value",
    ),
    "secret model flowing to a profile": Secret(
        (
            EngineResource(
                urn=make_urn(LAMBDA, "caller"),
                properties={
                    "environment": {"variables": {"PROFILE": "arn"}},
                    "tags": {
                        **TRAFFIC,
                        "cost:bedrock-model": secret(SONNET),
                        "cost:input-tokens": "10",
                        "cost:output-tokens": "10",
                    },
                },
                property_dependencies={"environment": [make_urn(PROFILE, "p")]},
            ),
            res(PROFILE, "p"),
        ),
        (SONNET, "claude-3-5-sonnet"),
        shown="usage from a secret value",
    ),
    "secret environment variable": Secret(
        (fn(environment={"variables": {"API_KEY": secret("sk-live-s3cr3t")}}),),
        ("sk-live-s3cr3t",),
        shown="fn (aws:lambda:Function)",
    ),
    "secret provider region": Secret(
        (res("pulumi:providers:aws", "default", region=secret("eu-west-1")), fn()), ("eu-west-1",)
    ),
}


@pytest.mark.parametrize("case", SECRET_CASES.values(), ids=SECRET_CASES.keys())
def test_secrets_are_used_but_appear_in_no_output_log_or_report(pack, tmp_path, case: Secret):
    from costline.engine.preview import format_policies
    from costline.render.templates import render
    from costline.review.report import build_report

    report_path = tmp_path / "report.md"
    result = pack.run(
        list(case.resources),
        {
            "cost-estimate": {"reportPath": str(report_path)},
            "lambda-worst-case": {"maxMultipleOfExpected": 1},
        },
    )
    assert_healthy(pack, result)
    stack = [as_resource(r) for r in case.resources]
    est = estimate(stack, load_price_book("us-east-1"))
    report = build_report(est, source="test")
    outputs = {
        "violations": "\n".join(v.message for v in result.violations),
        "preview": format_policies(result, stack),
        "pack report": report_path.read_text(encoding="utf-8"),
        "pack stderr": pack.stderr_text,
        **{fmt: render(report, fmt) for fmt in ("markdown", "html", "json")},
    }
    for name, text in outputs.items():
        for value in case.never:
            assert value not in text, f"{value!r} in {name}"
    assert case.shown in outputs["violations"]


# --- bad files through the CLI: exit 2, one line naming the file and the field ---------------
OVERRIDE = {
    "schema": "costline-price-overrides/1",
    "description": "test",
    "entries": {
        "lambda.requests": {
            "description": "x",
            "unit": "request",
            "price_per": 1000000,
            "tiers": [{"usd": "0.10"}],
            "source": "contract",
            "as_of": "2026-01-01",
        }
    },
}


def _override(mutate) -> str:
    doc = json.loads(json.dumps(OVERRIDE))
    mutate(doc)
    return yaml.safe_dump(doc, sort_keys=False)


def _entry(**changes: Any):
    def mutate(doc: dict) -> None:
        entry = doc["entries"]["lambda.requests"]
        for key, value in changes.items():
            if value is None:
                del entry[key]
            else:
                entry[key] = value

    return mutate


STEP_URN = "urn:pulumi:dev::p::aws:lambda/function:Function::fn"


def _preview(**state: Any) -> str:
    new_state = {"urn": STEP_URN, "type": LAMBDA, "custom": True, "inputs": {}, **state}
    return json.dumps({"steps": [{"op": "create", "urn": STEP_URN, "newState": new_state}]})


@dataclass(frozen=True)
class BadFile:
    """A file given to ``option``; stderr must be one line holding the file name and
    ``expected``."""

    option: str
    content: str | bytes | None  # None: the file does not exist
    expected: str


CLI_FILE_CASES: dict[str, BadFile] = {
    # preview JSON (--from-preview)
    "truncated preview": BadFile(
        "--from-preview",
        _preview()[:80],
        "is not complete JSON: it stops in the middle of a value at line 1 (was the file "
        "truncated?)",
    ),
    "not JSON": BadFile(
        "--from-preview", "hello world", "is not valid JSON: Expecting value (line 1 column 1)"
    ),
    "empty preview": BadFile("--from-preview", "", "is empty; expected `pulumi preview --json`"),
    "binary preview": BadFile(
        "--from-preview", b"\x00\xff\xfe\x00\x80garbage", "is not UTF-8 text"
    ),
    "missing preview": BadFile("--from-preview", None, "no such file"),
    "preview is a list": BadFile("--from-preview", "[1, 2]", "got not an object"),
    "preview without steps": BadFile("--from-preview", '{"foo": 1}', "got an object with keys foo"),
    "step is a number": BadFile(
        "--from-preview", '{"steps": [3]}', "steps[0]: expected an object, got a number"
    ),
    "step without op": BadFile(
        "--from-preview", '{"steps": [{}]}', "steps[0].op: expected an operation name"
    ),
    "bad URN": BadFile(
        "--from-preview",
        _preview(urn="nope").replace(f'"urn": "{STEP_URN}", "newState"', '"newState"'),
        "steps[0].newState.urn: expected a Pulumi URN",
    ),
    "create without state": BadFile(
        "--from-preview",
        json.dumps({"steps": [{"op": "create", "urn": STEP_URN}]}),
        "steps[0].newState: missing; a 'create' step needs the resource's new state",
    ),
    "inputs not an object": BadFile(
        "--from-preview",
        _preview(inputs=[1]),
        "steps[0].newState.inputs: expected an object, got a list",
    ),
    "dependency not a URN": BadFile(
        "--from-preview",
        _preview(dependencies=[7]),
        "steps[0].newState.dependencies[0]: expected a URN string, got a number",
    ),
    "JSON nested 5,000 deep": BadFile(
        "--from-preview", "[" * 5000 + "]" * 5000, "$: nested more than 100 levels deep"
    ),
    "properties nested 900 deep": BadFile(
        "--from-preview",
        _preview(inputs={"deep": _nest(900)}),
        "input.file: $.steps[0].newState.inputs.deep.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a",
    ),
    "5,000-digit integer": BadFile(
        "--from-preview",
        _preview().replace('"inputs": {}', '"inputs": {"memorySize": ' + "9" * 5000 + "}"),
        "$.steps[0].newState.inputs.memorySize: a number of 5,000 characters (999999999999…); "
        "at most 100 are read",
    ),
    # price override files (--prices)
    "override missing field": BadFile(
        "--prices",
        _override(_entry(unit=None)),
        "entry 'lambda.requests': field 'unit': 'unit' is a required property",
    ),
    "override negative price": BadFile(
        "--prices",
        _override(_entry(tiers=[{"usd": "-0.10"}])),
        "entry 'lambda.requests': field 'tiers/0/usd': -0.10 is less than the minimum of 0",
    ),
    "override overlapping tiers": BadFile(
        "--prices",
        _override(
            _entry(
                tiers=[{"up_to": 100, "usd": "0.2"}, {"up_to": 50, "usd": "0.1"}, {"usd": "0.05"}]
            )
        ),
        "field 'tiers/1/up_to': up_to 50 must be greater than the previous tier's 100",
    ),
    "override two open tiers": BadFile(
        "--prices",
        _override(_entry(tiers=[{"usd": "0.2"}, {"usd": "0.1"}])),
        "field 'tiers/0/up_to': only the last tier may be open-ended",
    ),
    "override in euros": BadFile(
        "--prices",
        _override(lambda d: d.update(currency="EUR")),
        "field 'currency': Additional properties are not allowed ('currency' was unexpected)",
    ),
    "override entry in euros": BadFile(
        "--prices", _override(_entry(currency="EUR")), "entry 'lambda.requests': field 'currency': "
    ),
    "override price 1e400": BadFile(
        "--prices",
        _override(_entry(tiers=[{"usd": "1e400"}])),
        "field 'tiers/0/usd': 1E+400 is greater than the maximum of 1000000",
    ),
    "override price_per zero": BadFile(
        "--prices",
        _override(_entry(price_per=0)),
        "field 'price_per': 0 is less than the minimum of 1",
    ),
    "override price text": BadFile(
        "--prices",
        _override(_entry(tiers=[{"usd": "cheap"}])),
        "field 'tiers/0/usd': 'cheap' is not of type 'number'",
    ),
    "override impossible date": BadFile(
        "--prices",
        _override(_entry(as_of="2026-02-30")),
        "field 'as_of': '2026-02-30' is not a calendar date (YYYY-MM-DD)",
    ),
    "override unknown id": BadFile(
        "--prices",
        _override(
            lambda d: d["entries"].update({"lambda.requestz": d["entries"].pop("lambda.requests")})
        ),
        "entry 'lambda.requestz': no such id in the price tables (a typo?)",
    ),
    "override for another region": BadFile(
        "--prices",
        _override(lambda d: d.update(region="eu-west-1")),
        "field 'region': this override file is for region 'eu-west-1', not 'us-east-1'",
    ),
    "override not YAML": BadFile("--prices", "{{{: [", "malformed YAML: line 1, column 4"),
    "override empty": BadFile(
        "--prices", "", "expected a mapping at the top level, got an empty document"
    ),
    "override missing": BadFile("--prices", None, "no such price override file"),
    # policy config (costline preview --policy-pack-config)
    "policy config not JSON": BadFile(
        "--policy-pack-config",
        "{budget: 5}",
        "not valid JSON (line 1, column 2: Expecting property name enclosed in double quotes)",
    ),
    "policy config a list": BadFile(
        "--policy-pack-config",
        "[]",
        "policy config must be a JSON object of policy name -> settings",
    ),
}


def _cli(args: list[str]):
    return CliRunner().invoke(main, args)


@pytest.mark.parametrize("case", CLI_FILE_CASES.values(), ids=CLI_FILE_CASES.keys())
def test_a_bad_file_is_exit_2_and_one_line_naming_file_and_field(
    tmp_path, monkeypatch, case: BadFile
):
    monkeypatch.chdir(tmp_path)
    path = Path("input.file")
    if isinstance(case.content, bytes):
        path.write_bytes(case.content)
    elif case.content is not None:
        path.write_text(case.content, encoding="utf-8")
    empty_stack = Path("empty.json")
    empty_stack.write_text('{"steps": [], "changeSummary": {}}', encoding="utf-8")
    if case.option == "--from-preview":
        args = ["estimate", "--from-preview", str(path)]
    elif case.option == "--prices":
        args = ["estimate", "--from-preview", str(empty_stack), "--prices", str(path)]
    else:
        args = ["preview", "--policy-pack-config", str(path)]
    result = _cli(args)
    assert result.exit_code == 2, (result.output, result.exception)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"costline: error: {path}: ")
    assert case.expected in lines[0]


def test_an_unknown_region_is_exit_2_naming_the_regions_there_are(tmp_path):
    stack = tmp_path / "empty.json"
    stack.write_text('{"steps": [], "changeSummary": {}}', encoding="utf-8")
    result = _cli(["estimate", "--from-preview", str(stack), "--region", "mars-north-1"])
    assert result.exit_code == 2
    assert result.stderr == (
        "costline: error: pricing/mars-north-1: no price tables for region 'mars-north-1'; "
        "available: ap-northeast-1, eu-central-1, eu-west-1, us-east-1, us-west-2\n"
    )


@pytest.mark.parametrize(
    "file, mutate, expected",
    [
        (
            "lambda.yaml",
            lambda d: d.update(currency="EUR"),
            ("currency", "currency 'EUR' is not supported"),
        ),
        (
            "region.yaml",
            lambda d: d.update(currency="EUR"),
            ("currency", "currency 'EUR' is not supported"),
        ),
        (
            "lambda.yaml",
            lambda d: d["entries"]["lambda.requests"].pop("unit"),
            ("unit", "'unit' is a required property"),
        ),
        (
            "lambda.yaml",
            lambda d: d["entries"]["lambda.requests"].update(tiers=[{"usd": -1}]),
            ("tiers/0/usd", "-1 is less than the minimum of 0"),
        ),
        (
            "lambda.yaml",
            lambda d: d["entries"]["lambda.duration.x86_64"]["tiers"][1].update(up_to=1),
            ("tiers/1/up_to", "must be greater than the previous tier's 6000000000"),
        ),
    ],
    ids=[
        "table in euros",
        "region in euros",
        "table missing field",
        "table negative price",
        "table overlapping tiers",
    ],
)
def test_a_bad_price_table_names_file_entry_and_field(tmp_path, file, mutate, expected):
    import shutil

    tables = tmp_path / "pricing"
    shutil.copytree(data_dir("pricing") / "us-east-1", tables / "us-east-1")
    doc = yaml.safe_load((tables / "us-east-1" / file).read_text(encoding="utf-8"))
    mutate(doc)
    (tables / "us-east-1" / file).write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    with pytest.raises(PricingError) as error:
        load_price_book("us-east-1", tables_dir=tables)
    assert error.value.file.endswith(f"us-east-1/{file}")
    assert (error.value.field, expected[1] in error.value.detail) == (expected[0], True), str(
        error.value
    )


# --- malformed policy config: rejected as the engine rejects it, or an advisory violation --------
CONFIG_CASES: dict[str, tuple[dict, tuple[str, str, str]]] = {
    "budget as text": (
        {"stack-budget": {"monthlyBudgetUsd": "fifty"}},
        ("stack-budget", "monthlyBudgetUsd", "'fifty' is not of type 'number'"),
    ),
    "negative budget": (
        {"stack-budget": {"monthlyBudgetUsd": -1}},
        ("stack-budget", "monthlyBudgetUsd", "-1 is less than the minimum of 0"),
    ),
    "warning above 100%": (
        {"stack-budget": {"warnAtPercent": 150}},
        ("stack-budget", "warnAtPercent", "150 is greater than the maximum of 100"),
    ),
    "made-up enforcement level": (
        {"stack-budget": {"enforcementLevel": "blocking"}},
        ("stack-budget", "enforcementLevel", "'blocking' is not a valid enforcement level"),
    ),
    "policy config a number": (
        {"stack-budget": 5},
        ("stack-budget", "", "5 is not a valid value; must be a string or object"),
    ),
    "misspelt policy": (
        {"stack-budgett": {"monthlyBudgetUsd": 50}},
        ("stack-budgett", "", "no policy of this name in the pack"),
    ),
    "misspelt worst-case tag": (
        {"usage-tags": {"worstCase": {"cost:monthly-request": 5}}},
        ("usage-tags", "worstCase", "('cost:monthly-request' was unexpected)"),
    ),
    "worst case beyond plausible": (
        {"usage-tags": {"worstCase": {"cost:monthly-requests": 1e300}}},
        ("usage-tags", "worstCase.cost:monthly-requests", "is greater than the maximum of"),
    ),
    "region not a region": (
        {"cost-estimate": {"region": "MARS"}},
        ("cost-estimate", "region", "does not match"),
    ),
    "free tier as text": (
        {"cost-estimate": {"freeTier": "yes"}},
        ("cost-estimate", "freeTier", "'yes' is not of type 'boolean'"),
    ),
    "type budget as text": (
        {"resource-budget": {"maxMonthlyUsdByType": {LAMBDA: "lots"}}},
        ("resource-budget", f"maxMonthlyUsdByType.{LAMBDA}", "'lots' is not of type 'number'"),
    ),
    "zero multiple": (
        {"lambda-worst-case": {"maxMultipleOfExpected": 0}},
        (
            "lambda-worst-case",
            "maxMultipleOfExpected",
            "0 is less than or equal to the minimum of 0",
        ),
    ),
}


@pytest.mark.parametrize("config, expected", CONFIG_CASES.values(), ids=CONFIG_CASES.keys())
def test_malformed_policy_config_is_rejected_naming_policy_and_field(pack, config, expected):
    with pytest.raises(HarnessConfigError) as error:
        pack.run([fn()], config)
    policy, field_, text = expected
    assert [(p.policy, p.field) for p in error.value.problems] == [(policy, field_)], str(
        error.value
    )
    assert text in error.value.problems[0].message
    assert pack.returncode is None


def _advisories(result: RunResult) -> list[str]:
    return [v.message for v in result.violations if "could not run policy" in v.message]


@pytest.mark.parametrize(
    "config_for, expected",
    [
        (
            lambda tmp: {"cost-estimate": {"priceOverrides": [str(tmp / "missing.yaml")]}},
            "missing.yaml: price override file not found",
        ),
        (
            lambda tmp: {
                "cost-estimate": {
                    "priceOverrides": [
                        str(_write(tmp / "negative.yaml", _override(_entry(tiers=[{"usd": "-1"}]))))
                    ]
                }
            },
            "negative.yaml: entry 'lambda.requests': field 'tiers/0/usd': -1 is less than the "
            "minimum of 0",
        ),
        (
            lambda tmp: {"cost-estimate": {"region": "zz-north-9"}},
            "no price tables for region 'zz-north-9'",
        ),
    ],
    ids=["override file missing", "override file invalid", "region without tables"],
)
def test_config_that_breaks_pricing_is_an_advisory_violation_on_every_policy(
    pack, tmp_path, config_for, expected
):
    config = config_for(tmp_path)
    config["stack-budget"] = {"enforcementLevel": "mandatory", "monthlyBudgetUsd": 1}
    result = pack.run([fn()], config)
    assert pack.returncode is None and not result.mandatory
    errors = [v for v in result.violations if "could not run policy" in v.message]
    assert {v.policy_name for v in errors} == {
        "cost-estimate",
        "stack-budget",
        "resource-budget",
        "usage-tags",
        "lambda-worst-case",
    }
    assert all(v.enforcement_level == "advisory" and expected in v.message for v in errors), errors[
        0
    ].message


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_an_unwritable_report_path_names_the_path(pack, tmp_path):
    target = tmp_path / "no-such-dir" / "report.md"
    result = pack.run([fn()], {"cost-estimate": {"reportPath": str(target)}})
    (error,) = _advisories(result)
    assert f"cannot write the report to {target}: No such file or directory" in error
    assert any(
        "fn (aws:lambda:Function): ~$" in v.message for v in result.by_policy("cost-estimate")
    )


def test_a_stack_whose_provider_is_in_an_unknown_region_is_an_advisory(pack):
    provider = res("pulumi:providers:aws", "default", region="mars-north-1")
    result = pack.run([provider, fn()])
    assert_healthy_except_pricing(pack, result, "no price tables for region 'mars-north-1'")


def assert_healthy_except_pricing(
    pack: PolicyPackProcess, result: RunResult, expected: str
) -> None:
    assert pack.returncode is None
    errors = _advisories(result)
    assert errors and all(expected in e for e in errors)


def test_an_absurd_budget_is_formatted_not_an_error(pack):
    result = pack.run([fn()], {"stack-budget": {"monthlyBudgetUsd": 1e308}})
    assert_healthy(pack, result)
    stack_line = [v.message for v in result.by_policy("cost-estimate") if not v.urn][-1]
    assert "(budget $100,000,000,000" in stack_line and "headroom $" in stack_line


# --- sizes: nothing, and a lot ------------------------------------------------------------------
def test_an_empty_stack(pack, tmp_path):
    est = estimate([], load_price_book("us-east-1"))
    assert (est.resources, est.total_monthly_usd) == ((), Decimal(0))
    result = pack.run(
        [], {"stack-budget": {"monthlyBudgetUsd": 0, "enforcementLevel": "mandatory"}}
    )
    assert_healthy(pack, result)
    assert not result.mandatory  # $0.00 is not over a $0 budget
    (line,) = [v.message for v in result.by_policy("cost-estimate")]
    assert "Stack total ~$0.00/month (budget $0.00, headroom $0.00) · 0 resources: 0 priced" in line
    empty = tmp_path / "empty.json"
    empty.write_text('{"steps": [], "changeSummary": {}}', encoding="utf-8")
    cli = _cli(["estimate", "--from-preview", str(empty), "--format", "json"])
    assert cli.exit_code == 0 and json.loads(cli.stdout)["total_monthly_usd"] == "0"


def test_ten_thousand_resources_over_the_pack(pack):
    """Once, over the real harness: 666 copies of the reference service plus the stack and
    provider."""
    stack = services_stack(10_000)
    engine = [
        EngineResource(
            urn=r.urn,
            type=r.type,
            name=r.name,
            properties=dict(r.properties),
            dependencies=list(r.dependencies),
            property_dependencies={k: list(v) for k, v in r.property_dependencies.items()},
        )
        for r in stack
    ]
    expected = estimate(stack, load_price_book("us-east-1"))
    result = pack.run(engine, {"stack-budget": {"monthlyBudgetUsd": 100}})
    assert_healthy(pack, result)
    shown = {r.urn for r in expected.resources if r.status is not ResourceStatus.FREE}
    estimates = result.by_policy("cost-estimate")
    assert {v.urn for v in estimates if v.urn} == shown
    # Stage, Lambda, profile and bucket of 666 whole services; the 667th stops after its bucket, so
    # its API (no stage) and profile (no caller) are shown as missing usage, its bucket priced.
    assert len(shown) == 4 * 666 + 3
    total = f"Stack total ~${expected.total_monthly_usd.quantize(Decimal('0.01')):,}/month"
    assert total in estimates[-1].message and "10000 resources" in estimates[-1].message
    (budget,) = result.by_policy("stack-budget")
    assert "is over the budget $100.00" in budget.message
