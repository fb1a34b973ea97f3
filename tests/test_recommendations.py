"""Recommendations: each saving is the estimator's total minus its total for a changed stack.

Prices in the docstrings are us-east-1 list prices from pricing/us-east-1/*.yaml.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

from costline.core.money import round_cents
from costline.core.values import SECRET_SIGNATURE, SIGNATURE_KEY, UNKNOWN_STRING
from costline.estimator.pipeline import estimate
from costline.scenarios.recommendations import recommend
from costline.scenarios.recommendations.apigateway import FEATURES, rest_only_features
from costline.scenarios.recommendations.budgets import BUDGET_TYPE
from tests.conftest import LAMBDA, PROFILE, REST_API, STAGE, make, seed_stack

LLAMA = "meta.llama3-1-70b-instruct-v1:0"
TITAN = "amazon.titan-text-express-v1"


def by_code(recs):
    return {r.code: r for r in recs}


def test_seed_stack_at_list_prices(prices):
    """Bedrock deepseek.r1 $1.35 / $5.40 per 1M: 30,000 × 500 × 25% fewer tokens saves
    3,750,000 × ($1.35 + $5.40)/1M = $25.3125. HTTP API: 30,000 × ($3.50 − $1.00)/1M = $0.075.
    arm64 and smaller memory save $0.00 (the Lambda is inside the free tier): not shown.
    DeepSeek-R1 has no batch price: said so. No aws.budgets.Budget: the alarm, last."""
    recs = recommend(seed_stack(), prices)
    assert [r.code for r in recs] == [
        "bedrock-fewer-tokens",
        "apigateway-http-api",
        "bedrock-batch-not-offered",
        "bedrock-provisioned-not-offered",
        "aws-budgets-alarm",
    ]
    tokens, http, batch, provisioned, budget = recs
    assert tokens.monthly_saving_usd == D("25.3125")
    assert tokens.new_total_monthly_usd == D("102.2875") - D("25.3125")
    assert (
        "saves $20.25/month" in tokens.detail and "saves $5.06/month" in tokens.detail
    )  # output / prompt
    assert http.monthly_saving_usd == D("0.075") and round_cents(http.monthly_saving_usd) == D(
        "0.08"
    )
    assert http.resources == ("api",)
    assert batch.monthly_saving_usd is None and "deepseek.r1-v1:0" in batch.title
    assert provisioned.monthly_saving_usd is None and provisioned.resources == batch.resources == (
        "model",
    )
    assert budget.monthly_saving_usd is None and budget.link.startswith(
        "https://docs.aws.amazon.com/"
    )


def test_batch_inference_halves_the_token_cost_where_offered(prices):
    """Llama 3.1 70B: on demand $0.72 / $0.72 per 1M, batch $0.36 / $0.36.
    100,000 req × (1,000 + 1,000) tokens = 200M tokens: $144 on demand, $72 batch: saves $72."""
    profile = make(
        PROFILE,
        "model",
        tags={
            "cost:bedrock-model": LLAMA,
            "cost:monthly-requests": "100000",
            "cost:input-tokens": "1000",
            "cost:output-tokens": "1000",
        },
    )
    rec = by_code(recommend([profile], prices))["bedrock-batch"]
    assert rec.monthly_saving_usd == D(72)
    assert rec.resources == ("model",)


def test_arm64_outside_the_free_tier(prices):
    """10M req × 200 ms × 1,024 MB = 2,000,000 GB-s, 1,600,000 after the free 400,000:
    x86_64 × $0.0000166667 = $26.66672, arm64 × $0.0000133334 = $21.33344: saves $5.33328."""
    fn = make(
        LAMBDA,
        "worker",
        memorySize=1024,
        tags={"cost:monthly-requests": "10000000", "cost:avg-duration-ms": "200"},
    )
    rec = by_code(recommend([fn], prices))["lambda-arm64"]
    assert rec.monthly_saving_usd == D("5.33328")
    assert "$0.0000133334" in rec.detail and "$0.0000166667" in rec.detail
    arm = make(
        LAMBDA, "worker", memorySize=1024, architectures=["arm64"], tags=fn.properties["tags"]
    )
    assert "lambda-arm64" not in by_code(recommend([arm], prices))


def test_right_size_memory_of_a_function_waiting_on_bedrock(prices):
    """10M req × 1 s: 1,024 MB = 10,000,000 GB-s → 9,600,000 billable = $160.00032;
    512 MB = 5,000,000 → 4,600,000 billable = $76.66682: saves $83.3335 (tokens unchanged)."""
    tags = {
        "cost:monthly-requests": "10000000",
        "cost:avg-duration-ms": "1000",
        "cost:bedrock-model": LLAMA,
        "cost:input-tokens": "10",
        "cost:output-tokens": "10",
    }
    fn = make(LAMBDA, "api-handler", memorySize=1024, timeout=30, tags=tags)
    rec = by_code(recommend([fn], prices))["lambda-right-size-memory"]
    assert rec.monthly_saving_usd == D("83.3335")
    assert "1024 → 512 MB" in rec.detail


def test_no_right_sizing_when_the_function_runs_close_to_its_timeout(prices):
    tags = {
        "cost:monthly-requests": "10000000",
        "cost:avg-duration-ms": "2500",
        "cost:bedrock-model": LLAMA,
        "cost:input-tokens": "10",
        "cost:output-tokens": "10",
    }
    fn = make(LAMBDA, "slow", memorySize=1024, timeout=3, tags=tags)
    assert "lambda-right-size-memory" not in by_code(recommend([fn], prices))


def test_no_right_sizing_for_functions_that_do_not_call_a_model(prices):
    fn = make(
        LAMBDA,
        "cpu",
        memorySize=1024,
        tags={"cost:monthly-requests": "10000000", "cost:avg-duration-ms": "1000"},
    )
    assert "lambda-right-size-memory" not in by_code(recommend([fn], prices))


def test_http_api_is_not_suggested_when_rest_only_features_are_used(prices):
    stack = seed_stack()
    api = stack[0]
    plan = replace(
        make("aws:apigateway/usagePlan:UsagePlan", "plan"),
        property_dependencies={"apiStages": (api.urn,)},
    )
    assert rest_only_features(api, [*stack, plan]) == ["a usage plan"]
    assert "apigateway-http-api" not in by_code(recommend([*stack, plan], prices))
    cached = [
        replace(r, properties={**r.properties, "cacheClusterEnabled": True})
        if r.type == STAGE
        else r
        for r in stack
    ]
    assert rest_only_features(cached[0], cached) == ["the stage cache"]
    assert "apigateway-http-api" not in by_code(recommend(cached, prices))


INTEGRATION = "aws:apigateway/integration:Integration"
UNKNOWN_BOOLEAN = (
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7"  # the engine's unknown boolean during preview
)


def _attached(type_token, name, api, **properties):
    """A resource whose ``restApi`` property dependency is ``api`` (as the engine links them)."""
    return replace(
        make(type_token, name, **properties), property_dependencies={"restApi": (api.urn,)}
    )


def _suggests_http_api(stack, prices):
    return "apigateway-http-api" in by_code(recommend(stack, prices))


def test_the_reference_stack_with_a_lambda_proxy_integration_still_gets_the_http_api(prices):
    stack = seed_stack()
    proxy = _attached(
        INTEGRATION, "proxy-lambda", stack[0], type="AWS_PROXY", integrationHttpMethod="POST"
    )
    assert rest_only_features(stack[0], [*stack, proxy]) == []
    rec = by_code(recommend([*stack, proxy], prices))["apigateway-http-api"]
    assert all(
        feature in rec.detail for feature in FEATURES
    )  # the advice lists what the rule checks


def test_non_proxy_integrations_and_mapping_templates_block_the_http_api(prices):
    stack = seed_stack()
    api = stack[0]
    for kind in ("AWS", "HTTP", "MOCK", UNKNOWN_STRING):
        integration = _attached(INTEGRATION, "int", api, type=kind)
        assert rest_only_features(api, [*stack, integration]) == ["a non-proxy integration"], kind
        assert not _suggests_http_api([*stack, integration], prices)
    templated = _attached(
        INTEGRATION,
        "int",
        api,
        type="AWS_PROXY",
        requestTemplates={"application/json": '{"body": $input.json("$")}'},
    )
    assert rest_only_features(api, [*stack, templated]) == ["VTL mapping templates"]
    assert not _suggests_http_api([*stack, templated], prices)
    response = _attached(
        "aws:apigateway/integrationResponse:IntegrationResponse",
        "resp",
        api,
        responseTemplates={"application/json": UNKNOWN_STRING},
    )
    assert rest_only_features(api, [*stack, response]) == ["VTL mapping templates"]
    other = make(REST_API, "other")  # an integration of another API does not block this one
    assert (
        rest_only_features(api, [*stack, other, _attached(INTEGRATION, "int", other, type="MOCK")])
        == []
    )


def test_method_settings_caching_blocks_the_http_api(prices):
    stack = seed_stack()
    api, stage = stack[0], stack[1]
    cached = _attached(
        "aws:apigateway/methodSettings:MethodSettings",
        "all",
        api,
        methodPath="*/*",
        settings={"cachingEnabled": True, "metricsEnabled": True},
    )
    assert rest_only_features(api, [*stack, cached]) == ["method-level caching"]
    assert not _suggests_http_api([*stack, cached], prices)
    by_stage = replace(
        cached,
        property_dependencies={"stageName": (stage.urn,)},
        properties={"settings": {"cachingEnabled": UNKNOWN_BOOLEAN}},
    )
    assert rest_only_features(api, [*stack, by_stage]) == [
        "method-level caching"
    ]  # unknown: may cache
    metrics_only = replace(
        cached, properties={"settings": {"cachingEnabled": False, "metricsEnabled": True}}
    )
    assert rest_only_features(api, [*stack, metrics_only]) == []
    assert _suggests_http_api([*stack, metrics_only], prices)


def test_an_edge_optimized_custom_domain_mapped_to_the_api_blocks_the_http_api(prices):
    stack = seed_stack()
    api = stack[0]

    def domain(**properties):
        return make(
            "aws:apigateway/domainName:DomainName",
            "domain",
            domainName="api.example.com",
            **properties,
        )

    def mapping(dom, **deps):
        return replace(
            make(
                "aws:apigateway/basePathMapping:BasePathMapping",
                "mapping",
                domainName=dom.properties["domainName"],
            ),
            property_dependencies={"domainName": (dom.urn,), **deps},
        )

    edge = domain(
        certificateArn="arn:aws:acm:us-east-1:123456789012:certificate/x",
        endpointConfiguration={"types": ["EDGE"]},
    )
    assert rest_only_features(api, [*stack, edge, mapping(edge, restApi=(api.urn,))]) == [
        "an edge-optimized custom domain"
    ]
    assert not _suggests_http_api([*stack, edge, mapping(edge, restApi=(api.urn,))], prices)
    default = domain(
        certificateArn="arn:aws:acm:us-east-1:123456789012:certificate/x"
    )  # AWS default: EDGE
    assert rest_only_features(api, [*stack, default, mapping(default, apiId=(api.urn,))]) == [
        "an edge-optimized custom domain"
    ]
    unknown = domain(endpointConfiguration={"types": [UNKNOWN_STRING]})
    assert rest_only_features(api, [*stack, unknown, mapping(unknown, restApi=(api.urn,))]) == [
        "an edge-optimized custom domain"
    ]
    regional = domain(
        regionalCertificateArn="arn:aws:acm:us-east-1:123456789012:certificate/x",
        endpointConfiguration={"types": ["REGIONAL"]},
        mutualTlsAuthentication={"truststoreUri": "s3://bucket/truststore.pem"},
    )
    assert (
        rest_only_features(api, [*stack, regional, mapping(regional, restApi=(api.urn,))]) == []
    )  # HTTP APIs do mTLS
    assert (
        rest_only_features(api, [*stack, edge, mapping(edge)]) == []
    )  # not clearly linked to the API


def test_http_api_keeps_traffic_flowing_to_the_lambda(prices):
    """An API whose Lambda gets its traffic from the integration: switching the API must not
    lose the Lambda's requests (the saving is only the request price difference)."""
    api = make(REST_API, "api", tags={"cost:monthly-requests": "2000000"})
    fn = make(LAMBDA, "fn", memorySize=128, tags={"cost:avg-duration-ms": "10"})
    integration = replace(
        make("aws:apigateway/integration:Integration", "int", type="AWS_PROXY"),
        property_dependencies={"restApi": (api.urn,), "uri": (fn.urn,)},
    )
    stack = [api, fn, integration]
    base = estimate(stack, prices)
    assert next(r for r in base.resources if r.name == "fn").monthly_usd > 0  # 2M requests, 1M free
    rec = by_code(recommend(stack, prices))["apigateway-http-api"]
    assert rec.monthly_saving_usd == D("5.00")  # 2M × ($3.50 − $1.00)/1M


