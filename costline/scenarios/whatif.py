"""What-if traffic scaling: the stack's monthly cost at other traffic volumes, recomputed.

Each row is the bill of a copy of the stack whose declared traffic is scaled, so the free tier,
volume tiers and everything else apply at the new volume (no total is simply multiplied): the
stack's charges billed with their traffic-proportional quantities scaled where every charge says
how it scales (:mod:`costline.estimator.scaled`), else the estimator run on the copy. What
scales (:data:`SCALED_TAGS`), by the row's factor:

* requests: ``cost:monthly-requests``, or ``cost:daily-requests`` × days (rewritten as a
  monthly figure, so scaling stays exact);
* S3 GET and PUT requests (``cost:monthly-get-requests``, ``cost:monthly-put-requests``): a
  bucket's requests are assumed to follow traffic. PUTs that are really a fixed upload
  schedule make the rows a slight upper bound;
* WebSocket messages and connection minutes, S3 transfer out and retrieval (GB per month).

What does not scale: storage (``cost:storage-gb``), tokens, images and GETs *per request*,
durations, days per month, imported-model copies and hours, training data. Figures that flow
through the graph (:mod:`costline.usage.traffic`) scale because their sources do.

A row is an absolute volume of the stack's **edge traffic** (calls per month arriving at its
API Gateway APIs, else at Lambdas nothing invokes, else at inference profiles; see
:func:`edge_traffic`), scale factor = volume / current edge volume, or a multiplier of the
current traffic. The defaults are the seed template's rows: 30k, 100k, 500k and 1M calls/month.
Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import cached_property, partial

from costline.core.model import Estimate, Resource, ResourceEstimate
from costline.core.money import ZERO, money_context
from costline.estimator.pipeline import (
    EstimateOptions,
    PipelineRun,
    Totals,
    UnpricedResults,
    estimate,
    estimate_totals,
    gc_paused,
)
from costline.estimator.priced import PricedStack
from costline.estimator.reprice import edge_indexes
from costline.estimator.scaled import ScaledBilling
from costline.pricers.apigateway import stages_by_api
from costline.pricers.base import TRAFFIC
from costline.pricing.model import PriceBook
from costline.scenarios.edit import (
    UsageScaling,
    rewrites_cleanly,
    scale_usage,
    scaled_figure,
    usage_scaling,
)
from costline.usage.tags import (
    MONTHLY_CONNECTION_MINUTES,
    MONTHLY_GET_REQUESTS,
    MONTHLY_MESSAGES,
    MONTHLY_PUT_REQUESTS,
    MONTHLY_REQUESTS,
    MONTHLY_RETRIEVAL_GB,
    MONTHLY_TRANSFER_OUT_GB,
    TagCache,
    UsageTag,
)
from costline.usage.traffic import (
    LAMBDA_TYPE,
    PROFILE_TYPE,
    REST_API_TYPE,
    V2_API_TYPE,
    Edge,
    declared_requests,
    incoming_edges,
)

SCALED_TAGS: tuple[UsageTag, ...] = (
    MONTHLY_GET_REQUESTS,
    MONTHLY_PUT_REQUESTS,
    MONTHLY_MESSAGES,
    MONTHLY_CONNECTION_MINUTES,
    MONTHLY_TRANSFER_OUT_GB,
    MONTHLY_RETRIEVAL_GB,
)
"""Monthly traffic figures scaled as they are (requests are handled apart: daily → monthly)."""

DEFAULT_VOLUMES: tuple[Decimal, ...] = (
    Decimal(30_000),
    Decimal(100_000),
    Decimal(500_000),
    Decimal(1_000_000),
)
"""The seed template's rows: calls per month at the stack's edge."""

_SUFFIXES = {"": 1, "k": 1_000, "m": 1_000_000, "b": 1_000_000_000}
_TERM = re.compile(r"(?P<number>[0-9]+(?:\.[0-9]+)?)(?P<suffix>[kKmMbB]?)(?P<times>[xX×]?)")
FACTOR_PLACES = Decimal("1e-10")
FACTOR_PLACES_FRACTION = Fraction(FACTOR_PLACES)


class _Unset:
    """``what_if``'s edge when the caller has none worked out."""


