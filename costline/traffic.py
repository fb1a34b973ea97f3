"""Traffic through the graph: usage declared once at the edge flows to the resources it reaches.

A pure pre-pass over the stack, run before the pricers. It follows the resources' references
(property dependencies, as AnalyzeStack, preview/stack-export JSON and the mock runner give
them) along these edges:

=============================  =====================================  =========================
from                           to                                     followed through
=============================  =====================================  =========================
API (REST or v2)               Lambda                                 an Integration's ``uri`` /
                                                                      ``integrationUri`` (strong)
API                            Lambda                                 a Lambda Permission's
                                                                      ``sourceArn`` (hint, used
                                                                      only without integration)
Lambda                         inference profile, S3 bucket           the Lambda's ``environment``
Lambda                         inference profile, S3 bucket           its role's inline policy
                                                                      (hint, used only for targets
                                                                      the environment misses)
=============================  =====================================  =========================

What flows, per month: requests (``cost:monthly-requests``) into Lambdas and inference
profiles, as the sum over incoming edges; into buckets, GET requests = the caller's requests ×
``cost:get-requests-per-request`` (on the caller, else the bucket, else 1). Per-request
Bedrock figures declared on a Lambda (tokens, images per request, billing mode, imported model) flow to the
inference profile it calls, request-weighted when several Lambdas call one profile. A
resource's own tag always overrides what flows in (:class:`costline.usage.UsageReader`), and
every derived figure carries a detail such as ``from api (aws:apigateway RestApi) via
integration`` that reports show as its source.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from costline.model import Resource, slot_init
from costline.money import ZERO, format_quantity, money_context
from costline.usage import (
    BEDROCK_MODE,
    GETS_PER_REQUEST,
    IMAGE_VARIANT,
    IMAGES_PER_REQUEST,
    IMPORTED_MODEL,
    INPUT_TOKENS,
    MONTHLY_GET_REQUESTS,
    MONTHLY_REQUESTS,
    OUTPUT_TOKENS,
    DAILY_REQUESTS,
    DerivedValue,
    TagCache,
    UsageReader,
    UsageTag,
)

LAMBDA_TYPE = "aws:lambda/function:Function"
PROFILE_TYPE = "aws:bedrock/inferenceProfile:InferenceProfile"
BUCKET_TYPES = frozenset({"aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"})
REST_API_TYPE = "aws:apigateway/restApi:RestApi"
REST_STAGE_TYPE = "aws:apigateway/stage:Stage"
V2_API_TYPE = "aws:apigatewayv2/api:Api"
PERMISSION_TYPE = "aws:lambda/permission:Permission"
ROLE_POLICY_TYPE = "aws:iam/rolePolicy:RolePolicy"
INTEGRATIONS: Mapping[str, tuple[str, str]] = {
    "aws:apigateway/integration:Integration": ("restApi", "uri"),
    "aws:apigatewayv2/integration:Integration": ("apiId", "integrationUri"),
}
"""Integration type → (property naming the API, property naming the target)."""
API_TYPES = frozenset({REST_API_TYPE, V2_API_TYPE})
LAMBDA_TARGETS = frozenset({PROFILE_TYPE, *BUCKET_TYPES})
PER_REQUEST_TAGS: tuple[UsageTag, ...] = (INPUT_TOKENS, OUTPUT_TOKENS, IMAGES_PER_REQUEST, BEDROCK_MODE, IMAGE_VARIANT,
                                          IMPORTED_MODEL)
"""Per-request figures (and the model choices) a Lambda passes on to the inference profile it calls."""
DEFAULT_GETS_PER_REQUEST = Decimal(1)


@slot_init
@dataclass(frozen=True, slots=True)
class Edge:
    """Requests of ``source`` reach ``target`` (URNs) through ``via``."""

    source: str
    target: str
    via: str


@functools.lru_cache(maxsize=1024)
def describe_type(type_token: str) -> str:
    """``aws:apigateway/restApi:RestApi`` → ``aws:apigateway RestApi``."""
    package_module, _, name = type_token.rpartition(":")
    return f"{package_module.split('/')[0]} {name}" if package_module else type_token



def traffic_edges(resources: Iterable[Resource]) -> list[Edge]:
    """Every edge traffic follows, strong references first, hints only where they add one."""
    return _edges({r.urn: r for r in resources})


def _edges(by_urn: Mapping[str, Resource]) -> list[Edge]:
    """:func:`traffic_edges` over the stack indexed by URN."""
    integrations, permissions, role_policies, lambdas = [], [], [], []  # each in stack order
    apis, lambda_urns, lambda_targets = set(), set(), set()  # the URNs an edge may reference, by role
    for urn, r in by_urn.items():  # one pass sorts out the few types that carry traffic
        kind = r.type
        if kind in INTEGRATIONS:
            integrations.append(r)
        elif kind == PERMISSION_TYPE:
            permissions.append(r)
        elif kind == ROLE_POLICY_TYPE:
            role_policies.append(r)
        elif kind == LAMBDA_TYPE:
            lambdas.append(r)
            lambda_urns.add(urn)
        elif kind in API_TYPES:
            apis.add(urn)
        elif kind in LAMBDA_TARGETS:
            lambda_targets.add(urn)

    edges: list[Edge] = []
    for r in integrations:
        api_prop, target_prop = INTEGRATIONS[r.type]
        dependencies = r.property_dependencies
        edges += [Edge(api, fn, "integration") for api in _among(dependencies, api_prop, apis)
                  for fn in _among(dependencies, target_prop, lambda_urns)]
    integrated = {e.target for e in edges}
    for r in permissions:
        dependencies = r.property_dependencies
        edges += [Edge(api, fn, "permission (hint)") for fn in _among(dependencies, "function", lambda_urns)
                  if fn not in integrated for api in _among(dependencies, "sourceArn", apis)]
    role_targets: dict[str, list[str]] = defaultdict(list)
    for r in role_policies:
        dependencies = r.property_dependencies
        for role in dependencies.get("role", ()):
            role_targets[role] += _among(dependencies, "policy", lambda_targets)
    for r in lambdas:
        dependencies = r.property_dependencies
        direct = _among(dependencies, "environment", lambda_targets)
        edges += [Edge(r.urn, t, "environment") for t in dict.fromkeys(direct)]
        hinted = [t for role in dependencies.get("role", ()) for t in role_targets.get(role, ())]
        edges += [Edge(r.urn, t, "IAM policy (hint)") for t in dict.fromkeys(hinted) if t not in direct]
    return edges


def _among(dependencies: Mapping[str, Iterable[str]], prop: str, urns: set[str]) -> list[str]:
    """The URNs ``prop`` depends on that are in ``urns``, in order (repeats kept)."""
    return [u for u in dependencies.get(prop, ()) if u in urns]


@slot_init
@dataclass(frozen=True, slots=True)
class _Figure:
    requests: Decimal
    secret: bool
    detail: str | None  # None when declared on the resource itself


def derive_usage(resources: Iterable[Resource], tags: TagCache | None = None) -> dict[str, dict[str, DerivedValue]]:
    """Per resource URN, the usage figures that flow in (tag key → derived value). ``tags``: the
    estimate's tag cache, shared with its pricers (a fresh one when not given)."""
    stack = tuple(resources)
    tags = tags if tags is not None else TagCache()
    by_urn = {r.urn: r for r in stack}
    incoming: dict[str, list[Edge]] = defaultdict(list)
    for edge in _edges(by_urn):
        incoming[edge.target].append(edge)
    stages: dict[str, list[Resource]] = defaultdict(list)
    for r in stack:
        if r.type == REST_STAGE_TYPE:
            for api in r.property_dependencies.get("restApi", ()):
                stages[api].append(r)

    figures: dict[str, _Figure | None] = {}

    def figure(urn: str, visiting: frozenset[str]) -> _Figure | None:
        if urn in figures:
            return figures[urn]
        resource = by_urn[urn]
        own = _declared_requests(resource, stages.get(urn, ()), tags)
        result = own
        if own is None and urn not in visiting and incoming.get(urn):
            result = _inflow(urn, incoming[urn], by_urn, lambda u: figure(u, visiting | {urn}))
        figures[urn] = result
        return result

    derived: dict[str, dict[str, DerivedValue]] = defaultdict(dict)
    for urn, edges in incoming.items():
        target = by_urn[urn]
        if target.type in BUCKET_TYPES:
            gets = _bucket_gets(target, edges, by_urn, lambda u: figure(u, frozenset()), tags)
            if gets is not None:
                derived[urn][MONTHLY_GET_REQUESTS.key] = gets
            continue
        mine = figure(urn, frozenset())
        if mine is not None and mine.detail is not None:
            derived[urn][MONTHLY_REQUESTS.key] = DerivedValue(mine.requests, mine.detail, mine.secret)
        if target.type == PROFILE_TYPE:
            derived[urn].update(_per_request_values(edges, by_urn, lambda u: figure(u, frozenset()), tags))
    # `figure` refers to itself through its closure: drop it, or that cycle would keep every
    # figure and index above alive until the next garbage collection instead of freeing them now
    del figure
    return {urn: values for urn, values in derived.items() if values}


