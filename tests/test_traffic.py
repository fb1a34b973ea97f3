"""Traffic through the graph: declared once at the edge, flowing API → Lambda → model and bucket."""

from dataclasses import replace
from decimal import Decimal as D

import pytest

from costline.core.model import Resource, UsageSource
from costline.estimator.pipeline import estimate
from costline.pricing import load_price_book
from costline.testing.stacks import services_stack
from costline.usage.traffic import derive_usage, traffic_edges
from tests.conftest import BUCKET, LAMBDA, PROFILE, REST_API, STAGE, make, seed_stack

PREFIX = "urn:pulumi:dev::costline-reference::"
TRAFFIC_KEYS = (
    "cost:daily-requests",
    "cost:monthly-requests",
    "cost:days-per-month",
    "cost:monthly-get-requests",
)


def urn(type_token: str, name: str) -> str:
    return f"{PREFIX}{type_token}::{name}"


def strip_traffic(resource: Resource, keep: bool = False, also: tuple[str, ...] = ()) -> Resource:
    """The resource without its traffic tags (unless ``keep``) and the tags in ``also``."""
    tags = resource.properties.get("tags")
    if keep or not isinstance(tags, dict):
        return resource
    props = {
        **resource.properties,
        "tags": {k: v for k, v in tags.items() if k not in TRAFFIC_KEYS + also},
    }
    props.pop("tagsAll", None)
    return replace(resource, properties=props)


def derived(resource_estimate, key):
    return next(a for a in resource_estimate.assumptions if a.key == key)


@pytest.fixture(scope="module")
def program_resources():
    from costline.readers import run_program

    return run_program(config={"developers": "10", "callsPerDeveloperPerDay": "100"})


def test_reference_program_with_traffic_only_on_the_api_costs_the_same(program_resources, prices):
    """The reference program under mocks, then every traffic tag removed except the REST API's,
    and the inference profile's token tags too (they stay on the Lambda).

    API 1,000/day × 30 = 30,000 requests flow through the integration's ``uri`` to the Lambda,
    then through its ``environment`` to the inference profile (which gets the Lambda's 500/500
    tokens per request) and to the bucket (30,000 × 1 GET per request by default). Fully tagged,
    the stack costs $102.2875 at list prices (tests/test_estimate_reference.py); derived, too.
    """
    full = estimate(program_resources, prices)
    tokens = ("cost:input-tokens", "cost:output-tokens", "cost:bedrock-model")
    edge_only = [
        strip_traffic(r, keep=r.type == REST_API, also=tokens if r.type == PROFILE else ())
        for r in program_resources
    ]
    derived_est = estimate(edge_only, prices)
    assert full.total_monthly_usd == D("102.2875")
    assert derived_est.total_monthly_usd == full.total_monthly_usd
    r = {x.name: x for x in derived_est.resources}
    lam = derived(r["api-handler"], "cost:monthly-requests")
    assert (lam.value, lam.source) == ("30000", UsageSource.DERIVED)
    assert lam.detail == "from api (aws:apigateway:RestApi) via integration"
    model = derived(r["model"], "cost:monthly-requests")
    assert model.detail == (
        "from api-handler (aws:lambda:Function) via environment "
        "← from api (aws:apigateway:RestApi) via integration"
    )
    assert derived(r["model"], "cost:input-tokens").source is UsageSource.DERIVED
    gets = derived(r["artifacts"], "cost:monthly-get-requests")
    assert gets.value == "30000" and "1 GET per request (default)" in gets.detail
    assert not [
        f for x in derived_est.resources for f in x.findings if f.code == "usage-tag-missing"
    ]


def test_program_edges(program_resources):
    edges = {
        (e.source.rsplit("::", 1)[-1], e.target.rsplit("::", 1)[-1], e.via)
        for e in traffic_edges(program_resources)
    }
    assert edges == {
        ("api", "api-handler", "integration"),
        ("api-handler", "model", "environment"),
        ("api-handler", "artifacts", "environment"),
    }