_UNSET = _Unset()


@dataclass(frozen=True)
class Scenario:
    """One what-if row as asked for: an absolute edge volume (calls/month) or a multiplier."""

    volume: Decimal | None = None
    multiplier: Decimal | None = None


DEFAULT_SCENARIOS: tuple[Scenario, ...] = tuple(Scenario(volume=v) for v in DEFAULT_VOLUMES)


class ScenarioError(ValueError):
    """A ``--what-if`` list that cannot be read; the message names the bad term."""


def parse_scenarios(text: str) -> tuple[Scenario, ...]:
    """``"2x,10x"`` (multipliers), ``"100000,1M"`` (calls/month; k, M, B suffixes), or
    ``"none"``."""
    text = text.strip()
    if text.lower() in ("none", "off", ""):
        return ()
    scenarios = []
    for term in (t.strip() for t in text.split(",")):
        match = _TERM.fullmatch(term)
        if match is None:
            raise ScenarioError(
                f"--what-if: {term!r} is neither a multiplier like 2x nor a volume like 100000 or "
                "1M"
            )
        try:
            number = Decimal(match["number"]) * _SUFFIXES[match["suffix"].lower()]
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
            raise ScenarioError(f"--what-if: {term!r} is not a number") from None
        if number <= 0 or number > Decimal("1e15"):
            raise ScenarioError(f"--what-if: {term!r} must be greater than 0 and at most 1e15")
        scenarios.append(Scenario(multiplier=number) if match["times"] else Scenario(volume=number))
    return tuple(scenarios)


@dataclass(frozen=True)
class EdgeTraffic:
    """The stack's current edge traffic: calls per month and where they are declared."""

    monthly_calls: Decimal
    kind: str
    sources: tuple[str, ...]
    secret: bool = False


@dataclass(frozen=True)
class WhatIfRow:
    """One row: its factor against today's traffic, the edge volume it stands for, and what a
    report shows of the scaled stack's estimate (its :class:`~costline.estimator.pipeline.Totals`).
    ``complete`` is False when scaling pushed a figure past the usage contract's plausible maximum
    (its cost is then left out, see the row's findings). The scaled stack's full
    :attr:`estimate` is worked out when first asked for."""

    scenario: Scenario
    factor: Fraction
    volume: Decimal | None
    totals: Totals
    complete: bool = True
    full_estimate: Callable[[], Estimate] | None = field(default=None, compare=False, repr=False)

    @property
    def current(self) -> bool:
        return self.factor == 1

    @cached_property
    def estimate(self) -> Estimate:
        """The scaled stack's estimate, in full (its resources, line items and findings)."""
        if self.full_estimate is None:
            raise ValueError("this row was made without a way to estimate its stack")
        return self.full_estimate()


@dataclass(frozen=True)
class WhatIf:
    edge: EdgeTraffic | None
    rows: tuple[WhatIfRow, ...]
    skipped: tuple[Scenario, ...] = ()
    """Absolute volumes that could not be priced because the stack declares no edge traffic."""


def api_requests(
    api: Resource, stages: Sequence[Resource], tags: TagCache | None = None
) -> tuple[Decimal, bool, list[str]]:
    """The requests per month an API's billed traffic declares, as
    :func:`~costline.usage.traffic.declared_requests` gives them (the sum, whether a secret went
    into it, the names of the resources declaring them): its REST ``stages``' (see
    :func:`~costline.pricers.apigateway.stages_by_api`) when they declare any (a stage's figure
    wins over its API's), else the API's own; each read once, through ``tags`` when given."""
    tags = tags if tags is not None else TagCache()
    declaring = [d for s in stages if (d := declared_requests([s], tags))[2]]
    if not declaring:
        return declared_requests([api], tags)
    return _together(declaring)


