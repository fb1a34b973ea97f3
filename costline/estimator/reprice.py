"""The total of a changed copy of a priced stack, re-pricing only what the change reaches.

A recommendation prices the stack with a few resources changed and takes the difference of the
totals. Re-running the whole estimator for that costs one estimate per recommendation; this
module gets the same total (exactly: the same ``Decimal``) from the base estimate's
:class:`~costline.estimator.pipeline.PipelineRun`, redoing exactly what depends on the change:

1. **The change:** the resources of the copy that are not the very objects of the stack, the
   ones it adds and the ones it drops. Anything unusual — repeated URNs, the remaining resources
   in another order, a traffic pass that failed — and the copy is simply estimated in full.
2. **Traffic** (:mod:`costline.usage.traffic`): the edges are the stack's, except into the
   targets a change of shape reaches (a resource that plays a part in traffic whose type or
   references changed, or that was added or dropped, such as a REST API turned into an HTTP API
   with its stages dropped): those targets' edges are worked out again from the few resources
   that can make one (:meth:`Repricer._rewired`), and a Lambda that starts or stops calling an
   inference profile is re-priced (its pricer asks). The figures are worked out again for every
   resource downstream of a change (a changed tag traffic reads, a target whose edges changed,
   a REST API whose stage changed), and whatever resource's figures differ from the stack's in
   what a pricer reads (values, secrecy, readability; not the details saying where they came
   from, which only go into assumptions and findings) is re-priced.
3. **Pricers that look at other resources** (:data:`LOOKUPS`): a change to a resource of one of
   the types a pricer looks up re-prices every resource that pricer prices (REST APIs and their
   stages, Lambdas and their provisioned-concurrency configs, S3 buckets and their lifecycle
   rules). The stack's indexes are kept for the pricers whose inputs the change leaves alone.
4. **Usage counted once** (``Charge.group``): every resource sharing a group with a re-priced
   one takes part in choosing again which resource keeps it (with its charges as its pricer gave
   them in the stack).
5. **Billing** (:mod:`costline.estimator.billing`) is per price entry, and free tiers join the
   entries they cover: every entry for which a re-priced resource's billed charges changed
   (one added, dropped, or different in any field or digit; a Lambda whose tokens were cut but
   whose own charges are the same leaves its entries alone), closed over the free tiers, is
   billed again with all of its charges in the canonical order; every other entry's line items
   are the stack's. The total is the sum of every entry's line items,
   which are whole multiples of :data:`~costline.core.money.QUANTUM` and add up exactly in the
   money context, so it is the total a full estimate adds up resource by resource. Amounts that
   would not add up exactly (≥ 10^25 dollars) are estimated in full.

``tests/test_reprice.py`` pins the totals against full estimates, over generated stacks and
every recommendation rule.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from functools import cached_property
from itertools import pairwise
from typing import Any

from costline.core.model import Resource
from costline.core.money import ZERO, money_context
from costline.estimator.billing import applicable_free_tiers, bill_in_order
from costline.estimator.pipeline import (
    EstimateOptions,
    PipelineRun,
    UnpricedResults,
    _Draft,
    _keep_one_per_group,
    _price_resource,
    estimate_totals,
    gc_paused,
)
from costline.pricers.apigateway import REST_API_TYPE
from costline.pricers.base import Charge, PricingContext
from costline.pricers.lambda_function import PC_CONFIG_TYPE, PROFILE_CALLERS
from costline.pricers.lambda_function import TYPE as LAMBDA_TYPE
from costline.pricing.model import PriceBook
from costline.usage.tags import (
    DAILY_REQUESTS,
    DAYS_PER_MONTH,
    GETS_PER_REQUEST,
    MONTHLY_REQUESTS,
    DerivedValue,
)
from costline.usage.traffic import (
    PER_REQUEST_TAGS,
    PROFILE_TYPE,
    REST_STAGE_TYPE,
    TRAFFIC_ROLES,
    Edge,
    derive_usage,
    incoming_edges,
    traffic_edges,
)

S3_PREFIX = "aws:s3/"

LOOKUPS: tuple[tuple[frozenset[str], frozenset[str], str | None], ...] = (
    (
        frozenset({REST_API_TYPE, REST_STAGE_TYPE}),
        frozenset({REST_API_TYPE, REST_STAGE_TYPE}),
        "apigateway.rest",
    ),
    (
        frozenset({PC_CONFIG_TYPE}),
        frozenset({LAMBDA_TYPE, PC_CONFIG_TYPE}),
        "lambda-pc-by-function",
    ),
    (frozenset({LAMBDA_TYPE}), frozenset({PC_CONFIG_TYPE}), None),
)
"""Pricers that look at other resources: (types whose change they see, types they price, the
:meth:`~costline.pricers.base.PricingContext.index` they build from those). S3 is handled
apart: any ``aws:s3/`` type changed re-prices every ``aws:s3/`` resource (lifecycle rules find
their bucket by reference or by name). A pricer that consults the stack must be listed here."""

EDGE_INDEXES = (PROFILE_CALLERS,)
"""Indexes built from the traffic edges and the targets' types alone."""


