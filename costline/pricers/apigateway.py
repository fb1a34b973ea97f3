"""Amazon API Gateway: REST APIs (``aws:apigateway``) and HTTP APIs (``aws:apigatewayv2``).

REST requests are tiered per 1M (https://aws.amazon.com/api-gateway/pricing/); HTTP API
requests are metered in 512 KB increments and WebSocket messages in 32 KB increments of
``cost:avg-request-kb`` (``metering_increment_kb`` of the table entry), WebSocket connection
minutes from ``cost:monthly-connection-minutes``; a REST
stage with ``cacheClusterEnabled`` adds its cache by the hour (``cacheClusterSize``, AWS
default 0.5 GB) for the whole month. Traffic is declared on the stage or on the API; when
both a stage and its API declare it, the stage's figure is used (one count per request).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from costline.core.model import Resource, UsageSource
from costline.core.money import format_quantity, plain_number
from costline.pricers.base import (
    FIXED,
    HOURS_PER_MONTH,
    PER_TRAFFIC,
    Charge,
    PricingContext,
    PropertyReader,
)
from costline.usage.bounds import (
    APIGW_CACHE_ENABLED,
    APIGW_HTTP_MAX_PAYLOAD_KB,
    APIGW_LARGEST_CACHE_GB,
    APIGW_WEBSOCKET_MAX_MESSAGE_KB,
)
from costline.usage.tags import (
    AVG_REQUEST_KB,
    DAILY_REQUESTS,
    MONTHLY_CONNECTION_MINUTES,
    MONTHLY_MESSAGES,
    MONTHLY_REQUESTS,
    UsageReader,
)

REST_API_TYPE = "aws:apigateway/restApi:RestApi"
REST_STAGE_TYPE = "aws:apigateway/stage:Stage"
V2_API_TYPE = "aws:apigatewayv2/api:Api"
SERVICE = "API Gateway"
HTTP_REQUESTS_ID = "apigateway.http.requests"
WEBSOCKET_MESSAGES_ID = "apigateway.websocket.messages"
CACHE_SIZES_GB = ("0.5", "1.6", "6.1", "13.5", "28.4", "58.2", "118", "237")


def rest_traffic_group(api_urn: str) -> str:
    """Charges in this group count the same requests; the estimator keeps the stage's."""
    return f"apigateway-rest-requests:{api_urn}"


def _rest_requests(
    resource: Resource, usage: UsageReader, api_urn: str, *, required: bool
) -> list[Charge]:
    requests = usage.monthly_requests(required=required)
    if requests is None:
        return []
    return [
        Charge(
            SERVICE,
            "apigateway.rest.requests",
            requests,
            "REST API requests",
            f"{format_quantity(requests)} requests",
            group=rest_traffic_group(api_urn),
            scales=PER_TRAFFIC,
        )
    ]


def price_rest_api(resource: Resource, usage: UsageReader, context: PricingContext) -> list[Charge]:
    """A REST API: its requests, unless one of its stages declares them (see module doc)."""
    stages_declare = resource.urn in context.index(_REST_INDEX, _rest_index).apis_with_stage_traffic
    return _rest_requests(resource, usage, resource.urn, required=not stages_declare)


def price_rest_stage(
    resource: Resource, usage: UsageReader, context: PricingContext
) -> list[Charge]:
    """A REST stage: declared requests, plus the stage cache when enabled."""
    api_urn = _stage_api_urn(resource, context) or resource.urn
    charges = (
        _rest_requests(resource, usage, api_urn, required=False)
        if _declares_traffic(resource)
        else []
    )
    props = PropertyReader(resource, usage)
    if props.flag("cacheClusterEnabled", default=False, bound=APIGW_CACHE_ENABLED):
        size = props.choice(
            "cacheClusterSize", default="0.5", allowed=CACHE_SIZES_GB, bound=APIGW_LARGEST_CACHE_GB
        )
        charges.append(
            Charge(
                SERVICE,
                f"apigateway.rest.cache.{size}",
                HOURS_PER_MONTH,
                f"Cache {size} GB",
                "always on: 730 h/month",
                scales=FIXED,
            )
        )
    return charges


def metered_units(usage: UsageReader, increment_kb: Decimal, largest_kb: Decimal) -> Decimal:
    """Billed units per request or message: ``cost:avg-request-kb`` in ``increment_kb`` steps
    (a 600 KB HTTP request is 2 requests); 1 when the size is not declared (a default row), or
    declared but unreadable (a finding; fail-closed, the largest payload, ``largest_kb``)."""
    if not usage.has(AVG_REQUEST_KB):
        usage.assume(
            AVG_REQUEST_KB.key,
            f"≤ {plain_number(increment_kb)}",
            UsageSource.DEFAULT,
            "one metering increment",
        )
        return Decimal(1)
    size_kb = usage.number(AVG_REQUEST_KB, worst_case=largest_kb)
    if size_kb is None:
        return Decimal(1)
    return max(Decimal(1), (size_kb / increment_kb).to_integral_value(rounding=ROUND_CEILING))


