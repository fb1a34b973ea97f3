"""The estimator: resources in, a monthly :class:`~costline.core.model.Estimate` out.

Pure and side-effect free. For each resource the registry's pricer reads properties and
usage tags into charges; charges that count the same usage twice are kept once
(:data:`GROUP_PREFERENCE`); then :mod:`costline.estimator.billing` prices the whole account's usage
with free tiers and tiers. No input makes this raise: a pricer failure becomes an
``internal-error`` finding on that resource.
"""

from __future__ import annotations

import datetime
import gc
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from operator import attrgetter
from typing import Any

from costline.core.model import (
    Assumption,
    Estimate,
    Finding,
    LineItem,
    PricingInfo,
    Resource,
    ResourceEstimate,
    ResourceStatus,
    Severity,
)
from costline.core.money import ZERO, money_context
from costline.core.values import SECRET_DISPLAY
from costline.estimator.billing import bill_in_order
from costline.pricers import apigateway, bedrock
from costline.pricers.base import Charge, PricingContext
from costline.pricers.registry import PRICERS, is_free
from costline.pricing.model import PriceBook
from costline.pricing.staleness import stale_prices_finding
from costline.pricing.verification import unverified_prices_finding
from costline.usage.bounds import DEFAULT_WORST_CASE
from costline.usage.tags import (
    DerivedValue,
    TagCache,
    UsageReader,
    tag_problems,
)
from costline.usage.traffic import INCOMING_EDGES, Edge, derive_usage, incoming_edges

# When two resources declare the same usage (``Charge.group``), charges from the resource
# type listed here win: a stage's traffic over its API's, an inference profile's tokens
# over those declared on the Lambda that calls it.
GROUP_PREFERENCE: Mapping[str, int] = {
    apigateway.REST_STAGE_TYPE: 1,
    bedrock.INFERENCE_PROFILE_TYPE: 1,
}


@dataclass(frozen=True)
class EstimateOptions:
    """``free_tier``: apply always-free allowances once per account. ``fail_closed``: price
    unreadable usage tags at ``worst_case`` instead of leaving them out."""

    free_tier: bool = True
    fail_closed: bool = False
    max_price_age_days: int | None = None
    """Warn (``prices-stale``) when the tables are older than this many days on ``today``."""
    today: datetime.date | None = None
    worst_case: Mapping[str, Decimal] = field(default_factory=lambda: dict(DEFAULT_WORST_CASE))


class _Draft:
    """One priced resource while it is being estimated (a plain slotted class: one is made per
    priced resource, so its construction is on the hot path)."""

    __slots__ = ("assumptions", "charges", "findings", "line_items", "resource", "status")

    def __init__(self, resource: Resource, findings: list[Finding]) -> None:
        self.resource = resource
        self.status: ResourceStatus | None = None
        self.findings = findings
        self.charges: list[Charge] = []
        self.assumptions: list[Assumption] = []
        self.line_items: list[LineItem] = []


@dataclass
class PipelineRun:
    """What one estimate worked out on the way to its result, kept so that a changed copy of the
    stack can be re-priced from it (:mod:`costline.estimator.reprice`): the stack, its pricing
    context (with the indexes the pricers built), tag cache and traffic figures, every priced
    resource's charges as its pricer gave them (before one count per usage group was kept) and
    its draft as billed."""

    stack: tuple[Resource, ...]
    context: PricingContext
    tags: TagCache
    derived: Mapping[str, Mapping[str, DerivedValue]]
    traffic_failed: bool
    pre_group: dict[str, tuple[Charge, ...]]
    drafts: list[_Draft]


def estimate(
    resources: Iterable[Resource], prices: PriceBook, options: EstimateOptions | None = None
) -> Estimate:
    """Estimate the monthly cost of ``resources`` at ``prices``.

    Python's cyclic garbage collector is paused for the call and restored after it: an
    estimate allocates a few objects per resource that all live until it returns, and the
    collector's full passes over them grew faster than the stack (a 10,000-resource estimate
    took ~1.3× longer per resource than a 1,000-resource one; see the README's Performance
    section)."""
    with gc_paused():
        return _estimate(resources, prices, options)


def estimate_with_run(
    resources: Iterable[Resource], prices: PriceBook, options: EstimateOptions | None = None
) -> tuple[Estimate, PipelineRun]:
    """:func:`estimate`, and what it worked out on the way (:class:`PipelineRun`)."""
    runs: list[PipelineRun] = []
    with gc_paused():
        return _estimate(resources, prices, options, runs), runs[0]


