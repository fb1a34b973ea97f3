"""Which of an estimate's dollars are known, which are a worst-case bound, and what is missing.

A resource whose cost depends on something costline could not determine — an unknown value, a
missing price for its model, region or type, missing or unreadable usage, ``cost:*`` tags on a
type costline does not price — is *incomplete*: the total leaves part of its cost out (or prices
it at a stand-in lower than it could be). The estimator says so with findings; this module reads
them (by code, in one place: :data:`GAP_CODES`) into a :class:`Completeness`:

* ``missing``: what could not be determined and has no bound in the estimate;
* ``bounded``: what was priced at a fail-closed worst-case bound instead (a finding with a code in
  :data:`BOUND_CODES`, on the same resource and field as the gap it closes).

An estimate is *complete* when nothing is missing. Under fail-closed, gates use the bounds and
fail on whatever is still missing (see ``costline check --fail-closed`` and the pack's
``failClosed``). Pure data; no pricing here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from costline.core.money import ZERO, money_context

if TYPE_CHECKING:
    from costline.core.model import Estimate, Finding

GAP_CODES: Mapping[str, str] = {
    "usage-tag-missing": "missing",
    "usage-tag-unknown": "unknown",
    "usage-tag-malformed": "invalid",
    "usage-tag-out-of-range": "out of range",
    "property-unknown": "unknown",
    "property-invalid": "invalid",
    "price-missing": "no price",
    "bedrock-model-unknown": "no price",
    "not-priced": "not priced",
    "internal-error": "not priced (internal error)",
    "prices-unavailable": "no price tables",
    "model-unresolved": "model unknown",
    "unknown-at-preview": "not known until the update",
    "stack-usage-encrypted": "encrypted",
}
"""Finding codes that mean part of a resource's cost is not in the total, and what to call it."""

BOUND_CODES = frozenset({"usage-priced-worst-case", "priced-at-bound"})
"""Finding codes that mean a gap was priced at its fail-closed worst-case bound."""

_SAME_USAGE = {"tags.cost:daily-requests": "tags.cost:monthly-requests"}
"""Fields one bound covers together (a monthly-requests bound stands for a bad daily figure)."""


@dataclass(frozen=True)
class Gap:
    """One thing costline could not determine about one resource (``resource_urn`` is ``None``
    for a stack-wide gap); ``what`` is short display text (``memorySize unknown``)."""

    resource_urn: str | None
    resource_name: str | None
    field: str | None
    what: str
    code: str


@dataclass(frozen=True)
class Completeness:
    missing: tuple[Gap, ...]
    bounded: tuple[Gap, ...]
    known_usd: Decimal
    """The total less the cost of resources priced (partly) at a bound."""
    bounded_usd: Decimal
    """The cost of resources priced (partly) at a fail-closed bound."""

    @property
    def complete(self) -> bool:
        return not self.missing

    def missing_by_resource(self) -> dict[str, list[str]]:
        """Resource name (``the stack`` for stack-wide gaps) → what is missing, in order."""
        return _by_resource(self.missing)

    def bounded_by_resource(self) -> dict[str, list[str]]:
        """Resource name → what was priced at a fail-closed bound, in order."""
        return _by_resource(self.bounded)

    def summary(self, shown: int = 3) -> str:
        """``1 resource not fully priced: model (no price for X in eu-west-1)``; empty when
        complete. At most ``shown`` resources are named, then ``and N more``."""
        return _listed(self.missing_by_resource(), "not fully priced", shown)

    def bounded_summary(self, shown: int = 3) -> str:
        """``1 resource priced at worst-case bounds: fn (memorySize at its bound 10240 MB)``:
        the part of the total that is a fail-closed worst case, not a known cost; empty when
        nothing is. At most ``shown`` resources are named, then ``and N more``."""
        return _listed(self.bounded_by_resource(), "priced at worst-case bounds", shown)


def _by_resource(gaps: tuple[Gap, ...]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for gap in gaps:
        whats = grouped.setdefault(gap.resource_name or "the stack", [])
        if gap.what not in whats:
            whats.append(gap.what)
    return grouped


def _listed(grouped: Mapping[str, list[str]], state: str, shown: int) -> str:
    """``2 resources <state>: a (x, y); b (z)``, at most ``shown`` named; empty for none."""
    if not grouped:
        return ""
    count = len(grouped)
    named = [f"{name} ({', '.join(whats)})" for name, whats in list(grouped.items())[:shown]]
    more = f" and {count - shown} more" if count > shown else ""
    noun = "resource" if count == 1 else "resources"
    return f"{count} {noun} {state}: {'; '.join(named)}{more}"


def gap_text(finding: Finding) -> str:
    """What a gap finding says could not be determined, in a few words."""
    if finding.gap:
        return finding.gap
    state = GAP_CODES.get(finding.code, "unknown")
    field = finding.field or ""
    if field.startswith("tags."):
        field = field[len("tags.") :]
    return f"{field} {state}" if field else state


def completeness(estimate: Estimate) -> Completeness:
    """Sort the estimate's gap findings into missing and bounded (see the module doc)."""
    missing: list[Gap] = []
    bounded: list[Gap] = []
    bounded_usd = ZERO
    for r in estimate.resources:
        if not r.findings:
            continue
        bounds = {
            _SAME_USAGE.get(f.field or "", f.field) for f in r.findings if f.code in BOUND_CODES
        }
        resource_bounded = False
        for f in r.findings:
            if f.code in BOUND_CODES:
                bounded.append(Gap(r.urn, r.name, f.field, gap_text(f), f.code))
                resource_bounded = True
            elif f.code in GAP_CODES and _SAME_USAGE.get(f.field or "", f.field) not in bounds:
                missing.append(Gap(r.urn, r.name, f.field, gap_text(f), f.code))
        if resource_bounded:
            with money_context():
                bounded_usd += r.monthly_usd
    for f in estimate.findings:
        if f.code in GAP_CODES:
            missing.append(Gap(f.resource_urn, f.resource_name, f.field, gap_text(f), f.code))
    with money_context():
        known = estimate.total_monthly_usd - bounded_usd
    return Completeness(tuple(missing), tuple(bounded), known, bounded_usd)