def test_provisioned_throughput_break_even(prices):
    """Titan Text Express: on demand $0.20 / $0.60 per 1M; one model unit with a 6-month
    commitment $14.80/h × 730 h = $10,804/month (the cheapest commitment). At 1,000 + 1,000
    tokens a call is $0.0008, so it breaks even at 10,804 / 0.0008 = 13,505,000 calls/month."""

    def profile(calls):
        return make(
            PROFILE,
            "model",
            tags={
                "cost:bedrock-model": TITAN,
                "cost:monthly-requests": calls,
                "cost:input-tokens": "1000",
                "cost:output-tokens": "1000",
            },
        )

    small = by_code(recommend([profile("30000")], prices))["bedrock-provisioned-break-even"]
    assert small.monthly_saving_usd is None
    assert "13,505,000 calls/month" in small.detail and "$10,804.00/month" in small.detail
    big = by_code(recommend([profile("20000000")], prices))["bedrock-provisioned"]
    assert big.monthly_saving_usd == D(16000) - D(10804)


def test_savings_are_sorted_and_advice_comes_last_with_budgets_at_the_end(prices):
    fn = make(
        LAMBDA,
        "worker",
        memorySize=1024,
        tags={"cost:monthly-requests": "10000000", "cost:avg-duration-ms": "200"},
    )
    recs = recommend([*seed_stack(), fn], prices)
    savings = [r.monthly_saving_usd for r in recs if r.monthly_saving_usd is not None]
    assert savings == sorted(savings, reverse=True)
    assert recs[-1].code == "aws-budgets-alarm"
    assert all(r.monthly_saving_usd is not None for r in recs[: len(savings)])