def edge_indexes(run: PipelineRun) -> dict[str, Any]:
    """The pricers' indexes (:data:`EDGE_INDEXES`) ``run`` built that hold for any stack of its
    shape (the same types and references): a copy with other tags can start from them."""
    built = run.context._indexes
    return {name: built[name] for name in EDGE_INDEXES if name in built}


EXACT_BELOW = Decimal("1e25")
FULL_ABOVE = 0.5


REQUEST_KEYS = frozenset(
    t.key for t in (MONTHLY_REQUESTS, DAILY_REQUESTS, DAYS_PER_MONTH, GETS_PER_REQUEST)
)
"""The tags traffic reads for the requests a resource carries and the GETs it causes."""
PER_REQUEST_KEYS = frozenset(t.key for t in PER_REQUEST_TAGS)
"""The tags traffic passes from a caller to the inference profiles it calls, and nowhere else."""


def _traffic_change(resource: Resource, before: Resource) -> str | None:
    """How traffic derivation may read ``resource`` differently from ``before``: ``"all"`` (its
    type, references, secret paths, a tag map that is not a plain map, or a request tag
    changed: everything downstream may change), ``"per-request"`` (only tags it passes to the
    inference profiles it calls changed), or ``None`` (traffic reads nothing that changed)."""
    if (
        resource.type != before.type
        or resource.property_dependencies != before.property_dependencies
        or resource.dependencies != before.dependencies
        or resource.secret_paths != before.secret_paths
    ):
        return "all"
    changed: set[str] = set()
    for name in ("tags", "tagsAll"):
        new, old = resource.properties.get(name), before.properties.get(name)
        if new is old:
            continue
        if not isinstance(new, Mapping | None) or not isinstance(old, Mapping | None):
            return "all"
        new, old = new or {}, old or {}
        changed.update(k for k in (*new, *old) if new.get(k, _MISSING) != old.get(k, _MISSING))
    if changed & REQUEST_KEYS:
        return "all"
    return "per-request" if changed & PER_REQUEST_KEYS else None


_MISSING = object()


def _same_figures(
    now: Mapping[str, DerivedValue] | None, before: Mapping[str, DerivedValue] | None
) -> bool:
    """Whether a pricer reads the same figures from ``now`` as from ``before``: the same keys,
    values, secrecy and readability. Only the details (where a figure came from, which name the
    resources it flowed through and their types) may differ: they go into the assumptions and
    findings a reader records, never into a charge."""
    if now is before:
        return True
    if not now or not before:
        return not now and not before
    if now.keys() != before.keys():
        return False
    for key, value in now.items():
        old = before[key]
        if (
            value.value != old.value
            or type(value.value) is not type(old.value)
            or value.secret != old.secret
            or value.unreadable != old.unreadable
        ):
            return False
    return True


