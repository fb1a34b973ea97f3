"""Re-pricing only what a change reaches (:mod:`costline.estimator.reprice`) gives exactly the
total a full estimate of the changed stack gives — the same ``Decimal``, digit for digit — over
generated stacks and generated changes, and every recommendation rule gives the same records
whichever way its changed stacks are priced.

The stacks mix wired services (:func:`costline.testing.stacks.service`: traffic declared on a
stage flowing through an API, a Lambda, an inference profile and a bucket) with the loose
resources of ``tests/test_properties.py`` (each declaring its own traffic), a Lambda's
provisioned-concurrency config and a bucket lifecycle rule, so that the traffic graph, the
pricers that look at other resources, usage counted once per group and free tiers shared across
resources are all in play. The changes are what recommendations and what-if rows do (tags set,
scaled or removed; properties replaced; a REST API turned into an HTTP API with its stages
dropped; a resource added) plus what they do not (a resource dropped, the order changed).
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costline.core.model import Resource
from costline.core.values import UNKNOWN_STRING
from costline.estimator.pipeline import EstimateOptions, estimate, estimate_with_run
from costline.estimator.priced import PricedStack, price_stack
from costline.estimator.reprice import Repricer
from costline.pricers.apigateway import stages_by_api
from costline.scenarios.edit import scale_usage, with_properties, with_tags
from costline.scenarios.recommendations import RULES
from costline.scenarios.recommendations.apigateway import _as_http_api, http_api
from costline.testing.stacks import service, services_stack
from costline.usage.tags import INPUT_TOKENS, OUTPUT_TOKENS
from tests.test_properties import PRICES, stacks, urn

LIFECYCLE = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"
PC_CONFIG = "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig"
V2_API = "aws:apigatewayv2/api:Api"
PROVISIONED = "aws:bedrock/provisionedModelThroughput:ProvisionedModelThroughput"
SETTINGS = settings(deadline=None, max_examples=60)

TAG_EDITS = st.sampled_from(
    [
        {"cost:monthly-requests": "250000"},
        {"cost:daily-requests": "17", "cost:monthly-requests": None},
        {"cost:input-tokens": "120"},
        {"cost:output-tokens": "0"},
        {"cost:bedrock-mode": "batch"},
        {"cost:avg-duration-ms": "4500"},
        {"cost:storage-gb": "12.5"},
        {"cost:get-requests-per-request": "3"},
        {"cost:monthly-requests": "not a number"},
        {"cost:monthly-requests": None, "cost:daily-requests": None},
    ]
)
PROPERTY_EDITS = st.sampled_from(
    [
        {"architectures": ["arm64"]},
        {"memorySize": 128},
        {"memorySize": 3008, "timeout": 900},
        {"cacheClusterEnabled": True, "cacheClusterSize": "0.5"},
    ]
)


def extras(resources: list[Resource]) -> list[Resource]:
    """A provisioned-concurrency config on the first Lambda and a lifecycle rule on the first
    bucket (by reference), when the stack has them."""
    found: list[Resource] = []
    fn = next((r for r in resources if r.type == "aws:lambda/function:Function"), None)
    if fn is not None:
        found.append(
            Resource(
                urn(PC_CONFIG, "pc"),
                PC_CONFIG,
                "pc",
                {"provisionedConcurrentExecutions": 2},
                property_dependencies={"functionName": (fn.urn,)},
            )
        )
    bucket = next((r for r in resources if r.type == "aws:s3/bucket:Bucket"), None)
    if bucket is not None:
        found.append(
            Resource(
                urn(LIFECYCLE, "rules"),
                LIFECYCLE,
                "rules",
                {
                    "rules": [
                        {
                            "id": "archive",
                            "status": "Enabled",
                            "transitions": [{"days": 30, "storageClass": "GLACIER_IR"}],
                        }
                    ]
                },
                property_dependencies={"bucket": (bucket.urn,)},
            )
        )
    return found


@st.composite
def mixed_stacks(draw) -> list[Resource]:
    wired = [r for i in range(draw(st.integers(0, 3))) for r in service(i)]
    loose = draw(stacks(min_size=0, max_size=5))
    resources = wired + loose
    if draw(st.booleans()):
        resources += extras(resources)
    return resources


@st.composite
def changed_copies(draw, resources: list[Resource]) -> list[Resource]:
    """The stack with a few generated changes (see the module doc)."""
    copy = list(resources)
    for _ in range(draw(st.integers(1, 4))):
        if not copy:
            break
        i = draw(st.integers(0, len(copy) - 1))
        r = copy[i]
        edit = draw(st.sampled_from(["tags", "properties", "scale", "drop", "http", "add"]))
        if edit == "tags":
            copy[i] = with_tags(r, draw(TAG_EDITS))
        elif edit == "properties":
            copy[i] = with_properties(r, draw(PROPERTY_EDITS))
        elif edit == "scale":
            factor = Fraction(draw(st.integers(1, 50)), draw(st.integers(1, 7)))
            copy = [
                scale_usage(x, factor, (INPUT_TOKENS, OUTPUT_TOKENS), requests=True) for x in copy
            ]
        elif edit == "drop":
            del copy[i]
        elif edit == "http" and r.type == "aws:apigateway/restApi:RestApi":
            copy[i] = replace(
                with_tags(r, {"cost:monthly-requests": "90000"}),
                type=V2_API,
                properties={"protocolType": "HTTP", "tags": {"cost:monthly-requests": "90000"}},
            )
            copy = [
                x
                for x in copy
                if not (
                    x.type == "aws:apigateway/stage:Stage"
                    and r.urn in x.property_dependencies.get("restApi", ())
                )
            ]
        elif edit == "add":
            copy.append(
                Resource(
                    urn(PROVISIONED, f"added-{len(copy)}"),
                    PROVISIONED,
                    f"added-{len(copy)}",
                    {"modelArn": "anthropic.claude-3-haiku-20240307-v1:0", "modelUnits": 1},
                )
            )
    if draw(st.booleans()) and len(copy) > 1:  # sometimes another order: estimated in full
        copy = list(reversed(copy))
    return copy


def assert_same_total(fast: Decimal, full: Decimal) -> None:
    assert fast == full
    assert str(fast) == str(full)  # the same digits and exponent, not only the same value


@pytest.mark.parametrize("free_tier", [True, False])
@SETTINGS
@given(data=st.data())
def test_the_total_of_a_changed_copy_is_the_full_estimates(free_tier, data):
    options = EstimateOptions(free_tier=free_tier)
    resources = data.draw(mixed_stacks())
    _, run = estimate_with_run(resources, PRICES, options)
    repricer = Repricer(run, PRICES, options, full_above=float("inf"))  # never by size
    unique = len({r.urn for r in resources}) == len(resources)
    for _ in range(3):  # one repricer serves several copies, as a review asks it to
        copy = data.draw(changed_copies(resources))
        full = estimate(copy, PRICES, options).total_monthly_usd
        assert_same_total(repricer.total(copy), full)
        urns = [r.urn for r in resources]
        in_order = [urns.index(r.urn) for r in copy if r.urn in urns]
        copy_unique = len({r.urn for r in copy}) == len(copy)
        if unique and copy_unique and in_order == sorted(in_order) and not run.traffic_failed:
            # every change but another order is followed, shape changes included
            assert_same_total(repricer._fast_total(tuple(copy)), full)


def test_a_change_that_reaches_most_of_the_stack_is_estimated_in_full():
    resources = services_stack(60)
    _, run = estimate_with_run(resources, PRICES)
    repricer = Repricer(run, PRICES, EstimateOptions())
    few = [
        with_properties(r, {"memorySize": 128}) if r.name == "handler-0" else r for r in resources
    ]
    most = [
        with_tags(r, {"cost:team": "x"}) if r.type != "pulumi:pulumi:Stack" else r
        for r in resources
    ]
    assert repricer._fast_total(tuple(few)) is not None
    assert repricer._fast_total(tuple(most)) is None
    for copy in (few, most):
        assert_same_total(repricer.total(copy), estimate(copy, PRICES).total_monthly_usd)


class NotBilled:
    """A :class:`~costline.estimator.scaled.ScaledBilling` that never applies."""

    usable = False


class FullyPriced(PricedStack):
    """Prices every changed copy with a full estimate: what the rules did before they re-priced
    only what a change reaches, and before token cuts were billed from the stack's charges."""

    def total(self, resources):
        return self.price(resources).total_monthly_usd

    @property
    def scaled_billing(self):
        return NotBilled()


