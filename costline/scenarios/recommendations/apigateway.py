"""API Gateway recommendation: an HTTP API instead of a REST API.

HTTP APIs are billed per request at ``apigateway.http.requests`` (in 512 KB increments) against
``apigateway.rest.requests`` for REST. The modified stack replaces each eligible REST API by an
HTTP API (``aws:apigatewayv2/api:Api``) carrying the requests the REST API is billed for (its
stages' declared traffic when they declare it, else its own) and drops its stages; the
integrations keep routing to the same Lambdas, so traffic through the graph is unchanged.

A REST API is eligible only when it uses none of the REST-only features an HTTP API lacks
(:data:`FEATURES`, which the advice also lists): usage plans and API keys, the stage cache and
method-level caching, AWS WAF, private endpoints, resource policies, request validators, X-Ray
tracing or canary deployments on a stage, non-proxy integrations (``AWS``, ``HTTP``, ``MOCK``)
and VTL mapping templates, and edge-optimized custom domains mapped to it. A property whose
value is unknown (preview) counts as using the feature. Mutual TLS on a custom domain is not a
blocker: HTTP APIs support it on regional custom domains.
Source: https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-vs-rest.html
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from costline.core.model import Resource
from costline.core.money import format_quantity, format_unit_price, plain_number
from costline.core.values import is_unknown
from costline.estimator.priced import PricedStack
from costline.pricers.apigateway import (
    HTTP_REQUESTS_ID,
    REST_API_TYPE,
    REST_STAGE_TYPE,
    V2_API_TYPE,
    stages_by_api,
)
from costline.pricers.base import Charge
from costline.scenarios.edit import with_tags
from costline.scenarios.recommendations.common import Recommendation, saving_at
from costline.scenarios.whatif import api_requests
from costline.usage.tags import DAILY_REQUESTS, DAYS_PER_MONTH, MONTHLY_REQUESTS, TagCache

COMPARISON_LINK = (
    "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-vs-rest.html"
)
REST_REQUESTS_ID = "apigateway.rest.requests"

# The REST-only features the rule checks, one label each (the advice lists FEATURES).
USAGE_PLAN = "a usage plan"
USAGE_PLAN_KEY = "a usage plan key"
API_KEYS = "API keys"
REQUEST_VALIDATOR = "a request validator"
RESOURCE_POLICY = "a resource policy"
WAF = "AWS WAF"
PRIVATE_ENDPOINT = "a private endpoint"
STAGE_CACHE = "the stage cache"
METHOD_CACHE = "method-level caching"
XRAY = "X-Ray tracing"
CANARY = "a canary deployment"
NON_PROXY_INTEGRATION = "a non-proxy integration"
MAPPING_TEMPLATES = "VTL mapping templates"
EDGE_DOMAIN = "an edge-optimized custom domain"

REST_ONLY_TYPES = {
    "aws:apigateway/usagePlan:UsagePlan": USAGE_PLAN,
    "aws:apigateway/usagePlanKey:UsagePlanKey": USAGE_PLAN_KEY,
    "aws:apigateway/apiKey:ApiKey": API_KEYS,
    "aws:apigateway/requestValidator:RequestValidator": REQUEST_VALIDATOR,
    "aws:apigateway/restApiPolicy:RestApiPolicy": RESOURCE_POLICY,
    "aws:wafv2/webAclAssociation:WebAclAssociation": WAF,
    "aws:wafregional/webAclAssociation:WebAclAssociation": WAF,
}
"""Resource types that only exist for REST APIs (they block the switch for the APIs they
reference, or for every REST API when they reference none of them)."""
STAGE_FLAGS = (
    ("cacheClusterEnabled", STAGE_CACHE),
    ("xrayTracingEnabled", XRAY),
    ("canarySettings", CANARY),
    ("webAclArn", WAF),
)
"""Stage property → the REST-only feature it turns on (set or unknown: in use)."""
FEATURES = tuple(
    dict.fromkeys(
        [
            *REST_ONLY_TYPES.values(),
            PRIVATE_ENDPOINT,
            *(label for _, label in STAGE_FLAGS),
            METHOD_CACHE,
            NON_PROXY_INTEGRATION,
            MAPPING_TEMPLATES,
            EDGE_DOMAIN,
        ]
    )
)
"""Every label :func:`rest_only_features` can return, in the order the advice lists them."""

METHOD_TYPE = "aws:apigateway/method:Method"
INTEGRATION_TYPE = "aws:apigateway/integration:Integration"
INTEGRATION_RESPONSE_TYPE = "aws:apigateway/integrationResponse:IntegrationResponse"
METHOD_SETTINGS_TYPE = "aws:apigateway/methodSettings:MethodSettings"
DOMAIN_TYPE = "aws:apigateway/domainName:DomainName"
BASE_PATH_MAPPING_TYPE = "aws:apigateway/basePathMapping:BasePathMapping"
PRIVATE_ENDPOINT_TYPE = "PRIVATE"
PROXY_INTEGRATIONS = frozenset({"AWS_PROXY", "HTTP_PROXY"})
"""Integration types an HTTP API also offers (Lambda proxy, HTTP proxy); ``AWS``, ``HTTP`` and
``MOCK`` integrations (request/response transformation) are REST-only."""


def _references(resource: Resource, among: set[str]) -> list[str]:
    """The URNs in ``among`` the resource references (by property dependency or dependency),
    once each."""
    return list(
        dict.fromkeys(
            u
            for urns in (*resource.property_dependencies.values(), resource.dependencies)
            for u in urns
            if u in among
        )
    )


def _in_use(value: Any) -> bool:
    """A feature property that is set (truthy) or not known yet (may be set)."""
    return is_unknown(value) or bool(value)


def _integration_features(integration: Resource) -> list[str]:
    props = integration.properties
    found = []
    kind = props.get("type")
    if is_unknown(kind) or (kind is not None and str(kind).upper() not in PROXY_INTEGRATIONS):
        found.append(NON_PROXY_INTEGRATION)
    if any(_in_use(props.get(key)) for key in ("requestTemplates", "responseTemplates")):
        found.append(MAPPING_TEMPLATES)
    return found


def _may_include(types: Any, kind: str) -> bool:
    """Whether an endpoint ``types`` value (a list, or one string) has ``kind`` or an unknown."""
    values = types if isinstance(types, list) else [types]
    return any(is_unknown(t) or str(t).upper() == kind for t in values)


def _method_caching(settings: Resource) -> bool:
    values = settings.properties.get("settings")
    if is_unknown(values):
        return True
    return isinstance(values, dict) and _in_use(values.get("cachingEnabled"))


def _edge_domain(domain: Resource) -> bool:
    """An edge-optimized custom domain (AWS's default type when ``endpointConfiguration`` is
    absent and no regional certificate is given); unknown: may be."""
    props = domain.properties
    endpoint = props.get("endpointConfiguration")
    if endpoint is None:
        return not (props.get("regionalCertificateArn") or props.get("regionalCertificateName"))
    if is_unknown(endpoint):
        return True
    types = endpoint.get("types") if isinstance(endpoint, dict) else None
    return _may_include(types, "EDGE")


def _mapped_domains(api: Resource, mappings: list[Resource], rest: RestApiIndex) -> list[Resource]:
    """The custom domains a base path mapping clearly links to ``api``: the mapping's
    ``restApi`` (or ``apiId``) property dependency is the API, and its ``domainName`` is a
    domain of the stack (by property dependency, else by the known domain name)."""
    found: dict[str, Resource] = {}
    for mapping in mappings:
        deps = mapping.property_dependencies
        if api.urn not in (*deps.get("restApi", ()), *deps.get("apiId", ())):
            continue
        linked = [rest.domains[u] for u in deps.get("domainName", ()) if u in rest.domains]
        name = mapping.properties.get("domainName")
        if not linked and isinstance(name, str) and name in rest.domains_by_name:
            linked = [rest.domains_by_name[name]]
        found.update((d.urn, d) for d in linked)
    return list(found.values())


@dataclass(frozen=True)
class RestApiIndex:
    """The stack as the HTTP-API rule looks at it, indexed in one pass so that checking every
    REST API of a large stack stays linear (each API looks up only what references it)."""

    stages: Mapping[str, list[Resource]]
    """REST API URN → its stages (:func:`~costline.pricers.apigateway.stages_by_api`)."""
    referrers: Mapping[str, list[tuple[int, Resource]]]
    """REST API or stage URN → the resources that reference it, with their position in the
    stack."""
    unattached_rest_only: list[tuple[int, Resource]]
    """REST-only resources (:data:`REST_ONLY_TYPES`) that reference no REST API: they block every
    API."""
    domains: Mapping[str, Resource]
    domains_by_name: Mapping[str, Resource]

    @classmethod
    def of(cls, stack: Sequence[Resource]) -> RestApiIndex:
        apis = {r.urn for r in stack if r.type == REST_API_TYPE}
        stages = stages_by_api(stack)
        wanted = apis.union(s.urn for group in stages.values() for s in group)
        referrers: dict[str, list[tuple[int, Resource]]] = {}
        unattached = []
        for position, resource in enumerate(stack):
            found = _references(resource, wanted)
            for urn in found:
                referrers.setdefault(urn, []).append((position, resource))
            if resource.type in REST_ONLY_TYPES and not apis.intersection(found):
                unattached.append((position, resource))
        domains = {r.urn: r for r in stack if r.type == DOMAIN_TYPE}
        by_name = {
            name: d
            for d in domains.values()
            if isinstance(name := d.properties.get("domainName"), str)
        }
        return cls(stages, referrers, unattached, domains, by_name)

    def linked(self, urns: set[str]) -> list[Resource]:
        """The resources that reference any of ``urns``, once each, in stack order."""
        found = {position: r for urn in urns for position, r in self.referrers.get(urn, ())}
        return [found[position] for position in sorted(found)]


def rest_only_features(api: Resource, stack: Sequence[Resource] | RestApiIndex) -> list[str]:
    """What ``api`` uses that an HTTP API does not offer (empty: it can switch); every label
    is one of :data:`FEATURES`. ``stack``: the resources, or their :class:`RestApiIndex` when
    checking several APIs."""
    rest = stack if isinstance(stack, RestApiIndex) else RestApiIndex.of(stack)
    stages = rest.stages.get(api.urn, [])
    linked = rest.linked({api.urn, *(s.urn for s in stages)})
    blocking = dict(rest.unattached_rest_only)
    blocking.update(
        (position, r)
        for urn in (api.urn, *(s.urn for s in stages))
        for position, r in rest.referrers.get(urn, ())
        if r.type in REST_ONLY_TYPES
    )
    found = [REST_ONLY_TYPES[blocking[position].type] for position in sorted(blocking)]
    endpoint = api.properties.get("endpointConfiguration")
    types = endpoint.get("types") if isinstance(endpoint, dict) else None
    if is_unknown(endpoint) or _may_include(types, PRIVATE_ENDPOINT_TYPE):
        found.append(PRIVATE_ENDPOINT)
    if _in_use(api.properties.get("policy")):
        found.append(RESOURCE_POLICY)
    for stage in stages:
        found += [label for prop, label in STAGE_FLAGS if _in_use(stage.properties.get(prop))]
    if any(_in_use(m.properties.get("apiKeyRequired")) for m in linked if m.type == METHOD_TYPE):
        found.append(API_KEYS)
    for r in linked:
        if r.type == INTEGRATION_TYPE:
            found += _integration_features(r)
        elif r.type == INTEGRATION_RESPONSE_TYPE and _in_use(r.properties.get("responseTemplates")):
            found.append(MAPPING_TEMPLATES)
        elif r.type == METHOD_SETTINGS_TYPE and _method_caching(r):
            found.append(METHOD_CACHE)
    mappings = [r for r in linked if r.type == BASE_PATH_MAPPING_TYPE]
    if any(_edge_domain(d) for d in _mapped_domains(api, mappings, rest)):
        found.append(EDGE_DOMAIN)
    return list(dict.fromkeys(found))


def _as_http_api(
    api: Resource, stages: Sequence[Resource], tags: TagCache | None = None
) -> Resource:
    """``api`` as an HTTP API (same URN, so integrations still route to it) whose own traffic
    tags carry the requests its REST ``stages`` (or itself) declare (read through ``tags``, the
    estimate's cache, when given)."""
    total, secret, _ = api_requests(api, stages, tags)
    tagged = with_tags(
        api,
        {
            DAILY_REQUESTS.key: None,
            DAYS_PER_MONTH.key: None,
            MONTHLY_REQUESTS.key: plain_number(total),
        },
        secret_keys=[MONTHLY_REQUESTS.key] if secret else [],
    )
    kept = {k: v for k, v in tagged.properties.items() if k in ("tags", "tagsAll", "name")}
    return replace(tagged, type=V2_API_TYPE, properties={"protocolType": "HTTP", **kept})


def _billed_switch(
    ctx: PricedStack,
    eligible: Sequence[Resource],
    index: RestApiIndex,
    copies: Mapping[str, Resource],
) -> Decimal | None:
    """The stack's total with the ``eligible`` REST APIs switched (``copies``: each as an HTTP
    API, its stages dropped), billed from the stack's charges
    (:meth:`~costline.estimator.scaled.ScaledBilling.totals`, each API's and stage's charges
    replaced by the HTTP API's, priced alone), where that gives what pricing the switched stack
    would: billing applies to the stack, and every REST stage belongs to its API by reference (a
    stage that belongs to the stack's only REST API by being the only one would move). The
    traffic each API sends on stays the same: the HTTP API declares what its stages declared,
    else what it did (:func:`~costline.scenarios.whatif.api_requests`), the figure traffic sends
    on from a REST API (:mod:`costline.usage.traffic`). ``None`` otherwise: the switched stack
    is re-priced."""
    billing = ctx.scaled_billing
    if not billing.usable:
        return None
    rest_apis = {r.urn for r in ctx.resources if r.type == REST_API_TYPE}
    for r in ctx.resources:
        if r.type == REST_STAGE_TYPE and not any(
            u in rest_apis for u in (*r.property_dependencies.get("restApi", ()), *r.dependencies)
        ):
            return None
    replaced: dict[str, list[Charge]] = {}
    for api in eligible:
        stages = index.stages.get(api.urn, ())
        charges = ctx.charges_alone(copies[api.urn])
        if charges is None:
            return None
        replaced[api.urn] = charges
        replaced.update((s.urn, []) for s in stages)
    totals = billing.totals({}, replaced=replaced)
    return None if totals is None else totals.total_monthly_usd


def http_api(ctx: PricedStack) -> list[Recommendation]:
    rest, http = ctx.prices.get(REST_REQUESTS_ID), ctx.prices.get(HTTP_REQUESTS_ID)
    if rest is None or http is None:
        return []
    billed = {
        r.urn
        for r in ctx.estimate.resources
        if any(i.price_id == REST_REQUESTS_ID for i in r.line_items)
    }
    index = RestApiIndex.of(ctx.resources)
    apis = [
        r
        for r in ctx.resources
        if r.type == REST_API_TYPE
        and ({r.urn, *(s.urn for s in index.stages.get(r.urn, ()))} & billed)
    ]
    eligible = [api for api in apis if not rest_only_features(api, index)]
    if not eligible:
        return []
    dropped = {s.urn for api in eligible for s in index.stages.get(api.urn, ())}
    copies = {
        api.urn: _as_http_api(api, index.stages.get(api.urn, ()), ctx.tags) for api in eligible
    }
    after = _billed_switch(ctx, eligible, index, copies)
    if after is None:
        after = ctx.total([r for r in ctx.replaced(copies) if r.urn not in dropped])
    return [
        saving_at(
            ctx,
            "apigateway-http-api",
            "Use an HTTP API instead of a REST API",
            f"HTTP APIs cost {format_unit_price(http.first_tier_usd)} per "
            f"{format_quantity(http.price_per)} requests "
            f"against {format_unit_price(rest.first_tier_usd)} per "
            f"{format_quantity(rest.price_per)} for REST (first tiers) and support Lambda proxy "
            f"integrations, JWT authorizers and CORS; {', '.join(a.name for a in eligible)} "
            f"{'uses' if len(eligible) == 1 else 'use'} none of the REST-only features an HTTP API "
            f"lacks: {', '.join(FEATURES)}.",
            after,
            (a.name for a in eligible),
            COMPARISON_LINK,
        )
    ]
