"""The estimator's data model: resources in, an estimate out.

Everything here is plain, immutable data. Money is ``Decimal`` in US dollars and is never
rounded here; :mod:`costline.core.money` rounds for display only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar

from costline.core.values import decode

if TYPE_CHECKING:
    from costline.core.completeness import Completeness

_T = TypeVar("_T")


def slot_init(cls: type[_T]) -> type[_T]:
    """Give a frozen, slotted dataclass an ``__init__`` that stores each field through its slot
    descriptor directly. The generated one calls ``object.__setattr__`` per field (to get past
    ``frozen``), which looks the descriptor up every time; these records are built by the
    thousand per estimate. Same signature and defaults, same instances: still frozen, compared,
    hashed and printed by value."""
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    defaults = {f.name: f.default for f in fields(cls) if f.default is not MISSING}  # type: ignore[arg-type]
    namespace: dict[str, Any] = {f"_set_{name}": getattr(cls, name).__set__ for name in names}
    namespace.update({f"_default_{name}": value for name, value in defaults.items()})
    params = ", ".join(f"{name}=_default_{name}" if name in defaults else name for name in names)
    body = "".join(f"    _set_{name}(self, {name})\n" for name in names)
    exec(f"def __init__(self, {params}):\n{body}", namespace)
    init = namespace["__init__"]
    init.__qualname__, init.__module__ = f"{cls.__qualname__}.__init__", cls.__module__
    init.__doc__ = cls.__init__.__doc__
    cls.__init__ = init  # type: ignore[method-assign]  # the point: a generated __init__
    return cls


@dataclass(frozen=True)
class Resource:
    """One resource as Pulumi passes it.

    ``type`` is the Pulumi type token (``aws:lambda/function:Function``); ``properties`` are
    camelCase wire names, already decoded by :func:`costline.core.values.decode` (unknowns
    are :data:`~costline.core.values.UNKNOWN`, secrets are plain values whose dotted paths
    are listed in ``secret_paths``). AWS defaults are *absent*: pricers apply them.
    ``dependencies`` and ``property_dependencies`` hold URNs, as the engine sends them.
    """

    urn: str
    type: str
    name: str
    properties: Mapping[str, Any] = field(default_factory=dict)
    secret_paths: frozenset[str] = frozenset()
    dependencies: tuple[str, ...] = ()
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    parent: str | None = None
    custom: bool = True
    """False for component resources: they group others and are never billed themselves."""
    usage_origins: Mapping[str, UsageOrigin] = field(default_factory=dict)
    """``cost:*`` keys in ``tags`` that the resource does not declare itself but that came from
    stack config or a usage file (tag key → where), so every figure can say where it came from."""

    @classmethod
    def from_engine(
        cls,
        *,
        urn: str,
        type: str,
        name: str,
        properties: Mapping[str, Any] | None,
        dependencies: tuple[str, ...] | list[str] = (),
        property_dependencies: Mapping[str, Any] | None = None,
        parent: str | None = None,
        custom: bool = True,
    ) -> Resource:
        """Build a resource from engine-encoded properties (unknown sentinels, secret envelopes)."""
        secret_paths: set[str] = set()
        decoded = decode(properties or {}, "", secret_paths)
        if not isinstance(decoded, dict):
            decoded = {}
        return cls(
            urn=urn,
            type=type,
            name=name,
            properties=decoded,
            secret_paths=frozenset(secret_paths),
            dependencies=tuple(dependencies),
            property_dependencies={
                str(k): tuple(v) for k, v in (property_dependencies or {}).items()
            },
            parent=parent,
            custom=custom,
        )


class Severity(str, Enum):
    """How much a finding matters to the number it is attached to."""

    INFO = "info"  # an assumption worth reading, the estimate stands
    WARNING = "warning"  # part of the estimate is assumed, missing or not priced
    ERROR = "error"  # input was rejected; the affected cost is not in the total


@slot_init
@dataclass(frozen=True, slots=True)
class Finding:
    """Something a user should know about an estimate, as data.

    ``code`` is stable (e.g. ``usage-tag-malformed``); ``field`` names the tag or property
    (``tags.cost:daily-requests``); ``suggestion`` says what to change, with an example value
    where one helps. Messages never contain secret values: whoever builds one shows a value that
    came from a secret as ``[secret]`` (see :func:`costline.core.values.touches_secret`).
    """

    code: str
    severity: Severity
    message: str
    resource_urn: str | None = None
    resource_name: str | None = None
    field: str | None = None
    suggestion: str | None = None
    gap: str | None = None
    """For a finding that leaves cost out of the total: what could not be determined, in a few
    words (``no price for anthropic.claude-3-5-sonnet in eu-west-1``); see
    :mod:`costline.core.completeness` (which words it falls back to from the code and field)."""


class UsageSource(str, Enum):
    """Where a usage figure or setting came from."""

    TAG = "tag"  # a cost:* tag on the resource (its tags or the provider's default tags)
    STACK_CONFIG = "stack-config"  # costline:usage in the stack's config, by resource name
    USAGE_FILE = "usage-file"  # an Infracost usage file (--usage-file)
    PROPERTY = "property"  # a declared resource property (memorySize, ...)
    DEFAULT = "default"  # a default applied because the property or figure was absent
    DERIVED = "derived"  # computed from other figures or flowed in from another resource
    BOUND = "bound"  # a fail-closed worst-case bound for a figure that could not be read
    ASSUMED = "assumed"  # a stand-in costline chose (a value unknown or invalid, not declared)


@slot_init
@dataclass(frozen=True, slots=True)
class UsageOrigin:
    """Where a ``cost:*`` figure a resource does not declare itself came from: ``source`` is
    :attr:`UsageSource.STACK_CONFIG` or :attr:`UsageSource.USAGE_FILE`, ``where`` names the file
    or config and the entry (``Pulumi.dev.yaml: costline:usage.api-handler``,
    ``usage.yml: resource_usage.aws_lambda_function.api_handler``)."""

    source: UsageSource
    where: str


@slot_init
@dataclass(frozen=True, slots=True)
class Assumption:
    """One input to a resource's price: its key, value and where it came from.

    ``value`` is display text; it is ``"[secret]"`` when the input was a secret. ``origin``
    names the file or config entry a figure from stack config or a usage file came from
    (:attr:`UsageOrigin.where`); where it came from is never secret, what it is may be.
    """

    key: str
    value: str
    source: UsageSource
    detail: str | None = None
    origin: str | None = None


@slot_init
@dataclass(frozen=True, slots=True)
class LineItem:
    """One cost component of one resource for one month.

    ``quantity`` is the month's usage in ``unit`` (e.g. 15000 ``GB-second``);
    ``free_quantity`` is the part covered by a free tier; ``monthly_usd`` the dollars after
    tiers and free tier. ``unit_price_usd`` is the table price per ``price_per`` units of the
    first tier the usage reaches; ``price_id`` names the pricing table entry it came from.
    """

    service: str
    description: str
    quantity: Decimal
    unit: str
    unit_price_usd: Decimal
    price_per: Decimal
    monthly_usd: Decimal
    price_id: str
    free_quantity: Decimal = Decimal(0)
    note: str | None = None
    secret: bool = False
    """The quantity derived from a secret input: reports show ``[secret]`` instead of figures."""
    secret_text: bool = False
    """A secret text (a model id, an architecture) chose the price entry: reports show
    ``[secret]`` instead of the description and the price id as well."""
    free_secret: bool = False
    """The free units were split with a secret usage (they would tell its size): reports show
    ``[secret]`` instead of ``free_quantity``."""


class ResourceStatus(str, Enum):
    """The four outcomes per resource, plus free."""

    PRICED = "priced"  # every cost component has a number
    PARTIAL = "partial"  # priced, but some usage is missing, unknown or invalid (see findings)
    USAGE_MISSING = (
        "usage_missing"  # cost depends on usage that was not declared: $0 shown is not a price
    )
    FREE = "free"  # costline knows this type costs nothing by itself (IAM role, deployment...)
    NOT_PRICED = "not_priced"  # costline has no pricer for this type


@slot_init
@dataclass(frozen=True, slots=True)
class ResourceEstimate:
    urn: str
    type: str
    name: str
    status: ResourceStatus
    monthly_usd: Decimal
    line_items: tuple[LineItem, ...] = ()
    findings: tuple[Finding, ...] = ()
    assumptions: tuple[Assumption, ...] = ()

    @property
    def service(self) -> str:
        return self.line_items[0].service if self.line_items else ""


@dataclass(frozen=True)
class PricingInfo:
    """Which price tables produced an estimate."""

    version: str
    region: str
    currency: str
    as_of: str
    overrides: tuple[str, ...] = ()


@dataclass(frozen=True)
class Estimate:
    """A stack's monthly cost: per-resource estimates, stack findings, and the total."""

    resources: tuple[ResourceEstimate, ...]
    findings: tuple[Finding, ...]
    total_monthly_usd: Decimal
    pricing: PricingInfo
    free_tier_applied: bool

    @property
    def all_findings(self) -> tuple[Finding, ...]:
        per_resource = tuple(f for r in self.resources for f in r.findings)
        return per_resource + self.findings

    @property
    def completeness(self) -> Completeness:
        """Which dollars are known, bounded or missing (:mod:`costline.core.completeness`)."""
        from costline.core.completeness import completeness

        return completeness(self)

    def by_service(self) -> dict[str, Decimal]:
        totals: dict[str, Decimal] = {}
        for resource in self.resources:
            for item in resource.line_items:
                totals[item.service] = totals.get(item.service, Decimal(0)) + item.monthly_usd
        return totals