def _graph(
    api_tags,
    fn_tags=None,
    profile_tags=None,
    bucket_tags=None,
    *,
    permission_only=False,
    iam_only=False,
):
    api_urn, fn_urn = urn(REST_API, "api"), urn(LAMBDA, "fn")
    profile_urn, bucket_urn = urn(PROFILE, "model"), urn(BUCKET, "bucket")
    role_urn = urn("aws:iam/role:Role", "role")
    resources = [
        make(REST_API, "api", urn=api_urn, tags=api_tags),
        Resource.from_engine(
            urn=fn_urn,
            type=LAMBDA,
            name="fn",
            properties={"memorySize": 512, "tags": fn_tags or {}},
            property_dependencies={
                "role": [role_urn],
                "environment": [] if iam_only else [profile_urn, bucket_urn],
            },
        ),
        make(
            PROFILE,
            "model",
            urn=profile_urn,
            modelSource={"copyFrom": "deepseek.r1-v1:0"},
            tags=profile_tags or {},
        ),
        make(BUCKET, "bucket", urn=bucket_urn, tags=bucket_tags or {"cost:storage-gb": "1"}),
        Resource.from_engine(
            urn=urn("aws:iam/rolePolicy:RolePolicy", "p"),
            type="aws:iam/rolePolicy:RolePolicy",
            name="p",
            properties={},
            property_dependencies={"role": [role_urn], "policy": [profile_urn, bucket_urn]},
        ),
    ]
    link = (
        ("aws:lambda/permission:Permission", "perm", {"function": [fn_urn], "sourceArn": [api_urn]})
        if permission_only
        else (
            "aws:apigateway/integration:Integration",
            "int",
            {"restApi": [api_urn], "uri": [fn_urn]},
        )
    )
    resources.append(
        Resource.from_engine(
            urn=urn(link[0], link[1]),
            type=link[0],
            name=link[1],
            properties={},
            property_dependencies=link[2],
        )
    )
    return resources


def test_a_downstream_tag_overrides_what_flows_in():
    resources = _graph({"cost:monthly-requests": "1000"}, fn_tags={"cost:monthly-requests": "400"})
    values = derive_usage(resources)
    assert urn(LAMBDA, "fn") not in values  # declared on the Lambda itself
    assert values[urn(PROFILE, "model")]["cost:monthly-requests"].value == D(400)


def test_permission_and_iam_policy_are_weaker_hints():
    values = derive_usage(
        _graph({"cost:monthly-requests": "1000"}, permission_only=True, iam_only=True)
    )
    assert (
        values[urn(LAMBDA, "fn")]["cost:monthly-requests"].detail
        == "from api (aws:apigateway:RestApi) via permission (hint)"
    )
    assert "via IAM policy (hint)" in values[urn(PROFILE, "model")]["cost:monthly-requests"].detail


def test_gets_per_request_on_the_caller_win_over_the_bucket():
    """1,000 requests × 3 GETs (the Lambda's tag) = 3,000; the bucket's 5 is only a fallback."""
    resources = _graph(
        {"cost:monthly-requests": "1000"},
        fn_tags={"cost:get-requests-per-request": "3"},
        bucket_tags={"cost:storage-gb": "1", "cost:get-requests-per-request": "5"},
    )
    gets = derive_usage(resources)[urn(BUCKET, "bucket")]["cost:monthly-get-requests"]
    assert gets.value == D(3000) and "declared on the caller" in gets.detail
    resources = _graph(
        {"cost:monthly-requests": "1000"},
        bucket_tags={"cost:storage-gb": "1", "cost:get-requests-per-request": "5"},
    )
    assert derive_usage(resources)[urn(BUCKET, "bucket")]["cost:monthly-get-requests"].value == D(
        5000
    )