BILLED_RULES = {
    "bedrock-fewer-tokens",
    "lambda-arm64",
    "lambda-right-size-memory",
    "apigateway-http-api",
}
"""Rules whose totals are billed from the stack's charges where that applies
(:mod:`costline.estimator.scaled`): within ``BILLING_TOLERANCE`` of full estimates, rather
than the same digits."""
BILLING_TOLERANCE = Decimal("1e-20")


def assert_rules_agree(stack: PricedStack) -> None:
    full = FullyPriced(stack.resources, stack.prices, stack.options, stack.estimate)
    for rule in RULES:
        fast, slow = rule(stack), rule(full)
        assert [(r.code, r.title, r.detail, r.resources, r.link) for r in fast] == [
            (r.code, r.title, r.detail, r.resources, r.link) for r in slow
        ], rule.__name__  # the details show cents
        for a, b in zip(fast, slow, strict=True):
            amounts = (
                (a.monthly_saving_usd, b.monthly_saving_usd),
                (a.new_total_monthly_usd, b.new_total_monthly_usd),
            )
            if a.code in BILLED_RULES:
                for x, y in amounts:
                    assert (x is None) == (y is None)
                    if x is not None and y is not None:
                        assert abs(x - y) <= BILLING_TOLERANCE * max(Decimal(1), abs(y))
            else:
                assert a == b
                assert [str(x) for x, _ in amounts] == [str(y) for _, y in amounts]


