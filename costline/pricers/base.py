"""What every pricer shares: the charge record, the context it prices in, property access.

A pricer is a pure function ``(resource, usage, context) -> list[Charge]``. It reads declared
properties (applying AWS defaults when absent) and usage tags, and returns the month's usage of
each priced dimension. It never computes dollars: the estimator applies free tiers and tiers
across the whole account (see :mod:`costline.estimator.billing`) and splits the cost back per
resource.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any, TypeVar, cast

from costline.core.model import Resource, Severity, UsageSource, slot_init
from costline.core.money import plain_number as _plain
from costline.core.values import SECRET_DISPLAY, is_unknown, touches_secret
from costline.pricing.model import PriceBook
from costline.usage.s3_lifecycle import Lifecycle, lifecycles_by_bucket
from costline.usage.tags import UsageReader

T = TypeVar("T")

HOURS_PER_MONTH = Decimal(730)
"""Hours in a billing month, as AWS's pricing pages use (8,760 / 12)."""

MB_PER_GB = Decimal(1024)

TRAFFIC = "traffic"
"""Usage dimension: the stack's traffic figures, the ones a what-if row scales (requests,
messages, connection minutes, S3 requests, transfer out and retrieval; see
:mod:`costline.scenarios.whatif`), and every figure that flows from them."""
INPUT_TOKENS_PER_REQUEST = "input-tokens"
"""Usage dimension: ``cost:input-tokens`` (per request), wherever it is declared or flows."""
OUTPUT_TOKENS_PER_REQUEST = "output-tokens"
"""Usage dimension: ``cost:output-tokens`` (per request), wherever it is declared or flows."""
MEMORY = "memory"
"""Usage dimension: a Lambda function's memory size (its duration in GB-seconds)."""
FIXED: tuple[str, ...] = ()
""":attr:`Charge.scales` of a charge no usage dimension changes."""
PER_TRAFFIC: tuple[str, ...] = (TRAFFIC,)
""":attr:`Charge.scales` of a charge proportional to traffic alone."""
MS_PER_SECOND = Decimal(1000)


@slot_init
@dataclass(frozen=True, slots=True)
class Charge:
    """One resource's monthly usage of one price-table entry (before tiers and free tiers).

    ``quantity`` is in the entry's unit (requests, GB-second, token, GB-month...).
    ``group`` names a usage that may be declared on several resources (e.g. the same Bedrock
    model's tokens on a Lambda and on its inference profile); the estimator keeps one.
    """

    service: str
    price_id: str
    quantity: Decimal
    description: str
    note: str | None = None
    group: str | None = None
    secret: bool = False
    """Derived from a secret value: quantity and note must not be shown."""
    secret_text: bool = False
    """A secret text chose the entry: description and price id must not be shown either."""
    scales: tuple[str, ...] | None = None
    """The usage dimensions (:data:`TRAFFIC`, :data:`INPUT_TOKENS_PER_REQUEST`,
    :data:`OUTPUT_TOKENS_PER_REQUEST`, :data:`MEMORY`) the quantity is proportional to, as the
    pricer worked it
    out: scaling the figures of a listed dimension by a factor scales the quantity by that
    factor, and scaling any other dimension's figures leaves the charge as it is. ``()``: a
    fixed charge (storage, hours). ``None``: the pricer does not say (a threshold, such as
    provisioned concurrency serving up to its capacity): the charge must be priced again for
    any change (see :mod:`costline.estimator.scaled`)."""


@dataclass(frozen=True)
class PricingContext:
    """What a pricer may consult besides its resource."""

    prices: PriceBook
    stack: Sequence[Resource] = ()
    _indexes: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def s3_lifecycles(self) -> Mapping[str, Lifecycle]:
        """Bucket URN → lifecycle rule, indexed once per estimate."""
        return lifecycles_by_bucket(self.stack)

    @cached_property
    def by_urn(self) -> Mapping[str, Resource]:
        """The stack's resources by URN, indexed once per estimate."""
        return {r.urn: r for r in self.stack}

    def index(self, name: str, build: Callable[[Sequence[Resource]], T]) -> T:
        """A stack-wide index a pricer needs (e.g. REST stages by API), built on first use and
        kept for the rest of the estimate: a pricer must never scan the stack per resource,
        which would make an estimate quadratic in the stack's size."""
        if name not in self._indexes:
            self._indexes[name] = build(self.stack)
        return cast(T, self._indexes[name])  # each name is built by one build function