def _together(
    declared: Sequence[tuple[Decimal, bool, list[str]]],
) -> tuple[Decimal, bool, list[str]]:
    """Several :func:`~costline.usage.traffic.declared_requests` readings as one: the sum (in
    order, in the money context), any secret, the names in order."""
    with money_context():
        total = sum((d[0] for d in declared), ZERO)
    return total, any(d[1] for d in declared), [name for d in declared for name in d[2]]


def edge_traffic(
    resources: Iterable[Resource],
    incoming: Mapping[str, list[Edge]] | None = None,
    tags: TagCache | None = None,
) -> EdgeTraffic | None:
    """Calls per month at the stack's edge, from the first of these that declares any:

    1. API Gateway REST and HTTP APIs (a REST API's stages' figures when they declare them);
    2. Lambda functions that no API or other resource sends traffic to;
    3. Bedrock inference profiles that nothing sends traffic to.

    ``incoming``: the stack's :func:`~costline.usage.traffic.incoming_edges`, when the caller has
    them; ``tags``: a tag cache of the stack's (its estimate's), when the caller has one.
    """
    stack = tuple(resources)
    tags = tags if tags is not None else TagCache()
    incoming = incoming if incoming is not None else incoming_edges(stack)
    targets = {urn for urn, edges in incoming.items() if edges}
    apis = [
        r
        for r in stack
        if r.type == REST_API_TYPE
        or (r.type == V2_API_TYPE and r.properties.get("protocolType", "HTTP") == "HTTP")
    ]
    stages = stages_by_api(stack)
    total, secret, names = _together(
        [api_requests(api, stages.get(api.urn, ()), tags) for api in apis]
    )
    if names:
        return EdgeTraffic(total, "API Gateway requests", tuple(names), secret)
    tiers = (
        ("Lambda invocations", LAMBDA_TYPE),
        ("Bedrock requests", PROFILE_TYPE),
    )
    for kind, kind_type in tiers:
        holders = [r for r in stack if r.type == kind_type and r.urn not in targets]
        total, secret, names = declared_requests(holders, tags)
        if names:
            return EdgeTraffic(total, kind, tuple(names), secret)
    return None


def stack_edge_traffic(stack: PricedStack) -> EdgeTraffic | None:
    """:func:`edge_traffic` of a priced stack, worked out once for it (the what-if rows and the
    provisioned-throughput break-even both need it)."""
    return stack.once(
        "edge-traffic",
        lambda: edge_traffic(stack.resources, stack.incoming, stack.tags),
    )


def scale_stack(resources: Iterable[Resource], factor: Fraction) -> list[Resource]:
    """Copies of ``resources`` with every declared traffic figure × ``factor`` (see module doc)."""
    return [scale_usage(r, factor, SCALED_TAGS, requests=True) for r in resources]