def declared_requests(holders: Iterable[Resource], tags: TagCache | None = None) -> tuple[Decimal, bool, list[str]]:
    """Requests per month declared on ``holders`` themselves (read without findings): the sum,
    whether a secret went into it, and the names of the holders that declare any."""
    values, secret, names = [], False, []
    tags = tags if tags is not None else TagCache()
    for holder in holders:
        declared = tags.collected(holder)[0]
        if MONTHLY_REQUESTS.key not in declared and DAILY_REQUESTS.key not in declared:
            continue  # neither tag: no requests (what the reader would say, without building one)
        reader = UsageReader(holder, tags=tags)
        value = reader.monthly_requests(required=False)
        if value is not None:
            values.append(value)
            secret, names = secret or reader.secret_used, [*names, holder.name]
    return _money_sum(values), secret, names


def _money_sum(values: list[Decimal]) -> Decimal:
    """``ZERO + values[0] + ...`` in one money context (no context at all for no values)."""
    total = ZERO
    if values:
        with money_context():
            for value in values:
                total += value
    return total


def _declared_requests(resource: Resource, stages: Iterable[Resource], tags: TagCache) -> _Figure | None:
    """Requests declared on the resource, else (for a REST API) the sum declared on its stages."""
    for holders in ((resource,), tuple(stages)):
        total, secret, names = declared_requests(holders, tags)
        if names:
            return _Figure(total, secret, None)
    return None