@contextmanager
def gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _estimate(
    resources: Iterable[Resource],
    prices: PriceBook,
    options: EstimateOptions | None,
    runs: list[PipelineRun] | None = None,
) -> Estimate:
    options = options or EstimateOptions()
    priced = _Priced(tuple(resources), prices, options, runs=runs)
    outcomes = priced.outcomes
    with money_context():  # one context for every resource's sum of line items
        results = tuple([_finish(o) if isinstance(o, _Draft) else o for o in outcomes])
    with money_context():  # adding ZERO changes nothing
        total = sum([r.monthly_usd for r in results if r.monthly_usd is not ZERO], ZERO)
    return Estimate(
        resources=results,
        findings=priced.stack_findings(i for r in results for i in r.line_items),
        total_monthly_usd=total,
        pricing=PricingInfo(
            prices.version,
            prices.region,  # already ``[secret]`` when the region came from a secret
            prices.currency,
            prices.as_of,
            tuple(prices.overrides),
        ),
        free_tier_applied=options.free_tier,
    )


@dataclass(frozen=True)
class Totals:
    """What a what-if row shows of an estimate: its total, its cost by service (in the order and
    with the digits :meth:`~costline.core.model.Estimate.by_service` gives) and how many of its
    findings are not INFO."""

    total_monthly_usd: Decimal
    by_service: Mapping[str, Decimal]
    problems: int

    @classmethod
    def of(cls, result: Estimate) -> Totals:
        return cls(
            result.total_monthly_usd,
            result.by_service(),
            sum(1 for f in result.all_findings if f.severity is not Severity.INFO),
        )


def estimate_totals(
    resources: Iterable[Resource],
    prices: PriceBook,
    options: EstimateOptions | None = None,
    *,
    incoming: Mapping[str, list[Edge]] | None = None,
    tags: TagCache | None = None,
    indexes: Mapping[str, Any] | None = None,
    unpriced: UnpricedResults | None = None,
) -> Totals:
    """``Totals.of(estimate(resources, prices, options))``, exactly, without building the
    per-resource results. ``incoming``: the stack's traffic edges into each resource
    (:func:`~costline.usage.traffic.incoming_edges`), when the caller has them for a stack of the
    same shape (types and references); worked out again when not given. ``tags``: a tag cache
    to start from (:meth:`~costline.usage.tags.TagCache.copy` of the stack's, when the copy
    shares resource objects with it); ``indexes``: the pricers' indexes
    (:meth:`~costline.pricers.base.PricingContext.index`) that hold for this stack as they were
    built for another (those built from the traffic edges and types alone, for a stack of the
    same shape); ``unpriced``: the results of resources no pricer prices that are in another
    estimate of the same resource objects (:class:`UnpricedResults`)."""
    options = options or EstimateOptions()
    with gc_paused():
        priced = _Priced(
            tuple(resources),
            prices,
            options,
            incoming=incoming,
            tags=tags,
            indexes=indexes,
            records=False,  # a total never shows the inputs' assumptions
            unpriced=unpriced,
        )
        by_service: dict[str, Decimal] = {}
        monthly: list[Decimal] = []
        problems = 0
        for outcome in priced.outcomes:
            problems += sum(1 for f in outcome.findings if f.severity is not Severity.INFO)
            if type(outcome) is not _Draft or not (items := outcome.line_items):
                continue
            with money_context():  # as _finish sums them
                monthly.append(sum([item.monthly_usd for item in items], ZERO))
            for item in sorted(items, key=_LINE_ITEM_ORDER) if len(items) > 1 else items:
                # as Estimate.by_service adds them up: in the caller's context
                by_service[item.service] = (
                    by_service.get(item.service, Decimal(0)) + item.monthly_usd
                )
        with money_context():
            total = sum(monthly, ZERO)
        findings = priced.stack_findings(i for d in priced.drafts for i in d.line_items)
    problems += sum(1 for f in findings if f.severity is not Severity.INFO)
    return Totals(total, by_service, problems)