def _callers_of(profile_urn: str, *callers: tuple[str, str, str]) -> list[Resource]:
    """Lambdas (name, requests, input tokens) whose environment names the profile, and it."""
    fns = [
        Resource.from_engine(
            urn=urn(LAMBDA, name),
            type=LAMBDA,
            name=name,
            properties={"tags": {"cost:monthly-requests": req, "cost:input-tokens": tok}},
            property_dependencies={"environment": [profile_urn]},
        )
        for name, req, tok in callers
    ]
    return [*fns, make(PROFILE, "model", urn=profile_urn)]


def test_tokens_from_two_lambdas_are_request_weighted():
    """fn-a: 1,000 req × 100 tokens, fn-b: 3,000 req × 500 → (100,000 + 1,500,000) / 4,000 = 400
    per request."""
    profile_urn = urn(PROFILE, "model")
    values = derive_usage(
        _callers_of(profile_urn, ("fn-a", "1000", "100"), ("fn-b", "3000", "500"))
    )[profile_urn]
    assert values["cost:monthly-requests"].value == D(4000)
    assert values["cost:input-tokens"].value == D(400)
    assert values["cost:input-tokens"].detail.endswith("(request-weighted)")


def test_a_cycle_does_not_loop():
    a, b = urn(LAMBDA, "a"), urn(LAMBDA, "b")
    res = [
        Resource.from_engine(
            urn=a, type=LAMBDA, name="a", properties={}, property_dependencies={"environment": [b]}
        ),
        Resource.from_engine(
            urn=b, type=LAMBDA, name="b", properties={}, property_dependencies={"environment": [a]}
        ),
    ]
    assert derive_usage(res) == {}


def test_secret_traffic_stays_secret(prices):
    from costline.core.values import SECRET_SIGNATURE, SIGNATURE_KEY

    secret_tag = {SIGNATURE_KEY: SECRET_SIGNATURE, "value": "1000"}
    resources = _graph(
        {"cost:monthly-requests": secret_tag}, fn_tags={"cost:avg-duration-ms": "100"}
    )
    est = {r.name: r for r in estimate(resources, prices).resources}
    assert derived(est["fn"], "cost:monthly-requests").value == "[secret]"
    assert all(i.secret for i in est["fn"].line_items)


def test_seed_stack_is_unchanged_by_the_pre_pass(prices):
    """Every resource of the seed stack declares its own traffic: nothing is derived."""
    assert derive_usage(seed_stack()) == {}


# --- a figure a caller declares unreadably is unknown where it flows, never left out ----------
def test_an_unknown_gets_per_request_on_the_caller_is_unknown_at_the_bucket_not_1(prices):
    """Before, the caller's unknown ratio fell back to the default 1 GET per request in silence.
    Fail-closed, the bucket's GETs take their stand-in, 10,000,000 × $0.0004/1,000 = $4.00."""
    from costline.core.completeness import completeness
    from costline.core.values import UNKNOWN_NUMBER
    from costline.estimator.pipeline import EstimateOptions

    bucket_tags = {
        "cost:storage-gb": "0",
        "cost:monthly-put-requests": "0",
    }
    resources = _graph(
        {"cost:monthly-requests": "1000"},
        fn_tags={"cost:get-requests-per-request": UNKNOWN_NUMBER},
        bucket_tags=bucket_tags,
    )
    gets = derive_usage(resources)[urn(BUCKET, "bucket")]["cost:monthly-get-requests"]
    assert gets.unreadable
    est = estimate(resources, prices)
    bucket = next(r for r in est.resources if r.name == "bucket")
    (finding,) = [f for f in bucket.findings if f.field == "tags.cost:monthly-get-requests"]
    assert finding.message == (
        "bucket: cost:monthly-get-requests could not be worked out: "
        "cost:get-requests-per-request of fn: unknown or invalid there"
    )
    assert "bucket (cost:monthly-get-requests unknown)" in completeness(est).summary()
    closed = estimate(resources, prices, EstimateOptions(fail_closed=True))
    bucket = next(r for r in closed.resources if r.name == "bucket")
    assert bucket.monthly_usd == D("4.00")
    # the same ratio declared: 1,000 × 3 = 3,000 GETs, known
    known = _graph(
        {"cost:monthly-requests": "1000"},
        fn_tags={"cost:get-requests-per-request": "3"},
        bucket_tags=bucket_tags,
    )
    gets = derive_usage(known)[urn(BUCKET, "bucket")]["cost:monthly-get-requests"]
    assert (gets.value, gets.unreadable) == (D(3000), False)