def _source_text(source: Resource, via: str, upstream: _Figure) -> str:
    text = f"from {source.name} ({describe_type(source.type)}) via {via}"
    return f"{text} ← {upstream.detail}" if upstream.detail else text


def _inflow(urn: str, edges: list[Edge], by_urn: Mapping[str, Resource], figure) -> _Figure | None:  # noqa: ANN001
    """The sum of the requests flowing in over ``edges``, with where they came from."""
    parts = [(e, f) for e in edges if (f := figure(e.source)) is not None]
    if not parts:
        return None
    with money_context():
        total = sum((f.requests for _, f in parts), ZERO)
    detail = " + ".join(_source_text(by_urn[e.source], e.via, f) for e, f in parts)
    return _Figure(total, any(f.secret for _, f in parts), detail)


def _bucket_gets(bucket: Resource, edges: list[Edge], by_urn: Mapping[str, Resource], figure,  # noqa: ANN001
                 tags: TagCache) -> DerivedValue | None:
    """GET requests = Σ callers' requests × GETs per request (caller's tag, bucket's, else 1)."""
    bucket_reader = UsageReader(bucket, tags=tags)
    bucket_ratio = bucket_reader.number(GETS_PER_REQUEST, required=False)
    gets, secret, texts = [], bucket_reader.secret_used, []  # gets: (requests, GETs per request) per caller
    for edge in edges:
        upstream = figure(edge.source)
        if upstream is None:
            continue
        caller = UsageReader(by_urn[edge.source], tags=tags)
        ratio = caller.number(GETS_PER_REQUEST, required=False)
        ratio_source = "declared on the caller"
        if ratio is None:
            ratio, ratio_source = ((bucket_ratio, "declared on the bucket") if bucket_ratio is not None
                                   else (DEFAULT_GETS_PER_REQUEST, "default"))
        gets.append((upstream.requests, ratio))
        secret = secret or upstream.secret or caller.secret_used
        texts.append(f"{_source_text(by_urn[edge.source], edge.via, upstream)}: "
                     f"{format_quantity(upstream.requests)} requests × {format_quantity(ratio)} GET per request ({ratio_source})")
    if not texts:
        return None
    total = ZERO
    with money_context():
        for requests, ratio in gets:
            total += requests * ratio
    return DerivedValue(total, " + ".join(texts), secret)


def _per_request_values(edges: list[Edge], by_urn: Mapping[str, Resource], figure,  # noqa: ANN001
                        tags: TagCache) -> dict[str, DerivedValue]:
    """Per-request Bedrock figures declared on the callers, request-weighted across callers."""
    values: dict[str, DerivedValue] = {}
    callers = {edge.source: UsageReader(by_urn[edge.source], tags=tags) for edge in edges}  # one reader per caller
    for tag in PER_REQUEST_TAGS:
        declaring = [edge for edge in edges if callers[edge.source].has(tag)]
        if not declaring:
            continue  # no caller declares it: nothing flows
        weights, texts, secret, labels = [], [], False, set()  # weights: (value, requests) per caller
        for edge in declaring:
            caller_resource = by_urn[edge.source]
            caller = callers[edge.source]
            caller.secret_used = False  # per tag: only this tag's secrecy counts
            upstream = figure(edge.source)
            if tag.numeric:
                value = caller.number(tag, required=False)
                if value is None or upstream is None:
                    continue
                weights.append((value, upstream.requests))
            else:
                value = caller.text(tag, required=False)
                if value is None:
                    continue
                labels.add(value)
            secret = secret or caller.secret_used
            texts.append(f"from {caller_resource.name} ({describe_type(caller_resource.type)}) via {edge.via}")
        detail = " + ".join(texts)
        if tag.numeric and weights:
            with money_context():
                weighted, weight = ZERO, ZERO
                for value, requests in weights:
                    weighted += value * requests
                    weight += requests
                if weight > 0:
                    values[tag.key] = DerivedValue(weighted / weight, detail + (" (request-weighted)" if len(texts) > 1 else ""), secret)
        elif not tag.numeric and len(labels) == 1:
            values[tag.key] = DerivedValue(labels.pop(), detail, secret)
    return values