class StackScaling:
    """:func:`scale_stack` of one stack at several factors: what each resource scales is read
    once (:func:`~costline.scenarios.edit.usage_scaling`), and only the resources with a figure
    to scale are copied at each factor."""

    def __init__(self, resources: Iterable[Resource]) -> None:
        self.resources = tuple(resources)

    @cached_property
    def _scalings(self) -> list[UsageScaling | None]:
        """Each resource's reading (read when first needed: rows billed from the charges at
        factors up to 1 need none)."""
        return [usage_scaling(r, SCALED_TAGS, requests=True) for r in self.resources]

    @cached_property
    def _largest(self) -> dict[str, Decimal]:
        """Tag key → the largest figure any resource declares for it, among those scaled."""
        largest: dict[str, Decimal] = {}
        for scaling in self._scalings:
            for key, value in scaling.changes if scaling is not None else ():
                if value is not None and (key not in largest or value > largest[key]):
                    largest[key] = value
        return largest

    def stays_plausible(self, factor: Fraction) -> bool:
        """Whether every figure scaled by ``factor`` stays within its tag's plausible maximum
        (a copy's figure past it is unreadable there: a finding, its cost left out)."""
        if factor <= 1:
            return True  # no figure grows (each was within its maximum to be scaled at all)
        return all(
            Decimal(scaled_figure(value, factor)) <= _MAXIMUM[key]
            for key, value in self._largest.items()
        )

    def rewrites_cleanly(self, results: Sequence[ResourceEstimate]) -> bool:
        """Whether every resource's copies only scale what its pricer read
        (:func:`~costline.scenarios.edit.rewrites_cleanly`); ``results``: the stack's estimate,
        resource by resource."""
        return len(results) == len(self.resources) and all(
            rewrites_cleanly(resource, result, SCALED_TAGS, requests=True)
            for resource, result in zip(self.resources, results, strict=True)
        )

    def scaled(self, factor: Fraction) -> list[Resource]:
        """``scale_stack(resources, factor)``: the same resources, copied the same way."""
        if factor == 1:
            return list(self.resources)
        return [
            r if scaling is None else scaling.scaled(factor)
            for r, scaling in zip(self.resources, self._scalings, strict=True)
        ]


_MAXIMUM = {tag.key: tag.maximum for tag in (*SCALED_TAGS, MONTHLY_REQUESTS)}


class _BilledRows:
    """Rows billed from the stack's charges (:class:`~costline.estimator.scaled.ScaledBilling`)
    where that gives what pricing the scaled copy would: the charges all say how they scale, and
    no resource has a finding about a tag its copies rewrite, which the copy could lose or change
    (a request figure declared both daily and monthly that disagree, a day count of 0...). A row
    whose figures would pass a plausible maximum is priced in full (its findings change)."""

    def __init__(self, scaling: StackScaling, base: Estimate, billing: ScaledBilling) -> None:
        self.scaling, self.billing = scaling, billing
        self.usable = self.billing.usable and scaling.rewrites_cleanly(base.resources)

    def totals(self, factor: Fraction) -> Totals | None:
        if not self.usable or not self.scaling.stays_plausible(factor):
            return None
        return self.billing.totals({TRAFFIC: factor})


def _scaled_estimate(
    resources: Sequence[Resource], factor: Fraction, prices: PriceBook, options: EstimateOptions
) -> Estimate:
    return estimate(scale_stack(resources, factor), prices, options)