def test_no_budgets_advice_when_the_stack_declares_a_budget(prices):
    recs = recommend([*seed_stack(), make(BUDGET_TYPE, "monthly")], prices)
    assert "aws-budgets-alarm" not in by_code(recs)


def test_empty_stack_only_gets_the_budgets_advice(prices):
    assert [r.code for r in recommend([], prices)] == ["aws-budgets-alarm"]


def test_a_secret_model_id_is_never_named(prices):
    secret = {SIGNATURE_KEY: SECRET_SIGNATURE, "value": "deepseek.r1-v1:0"}
    profile = make(
        PROFILE,
        "model",
        tags={
            "cost:bedrock-model": secret,
            "cost:monthly-requests": "30000",
            "cost:input-tokens": "500",
            "cost:output-tokens": "500",
        },
    )
    recs = recommend([profile], prices)
    assert [r.code for r in recs] == ["bedrock-fewer-tokens", "aws-budgets-alarm"]
    assert all("deepseek" not in r.title + r.detail for r in recs)


def test_provisioned_throughput_not_priced_is_said_once_per_model(prices):
    """The reference model (DeepSeek-R1, us-east-1) has no bedrock.provisioned price: advice with
    no dollar figure; Titan Text Express has one, so it gets a break-even instead."""
    rec = by_code(recommend(seed_stack(), prices))["bedrock-provisioned-not-offered"]
    assert rec.monthly_saving_usd is None and rec.new_total_monthly_usd is None
    assert rec.detail == (
        "Provisioned Throughput is not priced for deepseek.r1-v1:0 in us-east-1 (no "
        "bedrock.provisioned entry in the price tables), so no break-even can be computed."
    )
    assert rec.link == "https://docs.aws.amazon.com/bedrock/latest/userguide/prov-throughput.html"
    titan = make(
        PROFILE,
        "model",
        tags={
            "cost:bedrock-model": TITAN,
            "cost:monthly-requests": "30000",
            "cost:input-tokens": "1000",
            "cost:output-tokens": "1000",
        },
    )
    codes = by_code(recommend([titan], prices))
    assert (
        "bedrock-provisioned-not-offered" not in codes and "bedrock-provisioned-break-even" in codes
    )


