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
Bedrock figures declared on a Lambda (tokens, images per request, billing mode, imported model) flow
to the
inference profile it calls, request-weighted when several Lambdas call one profile. A
resource's own tag always overrides what flows in (:class:`costline.usage.tags.UsageReader`), and
every derived figure carries a detail such as ``from api (aws:apigateway:RestApi) via
integration`` that reports show as its source.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from costline.core.model import Resource, slot_init
from costline.core.money import ZERO, format_quantity, money_context
from costline.core.type_names import short_type
from costline.usage.tags import (
    BEDROCK_MODE,
    DAILY_REQUESTS,
    GETS_PER_REQUEST,
    IMAGE_VARIANT,
    IMAGES_PER_REQUEST,
    IMPORTED_MODEL,
    MONTHLY_GET_REQUESTS,
    MONTHLY_REQUESTS,
    TOKEN_TAGS,
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
PER_REQUEST_TAGS: tuple[UsageTag, ...] = (
    *TOKEN_TAGS,
    IMAGES_PER_REQUEST,
    BEDROCK_MODE,
    IMAGE_VARIANT,
    IMPORTED_MODEL,
)
"""Per-request figures (and the model choices) a Lambda passes on to the inference profile it
calls."""
DEFAULT_GETS_PER_REQUEST = Decimal(1)
TRAFFIC_ROLES: Mapping[str, str] = {
    **dict.fromkeys(INTEGRATIONS, "integration"),
    PERMISSION_TYPE: "permission",
    ROLE_POLICY_TYPE: "role policy",
    LAMBDA_TYPE: "lambda",
    **dict.fromkeys(API_TYPES, "api"),
    **dict.fromkeys(LAMBDA_TARGETS, "lambda target"),
}
"""Type → the part its resources play in :func:`traffic_edges` (other types play none)."""


@slot_init
@dataclass(frozen=True, slots=True)
class Edge:
    """Requests of ``source`` reach ``target`` (URNs) through ``via``."""

    source: str
    target: str
    via: str


def traffic_edges(resources: Iterable[Resource]) -> list[Edge]:
    """Every edge traffic follows, strong references first, hints only where they add one."""
    return _edges({r.urn: r for r in resources})


def _edges(by_urn: Mapping[str, Resource]) -> list[Edge]:
    """:func:`traffic_edges` over the stack indexed by URN."""
    cast = _by_role(by_urn.values())
    lambdas = cast["lambda"]
    apis, lambda_urns, lambda_targets = (  # the URNs an edge may reference, by role
        {r.urn for r in cast["api"]},
        {r.urn for r in lambdas},
        {r.urn for r in cast["lambda target"]},
    )

    edges: list[Edge] = []
    for r in cast["integration"]:
        api_prop, target_prop = INTEGRATIONS[r.type]
        dependencies = r.property_dependencies
        edges += [
            Edge(api, fn, "integration")
            for api in _among(dependencies, api_prop, apis)
            for fn in _among(dependencies, target_prop, lambda_urns)
        ]
    integrated = {e.target for e in edges}
    for r in cast["permission"]:
        dependencies = r.property_dependencies
        if fns := [
            fn
            for fn in dependencies.get("function", ())
            if fn in lambda_urns and fn not in integrated
        ]:
            sources = _among(dependencies, "sourceArn", apis)
            edges += [Edge(api, fn, "permission (hint)") for fn in fns for api in sources]
    role_targets: dict[str, list[str]] = defaultdict(list)
    for r in cast["role policy"]:
        dependencies = r.property_dependencies
        for role in dependencies.get("role", ()):
            role_targets[role] += _among(dependencies, "policy", lambda_targets)
    for r in lambdas:
        dependencies = r.property_dependencies
        direct = _among(dependencies, "environment", lambda_targets)
        edges += [Edge(r.urn, t, "environment") for t in dict.fromkeys(direct)]
        hinted = [
            t
            for role in dependencies.get("role", ())
            for t in role_targets.get(role, ())
            if t not in direct
        ]
        if hinted:
            edges += [Edge(r.urn, t, "IAM policy (hint)") for t in dict.fromkeys(hinted)]
    return edges


def _by_role(resources: Iterable[Resource]) -> dict[str, list[Resource]]:
    """The resources that play a part in traffic, by :data:`TRAFFIC_ROLES` role, each in stack
    order."""
    cast: dict[str, list[Resource]] = {role: [] for role in TRAFFIC_ROLES.values()}
    role_of = TRAFFIC_ROLES.get
    for r in resources:  # one pass, one lookup per resource: most play no part
        role = role_of(r.type)
        if role is not None:
            cast[role].append(r)
    return cast


def _among(dependencies: Mapping[str, Iterable[str]], prop: str, urns: set[str]) -> list[str]:
    """The URNs ``prop`` depends on that are in ``urns``, in order (repeats kept)."""
    return [u for u in dependencies.get(prop, ()) if u in urns]


@slot_init
@dataclass(frozen=True, slots=True)
class _Figure:
    requests: Decimal
    secret: bool
    detail: str | None  # None when declared on the resource itself


Reading = tuple[Decimal | str | None, bool]
"""A tag read without findings: its value (None when unreadable) and whether it was a secret."""


INCOMING_EDGES = "traffic-incoming-edges"
"""The name an estimate's pricing context holds its stack's :func:`incoming_edges` under (see
:meth:`~costline.pricers.base.PricingContext.index`): the edges the traffic pass followed, built
once per estimate for the pass and the pricers that look at traffic."""


def incoming_edges(resources: Iterable[Resource]) -> dict[str, list[Edge]]:
    """Target URN → the edges into it, in :func:`traffic_edges` order."""
    return _incoming({r.urn: r for r in resources})


def _incoming(by_urn: Mapping[str, Resource]) -> dict[str, list[Edge]]:
    """:func:`incoming_edges` over the stack indexed by URN."""
    incoming: dict[str, list[Edge]] = defaultdict(list)
    for edge in _edges(by_urn):
        incoming[edge.target].append(edge)
    return incoming


def derive_usage(
    resources: Iterable[Resource],
    tags: TagCache | None = None,
    *,
    incoming: Mapping[str, list[Edge]] | None = None,
    targets: Iterable[str] | None = None,
) -> dict[str, dict[str, DerivedValue]]:
    """Per resource URN, the usage figures that flow in (tag key → derived value). ``tags``: the
    estimate's tag cache, shared with its pricers (a fresh one when not given).

    ``incoming`` (:func:`incoming_edges` of ``resources``, when the caller has it) and
    ``targets`` (work out only these URNs' figures: the same values a full pass gives them,
    reading only the tags they depend on) serve re-pricing a changed copy of a stack.

    Three steps: the tags the traffic needs are read first (in the caller's decimal context, as
    a pricer reads them), then every sum and product is worked out in one money context, then
    the bucket details that quote quantities are written (again outside it)."""
    flow = _Flow(tuple(resources), tags if tags is not None else TagCache(), incoming, targets)
    with money_context():
        inflows = {urn: flow.inflow(urn, flow.incoming[urn]) for urn in flow.targets}
    derived: dict[str, dict[str, DerivedValue]] = {}
    for urn, inflow in inflows.items():
        values = inflow.derived_values() if isinstance(inflow, _BucketGets) else inflow
        if values:
            derived[urn] = values
    return derived


class _Flow:
    """One stack's traffic: the edges into each resource, the tags they carry (read once), and
    the requests each resource carries (its own declaration, else what flows in)."""

    __slots__ = (
        "by_urn",
        "declared",
        "figures",
        "gets_ratios",
        "incoming",
        "per_request",
        "stages",
        "tags",
        "targets",
        "visiting",
    )

    def __init__(
        self,
        stack: tuple[Resource, ...],
        tags: TagCache,
        incoming: Mapping[str, list[Edge]] | None = None,
        targets: Iterable[str] | None = None,
    ) -> None:
        self.by_urn = by_urn = {r.urn: r for r in stack}
        self.incoming = incoming = incoming if incoming is not None else _incoming(by_urn)
        self.targets: list[str] = (
            list(incoming) if targets is None else [u for u in targets if u in incoming]
        )
        self.stages: dict[str, list[Resource]] = defaultdict(list)  # REST API URN → its stages
        for r in stack:
            if r.type == REST_STAGE_TYPE:
                for api in r.property_dependencies.get("restApi", ()):
                    self.stages[api].append(r)
        self.tags = tags
        # what _read_tags reads, by URN: the requests declared on a resource (or its stages), the
        # GETs per request of a bucket or its caller, the per-request tags a profile's caller
        # declares
        self.declared: dict[str, tuple[list[Decimal], bool] | None] = {}
        self.gets_ratios: dict[str, Reading | None] = {}  # None: not declared
        self.per_request: dict[str, dict[str, Reading]] = {}
        self._read_tags()
        self.figures: dict[str, _Figure | None] = {}
        self.visiting: set[str] = (
            set()
        )  # the URNs whose figure is being worked out (cycles stop there)

    # --- reading (in the caller's decimal context) ------------------------------------------
    def _read_tags(self) -> None:
        """Read every tag the traffic figures use: the requests declared on each resource
        traffic flows from or into, GETs per request at buckets and their callers, and the
        per-request figures of inference profiles' callers."""
        declared, gets_ratios, per_request = self.declared, self.gets_ratios, self.per_request
        incoming = self.incoming
        for urn in self.targets:  # each resource read once, whatever its number of edges
            edges = incoming[urn]
            kind = self.by_urn[urn].type
            if kind in BUCKET_TYPES:
                gets_ratios[urn] = self._read_if_declared(urn, GETS_PER_REQUEST)
            elif urn not in declared:
                declared[urn] = self._declared_requests(urn)
            for edge in edges:
                source = edge.source
                if source not in declared:
                    declared[source] = self._declared_requests(source)
                if kind in BUCKET_TYPES:
                    if source not in gets_ratios:
                        gets_ratios[source] = self._read_if_declared(source, GETS_PER_REQUEST)
                elif kind == PROFILE_TYPE and source not in per_request:
                    per_request[source] = self._per_request_figures(source)
        if len(self.targets) < len(incoming):  # only some targets: read what flows into them
            self._read_upstream()

    def _read_upstream(self) -> None:
        """The requests declared on everything upstream of the targets' sources (a full pass
        reads them as targets of their own)."""
        declared, incoming = self.declared, self.incoming
        pending = [e.source for urn in self.targets for e in incoming[urn]]
        seen = set(pending)
        while pending:
            for edge in incoming.get(pending.pop(), ()):
                source = edge.source
                if source not in declared:
                    declared[source] = self._declared_requests(source)
                if source not in seen:
                    seen.add(source)
                    pending.append(source)

    def _declared_requests(self, urn: str) -> tuple[list[Decimal], bool] | None:
        """Requests declared on a REST API's stages when they declare any (a stage's figure wins
        over its API's, as in billing: one count per request), else on the resource itself: the
        values to add up and whether a secret went into them; None when neither declares any."""
        if (stages := self.stages.get(urn)) is not None:
            values, secret, names = _declared_on(stages, self.tags)
            if names:
                return values, secret
        own = _requests_declared_on(self.by_urn[urn], self.tags)
        if own is not None:
            return [own[0]], own[1]
        return None

    def _per_request_figures(self, urn: str) -> dict[str, Reading]:
        """The per-request tags the resource declares (readable or not), by key."""
        resource = self.by_urn[urn]
        own = self.tags.collected(resource)[0]
        figures: dict[str, Reading] = {}
        reader = None  # one for all the tags the resource declares
        for tag in PER_REQUEST_TAGS:
            if tag.key in own:
                reader = reader or UsageReader(resource, tags=self.tags, records=False)
                figures[tag.key] = _read(reader, tag)
        return figures

    def _read_if_declared(self, urn: str, tag: UsageTag) -> Reading | None:
        """``tag`` on the resource, or None when it does not declare it."""
        resource = self.by_urn[urn]
        if tag.key not in self.tags.collected(resource)[0]:
            return None  # not declared: nothing to read (without building a reader)
        return _read(UsageReader(resource, tags=self.tags, records=False), tag)

    # --- working out (in the money context) -------------------------------------------------
    def inflow(self, urn: str, edges: list[Edge]) -> dict[str, DerivedValue] | _BucketGets:
        """What flows into ``urn`` over ``edges`` (its incoming edges): derived values by tag
        key, or for a bucket its GET requests (written out later, outside the money context)."""
        target = self.by_urn[urn]
        if target.type in BUCKET_TYPES:
            return _bucket_gets(target, edges, self.by_urn, self.figure, self.gets_ratios)
        values: dict[str, DerivedValue] = {}
        mine = self.figure(urn)
        if mine is not None and mine.detail is not None:
            values[MONTHLY_REQUESTS.key] = DerivedValue(mine.requests, mine.detail, mine.secret)
        if target.type == PROFILE_TYPE:
            values.update(_per_request_values(edges, self.by_urn, self.figure, self.per_request))
        return values

    def figure(self, urn: str) -> _Figure | None:
        """The requests ``urn`` carries: declared on it (or its stages), else the inflow."""
        figures = self.figures
        if urn in figures:
            return figures[urn]
        declared = self.declared[urn]
        result = None if declared is None else _Figure(sum(declared[0], ZERO), declared[1], None)
        if result is None and urn not in self.visiting and (edges := self.incoming.get(urn)):
            self.visiting.add(urn)
            result = _inflow(edges, self.by_urn, self.figure)
            self.visiting.discard(urn)
        figures[urn] = result
        return result


def _read(reader: UsageReader, tag: UsageTag) -> Reading:
    """``tag`` read by ``reader`` without findings, with the secrecy of this tag alone."""
    reader.secret_used = False
    value = reader.number(tag, required=False) if tag.numeric else reader.text(tag, required=False)
    return value, reader.secret_used


def declared_requests(
    holders: Iterable[Resource], tags: TagCache | None = None
) -> tuple[Decimal, bool, list[str]]:
    """Requests per month declared on ``holders`` themselves (read without findings): the sum,
    whether a secret went into it, and the names of the holders that declare any."""
    values, secret, names = _declared_on(holders, tags if tags is not None else TagCache())
    total = ZERO
    if values:
        with money_context():
            total = sum(values, ZERO)
    return total, secret, names


def _declared_on(
    holders: Iterable[Resource], tags: TagCache
) -> tuple[list[Decimal], bool, list[str]]:
    """:func:`declared_requests` before the sum: the values, in order."""
    values: list[Decimal] = []
    names: list[str] = []
    secret = False
    for holder in holders:
        declared = _requests_declared_on(holder, tags)
        if declared is not None:
            values.append(declared[0])
            secret = secret or declared[1]
            names.append(holder.name)
    return values, secret, names


def _requests_declared_on(holder: Resource, tags: TagCache) -> tuple[Decimal, bool] | None:
    """Requests per month declared on ``holder`` itself and whether a secret went into them;
    None when it declares none (read without findings)."""
    declared = tags.collected(holder)[0]
    if MONTHLY_REQUESTS.key not in declared and DAILY_REQUESTS.key not in declared:
        return None  # neither tag: no requests (what the reader would say, without building one)
    reader = UsageReader(holder, tags=tags, records=False)
    value = reader.monthly_requests(required=False)
    return None if value is None else (value, reader.secret_used)


def _source_text(source: Resource, via: str, upstream: _Figure) -> str:
    text = f"from {source.name} ({short_type(source.type)}) via {via}"
    return f"{text} ← {upstream.detail}" if upstream.detail else text


def _inflow(edges: list[Edge], by_urn: Mapping[str, Resource], figure) -> _Figure | None:
    """The sum of the requests flowing in over ``edges``, with where they came from (in the
    money context)."""
    total, secret, texts = ZERO, False, []
    for edge in edges:
        upstream = figure(edge.source)
        if upstream is not None:
            total += upstream.requests
            secret = secret or upstream.secret
            texts.append(_source_text(by_urn[edge.source], edge.via, upstream))
    return _Figure(total, secret, " + ".join(texts)) if texts else None


@dataclass(slots=True)
class _BucketGets:
    """A bucket's GET requests, worked out: the total and, per caller, the figures its detail
    quotes."""

    total: Decimal
    secret: bool
    callers: list[
        tuple[Resource, Edge, _Figure, Decimal, str]
    ]  # caller, edge, its requests, GETs/request, whose
    unreadable: list[str]
    """Whose GETs per request a caller's GETs depend on but are unknown or invalid."""

    def derived_values(self) -> dict[str, DerivedValue]:
        """The GET requests as a derived value (none without callers that carry requests;
        unreadable when a ratio they depend on is)."""
        if self.unreadable:
            texts = [f"{GETS_PER_REQUEST.key} of {name}" for name in self.unreadable]
            return {MONTHLY_GET_REQUESTS.key: _unreadable(texts, self.secret)}
        if not self.callers:
            return {}
        texts = [
            f"{_source_text(caller, edge.via, upstream)}: {format_quantity(upstream.requests)} "
            f"requests × {format_quantity(ratio)} GET per request ({ratio_source})"
            for caller, edge, upstream, ratio, ratio_source in self.callers
        ]
        return {MONTHLY_GET_REQUESTS.key: DerivedValue(self.total, " + ".join(texts), self.secret)}


def _bucket_gets(
    bucket: Resource,
    edges: list[Edge],
    by_urn: Mapping[str, Resource],
    figure: Callable[[str], _Figure | None],
    gets_ratios: Mapping[str, Reading | None],
) -> _BucketGets:
    """GET requests = Σ callers' requests × GETs per request (caller's tag, bucket's, else 1);
    a ratio that is declared but unknown or invalid makes them unreadable, never 1."""
    bucket_reading = gets_ratios[bucket.urn]
    bucket_ratio, secret = _number(bucket_reading) if bucket_reading else (None, False)
    callers: list[tuple[Resource, Edge, _Figure, Decimal, str]] = []
    unreadable: list[str] = []
    total = ZERO
    for edge in edges:
        upstream = figure(edge.source)
        if upstream is None:
            continue
        reading = gets_ratios[edge.source]
        ratio, caller_secret = _number(reading) if reading else (None, False)
        ratio_source = "declared on the caller"
        if reading is not None and ratio is None:
            unreadable.append(by_urn[edge.source].name)
        elif (
            reading is None
            and bucket_reading is not None
            and bucket_ratio is None
            and bucket.name not in unreadable
        ):
            unreadable.append(bucket.name)
        if ratio is None:
            ratio, ratio_source = (
                (bucket_ratio, "declared on the bucket")
                if bucket_ratio is not None
                else (DEFAULT_GETS_PER_REQUEST, "default")
            )
        callers.append((by_urn[edge.source], edge, upstream, ratio, ratio_source))
        secret = secret or upstream.secret or caller_secret
    for _, _, upstream, ratio, _ in callers:
        total += upstream.requests * ratio
    return _BucketGets(total, secret, callers, unreadable)


def _number(reading: Reading) -> tuple[Decimal | None, bool]:
    """A numeric tag's reading (only choice tags read as text)."""
    value, secret = reading
    assert not isinstance(value, str), "a numeric tag read as text"
    return value, secret


_Declared = tuple[str, Reading, "_Figure | None"]
"""A per-request tag as one caller declares it: where from, what it says, the caller's requests."""


def _per_request_values(
    edges: list[Edge],
    by_urn: Mapping[str, Resource],
    figure: Callable[[str], _Figure | None],
    per_request: Mapping[str, Mapping[str, Reading]],
) -> dict[str, DerivedValue]:
    """Per-request Bedrock figures declared on the callers, request-weighted across callers (in
    the money context)."""
    declaring: dict[str, list[_Declared]] = {}  # tag key → what each caller declares, in edge order
    for edge in edges:
        if figures := per_request[edge.source]:
            caller = by_urn[edge.source]
            text = f"from {caller.name} ({short_type(caller.type)}) via {edge.via}"
            upstream = figure(edge.source)
            for key, reading in figures.items():
                declared = (text, reading, upstream)
                if key in declaring:
                    declaring[key].append(declared)
                else:
                    declaring[key] = [declared]
    values: dict[str, DerivedValue] = {}
    for tag in PER_REQUEST_TAGS:
        if tag.key in declaring:  # else no caller declares it: nothing flows
            value = (_request_weighted if tag.numeric else _agreed_choice)(declaring[tag.key])
            if value is not None:
                values[tag.key] = value
    return values


def _unreadable(texts: list[str], secret: bool) -> DerivedValue:
    """A figure that cannot be worked out, as the callers ``texts`` declare it unreadably."""
    return DerivedValue(ZERO, f"{' + '.join(texts)}: unknown or invalid there", secret, True)


def _request_weighted(declared: list[_Declared]) -> DerivedValue | None:
    """A numeric figure: the callers' values weighted by their requests (callers without
    requests are left out); unreadable when a caller that carries requests declares it with a
    value that is unknown or invalid (leaving it out would understate the figure)."""
    weighted, weight, texts, secret = ZERO, ZERO, [], False
    unreadable = []
    for text, reading, upstream in declared:
        value, value_secret = _number(reading)
        if value is None and upstream is not None:
            unreadable.append(text)
            secret = secret or value_secret
        if value is None or upstream is None:
            continue
        weighted += value * upstream.requests
        weight += upstream.requests
        secret = secret or value_secret
        texts.append(text)
    if unreadable:
        return _unreadable(unreadable, secret)
    if not texts or not weight > 0:
        return None
    detail = " + ".join(texts) + (" (request-weighted)" if len(texts) > 1 else "")
    return DerivedValue(weighted / weight, detail, secret)


def _agreed_choice(declared: list[_Declared]) -> DerivedValue | None:
    """A choice (billing mode, image variant, imported model): flows only when every caller
    that makes it makes the same one; unreadable when a caller's is unknown or invalid."""
    labels, texts, secret = set(), [], False
    unreadable = []
    for text, (value, value_secret), _ in declared:
        if value is None:
            unreadable.append(text)
            secret = secret or value_secret
            continue
        labels.add(value)
        secret = secret or value_secret
        texts.append(text)
    if unreadable:
        return _unreadable(unreadable, secret)
    return DerivedValue(labels.pop(), " + ".join(texts), secret) if len(labels) == 1 else None
