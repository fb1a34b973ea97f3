"""AWS Lambda functions (``aws:lambda/function:Function``).

Billing (https://aws.amazon.com/lambda/pricing/): requests, plus duration in GB-seconds =
invocations × run time rounded up to the next 1 ms × memory (GB), at the architecture's
tiered price; ephemeral storage above the free 512 MB is billed per GB-second the same way.
AWS defaults when a property is absent: ``memorySize`` 128 MB, ``timeout`` 3 s,
``architectures`` ["x86_64"], ``ephemeralStorage.size`` 512 MB. The account-wide free tier is
applied by the estimator, not here.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

from costline.core.model import Resource, Severity
from costline.core.money import format_quantity, plain_number
from costline.pricers.base import MB_PER_GB, MS_PER_SECOND, Charge, PricingContext, PropertyReader
from costline.pricers.bedrock_invocation import invocation_charges
from costline.usage.tags import AVG_DURATION_MS, BEDROCK_MODEL, IMPORTED_MODEL, UsageReader

TYPE = "aws:lambda/function:Function"
SERVICE = "Lambda"

DEFAULT_MEMORY_MB = Decimal(128)
DEFAULT_TIMEOUT_S = Decimal(3)
DEFAULT_ARCHITECTURE = "x86_64"
DEFAULT_EPHEMERAL_MB = Decimal(512)
FREE_EPHEMERAL_MB = Decimal(512)
ARCHITECTURES = ("x86_64", "arm64")


def billed_duration_ms(avg_duration_ms: Decimal) -> Decimal:
    """Lambda bills run time rounded up to the next whole millisecond."""
    return avg_duration_ms.to_integral_value(rounding=ROUND_CEILING)


def price_lambda_function(
    resource: Resource, usage: UsageReader, context: PricingContext
) -> list[Charge]:
    props = PropertyReader(resource, usage)
    memory_mb = props.number(
        "memorySize",
        default=DEFAULT_MEMORY_MB,
        unit="MB",
        minimum=Decimal(128),
        maximum=Decimal(10240),
    )
    timeout_s = props.number(
        "timeout", default=DEFAULT_TIMEOUT_S, unit="s", minimum=Decimal(1), maximum=Decimal(900)
    )
    architecture = props.choice(
        "architectures", default=DEFAULT_ARCHITECTURE, allowed=ARCHITECTURES, first_of_list=True
    )
    ephemeral_mb = props.number(
        "ephemeralStorage.size",
        path=["ephemeralStorage", "size"],
        default=DEFAULT_EPHEMERAL_MB,
        unit="MB",
        minimum=Decimal(512),
        maximum=Decimal(10240),
    )

    requests = usage.monthly_requests()
    if requests is None:
        return []

    charges = [Charge(SERVICE, "lambda.requests", requests, "Requests")]
    timeout_ms = timeout_s * MS_PER_SECOND
    duration_ms = usage.number(AVG_DURATION_MS, worst_case=timeout_ms)
    if duration_ms is not None:
        if duration_ms > timeout_ms:
            usage.finding(
                "usage-exceeds-timeout",
                Severity.WARNING,
                f"cost:avg-duration-ms ({usage.display(AVG_DURATION_MS, duration_ms)}) is longer than the timeout "
                f"({plain_number(timeout_s)} s); priced at the timeout, the longest a run can last",
                AVG_DURATION_MS,
                "lower cost:avg-duration-ms or raise the timeout",
            )
            duration_ms = timeout_ms
        billed_ms = billed_duration_ms(duration_ms)
        seconds = requests * billed_ms / MS_PER_SECOND
        gb_seconds = seconds * memory_mb / MB_PER_GB
        note = (
            f"{format_quantity(requests)} req × {format_quantity(billed_ms)} ms × "
            f"{format_quantity(memory_mb)} MB"
            + (
                f" (rounded up from {usage.display(AVG_DURATION_MS, duration_ms)} ms)"
                if billed_ms != duration_ms
                else ""
            )
        )
        charges.append(
            Charge(
                SERVICE,
                f"lambda.duration.{architecture}",
                gb_seconds,
                f"Duration ({architecture})",
                note,
            )
        )
        if ephemeral_mb > FREE_EPHEMERAL_MB:
            extra_gb_seconds = seconds * (ephemeral_mb - FREE_EPHEMERAL_MB) / MB_PER_GB
            charges.append(
                Charge(
                    SERVICE,
                    "lambda.ephemeral_storage",
                    extra_gb_seconds,
                    "Ephemeral storage above 512 MB",
                    f"{format_quantity(ephemeral_mb - FREE_EPHEMERAL_MB)} MB extra",
                )
            )
    if usage.has(BEDROCK_MODEL) or usage.has(IMPORTED_MODEL):
        charges.extend(invocation_charges(resource, usage, context, requests=requests))
    return charges
