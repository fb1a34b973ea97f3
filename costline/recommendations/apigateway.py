"""API Gateway recommendation: an HTTP API instead of a REST API.

HTTP APIs are billed per request at ``apigateway.http.requests`` (in 512 KB increments) against
``apigateway.rest.requests`` for REST. The modified stack replaces each eligible REST API by an
HTTP API (``aws:apigatewayv2/api:Api``) carrying the requests the REST API is billed for (its
stages' declared traffic when they declare it, else its own) and drops its stages; the
integrations keep routing to the same Lambdas, so traffic through the graph is unchanged.

A REST API is eligible only when it uses none of the REST-only features an HTTP API lacks:
usage plans and API keys, the stage cache, AWS WAF, private endpoints, resource policies,
request validators, X-Ray tracing or canary deployments on a stage.
Source: https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-vs-rest.html
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from costline.model import Resource
from costline.money import format_quantity, format_unit_price, plain_number
from costline.pricers.apigateway import HTTP_REQUESTS_ID, REST_API_TYPE, V2_API_TYPE
from costline.recommendations.common import Context, Recommendation
from costline.stack_edit import with_tags
from costline.usage import DAILY_REQUESTS, DAYS_PER_MONTH, MONTHLY_REQUESTS
from costline.traffic import declared_requests
from costline.whatif import rest_stages, rest_traffic_holders

COMPARISON_LINK = "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-vs-rest.html"
REST_REQUESTS_ID = "apigateway.rest.requests"
REST_ONLY_TYPES = {
    "aws:apigateway/usagePlan:UsagePlan": "a usage plan",
    "aws:apigateway/usagePlanKey:UsagePlanKey": "a usage plan key",
    "aws:apigateway/apiKey:ApiKey": "API keys",
    "aws:apigateway/requestValidator:RequestValidator": "a request validator",
    "aws:apigateway/restApiPolicy:RestApiPolicy": "a resource policy",
    "aws:wafv2/webAclAssociation:WebAclAssociation": "AWS WAF",
    "aws:wafregional/webAclAssociation:WebAclAssociation": "AWS WAF",
}
"""Resource types that only exist for REST APIs (they block the switch for the APIs they
reference, or for every REST API when they reference none of them)."""


def _references(resource: Resource) -> set[str]:
    return {u for urns in resource.property_dependencies.values() for u in urns} | set(resource.dependencies)


def rest_only_features(api: Resource, stack: Sequence[Resource]) -> list[str]:
    """What ``api`` uses that an HTTP API does not offer (empty: it can switch)."""
    stages = rest_stages(api, stack)
    mine = {api.urn, *(s.urn for s in stages)}
    apis = {r.urn for r in stack if r.type == REST_API_TYPE}
    found = [label for r in stack if r.type in REST_ONLY_TYPES
             for label in [REST_ONLY_TYPES[r.type]] if _references(r) & mine or not _references(r) & apis]
    endpoint = api.properties.get("endpointConfiguration")
    if isinstance(endpoint, dict) and "PRIVATE" in str(endpoint.get("types")):
        found.append("a private endpoint")
    if api.properties.get("policy"):
        found.append("a resource policy")
    for stage in stages:
        for prop, label in (("cacheClusterEnabled", "the stage cache"), ("xrayTracingEnabled", "X-Ray tracing"),
                            ("canarySettings", "a canary deployment"), ("webAclArn", "AWS WAF")):
            if stage.properties.get(prop):
                found.append(label)
    methods = [r for r in stack if r.type == "aws:apigateway/method:Method" and api.urn in _references(r)]
    if any(m.properties.get("apiKeyRequired") for m in methods):
        found.append("API keys")
    return list(dict.fromkeys(found))


def _as_http_api(api: Resource, stack: Sequence[Resource]) -> Resource:
    """``api`` as an HTTP API (same URN, so integrations still route to it) whose own traffic
    tags carry the requests its REST stages (or itself) declare."""
    total, secret, _ = declared_requests(rest_traffic_holders(api, stack))
    tagged = with_tags(api, {DAILY_REQUESTS.key: None, DAYS_PER_MONTH.key: None, MONTHLY_REQUESTS.key: plain_number(total)},
                       secret_keys=[MONTHLY_REQUESTS.key] if secret else [])
    kept = {k: v for k, v in tagged.properties.items() if k in ("tags", "tagsAll", "name")}
    return replace(tagged, type=V2_API_TYPE, properties={"protocolType": "HTTP", **kept})


def http_api(ctx: Context) -> list[Recommendation]:
    rest, http = ctx.prices.get(REST_REQUESTS_ID), ctx.prices.get(HTTP_REQUESTS_ID)
    if rest is None or http is None:
        return []
    billed = {r.urn for r in ctx.base.resources if any(i.price_id == REST_REQUESTS_ID for i in r.line_items)}
    apis = [r for r in ctx.resources if r.type == REST_API_TYPE
            and ({r.urn, *(s.urn for s in rest_stages(r, ctx.resources))} & billed)]
    eligible = [api for api in apis if not rest_only_features(api, ctx.resources)]
    if not eligible:
        return []
    dropped = {s.urn for api in eligible for s in rest_stages(api, ctx.resources)}
    changed = [r for r in ctx.replace({api.urn: _as_http_api(api, ctx.resources) for api in eligible})
               if r.urn not in dropped]
    return [ctx.saving("apigateway-http-api", "Use an HTTP API instead of a REST API",
                       f"HTTP APIs cost {format_unit_price(http.first_tier_usd)} per {format_quantity(http.price_per)} requests "
                       f"against {format_unit_price(rest.first_tier_usd)} per {format_quantity(rest.price_per)} for REST "
                       "(first tiers) and support Lambda proxy "
                       f"integrations, JWT authorizers and CORS; {', '.join(a.name for a in eligible)} "
                       f"{'uses' if len(eligible) == 1 else 'use'} no REST-only "
                       "feature (usage plans, API keys, cache, WAF, private endpoint, resource policy).",
                       changed, (a.name for a in eligible), COMPARISON_LINK)]