def what_if(
    resources: Sequence[Resource],
    prices: PriceBook,
    options: EstimateOptions | None = None,
    scenarios: Sequence[Scenario] = DEFAULT_SCENARIOS,
    base: Estimate | None = None,
    *,
    run: PipelineRun | None = None,
    incoming: Mapping[str, list[Edge]] | None = None,
    billing: ScaledBilling | None = None,
    edge: EdgeTraffic | _Unset | None = _UNSET,
) -> WhatIf:
    """Re-estimate ``resources`` at each scenario's traffic. ``base`` is the estimate of the
    stack as declared (computed when not given); the row at factor 1 reuses it, and is added
    when no scenario asks for today's traffic. Rows are in order of traffic (in the order asked,
    today's first, when the edge volume is a secret).

    A row keeps what a report shows of its estimate (:class:`~costline.estimator.pipeline.
    Totals`). Given ``run`` (what the estimate ``base`` worked out on the way), a row is billed
    from the stack's charges, traffic × its factor (:mod:`costline.estimator.scaled`: within
    10^-20 of a dollar of the full estimate), wherever every charge says how it scales and no
    finding could change (:class:`_BilledRows`); ``billing``: the stack's
    :class:`~costline.estimator.scaled.ScaledBilling` (``PricedStack.scaled_billing``), when the
    caller has it. Any other row prices the scaled copy (:func:`~costline.estimator.pipeline.
    estimate_totals`, exactly what the full estimate gives), sharing the stack's traffic edges
    (scaling changes tags only, never a type or a reference) and, with ``run``, its collected
    tags and the indexes built from its edges; ``incoming``: the stack's
    :func:`~costline.usage.traffic.incoming_edges`, when the caller has them; ``edge``: the
    stack's :func:`edge_traffic`, when the caller has it."""
    options = options or EstimateOptions()
    base = base if base is not None else estimate(resources, prices, options)
    base_totals = Totals.of(base)
    incoming = incoming if incoming is not None else dict(incoming_edges(resources))
    if run is not None and (
        len(run.stack) != len(resources)
        or any(a is not b for a, b in zip(run.stack, resources, strict=True))
    ):
        run = None  # another stack's: nothing of it holds here
    unpriced = (  # the resources no pricer prices are the same objects in every row
        UnpricedResults(resources, base.resources)
        if len(base.resources) == len(resources)
        else None
    )
    shared_indexes = edge_indexes(run) if run is not None else None
    if isinstance(edge, _Unset):
        edge = edge_traffic(resources, incoming, run.tags if run is not None else None)
    rows, skipped = [], []
    scaling: StackScaling | None = None
    billed: _BilledRows | None = None
    for scenario in scenarios:
        if scenario.multiplier is not None:
            factor = Fraction(scenario.multiplier)
            with money_context():
                volume = None if edge is None else edge.monthly_calls * scenario.multiplier
        elif edge is not None and edge.monthly_calls > 0 and scenario.volume is not None:
            factor, volume = (
                Fraction(scenario.volume) / Fraction(edge.monthly_calls),
                scenario.volume,
            )
        else:
            skipped.append(scenario)
            continue
        if factor == 1:
            rows.append(
                WhatIfRow(scenario, factor, volume, base_totals, True, partial(_same, base))
            )
            continue
        with gc_paused():  # as estimate() does: the copies all live until the row is priced
            scaling = scaling or StackScaling(resources)
            if billed is None and run is not None:
                billing = billing or ScaledBilling(
                    run, prices, base_totals, free_tier=options.free_tier
                )
                billed = _BilledRows(scaling, base, billing)
            totals = billed.totals(factor) if billed is not None else None
            scaled = scaling.scaled(factor) if totals is None else None
        if scaled is not None:
            totals = estimate_totals(
                scaled,
                prices,
                options,
                incoming=incoming,
                tags=run.tags.copy() if run is not None else None,
                indexes=shared_indexes,
                unpriced=unpriced,
            )
        assert totals is not None, "billed from the charges or priced in full"
        rows.append(
            WhatIfRow(
                scenario,
                factor,
                volume,
                totals,
                totals.problems <= base_totals.problems,
                partial(_scaled_estimate, resources, factor, prices, options),
            )
        )
    if rows and not any(
        row.current for row in rows
    ):  # today's traffic is always a row, for comparison
        rows.insert(
            0,
            WhatIfRow(
                Scenario(multiplier=Decimal(1)),
                Fraction(1),
                edge.monthly_calls if edge else None,
                base_totals,
                True,
                partial(_same, base),
            ),
        )
    if edge is None or not edge.secret:  # where an absolute row falls would hint at a secret volume
        rows.sort(
            key=lambda row: row.factor
        )  # stable: rows asked for twice stay in the order given
    return WhatIf(edge, tuple(rows), tuple(skipped))


def _same(result: Estimate) -> Estimate:
    return result


def factor_decimal(factor: Fraction) -> Decimal:
    """The factor as a decimal rounded half-up to 10 places, for reports: exact whatever its
    size (a row of 1M calls against an edge of 1e-200 calls a month is a factor of 1e206, more
    digits than any decimal context holds)."""
    tenths = abs(factor) / FACTOR_PLACES_FRACTION  # in units of the last place kept
    whole, left = divmod(tenths.numerator, tenths.denominator)
    if 2 * left >= tenths.denominator:  # half-up, away from zero
        whole += 1
    sign = "-" if factor < 0 else ""
    return Decimal(f"{sign}{whole}E{FACTOR_PLACES.as_tuple().exponent}")  # a string: not rounded