def test_one_callers_unknown_tokens_make_the_profiles_unknown_not_the_others_alone(prices):
    """fn-a: 1,000 req × 100 tokens, fn-b: 3,000 req × unknown: leaving fn-b out would price
    100 tokens a request for all 4,000 requests; the figure is unknown instead."""
    from costline.core.values import UNKNOWN_NUMBER

    profile_urn = urn(PROFILE, "model")
    resources = _callers_of(profile_urn, ("fn-a", "1000", "100"), ("fn-b", "3000", UNKNOWN_NUMBER))
    values = derive_usage(resources)[profile_urn]
    assert values["cost:monthly-requests"].value == D(4000)
    tokens = values["cost:input-tokens"]
    assert tokens.unreadable
    assert tokens.detail == (
        "from fn-b (aws:lambda:Function) via environment: unknown or invalid there"
    )


@pytest.mark.parametrize("tag_map", ["tags", "tagsAll"])
def test_a_stage_declaring_requests_in_its_provider_default_tags_is_billed_for_them(tag_map):
    """A stage whose ``cost:daily-requests`` is a provider default tag (``tagsAll``) declares its
    traffic as one with the tag in ``tags`` does: the stage is billed for it (1,000/day × 30 days
    = 30,000 requests × $3.50 per 1M = $0.105, the API Gateway free tier being for new accounts
    only) and its API is not asked for a figure of its own."""
    api = make(REST_API, "api")
    stage = Resource(
        urn="urn:pulumi:dev::costline-reference::aws:apigateway/stage:Stage::dev",
        type=STAGE,
        name="dev",
        properties={"stageName": "dev", tag_map: {"cost:daily-requests": "1000"}},
        property_dependencies={"restApi": (api.urn,)},
    )
    result = estimate([api, stage], load_price_book("us-east-1"))
    assert result.total_monthly_usd == D("0.105")
    (api_result, stage_result) = result.resources
    assert [i.quantity for i in stage_result.line_items] == [D(30_000)]
    assert not [f for f in api_result.findings if f.severity.name != "INFO"]


def test_a_stage_s_requests_flow_on_when_both_the_stage_and_its_api_declare_them():
    """The stage's 5,000 requests a month win over its API's 1,000, as billing counts them: API
    Gateway bills 5,000 (1 count per request) and the Lambda behind the API gets 5,000 too."""
    resources = services_stack(2 + 15)  # one service: API, stage, Lambda behind the API
    api = next(r for r in resources if r.type == REST_API)
    stage = next(r for r in resources if r.type == STAGE)
    fn = next(r for r in resources if r.type == LAMBDA)
    both = [
        replace(r, properties={**r.properties, "tags": {"cost:monthly-requests": "1000"}})
        if r is api
        else replace(r, properties={**r.properties, "tags": {"cost:monthly-requests": "5000"}})
        if r is stage
        else r
        for r in resources
    ]
    derived = derive_usage(both)
    assert derived[fn.urn]["cost:monthly-requests"].value == D(5000)
    result = estimate(both, load_price_book("us-east-1"))
    rest = [
        i
        for r in result.resources
        for i in r.line_items
        if i.price_id == "apigateway.rest.requests"
    ]
    assert [i.quantity for i in rest] == [D(5000)]