class UnpricedResults:
    """The results an estimate gave the resources no pricer prices (:func:`_unpriced`: what it
    says of a resource depends on that resource alone), for another estimate of a stack that
    shares those resource objects (a what-if row) to take as they are. Keyed by the resource
    object's ``id``, keeping the resource alive, as :class:`~costline.usage.tags.TagCache` is."""

    __slots__ = ("by_id",)

    def __init__(self, stack: Iterable[Resource], results: Iterable[ResourceEstimate]) -> None:
        """``results``: an estimate of ``stack``, in the stack's order."""
        self.by_id: dict[int, tuple[Resource, ResourceEstimate]] = {
            id(resource): (resource, result)
            for resource, result in zip(stack, results, strict=True)
            if resource.type not in PRICERS and result.urn == resource.urn
        }


class _Priced:
    """A stack priced and billed: every resource's outcome (its draft, billed, or its finished
    estimate when no pricer prices it), up to the point where the results are assembled."""

    __slots__ = ("drafts", "options", "outcomes", "prices", "stack", "traffic_failure")

    def __init__(
        self,
        stack: tuple[Resource, ...],
        prices: PriceBook,
        options: EstimateOptions,
        *,
        runs: list[PipelineRun] | None = None,
        incoming: Mapping[str, list[Edge]] | None = None,
        tags: TagCache | None = None,
        indexes: Mapping[str, Any] | None = None,
        records: bool = True,
        unpriced: UnpricedResults | None = None,
    ) -> None:
        self.stack, self.prices, self.options = stack, prices, options
        context = PricingContext(prices=prices, stack=stack, _indexes=dict(indexes or {}))
        # this estimate's: traffic derivation and pricers collect each resource's tags once
        tags = tags if tags is not None else TagCache()
        derived, self.traffic_failure, incoming = _derived_usage(stack, tags, incoming)
        if incoming is not None:  # the pricers that look at traffic use the pass's edges
            context._indexes[INCOMING_EDGES] = incoming
        known = unpriced.by_id if unpriced is not None else {}
        self.outcomes = outcomes = [
            known[id(resource)][1]
            if id(resource) in known
            else _price_resource(
                resource, context, options, derived.get(resource.urn), tags, records=records
            )
            for resource in stack
        ]
        self.drafts = drafts = [o for o in outcomes if type(o) is _Draft]
        if runs is not None:
            pre_group = {d.resource.urn: tuple(d.charges) for d in drafts}
            runs.append(
                PipelineRun(
                    stack,
                    context,
                    tags,
                    derived,
                    self.traffic_failure is not None,
                    pre_group,
                    drafts,
                )
            )
        _keep_one_per_group(drafts)
        _bill(drafts, prices, options.free_tier)

    def stack_findings(self, line_items: Iterable[LineItem]) -> tuple[Finding, ...]:
        """The estimate's own findings (not a resource's), from its line items in any order."""
        options, prices = self.options, self.prices
        items = list(line_items)
        stale = (
            stale_prices_finding(
                prices,
                options.max_price_age_days,
                options.today or datetime.date.today(),
                items,
            )
            if options.max_price_age_days is not None
            else None
        )
        unverified = unverified_prices_finding(items, prices)
        return (
            *_duplicate_urns(self.stack),
            *(f for f in (self.traffic_failure, stale, unverified) if f),
        )


def _duplicate_urns(stack: Sequence[Resource]) -> list[Finding]:
    """A ``duplicate-urn`` error per URN the input repeats (a stack's URNs are unique): each copy
    is priced, none dropped, and the finding says the total may count a resource twice."""
    if len({r.urn for r in stack}) == len(stack):
        return []  # the usual case
    counts: dict[str, list[Resource]] = defaultdict(list)
    for resource in stack:
        counts[resource.urn].append(resource)
    return [
        Finding(
            "duplicate-urn",
            Severity.ERROR,
            f"{len(copies)} resources share the URN {urn}: each is priced, so the total may "
            "count one resource more than once",
            urn,
            copies[0].name,
            suggestion="check the input: the resources of a stack have unique URNs",
        )
        for urn, copies in counts.items()
        if len(copies) > 1
    ]


def _bill(drafts: Sequence[_Draft], prices: PriceBook, free_tier: bool) -> None:
    """Bill every draft's charges account-wide and add their line items to their drafts; a
    charge whose price entry is missing gets a ``price-missing`` finding instead.

    The charges go to billing in a canonical order: drafts by :func:`_in_canonical_order`, each
    draft's charges in the order its pricer gave them.
    """
    ordered = _in_canonical_order(drafts)
    priced = [_priced_charges(draft, prices) for draft in ordered]
    line_items = bill_in_order(
        [charge for charges in priced for charge in charges], prices, free_tier=free_tier
    )
    end = 0
    # each draft's line items are the next len(charges)
    for draft, charges in zip(ordered, priced, strict=True):
        start, end = end, end + len(charges)
        draft.line_items += line_items[start:end]