def _changed_entries(now: Sequence[Charge], before: Sequence[Charge]) -> set[str]:
    """The price entries whose charges differ between a resource's billed charges ``now`` and
    ``before`` (each entry's in order; a quantity counts as changed when its digits do, even
    with the same value). An entry none of whose charges changed bills as it did."""
    if len(now) == len(before) and all(map(_same_charge, now, before)):
        return set()
    ids_now, ids_before = _by_entry(now), _by_entry(before)
    return {
        p
        for p in (*ids_now, *ids_before)
        if len(a := ids_now.get(p, [])) != len(b := ids_before.get(p, []))
        or not all(map(_same_charge, a, b))
    }


def _references(resource: Resource) -> list[str]:
    """The URNs ``resource`` references by property dependency (what traffic edges follow)."""
    return [u for urns in resource.property_dependencies.values() for u in urns]


def _by_entry(charges: Sequence[Charge]) -> dict[str, list[Charge]]:
    """Price id → its charges among ``charges``, in order."""
    grouped: dict[str, list[Charge]] = defaultdict(list)
    for charge in charges:
        grouped[charge.price_id].append(charge)
    return grouped


def _same_charge(a: Charge, b: Charge) -> bool:
    return a == b and a.quantity.as_tuple() == b.quantity.as_tuple()