def test_checking_every_rest_api_stays_linear_in_the_stack(prices, monkeypatch):
    """Recommendations and what-if rows look at every REST API; each API must be checked through
    indexes built once per stack, not by scanning the stack once per API (that made a review
    of a 10,000-resource stack take minutes). Counted, not timed: how often a resource's
    references are read, and how often stages are matched to their APIs."""
    from costline.pricers import apigateway as pricing_apigateway
    from costline.scenarios import whatif
    from costline.scenarios.recommendations import apigateway as rule
    from costline.testing.stacks import services_stack

    calls = {"references": 0, "stage_api_urns": 0}

    def counting(name, original):
        def wrapper(*args):
            calls[name] += 1
            return original(*args)

        return wrapper

    monkeypatch.setattr(rule, "_references", counting("references", rule._references))
    for module in (pricing_apigateway, whatif):
        if hasattr(module, "stage_api_urns"):
            monkeypatch.setattr(
                module, "stage_api_urns", counting("stage_api_urns", module.stage_api_urns)
            )

    def count(services: int) -> dict[str, int]:
        calls.update(references=0, stage_api_urns=0)
        stack = services_stack(2 + services * 15)
        assert len(by_code(recommend(stack, prices))["apigateway-http-api"].resources) == services
        whatif.what_if(stack, prices)
        return dict(calls)

    few, many = count(2), count(8)  # 2 REST APIs, then 8 (and 4 times the resources)
    assert (
        many["stage_api_urns"] == few["stage_api_urns"] > 0
    )  # once per estimate or rule, not per API
    assert 0 < many["references"] <= 2 + 8 * 15  # each resource's references read once