def _priced_charges(draft: _Draft, prices: PriceBook) -> list[Charge]:
    """The draft's charges whose price entry exists (its own list when all do, the usual case);
    a ``price-missing`` finding for each other."""
    entries = prices.entries
    missing = [charge for charge in draft.charges if charge.price_id not in entries]
    for charge in missing:
        price_id, description = (
            (SECRET_DISPLAY, "a cost chosen by a secret value")
            if charge.secret_text
            else (repr(charge.price_id), charge.description.lower())
        )
        draft.findings.append(
            _finding(
                draft.resource,
                "price-missing",
                Severity.ERROR,
                f"no price entry {price_id} in the {prices.region} "
                f"tables; {description} is not in the total",
                suggestion="add the entry with a --prices override file",
                gap=f"no price {SECRET_DISPLAY if charge.secret_text else charge.price_id} "
                f"in {prices.region}",
            )
        )
    return (
        [charge for charge in draft.charges if charge.price_id in entries]
        if missing
        else draft.charges
    )


_resource_urn = attrgetter("resource.urn")


def _in_canonical_order(drafts: Sequence[_Draft]) -> list[_Draft]:
    """``drafts`` by resource URN: the same list whatever order the resources came in, as URNs
    are unique in a stack. Drafts of resources sharing a URN (bad input) follow their charges'
    descriptions, and keep the stack's order when those are equal too."""
    ordered = sorted(drafts, key=_resource_urn)
    if len({draft.resource.urn for draft in ordered}) < len(ordered):
        ordered.sort(key=_urn_and_descriptions)
    return ordered


def _urn_and_descriptions(draft: _Draft) -> tuple[str, tuple[str, ...]]:
    return draft.resource.urn, tuple([charge.description for charge in draft.charges])


def _derived_usage(
    stack: Sequence[Resource], tags: TagCache, incoming: Mapping[str, list[Edge]] | None = None
) -> tuple[
    Mapping[str, Mapping[str, DerivedValue]], Finding | None, Mapping[str, list[Edge]] | None
]:
    """The usage that flows through the graph (:func:`~costline.usage.traffic.derive_usage`),
    and the edges it followed (``incoming``, or the stack's
    :func:`~costline.usage.traffic.incoming_edges`); if that pass fails (a costline bug), none
    flows and an ``internal-error`` finding says so, instead of the estimate, and the preview
    running it, failing."""
    try:
        incoming = incoming if incoming is not None else incoming_edges(stack)
        return derive_usage(stack, tags, incoming=incoming), None, incoming
    except Exception as exc:
        return (
            {},
            Finding(
                "internal-error",
                Severity.ERROR,
                f"costline could not follow traffic through the stack ({type(exc).__name__}); "
                "usage that would flow from one resource to another is not in the total",
                suggestion="please report this as a costline bug",
            ),
            None,
        )


def _price_resource(
    resource: Resource,
    context: PricingContext,
    options: EstimateOptions,
    derived: Mapping[str, DerivedValue] | None = None,
    tags: TagCache | None = None,
    *,
    records: bool = True,
) -> _Draft | ResourceEstimate:
    """The resource's draft (its charges still to be billed), or its finished estimate when it
    has no pricer: most resources of a stack, so those skip the draft stage altogether.
    ``records=False``: the draft's assumptions are not kept (for totals that never show them;
    see :class:`~costline.usage.tags.UsageReader`)."""
    pricer = PRICERS.get(resource.type)
    if pricer is None:
        return _unpriced(resource)
    draft = _Draft(resource, findings=tag_problems(resource))
    usage = UsageReader(
        resource,
        options.worst_case if options.fail_closed else None,
        derived,
        tags,
        records=records,
    )
    try:
        draft.charges = pricer(resource, usage, context)
    except Exception as exc:
        draft.charges = []
        draft.status = ResourceStatus.NOT_PRICED
        draft.findings.append(
            _finding(
                resource,
                "internal-error",
                Severity.ERROR,
                f"costline could not price this resource ({type(exc).__name__}); "
                "its cost is not in the total",
                suggestion="please report this as a costline bug",
            )
        )
    if usage.secret_used:  # every figure (and, for a secret text, every name) is masked
        text = usage.secret_text_used
        draft.charges = [replace(c, secret=True, secret_text=text) for c in draft.charges]
    draft.findings.extend(usage.findings)
    draft.assumptions = usage.assumptions  # the reader is done: its list becomes the draft's
    return draft