@SETTINGS
@given(resources=mixed_stacks(), fail_closed=st.booleans())
def test_every_rule_gives_what_full_estimates_give(resources, fail_closed):
    assert_rules_agree(price_stack(resources, PRICES, EstimateOptions(fail_closed=fail_closed)))


def test_every_rule_on_many_services_gives_what_full_estimates_give():
    stack = price_stack(services_stack(200), PRICES)
    names = {r.code for rule in RULES for r in rule(stack)}
    # the rules that price a change all have something to price on this stack
    assert {"bedrock-fewer-tokens", "lambda-arm64", "lambda-right-size-memory"} <= names
    assert "apigateway-http-api" in names
    assert_rules_agree(stack)


def test_a_priced_stack_made_without_its_run_works_it_out():
    resources = services_stack(40)
    options = EstimateOptions(free_tier=False)  # else the free tier hides the change
    base = estimate(resources, PRICES, options)
    stack = PricedStack(tuple(resources), PRICES, options, base)
    changed = stack.replaced(
        {
            r.urn: with_properties(r, {"memorySize": 128})
            for r in resources
            if r.type == "aws:lambda/function:Function"
        }
    )
    assert_same_total(stack.total(changed), stack.price(changed).total_monthly_usd)
    assert stack.total(changed) != base.total_monthly_usd  # the change is priced, not ignored


# --- an HTTP API instead of a REST API: a change of the stack's shape ------------------------

API_VARIANTS = (
    "stage",  # the service as generated: the stage declares the traffic
    "api",  # the API declares it, the stage does not
    "both",  # both do (the stage's figure is counted)
    "none",  # neither does
    "secret",  # the stage's figure is a secret
    "unknown",  # the stage's figure is not known yet (preview)
    "unknown-tags",  # the API's tag map is not known yet
    "cache",  # the stage has a cache (REST only: not eligible)
    "two-stages",  # a second stage, declaring its own traffic
    "no-lambda",  # the integration's Lambda is gone (nothing flows on)
)