Pricer = Callable[[Resource, UsageReader, PricingContext], list[Charge]]


class PropertyReader:
    """Reads declared properties with AWS defaults, reporting absent, unknown or invalid ones.

    Every value used is recorded as an assumption on the usage reader, with its source
    (declared property, AWS default, or an assumed stand-in for an unknown/invalid value).
    """

    __slots__ = ("resource", "usage")

    def __init__(self, resource: Resource, usage: UsageReader) -> None:
        self.resource = resource
        self.usage = usage

    def _display(self, name: str, value: Any) -> str:
        """A declared value for a message: ``[secret]`` for a secret, cut after 40 characters."""
        if self.is_secret(name):
            return SECRET_DISPLAY
        text = str(value)
        return text if len(text) <= _MAX_SHOWN_CHARS else text[:_MAX_SHOWN_CHARS] + "…"

    def is_secret(self, label: str) -> bool:
        """Whether the property at ``label`` (dotted) came from or holds a secret."""
        return bool(self.resource.secret_paths) and touches_secret(
            label, self.resource.secret_paths
        )

    def shown(self, label: str, value: Decimal | str) -> str:
        """A value read from property ``label``, for a message: ``[secret]`` if it was a secret."""
        if self.is_secret(label):
            return SECRET_DISPLAY
        return _plain(value) if isinstance(value, Decimal) else value

    def number(
        self,
        name: str,
        *,
        default: Decimal,
        unit: str,
        minimum: Decimal,
        maximum: Decimal,
        path: Sequence[str] | None = None,
        bound: Decimal | None = None,
    ) -> Decimal:
        """A numeric property (``memorySize``), or ``default`` when absent, unknown or invalid.

        Under fail-closed an unknown or invalid value is priced at ``bound`` (its fail-closed
        worst case, :mod:`costline.usage.bounds`) when one is given."""
        raw = (
            _dig(self.resource.properties, path)
            if path
            else self.resource.properties.get(name, _ABSENT)
        )
        label = ".".join(path) if path else name
        if type(raw) is int and minimum <= raw <= maximum and not self.resource.secret_paths:
            # the common case: a plain whole number within limits (a bool is not `type(...) is int`)
            value = Decimal(raw)
            self.usage.assume(label, _plain(value), UsageSource.PROPERTY, unit)
            return value
        if raw is _ABSENT or raw is None:
            self.usage.assume(label, _plain(default), UsageSource.DEFAULT, f"{unit}, AWS default")
            return default
        if is_unknown(raw) and bound is not None and self.usage.fail_closed:
            self.usage.priced_at_bound(
                label,
                f"{_plain(bound)} {unit}",
                f"{label} is not known until the update runs",
                f"set {label} from plain stack config",
            )
            return bound
        if is_unknown(raw):
            self.usage.finding(
                "property-unknown",
                Severity.WARNING,
                f"{label} is not known until the update runs; assumed the AWS default "
                f"{_plain(default)} {unit}",
                label,
            )
            self.usage.assume(
                label, _plain(default), UsageSource.ASSUMED, f"{unit}, unknown during preview"
            )
            return default
        if (
            isinstance(raw, bool)
            or not isinstance(raw, (int, float))
            or raw != raw
            or raw in _INFINITIES
        ):
            if bound is not None and self.usage.fail_closed:
                self.usage.priced_at_bound(
                    label,
                    f"{_plain(bound)} {unit}",
                    f"{label} is a {type(raw).__name__}, not a number",
                    f"set {label} to a number between {_plain(minimum)} and {_plain(maximum)}",
                )
                return bound
            self.usage.finding(
                "property-invalid",
                Severity.ERROR,
                f"{label} is a {type(raw).__name__}, expected a number in {unit}; "
                f"assumed the AWS default {_plain(default)} {unit}",
                label,
                f"set {label} to a number between {_plain(minimum)} and {_plain(maximum)}",
            )
            self.usage.assume(
                label, _plain(default), UsageSource.ASSUMED, f"{unit}, declared value invalid"
            )
            return default
        value = Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw)
        if value < minimum or value > maximum:
            clamped = min(max(value, minimum), maximum)
            self.usage.finding(
                "property-out-of-range",
                Severity.ERROR,
                f"{label}={self._display(label, _plain(value))} is outside AWS's limits "
                f"{_plain(minimum)}–{_plain(maximum)} {unit}; priced at {_plain(clamped)}",
                label,
                f"set {label} between {_plain(minimum)} and {_plain(maximum)}",
            )
            value = clamped
        if self.is_secret(label):
            self.usage.mark_secret()
        self.usage.assume(label, self._display(label, _plain(value)), UsageSource.PROPERTY, unit)
        return value

    def choice(
        self,
        name: str,
        *,
        default: str,
        allowed: Sequence[str],
        path: Sequence[str] | None = None,
        first_of_list: bool = False,
        bound: str | None = None,
    ) -> str:
        """A string property from ``allowed`` (``architectures[0]``), or ``default``; under
        fail-closed an unknown value is priced at ``bound`` when one is given."""
        raw = (
            _dig(self.resource.properties, path)
            if path
            else self.resource.properties.get(name, _ABSENT)
        )
        label = ".".join(path) if path else name
        if first_of_list and isinstance(raw, list):
            raw = raw[0] if raw else _ABSENT
        if (
            type(raw) is str and raw in allowed and not self.resource.secret_paths
        ):  # the common case
            self.usage.assume(label, raw, UsageSource.PROPERTY)
            return raw
        if raw is _ABSENT or raw is None:
            self.usage.assume(label, default, UsageSource.DEFAULT, "AWS default")
            return default
        if is_unknown(raw) and bound is not None and self.usage.fail_closed:
            self.usage.priced_at_bound(
                label,
                bound,
                f"{label} is not known until the update runs",
                f"set {label} from plain stack config",
            )
            return bound
        if is_unknown(raw):
            self.usage.finding(
                "property-unknown",
                Severity.WARNING,
                f"{label} is not known until the update runs; assumed {default}",
                label,
            )
            self.usage.assume(label, default, UsageSource.ASSUMED, "unknown during preview")
            return default
        if not isinstance(raw, str) or raw not in allowed:
            shown = self._display(label, repr(raw)) if isinstance(raw, str) else type(raw).__name__
            self.usage.finding(
                "property-invalid",
                Severity.ERROR,
                f"{label}={shown!s} is not one of {', '.join(allowed)}; assumed {default}",
                label,
                f"set {label} to one of {', '.join(allowed)}",
            )
            self.usage.assume(label, default, UsageSource.ASSUMED, "declared value invalid")
            return default
        if self.is_secret(label):
            self.usage.mark_secret(text=True)  # the choice names price entries: mask them too
        self.usage.assume(label, self._display(label, raw), UsageSource.PROPERTY)
        return raw

    def flag(self, name: str, *, default: bool, bound: bool | None = None) -> bool:
        """A boolean property, or ``default`` when absent, unknown or not a boolean (each an
        assumption row saying which); under fail-closed an unknown value is priced at ``bound``
        when one is given."""
        raw = self.resource.properties.get(name, _ABSENT)
        if isinstance(raw, bool):
            if self.is_secret(name):
                self.usage.mark_secret()
            self.usage.assume(name, self._display(name, str(raw).lower()), UsageSource.PROPERTY)
            return raw
        if raw is _ABSENT or raw is None:
            self.usage.assume(name, str(default).lower(), UsageSource.DEFAULT, "AWS default")
            return default
        if is_unknown(raw) and bound is not None and self.usage.fail_closed:
            self.usage.priced_at_bound(
                name,
                str(bound).lower(),
                f"{name} is not known until the update runs",
                f"set {name} from plain stack config",
            )
            return bound
        reason = "is not known until the update runs" if is_unknown(raw) else "is not a boolean"
        self.usage.finding(
            "property-unknown" if is_unknown(raw) else "property-invalid",
            Severity.WARNING,
            f"{name} {reason}; assumed {str(default).lower()}",
            name,
        )
        self.usage.assume(
            name,
            str(default).lower(),
            UsageSource.ASSUMED,
            "unknown during preview" if is_unknown(raw) else "declared value invalid",
        )
        return default


_ABSENT = object()
_INFINITIES = (math.inf, -math.inf)
_MAX_SHOWN_CHARS = 40


def _dig(properties: Mapping[str, Any], keys: Sequence[str]) -> Any:
    """The value at ``keys``; an unknown or non-object value on the way is returned as it is
    (so ``ephemeralStorage: "big"`` reads as an invalid ``ephemeralStorage.size``)."""
    value: Any = properties
    for key in keys:
        if type(value) is not dict and not isinstance(value, Mapping):  # `type is dict` first: fast
            if value is None or value is properties:
                return _ABSENT
            return value  # an unknown, or a non-object on the way
        if key not in value:
            return _ABSENT
        value = value[key]
    return value
