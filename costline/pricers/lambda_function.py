"""AWS Lambda functions (``aws:lambda/function:Function``).

Billing (https://aws.amazon.com/lambda/pricing/): requests, plus duration in GB-seconds =
invocations × run time rounded up to the next 1 ms × memory (GB), at the architecture's
tiered price; ephemeral storage above the free 512 MB is billed per GB-second the same way.
AWS defaults when a property is absent: ``memorySize`` 128 MB, ``timeout`` 3 s,
``architectures`` ["x86_64"], ``ephemeralStorage.size`` 512 MB. The account-wide free tier is
applied by the estimator, not here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_CEILING, Decimal

from costline.core.model import Resource, Severity, UsageSource
from costline.core.money import format_quantity, plain_number
from costline.pricers.base import (
    HOURS_PER_MONTH,
    MB_PER_GB,
    MEMORY,
    MS_PER_SECOND,
    PER_TRAFFIC,
    TRAFFIC,
    Charge,
    PricingContext,
    PropertyReader,
)
from costline.pricers.bedrock_invocation import invocation_charges
from costline.usage.bounds import (
    LAMBDA_ALL_COLD_STARTS_PERCENT,
    LAMBDA_DEAREST_ARCHITECTURE,
    LAMBDA_MAX_EPHEMERAL_MB,
    LAMBDA_MAX_INIT_MS,
    LAMBDA_MAX_MEMORY_MB,
    LAMBDA_MAX_TIMEOUT_S,
)
from costline.usage.tags import (
    ACTIVE_HOURS_PER_DAY,
    AVG_DURATION_MS,
    BEDROCK_MODEL,
    COLD_START_PERCENT,
    IMPORTED_MODEL,
    INIT_DURATION_MS,
    TOKEN_TAGS,
    UsageReader,
)
from costline.usage.traffic import INCOMING_EDGES, incoming_edges
from costline.usage.traffic import PROFILE_TYPE as INFERENCE_PROFILE_TYPE

TYPE = "aws:lambda/function:Function"
SERVICE = "Lambda"

DEFAULT_MEMORY_MB = Decimal(128)
DEFAULT_TIMEOUT_S = Decimal(3)
DEFAULT_ARCHITECTURE = "x86_64"
DEFAULT_EPHEMERAL_MB = Decimal(512)
FREE_EPHEMERAL_MB = Decimal(512)
ARCHITECTURES = ("x86_64", "arm64")
PC_CONFIG_TYPE = "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig"
SECONDS_PER_HOUR = Decimal(3600)
PC_BILLING_MINUTES = Decimal(5)
"""Provisioned concurrency is billed from enabling to disabling, rounded up to 5 minutes."""
DEFAULT_COLD_START_PERCENT = Decimal(1)
"""Share of invocations that start a new execution environment (INIT) when not declared: AWS
reports INITs "typically in under 1% of invocations" (AWS Compute Blog, 2025-04)."""


def enabled_hours(usage: UsageReader) -> tuple[Decimal, str]:
    """Hours a month a provisioned-concurrency config is enabled: always on (730 h), or its
    schedule, ``cost:active-hours-per-day`` × ``cost:days-per-month`` (default 30), each day's
    period rounded up to whole 5 minutes."""
    if not usage.has(ACTIVE_HOURS_PER_DAY):
        return HOURS_PER_MONTH, "always on"
    per_day = usage.number(ACTIVE_HOURS_PER_DAY)
    if per_day is None:  # unreadable: a finding; always on is the most it can be enabled
        if usage.fail_closed:
            usage.tag_at_bound(
                ACTIVE_HOURS_PER_DAY, f"always on ({plain_number(HOURS_PER_MONTH)} h)"
            )
        return HOURS_PER_MONTH, "always on"
    days = usage.days_per_month(f"days per month for {ACTIVE_HOURS_PER_DAY.key}")
    windows = (per_day * 60 / PC_BILLING_MINUTES).to_integral_value(rounding=ROUND_CEILING)
    billed_per_day = windows * PC_BILLING_MINUTES / 60
    return billed_per_day * days, (
        f"{plain_number(billed_per_day)} h/day × {plain_number(days)} days"
    )


def pc_configs_by_function(stack: Sequence[Resource]) -> Mapping[str, list[Resource]]:
    """Function URN → the provisioned-concurrency configs naming it (``functionName``)."""
    index: dict[str, list[Resource]] = {}
    for resource in stack:
        if resource.type == PC_CONFIG_TYPE:
            for urn in resource.property_dependencies.get("functionName", ()):
                index.setdefault(urn, []).append(resource)
    return index


def _pc_capacity_seconds(configs: Sequence[Resource], context: PricingContext) -> Decimal:
    """Execution-seconds a month the function's provisioned concurrency can serve: configured
    concurrency × seconds enabled, summed over its configs (read without reporting: each
    config's own pricer reports its figures)."""
    total = Decimal(0)
    for config in configs:
        raw = config.properties.get("provisionedConcurrentExecutions")
        concurrency = (
            Decimal(raw)
            if type(raw) is int and raw > 0
            else Decimal(repr(raw))
            if type(raw) is float and raw > 0 and raw == raw and raw != float("inf")
            else Decimal(1)
        )
        hours, _ = enabled_hours(UsageReader(config, records=False))
        total += concurrency * hours * SECONDS_PER_HOUR
    return total


def function_memory_mb(props: PropertyReader) -> Decimal:
    """A function's ``memorySize``: the AWS default 128 MB when absent; unknown or invalid, a
    gap priced at the default, or fail-closed at the AWS maximum 10,240 MB. The one reading for
    the function's pricer and its provisioned-concurrency configs' (``props`` reads the function
    and records on the reader of the resource being priced)."""
    return props.number(
        "memorySize",
        default=DEFAULT_MEMORY_MB,
        unit="MB",
        minimum=Decimal(128),
        maximum=LAMBDA_MAX_MEMORY_MB,
        bound=LAMBDA_MAX_MEMORY_MB,
    )


def function_architecture(props: PropertyReader) -> str:
    """A function's ``architectures[0]``: the AWS default x86_64 when absent; unknown, a gap
    priced at the default, or fail-closed at the dearer x86_64; read as
    :func:`function_memory_mb` reads the memory, for both pricers."""
    return props.choice(
        "architectures",
        default=DEFAULT_ARCHITECTURE,
        allowed=ARCHITECTURES,
        first_of_list=True,
        bound=LAMBDA_DEAREST_ARCHITECTURE,
    )


def billed_duration_ms(avg_duration_ms: Decimal) -> Decimal:
    """Lambda bills run time rounded up to the next whole millisecond."""
    return avg_duration_ms.to_integral_value(rounding=ROUND_CEILING)


def price_lambda_function(
    resource: Resource, usage: UsageReader, context: PricingContext
) -> list[Charge]:
    props = PropertyReader(resource, usage)
    memory_mb = function_memory_mb(props)
    timeout_s = props.number(
        "timeout",
        default=DEFAULT_TIMEOUT_S,
        unit="s",
        minimum=Decimal(1),
        maximum=LAMBDA_MAX_TIMEOUT_S,
        bound=LAMBDA_MAX_TIMEOUT_S,
    )
    architecture = function_architecture(props)
    ephemeral_mb = props.number(
        "ephemeralStorage.size",
        path=["ephemeralStorage", "size"],
        default=DEFAULT_EPHEMERAL_MB,
        unit="MB",
        minimum=Decimal(512),
        maximum=LAMBDA_MAX_EPHEMERAL_MB,
        bound=LAMBDA_MAX_EPHEMERAL_MB,
    )

    requests = usage.monthly_requests()
    if requests is None:  # nothing to price, but each unreadable figure declared is a gap too
        usage.number(AVG_DURATION_MS, required=False)
        if usage.has_or_derived(INIT_DURATION_MS):
            _init_figures(usage)
        return []

    configs = context.index("lambda-pc-by-function", pc_configs_by_function).get(resource.urn, [])
    if any(config.secret_paths for config in configs):
        usage.mark_secret()  # the capacity figures come from the configs' secret values
    requests_id = "lambda.pc.requests" if configs else "lambda.requests"
    charges = [
        Charge(
            SERVICE,
            requests_id,
            requests,
            "Requests" + (" (no free tier)" if configs else ""),
            scales=PER_TRAFFIC,
        )
    ]
    timeout_ms = timeout_s * MS_PER_SECOND
    duration_ms = usage.number(AVG_DURATION_MS, worst_case=timeout_ms)
    if duration_ms is None and not configs:
        _init_figures(usage)  # not priced, but each unreadable INIT figure is a gap too
    if duration_ms is not None:
        if duration_ms > timeout_ms:
            usage.finding(
                "usage-exceeds-timeout",
                Severity.WARNING,
                f"cost:avg-duration-ms ({usage.display(AVG_DURATION_MS, duration_ms)}) is longer "
                f"than the timeout ({props.shown('timeout', timeout_s)} s); priced at the timeout, "
                "the longest a run can last",
                AVG_DURATION_MS,
                "lower cost:avg-duration-ms or raise the timeout",
            )
            duration_ms = timeout_ms
        billed_ms = billed_duration_ms(duration_ms)
        seconds = requests * billed_ms / MS_PER_SECOND
        note = (
            f"{format_quantity(requests)} req × {format_quantity(billed_ms)} ms × "
            f"{format_quantity(memory_mb)} MB"
            + (
                f" (rounded up from {usage.display(AVG_DURATION_MS, duration_ms)} ms)"
                if billed_ms != duration_ms
                else ""
            )
        )
        if configs:
            charges += _pc_duration_charges(
                seconds, memory_mb, architecture, _pc_capacity_seconds(configs, context), note
            )
        else:
            charges.append(
                _gb_seconds(
                    duration_price_id(architecture),
                    seconds,
                    memory_mb,
                    f"Duration ({architecture})",
                    note,
                    _PER_TRAFFIC_AND_MEMORY,
                )
            )
            charges += _init_charges(usage, requests, memory_mb, architecture)
        if ephemeral_mb > FREE_EPHEMERAL_MB:
            charges.append(
                _gb_seconds(
                    "lambda.ephemeral_storage",
                    seconds,
                    ephemeral_mb - FREE_EPHEMERAL_MB,
                    "Ephemeral storage above 512 MB",
                    f"{format_quantity(ephemeral_mb - FREE_EPHEMERAL_MB)} MB extra",
                    PER_TRAFFIC,
                )
            )
    if usage.has(BEDROCK_MODEL) or usage.has(IMPORTED_MODEL):
        charges.extend(invocation_charges(resource, usage, context, requests=requests))
    elif any(usage.has(tag) for tag in TOKEN_TAGS) and resource.urn not in (
        context.index(PROFILE_CALLERS, lambda _: profile_callers(context))
    ):
        # tokens declared here that flow to no inference profile: without a model they would be
        # lost, so price them here, which names the missing model (fail-closed: the dearest)
        charges.extend(invocation_charges(resource, usage, context, requests=requests))
    return charges


def duration_price_id(architecture: str) -> str:
    """The on-demand duration (and INIT) price entry of ``architecture``."""
    return f"lambda.duration.{architecture}"


_PER_TRAFFIC_AND_MEMORY = (TRAFFIC, MEMORY)
"""On-demand duration and INIT: requests × billed time × memory."""

PROFILE_CALLERS = "lambdas-calling-a-profile"
"""The pricing-context index of :func:`profile_callers` (the re-pricer patches it)."""


def profile_callers(context: PricingContext) -> frozenset[str]:
    """The Lambdas whose traffic reaches an inference profile in the stack (their per-request
    tokens flow there, see :mod:`costline.usage.traffic`), from the edges the estimate's traffic
    pass followed (built here only when it did not run)."""
    incoming = context.index(INCOMING_EDGES, incoming_edges)
    by_urn = context.by_urn
    return frozenset(
        edge.source
        for target, edges in incoming.items()
        if (profile := by_urn.get(target)) is not None and profile.type == INFERENCE_PROFILE_TYPE
        for edge in edges
    )


def _gb_seconds(
    price_id: str,
    seconds: Decimal,
    size_mb: Decimal,
    label: str,
    note: str,
    scales: tuple[str, ...] | None,
) -> Charge:
    """``seconds`` of run time with ``size_mb`` of memory (or extra ephemeral storage), billed
    per GB-second at ``price_id``: the one shape of every Lambda duration charge (on-demand,
    INIT, provisioned-concurrency served and above capacity, ephemeral storage). ``scales``:
    :attr:`~costline.pricers.base.Charge.scales`."""
    return Charge(SERVICE, price_id, seconds * size_mb / MB_PER_GB, label, note, scales=scales)


def _pc_duration_charges(
    seconds: Decimal, memory_mb: Decimal, architecture: str, capacity_s: Decimal, note: str
) -> list[Charge]:
    """Invocations served by provisioned concurrency bill at its duration rate; the part above
    its capacity (concurrency × seconds enabled) at the on-demand rate; neither has a free
    tier (AWS: "The Lambda free tier does not apply to functions that have Provisioned
    Concurrency enabled")."""
    served = min(seconds, capacity_s)
    charges = [
        _gb_seconds(
            f"lambda.provisioned_duration.{architecture}",
            served,
            memory_mb,
            f"Duration served by provisioned concurrency ({architecture})",
            note,
            None,  # up to the capacity: not proportional to traffic
        )
    ]
    if seconds > served:
        charges.append(
            _gb_seconds(
                f"lambda.pc.duration.{architecture}",
                seconds - served,
                memory_mb,
                f"Duration above provisioned concurrency ({architecture}, no free tier)",
                f"{format_quantity(seconds - served)} s beyond {format_quantity(capacity_s)} "
                "s of provisioned capacity",
                None,  # what is left above the capacity: not proportional to traffic
            )
        )
    return charges


def _init_figures(usage: UsageReader) -> tuple[Decimal, Decimal] | None:
    """The INIT duration (``cost:init-duration-ms``) and the share of invocations with an INIT
    (``cost:cold-start-percent``, default 1), or ``None`` when there is no INIT to price. An
    undeclared INIT duration is taken as 0 and said so; an unreadable one is a gap (fail-closed:
    the 10 s INIT limit), and a declared share is read all the same, so an unreadable one is a
    gap too (fail-closed: every invocation a cold start)."""
    init_ms = usage.optional_number(INIT_DURATION_MS, worst_case=LAMBDA_MAX_INIT_MS)
    if init_ms is None and not usage.has_or_derived(INIT_DURATION_MS):
        return None  # undeclared (taken as 0, said so), or the tag map unknown (a finding)
    if usage.has(COLD_START_PERCENT):
        percent = usage.number(COLD_START_PERCENT, worst_case=LAMBDA_ALL_COLD_STARTS_PERCENT)
    elif init_ms is None:
        return None  # no default share to record for an INIT that is not priced
    else:
        percent = DEFAULT_COLD_START_PERCENT
        usage.assume(
            COLD_START_PERCENT.key,
            plain_number(percent),
            UsageSource.DEFAULT,
            "% of invocations with an INIT phase (AWS: typically under 1%)",
        )
    if init_ms is None or percent is None:
        return None
    return init_ms, percent


def _init_charges(
    usage: UsageReader, requests: Decimal, memory_mb: Decimal, architecture: str
) -> list[Charge]:
    """INIT phase (billed since 2025-08-01 for every on-demand function): cold starts
    (:func:`_init_figures`) × the INIT duration rounded up to 1 ms × memory, at the on-demand
    duration price."""
    figures = _init_figures(usage)
    if figures is None:
        return []
    init_ms, percent = figures
    cold_starts = requests * percent / 100
    billed_ms = billed_duration_ms(init_ms)
    return [
        _gb_seconds(
            duration_price_id(architecture),
            cold_starts * billed_ms / MS_PER_SECOND,
            memory_mb,
            f"INIT duration ({architecture})",
            f"{format_quantity(cold_starts)} cold starts × {format_quantity(billed_ms)} ms × "
            f"{format_quantity(memory_mb)} MB",
            _PER_TRAFFIC_AND_MEMORY,
        )
    ]