def _unpriced(resource: Resource) -> ResourceEstimate:
    """A resource no pricer prices: free (a known free type, a provider, a component) or not
    priced yet (an info finding says so), plus any unrecognized ``cost:*`` tags it carries."""
    findings = tag_problems(resource)
    if is_free(resource.type) or not resource.custom:
        status = ResourceStatus.FREE
    else:
        status = ResourceStatus.NOT_PRICED
        findings.append(
            _finding(
                resource,
                "not-priced",
                Severity.INFO,
                f"costline does not price {resource.type} yet; its cost is not in the total",
                gap=f"{resource.type} not priced by costline",
            )
        )
    return ResourceEstimate(
        resource.urn,
        resource.type,
        resource.name,
        status,
        ZERO,
        (),
        tuple(findings) if findings else (),
        (),
    )


def _keep_one_per_group(drafts: Sequence[_Draft]) -> None:
    """Drop charges that count usage another, preferred resource already declares."""
    members: dict[str, list[tuple[_Draft, Charge]]] = defaultdict(list)
    for draft in drafts:
        for charge in draft.charges:
            if charge.group:
                members[charge.group].append((draft, charge))
    for group_members in members.values():
        if len(group_members) < 2:
            continue  # declared once: nothing counted twice
        best = max(GROUP_PREFERENCE.get(d.resource.type, 0) for d, _ in group_members)
        keepers = sorted(
            {
                d.resource.name
                for d, _ in group_members
                if GROUP_PREFERENCE.get(d.resource.type, 0) == best
            }
        )
        for draft, charge in group_members:
            if GROUP_PREFERENCE.get(draft.resource.type, 0) < best:
                draft.charges.remove(charge)
                draft.findings.append(
                    _finding(
                        draft.resource,
                        "usage-counted-elsewhere",
                        Severity.INFO,
                        "the usage declared here for "
                        f"{SECRET_DISPLAY if charge.secret_text else charge.description} is "
                        f"counted on {', '.join(keepers)} instead, so it is not counted twice",
                    )
                )


def _finish(draft: _Draft) -> ResourceEstimate:
    resource = draft.resource
    if not (draft.line_items or draft.findings or draft.assumptions or draft.charges):
        # most resources of a stack (roles, permissions...): free, nothing to say
        return ResourceEstimate(
            resource.urn,
            resource.type,
            resource.name,
            draft.status or ResourceStatus.FREE,
            ZERO,
            (),
            (),
            (),
        )
    line_items: tuple[LineItem, ...] = ()
    monthly = ZERO
    if draft.line_items:  # summed in the caller's money_context()
        monthly = sum([item.monthly_usd for item in draft.line_items], ZERO)
        line_items = (
            tuple(sorted(draft.line_items, key=_LINE_ITEM_ORDER))
            if len(draft.line_items) > 1
            else tuple(draft.line_items)
        )
    status = draft.status or _status(draft)
    return ResourceEstimate(
        resource.urn,
        resource.type,
        resource.name,
        status,
        monthly,
        line_items,
        tuple(draft.findings),
        tuple(draft.assumptions),
    )


_LINE_ITEM_ORDER = attrgetter("service", "price_id", "description")
"""A resource's line items are listed by service, then price entry, then description."""


def _status(draft: _Draft) -> ResourceStatus:
    """Priced, partly priced, usage missing or free, from the line items and findings."""
    problems = bool(draft.findings) and any(f.severity is not Severity.INFO for f in draft.findings)
    if not draft.line_items:
        if problems:
            return ResourceStatus.USAGE_MISSING
        return ResourceStatus.FREE if not draft.charges else ResourceStatus.PRICED
    return ResourceStatus.PARTIAL if problems else ResourceStatus.PRICED


def _finding(
    resource: Resource,
    code: str,
    severity: Severity,
    message: str,
    *,
    field: str | None = None,
    suggestion: str | None = None,
    gap: str | None = None,
) -> Finding:
    return Finding(
        code,
        severity,
        f"{resource.name}: {message}",
        resource.urn,
        resource.name,
        field,
        suggestion,
        gap,
    )