class Repricer:
    """Totals of changed copies of the stack ``run`` estimated, at its prices and options."""

    def __init__(
        self,
        run: PipelineRun,
        prices: PriceBook,
        options: EstimateOptions,
        *,
        full_above: float = FULL_ABOVE,
        unpriced: UnpricedResults | None = None,
        incoming: Mapping[str, list[Edge]] | None = None,
    ) -> None:
        self.run, self.prices, self.options = run, prices, options
        self.full_above = full_above
        """A change reaching more than this share of the priced resources is estimated in
        full (as fast, then, and simpler); the total is the same either way."""
        self._given_incoming = incoming
        """The stack's :func:`~costline.usage.traffic.incoming_edges`, when the caller has them
        (worked out on first use otherwise)."""
        self.unpriced = unpriced
        """The stack's results for the resources no pricer prices, which a copy estimated in
        full takes as they are where it holds the same objects (with the stack's collected
        tags)."""

    def _too_many(self, count: int) -> bool:
        return count > self.full_above * len(self.run.drafts)

    def total(self, resources: Iterable[Resource]) -> Decimal:
        """The total monthly cost of ``resources`` (a changed copy of the stack): exactly
        ``estimate(resources, prices, options).total_monthly_usd``."""
        changed = tuple(resources)
        with gc_paused():  # as estimate() does: it allocates much and frees nothing
            total = self._fast_total(changed)
        if total is None:  # the total of a full estimate, without its per-resource results
            return estimate_totals(
                changed,
                self.prices,
                self.options,
                tags=self.run.tags.copy(),
                unpriced=self.unpriced,
            ).total_monthly_usd
        return total

    # --- what the stack's run gives, indexed once -------------------------------------------
    @cached_property
    def _base_by_urn(self) -> dict[str, Resource]:
        return {r.urn: r for r in self.run.stack}

    @cached_property
    def _unique(self) -> bool:
        return len(self._base_by_urn) == len(self.run.stack)

    @cached_property
    def _position(self) -> dict[str, int]:
        return {r.urn: i for i, r in enumerate(self.run.stack)}

    @cached_property
    def _incoming(self) -> Mapping[str, list[Edge]]:
        given = self._given_incoming
        return given if given is not None else dict(incoming_edges(self.run.stack))

    @cached_property
    def _outgoing(self) -> dict[str, list[str]]:
        """Source URN → the targets of its edges (a set's worth: only reachability is asked)."""
        outgoing: dict[str, list[str]] = defaultdict(list)
        for edges in self._incoming.values():
            for edge in edges:
                outgoing[edge.source].append(edge.target)
        return dict(outgoing)

    @cached_property
    def _referrers(self) -> dict[str, list[str]]:
        """URN → the URNs of the resources that play a part in traffic (:data:`TRAFFIC_ROLES`)
        and reference it by a property dependency, in stack order."""
        found: dict[str, list[str]] = defaultdict(list)
        for r in self.run.stack:
            if r.type in TRAFFIC_ROLES:
                for u in _references(r):
                    found[u].append(r.urn)
        return found

    @cached_property
    def _billed(self) -> dict[str, list[Charge]]:
        """URN → the charges its draft billed (after one count per group, with a price entry)."""
        entries = self.prices.entries
        return {
            d.resource.urn: [c for c in d.charges if c.price_id in entries] for d in self.run.drafts
        }

    @cached_property
    def _billing_urns(self) -> dict[str, set[str]]:
        """Price id → the URNs with a billed charge for it."""
        found: dict[str, set[str]] = defaultdict(set)
        for urn, charges in self._billed.items():
            for charge in charges:
                found[charge.price_id].add(urn)
        return found

    @cached_property
    def _entry_sums(self) -> dict[str, Decimal]:
        """Price id → the sum of its line items in the stack's estimate."""
        sums: dict[str, Decimal] = {}
        with money_context():
            for draft in self.run.drafts:
                for item in draft.line_items:
                    sums[item.price_id] = sums.get(item.price_id, ZERO) + item.monthly_usd
        return sums

    @cached_property
    def _group_members(self) -> dict[str, list[str]]:
        """Usage group → the URNs whose pricer gave a charge in it."""
        members: dict[str, list[str]] = defaultdict(list)
        for urn, charges in self.run.pre_group.items():
            for group in dict.fromkeys(c.group for c in charges if c.group):
                members[group].append(urn)
        return members

    @cached_property
    def _exact(self) -> bool:
        return all(
            s.is_finite() and abs(s) < EXACT_BELOW for s in self._entry_sums.values()
        ) and all(
            c.quantity.is_finite() for charges in self.run.pre_group.values() for c in charges
        )

    # --- the copy -----------------------------------------------------------------------------
    def _aligned(self, stack: tuple[Resource, ...]) -> list[Resource] | None:
        """The resources of ``stack`` that are not the stack's own objects, when each stands
        where the stack's resource of its URN stands (nothing added, dropped or moved); else
        ``None``."""
        base = self.run.stack
        if len(stack) != len(base):
            return None
        changed = []
        for r, b in zip(stack, base, strict=True):
            if r is not b:
                if r.urn != b.urn:
                    return None
                changed.append(r)
        return changed

    def _fast_total(self, stack: tuple[Resource, ...]) -> Decimal | None:
        run = self.run
        if run.traffic_failed or not self._unique or not self._exact:
            return None
        base = self._base_by_urn
        aligned = self._aligned(stack)
        if aligned is not None:  # the usual copy: some resources replaced where they stand
            changed, removed = aligned, []
            by_urn: dict[str, Resource] = dict(base)
            by_urn.update((r.urn, r) for r in changed)
        else:
            by_urn = {r.urn: r for r in stack}
            if len(by_urn) != len(stack):
                return None
            changed = [r for r in stack if base.get(r.urn) is not r]
            removed = [r for urn, r in base.items() if urn not in by_urn]
        if not changed and not removed:
            return self._sum(self._entry_sums, {})
        if self._too_many(len(changed) + len(removed)):
            return None
        if aligned is None:
            position = self._position
            kept = [position[r.urn] for r in stack if r.urn in position]
            if any(a > b for a, b in pairwise(kept)):
                return None  # the stack's resources in another order: not what this mirrors
        tags = run.tags.copy()  # the copy's resources are collected in a cache of its own
        before = [base[r.urn] for r in changed if r.urn in base]
        touched = [*changed, *before, *removed]
        touched_types = {r.type for r in touched}

        # traffic edges: the stack's, but for the targets a change of shape may reach
        reshaped: list[tuple[Resource | None, Resource | None]] = [
            (base.get(r.urn), r)
            for r in changed
            if r.urn not in base
            or r.type != (b := base[r.urn]).type
            or r.property_dependencies != b.property_dependencies
        ]
        reshaped += [(r, None) for r in removed]
        incoming = self._incoming
        rewired: set[str] = set()
        callers_changed: set[str] = set()
        base_indexes = run.context._indexes
        indexes = edge_indexes(run)
        if any(TRAFFIC_ROLES.get(r.type) for pair in reshaped for r in pair if r is not None):
            incoming, rewired, callers = self._rewired(stack, by_urn, reshaped)
            if PROFILE_CALLERS in indexes:
                before_callers = indexes[PROFILE_CALLERS]
                callers_changed = {u for u, now in callers.items() if now != (u in before_callers)}
                if callers_changed:
                    indexes[PROFILE_CALLERS] = (before_callers - callers_changed) | frozenset(
                        u for u in callers_changed if callers[u]
                    )

        # traffic: the figures downstream of a change to what traffic reads (tags, types,
        # references)
        seeds, per_request = set(), set()
        for r in changed:
            change = "all" if r.urn not in base else _traffic_change(r, base[r.urn])
            if change == "all":
                seeds.add(r.urn)
            elif change == "per-request":
                per_request.add(r.urn)
        for r in touched:
            if r.type == REST_STAGE_TYPE:
                seeds.update(r.property_dependencies.get("restApi", ()))
        seeds |= rewired
        downstream, pending = set(seeds), list(seeds)
        outgoing = self._outgoing
        while pending:
            for target in outgoing.get(pending.pop(), ()):
                if target not in downstream:
                    downstream.add(target)
                    pending.append(target)
        downstream.update(
            t
            for u in per_request
            for t in outgoing.get(u, ())
            if (callee := by_urn.get(t)) is not None and callee.type == PROFILE_TYPE
        )
        targets = [u for u in incoming if u in downstream and u in by_urn]  # the stack's order
        derived = derive_usage(stack, tags, incoming=incoming, targets=targets) if targets else {}
        reprice = {r.urn for r in changed} | callers_changed
        base_derived = run.derived
        reprice.update(
            u
            for u in downstream
            if u in by_urn and not _same_figures(derived.get(u), base_derived.get(u))
        )

        # pricers that look at other resources; the stack's indexes their inputs leave alone
        priced_types: set[str] = set()
        for seen, prices_types, index in LOOKUPS:
            if touched_types & seen:
                priced_types |= prices_types
            elif index is not None and index in base_indexes:
                indexes[index] = base_indexes[index]
        s3 = any(t.startswith(S3_PREFIX) for t in touched_types)
        if priced_types or s3:
            reprice.update(
                r.urn
                for r in stack
                if r.type in priced_types or (s3 and r.type.startswith(S3_PREFIX))
            )
        if self._too_many(len(reprice)):
            return None
        context = PricingContext(prices=self.prices, stack=stack, _indexes=indexes)

        drafts = []
        for r in stack:
            if r.urn in reprice:
                urn = r.urn
                outcome = _price_resource(
                    r,
                    context,
                    self.options,
                    derived.get(urn) if urn in downstream else run.derived.get(urn),
                    tags,
                    records=False,  # only the total is asked for
                )
                if type(outcome) is _Draft:
                    drafts.append(outcome)

        # usage counted once: every member of a group a re-priced resource is or was in
        gone = reprice | {r.urn for r in removed}
        groups = {c.group for d in drafts for c in d.charges if c.group}
        groups.update(c.group for u in gone for c in run.pre_group.get(u, ()) if c.group)
        members: dict[str, _Draft] = {}
        pending_groups = list(groups)
        while pending_groups:
            for urn in self._group_members.get(pending_groups.pop(), ()):
                if urn in gone or urn in members:
                    continue
                draft = _Draft(base[urn], [])
                draft.charges = list(run.pre_group[urn])
                members[urn] = draft
                for charge in draft.charges:
                    if charge.group and charge.group not in groups:
                        groups.add(charge.group)
                        pending_groups.append(charge.group)
        _keep_one_per_group([*drafts, *members.values()])

        # billing: every entry a re-billed resource's charges changed for, with its free tiers
        entries = self.prices.entries
        billed_now = {
            d.resource.urn: [c for c in d.charges if c.price_id in entries]
            for d in (*drafts, *members.values())
        }
        rebilled = gone | set(members)
        billed = self._billed
        price_ids: set[str] = set()  # the entries whose charges changed
        for urn, charges_now in billed_now.items():
            price_ids |= _changed_entries(charges_now, billed.get(urn, ()))
        price_ids.update(
            c.price_id for u in rebilled if u not in billed_now for c in billed.get(u, ())
        )
        tiers = applicable_free_tiers(self.prices, free_tier=self.options.free_tier)
        grown = True
        while grown:
            grown = False
            for tier in tiers:
                if price_ids.intersection(tier.applies_to) and not price_ids.issuperset(
                    tier.applies_to
                ):
                    price_ids.update(tier.applies_to)
                    grown = True
        sources: dict[str, Sequence[Charge]] = {
            u: self._billed[u]
            for p in price_ids
            for u in self._billing_urns.get(p, ())
            if u not in rebilled
        }
        sources.update(billed_now)
        charges = [c for u in sorted(sources) for c in sources[u] if c.price_id in price_ids]
        line_items = bill_in_order(charges, self.prices, free_tier=self.options.free_tier)
        new_sums: dict[str, Decimal] = {}
        with money_context():
            for item in line_items:
                new_sums[item.price_id] = new_sums.get(item.price_id, ZERO) + item.monthly_usd
        if not all(s.is_finite() and abs(s) < EXACT_BELOW for s in new_sums.values()):
            return None
        return self._sum(
            {p: s for p, s in self._entry_sums.items() if p not in price_ids}, new_sums
        )

    def _rewired(
        self,
        stack: tuple[Resource, ...],
        by_urn: Mapping[str, Resource],
        reshaped: list[tuple[Resource | None, Resource | None]],
    ) -> tuple[Mapping[str, list[Edge]], set[str], dict[str, bool]]:
        """The copy's traffic edges when ``reshaped`` (the stack's and the copy's version of each
        resource whose type or references changed, or that was added or dropped) may change them:
        the copy's :func:`~costline.usage.traffic.incoming_edges`, the URNs whose incoming edges
        differ from the stack's, and, for each Lambda that may have started or stopped calling an
        inference profile, whether it calls one in the copy.

        Edges go from an API to a Lambda and from a Lambda to a profile or bucket; which exist
        depends only on the resources that play a part in traffic and their references. So the
        edges that can change are those into the *reached* targets: the reshaped Lambdas and
        Lambda targets themselves, and whatever a reshaped resource's edges pointed to in the
        stack or may point to in the copy. Each reached target's edges are worked out again by
        :func:`~costline.usage.traffic.traffic_edges` over the few resources that can make one
        into it (its referrers, the APIs they name, the Lambdas sharing a role with a role
        policy that names it), in the copy's order, which is the order a full pass lists them in;
        every other target keeps the stack's edges."""
        base_referrers = self._referrers
        outgoing = self._outgoing
        role_of = TRAFFIC_ROLES.get
        new_referrers: dict[str, list[str]] = defaultdict(list)
        for _, r in reshaped:
            if r is not None and r.type in TRAFFIC_ROLES:
                for u in _references(r):
                    new_referrers[u].append(r.urn)

        def referrers(urn: str) -> list[Resource]:
            """The copy's resources that play a part in traffic and reference ``urn``."""
            found = []
            for u in dict.fromkeys((*base_referrers.get(urn, ()), *new_referrers.get(urn, ()))):
                r = by_urn.get(u)
                if r is not None and r.type in TRAFFIC_ROLES and urn in _references(r):
                    found.append(r)
            return found

        reached: set[str] = set()
        for before, now in reshaped:
            if before is not None and role_of(before.type) is not None:
                reached.add(before.urn)  # the edges into it, and out of it in the stack
                reached.update(outgoing.get(before.urn, ()))
                reached.update(_references(before))
            if now is None or (role := role_of(now.type)) is None:
                continue
            reached.add(now.urn)
            reached.update(_references(now))
            if role == "lambda":  # what its role's policies name
                for policy in (
                    p
                    for r in now.property_dependencies.get("role", ())
                    for p in referrers(r)
                    if role_of(p.type) == "role policy"
                ):
                    reached.update(policy.property_dependencies.get("policy", ()))
            elif role == "api":  # the Lambdas its integrations and permissions name
                for r in referrers(now.urn):
                    if role_of(r.type) in ("integration", "permission"):
                        reached.update(_references(r))

        cast: dict[str, Resource] = {}  # what can make an edge into a reached target
        for urn in reached:
            target = by_urn.get(urn)
            role = role_of(target.type) if target is not None else None
            if target is None or role not in ("lambda", "lambda target"):
                continue
            cast[urn] = target
            for r in referrers(urn):
                kind = role_of(r.type)
                if role == "lambda" and kind in ("integration", "permission"):
                    cast[r.urn] = r
                    for u in _references(r):
                        if (api := by_urn.get(u)) is not None and role_of(api.type) == "api":
                            cast[u] = api
                elif role == "lambda target" and kind in ("lambda", "role policy"):
                    cast[r.urn] = r
                    if kind == "role policy":
                        for role_urn in r.property_dependencies.get("role", ()):
                            for fn in referrers(role_urn):
                                if role_of(fn.type) == "lambda":
                                    cast[fn.urn] = fn
        position = self._position
        if all(u in position for u in cast):
            ordered = [cast[u] for u in sorted(cast, key=position.__getitem__)]
        else:  # an added resource: the copy's order
            ordered = [r for r in stack if r.urn in cast]
        new_incoming: dict[str, list[Edge]] = defaultdict(list)
        for edge in traffic_edges(ordered):
            if edge.target in reached:
                new_incoming[edge.target].append(edge)

        base_incoming = self._incoming
        rewired = {u for u in reached if new_incoming.get(u, []) != base_incoming.get(u, [])}
        incoming: Mapping[str, list[Edge]] = base_incoming
        if rewired:
            incoming = dict(base_incoming)
            for urn in rewired:
                if new_incoming.get(urn):
                    incoming[urn] = new_incoming[urn]
                else:
                    incoming.pop(urn, None)
        # the Lambdas with an edge into a reached target (whose edges or type may have changed),
        # before or after: whether they call an inference profile in the copy (their other
        # edges are the stack's, into targets of the same type)
        new_outgoing: dict[str, list[str]] = defaultdict(list)
        for edges in new_incoming.values():
            for edge in edges:
                new_outgoing[edge.source].append(edge.target)
        sources = {e.source for u in reached for e in base_incoming.get(u, ())} | set(new_outgoing)
        callers = {}
        for source in sources:
            if by_urn.get(source) is None:
                continue
            called = [t for t in outgoing.get(source, ()) if t not in reached]
            called += new_outgoing.get(source, ())
            callers[source] = any(
                (t := by_urn.get(u)) is not None and t.type == PROFILE_TYPE for u in called
            )
        return incoming, rewired, callers

    @staticmethod
    def _sum(*parts: Mapping[str, Decimal]) -> Decimal:
        with money_context():
            return sum((s for part in parts for s in part.values()), ZERO)