def api_service(i: int, variant: str) -> list[Resource]:
    """:func:`service` ``i`` with its API and stage(s) declared as ``variant`` says."""
    resources = service(i)
    api = next(r for r in resources if r.type == "aws:apigateway/restApi:RestApi")
    stage = next(r for r in resources if r.type == "aws:apigateway/stage:Stage")
    changes: dict[str, Resource] = {}
    daily = {"cost:daily-requests": None}
    if variant == "api":
        changes[stage.urn] = with_tags(stage, daily)
        changes[api.urn] = with_tags(api, {"cost:monthly-requests": str(9000 + i)})
    elif variant == "both":
        changes[api.urn] = with_tags(api, {"cost:monthly-requests": "123456"})
    elif variant == "none":
        changes[stage.urn] = with_tags(stage, daily)
    elif variant == "secret":
        changes[stage.urn] = replace(stage, secret_paths=frozenset({"tags.cost:daily-requests"}))
    elif variant == "unknown":
        changes[stage.urn] = with_tags(stage, {"cost:daily-requests": UNKNOWN_STRING})
    elif variant == "unknown-tags":
        changes[api.urn] = with_properties(api, {"tags": UNKNOWN_STRING})
    elif variant == "cache":
        changes[stage.urn] = with_properties(
            stage, {"cacheClusterEnabled": True, "cacheClusterSize": "1.6"}
        )
    copy = [changes.get(r.urn, r) for r in resources]
    if variant == "two-stages":
        copy.append(
            replace(
                stage,
                urn=stage.urn + "-prod",
                name=stage.name + "-prod",
                properties={"stageName": "prod", "tags": {"cost:monthly-requests": "70000"}},
            )
        )
    elif variant == "no-lambda":
        copy = [r for r in copy if r.type != "aws:lambda/function:Function"]
    return copy


@st.composite
def api_stacks(draw) -> list[Resource]:
    variants = draw(st.lists(st.sampled_from(API_VARIANTS), min_size=1, max_size=4))
    resources = [r for i, variant in enumerate(variants) for r in api_service(i, variant)]
    if draw(st.booleans()):
        resources += extras(resources)
    return resources


def switched(resources: list[Resource], apis: set[str]) -> list[Resource]:
    """The stack with the REST APIs ``apis`` turned into HTTP APIs and their stages dropped, as
    the HTTP-API rule does (whether or not the rule would find them eligible)."""
    stages = stages_by_api(resources)
    dropped = {s.urn for api in apis for s in stages.get(api, ())}
    return [
        _as_http_api(r, stages.get(r.urn, ())) if r.urn in apis else r
        for r in resources
        if r.urn not in dropped
    ]


@pytest.mark.parametrize("free_tier", [True, False])
@SETTINGS
@given(resources=api_stacks(), fail_closed=st.booleans(), data=st.data())
def test_switching_rest_apis_to_http_is_repriced_exactly(free_tier, resources, fail_closed, data):
    options = EstimateOptions(free_tier=free_tier, fail_closed=fail_closed)
    _, run = estimate_with_run(resources, PRICES, options)
    repricer = Repricer(run, PRICES, options, full_above=float("inf"))
    apis = [r.urn for r in resources if r.type == "aws:apigateway/restApi:RestApi"]
    for _ in range(2):
        chosen = data.draw(st.sets(st.sampled_from(apis), min_size=1))
        copy = switched(resources, chosen)
        full = estimate(copy, PRICES, options).total_monthly_usd
        assert_same_total(repricer._fast_total(tuple(copy)), full)
        assert_same_total(repricer.total(copy), full)


def test_the_switch_changes_the_total_it_reprices():
    """The switch is priced, not ignored: REST requests cost more than HTTP ones, so the total
    drops by what the full estimates say."""
    resources = [r for i, v in enumerate(["stage", "api", "cache"]) for r in api_service(i, v)]
    options = EstimateOptions(free_tier=False)
    _, run = estimate_with_run(resources, PRICES, options)
    repricer = Repricer(run, PRICES, options, full_above=float("inf"))
    apis = {r.urn for r in resources if r.type == "aws:apigateway/restApi:RestApi"}
    copy = switched(resources, apis)
    full = estimate(copy, PRICES, options).total_monthly_usd
    assert full < estimate(resources, PRICES, options).total_monthly_usd
    assert_same_total(repricer._fast_total(tuple(copy)), full)


class FastOnly(PricedStack):
    """Prices every changed copy by re-pricing only what the change reaches, whatever share of
    the stack it reaches, and fails if it would estimate the copy in full."""

    @property
    def _fast(self) -> Repricer:
        return Repricer(
            estimate_with_run(self.resources, self.prices, self.options)[1],
            self.prices,
            self.options,
            full_above=float("inf"),
        )

    def total(self, resources):
        fast = self._fast._fast_total(tuple(resources))
        assert fast is not None, "estimated in full"
        return fast