def _increment_kb(context: PricingContext, price_id: str) -> Decimal:
    entry = context.prices.get(price_id)
    return (
        Decimal(str((entry.attributes or {}).get("metering_increment_kb", 1)))
        if entry
        else Decimal(1)
    )


def price_v2_api(resource: Resource, usage: UsageReader, context: PricingContext) -> list[Charge]:
    """An HTTP API (requests in 512 KB increments) or a WebSocket API (messages in 32 KB
    increments, plus connection minutes), by ``protocolType``."""
    props = PropertyReader(resource, usage)
    protocol = props.choice("protocolType", default="HTTP", allowed=("HTTP", "WEBSOCKET"))
    if protocol == "WEBSOCKET":
        return _websocket(usage, context)
    requests = usage.monthly_requests()
    if requests is None:
        return []
    units = metered_units(
        usage, _increment_kb(context, HTTP_REQUESTS_ID), APIGW_HTTP_MAX_PAYLOAD_KB
    )
    return [
        Charge(
            SERVICE,
            HTTP_REQUESTS_ID,
            requests * units,
            "HTTP API requests",
            f"{format_quantity(requests)} requests × {format_quantity(units)} per 512 KB increment",
            scales=PER_TRAFFIC,
        )
    ]


def _websocket(usage: UsageReader, context: PricingContext) -> list[Charge]:
    charges = []
    messages = usage.number(MONTHLY_MESSAGES)
    if messages is not None:
        units = metered_units(
            usage, _increment_kb(context, WEBSOCKET_MESSAGES_ID), APIGW_WEBSOCKET_MAX_MESSAGE_KB
        )
        charges.append(
            Charge(
                SERVICE,
                WEBSOCKET_MESSAGES_ID,
                messages * units,
                "WebSocket messages",
                f"{format_quantity(messages)} messages × {format_quantity(units)} per 32 KB "
                "increment",
                scales=PER_TRAFFIC,
            )
        )
    minutes = usage.number(MONTHLY_CONNECTION_MINUTES)
    if minutes is not None:
        charges.append(
            Charge(
                SERVICE,
                "apigateway.websocket.connection_minutes",
                minutes,
                "WebSocket connection minutes",
                f"{format_quantity(minutes)} connection-minutes",
                scales=PER_TRAFFIC,
            )
        )
    return charges


def _declares_traffic(resource: Resource) -> bool:
    """Whether a stage declares its requests, in its ``tags`` or in ``tagsAll`` (the provider's
    default tags), where its usage reader finds them."""
    for name in ("tags", "tagsAll"):
        tags = resource.properties.get(name)
        if isinstance(tags, Mapping) and any(k in tags for k in _REQUEST_KEYS):
            return True
    return False


_REQUEST_KEYS = (MONTHLY_REQUESTS.key, DAILY_REQUESTS.key)


def _stage_api_urn(stage: Resource, context: PricingContext) -> str | None:
    return context.index(_REST_INDEX, _rest_index).stage_api.get(stage.urn)


@dataclass(frozen=True)
class _RestIndex:
    stage_api: Mapping[str, str]
    """See :func:`stage_api_urns`."""
    apis_with_stage_traffic: frozenset[str]
    """REST APIs one of whose stages declares traffic (the stage's figure is then the one used)."""


_REST_INDEX = "apigateway.rest"


def stage_api_urns(stack: Sequence[Resource]) -> dict[str, str]:
    """Stage URN → the URN of the REST API it belongs to: from its ``restApi`` property
    dependency, else its dependencies, else the stack's only REST API. The one definition,
    shared by pricing, the what-if edge and the recommendations."""
    apis = {r.urn for r in stack if r.type == REST_API_TYPE}
    only = next(iter(apis)) if len(apis) == 1 else None
    stage_api: dict[str, str] = {}
    for stage in stack:
        if stage.type != REST_STAGE_TYPE:
            continue
        api = next(
            (
                u
                for u in (*stage.property_dependencies.get("restApi", ()), *stage.dependencies)
                if u in apis
            ),
            only,
        )
        if api is not None:
            stage_api[stage.urn] = api
    return stage_api


def stages_by_api(stack: Sequence[Resource]) -> dict[str, list[Resource]]:
    """REST API URN → its stages, in stack order, as :func:`stage_api_urns` attributes them
    (one pass: callers that look at every API stay linear in the stack)."""
    stage_api = stage_api_urns(stack)
    stages: dict[str, list[Resource]] = {}
    for resource in stack:
        api = stage_api.get(resource.urn)
        if api is not None:
            stages.setdefault(api, []).append(resource)
    return stages


def _rest_index(stack: Sequence[Resource]) -> _RestIndex:
    """Built once per estimate (see :meth:`PricingContext.index`)."""
    stage_api = stage_api_urns(stack)
    declaring = frozenset(
        stage_api[s.urn] for s in stack if s.urn in stage_api and _declares_traffic(s)
    )
    return _RestIndex(stage_api, declaring)