def test_the_token_cuts_scale_every_declared_token_figure_and_nothing_else(prices):
    """The stacks fewer_tokens prices are the stack with every resource scaled by
    scale_usage (tokens declared in tags or tagsAll, as text or a number; resources without a
    token tag, with an unknown tag map or with a token figure that cannot be read left as they
    are), whichever resources it reads."""
    from fractions import Fraction

    from costline.estimator.priced import PricedStack, price_stack
    from costline.scenarios.edit import scale_usage
    from costline.scenarios.recommendations.bedrock import fewer_tokens
    from costline.testing.stacks import services_stack
    from costline.usage.tags import INPUT_TOKENS, OUTPUT_TOKENS
    from tests.test_reprice import NotBilled

    stack = services_stack(2 + 2 * 15)
    extra = [
        make(
            LAMBDA, "all-tags", tagsAll={"cost:input-tokens": "800", "cost:monthly-requests": "5"}
        ),
        make(LAMBDA, "numbers", tags={"cost:output-tokens": 300, "cost:monthly-requests": "5"}),
        make(LAMBDA, "unknown-map", tags=UNKNOWN_STRING),
        make(
            LAMBDA, "unreadable", tags={"cost:input-tokens": "lots", "cost:monthly-requests": "5"}
        ),
        make(LAMBDA, "no-tokens", tags={"cost:monthly-requests": "5"}),
    ]
    resources = [*stack, *extra]
    seen: list[list] = []

    class Recording(PricedStack):
        def total(self, changed):
            seen.append(list(changed))
            return super().total(seen[-1])

        @property
        def scaled_billing(self):  # price the cut copies, to see them
            return NotBilled()

    priced = price_stack(resources, prices)
    fewer_tokens(Recording(priced.resources, priced.prices, priced.options, priced.estimate))
    cut = Fraction(3, 4)
    expected = [
        [scale_usage(r, cut, tags) for r in resources]
        for tags in ((INPUT_TOKENS, OUTPUT_TOKENS), (OUTPUT_TOKENS,), (INPUT_TOKENS,))
    ]
    assert seen == expected
    # the declared figures were cut (not only copied): 800 → 600 in tagsAll's place
    assert seen[0][len(stack)].properties["tags"]["cost:input-tokens"] == "600"
    assert seen[2][len(stack) + 1] is extra[1]  # the input cut leaves output tokens alone