@pytest.mark.parametrize("free_tier", [True, False])
@pytest.mark.parametrize("fail_closed", [True, False])
def test_the_http_api_rule_with_some_apis_not_eligible_is_repriced_exactly(free_tier, fail_closed):
    variants = ["stage", "cache", "api", "secret", "two-stages", "unknown", "both"]
    resources = [r for i, v in enumerate(variants) for r in api_service(i, v)]
    options = EstimateOptions(free_tier=free_tier, fail_closed=fail_closed)
    stack = price_stack(resources, PRICES, options)
    fast = FastOnly(stack.resources, stack.prices, stack.options, stack.estimate)
    full = FullyPriced(stack.resources, stack.prices, stack.options, stack.estimate)
    (rec,) = http_api(fast)
    assert rec == http_api(full)[0]
    assert str(rec.new_total_monthly_usd) == str(http_api(full)[0].new_total_monthly_usd)
    assert "api-1" not in rec.resources  # its stage's cache is REST only
    assert "api-0" in rec.resources


def _rewire(resources: list[Resource], case: str) -> list[Resource]:
    """Changes to the traffic edges of three services (see the test below)."""
    by_name = {r.name: r for r in resources}
    if case == "no-integration-nor-permission":  # the Lambda gets no traffic
        return [r for r in resources if r.name not in ("proxy-lambda-0", "invoke-0")]
    if case == "no-integration":  # the permission's hint carries the traffic instead
        return [r for r in resources if r.name != "proxy-lambda-0"]
    if case == "no-profile":  # the Lambda's tokens flow nowhere: it prices them itself
        return [r for r in resources if r.name != "model-1"]
    if case == "no-api":
        return [r for r in resources if r.name != "api-2"]
    if case == "other-profile":  # two Lambdas call one profile, none calls the other
        handler, model = by_name["handler-0"], by_name["model-1"]
        moved = replace(
            handler,
            property_dependencies={
                **handler.property_dependencies,
                "environment": (model.urn, by_name["artifacts-0"].urn),
            },
        )
        policy = by_name["handler-invoke-0"]
        moved_policy = replace(
            policy,
            property_dependencies={**policy.property_dependencies, "policy": (model.urn,)},
        )
        changes = {moved.urn: moved, moved_policy.urn: moved_policy}
        return [changes.get(r.urn, r) for r in resources]
    if case == "profile-retyped":  # the Lambda calls a bucket where it called a profile
        model = by_name["model-1"]
        retyped = replace(model, type="aws:s3/bucket:Bucket", properties={})
        return [retyped if r.urn == model.urn else r for r in resources]
    if case == "added-integration":  # a second API sends traffic to handler-1
        integration = by_name["proxy-lambda-1"]
        added = replace(
            integration,
            urn=integration.urn + "-extra",
            name="extra",
            property_dependencies={
                **integration.property_dependencies,
                "restApi": (by_name["api-0"].urn,),
            },
        )
        return [*resources[:20], added, *resources[20:]]
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case",
    [
        "no-integration-nor-permission",
        "no-integration",
        "no-profile",
        "no-api",
        "other-profile",
        "added-integration",
        "profile-retyped",
    ],
)
@pytest.mark.parametrize("fail_closed", [True, False])
def test_changed_traffic_edges_are_followed_exactly(case, fail_closed):
    resources = [r for i in range(3) for r in service(i)]
    options = EstimateOptions(free_tier=False, fail_closed=fail_closed)
    before, run = estimate_with_run(resources, PRICES, options)
    repricer = Repricer(run, PRICES, options, full_above=float("inf"))
    copy = _rewire(resources, case)
    full = estimate(copy, PRICES, options).total_monthly_usd
    assert_same_total(repricer._fast_total(tuple(copy)), full)
    # the same requests flow through the hint; the same tokens reach the same model through
    # another profile (but fail-closed prices the profile left without traffic at its bound)
    if case != "no-integration" and (case != "other-profile" or fail_closed):
        assert full != before.total_monthly_usd
