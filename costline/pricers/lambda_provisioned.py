"""Lambda provisioned concurrency (``aws:lambda/provisionedConcurrencyConfig:...``).

Billing (https://aws.amazon.com/lambda/pricing/): concurrency configured × the function's
memory (GB) × seconds enabled, at ``lambda.provisioned_concurrency.<architecture>`` per
GB-second, whether invoked or not. Enabled all month (730 h) unless ``cost:active-hours-per-day``
says how long a schedule keeps it on, × ``cost:days-per-month`` (default 30), each day's period
rounded up to 5 minutes. The function (memory, architecture) is the one named by the
``functionName`` property dependency. The function's own invocations are priced by
:mod:`costline.pricers.lambda_function`: at the provisioned-concurrency duration rate up to the
capacity configured here, without the free tier.
"""

from __future__ import annotations

from decimal import Decimal

from costline.core.model import Resource, Severity, UsageSource
from costline.core.money import format_quantity, plain_number
from costline.pricers.base import MB_PER_GB, Charge, PricingContext, PropertyReader
from costline.pricers.lambda_function import (
    ARCHITECTURES,
    DEFAULT_ARCHITECTURE,
    DEFAULT_MEMORY_MB,
    PC_CONFIG_TYPE,
    SECONDS_PER_HOUR,
    SERVICE,
    TYPE,
    enabled_hours,
)
from costline.usage.tags import UsageReader

CONFIG_TYPE = PC_CONFIG_TYPE


def price_provisioned_concurrency(
    resource: Resource, usage: UsageReader, context: PricingContext
) -> list[Charge]:
    props = PropertyReader(resource, usage)
    concurrency = props.number(
        "provisionedConcurrentExecutions",
        default=Decimal(1),
        unit="executions",
        minimum=Decimal(1),
        maximum=Decimal(100000),
    )
    function = next(
        (
            f
            for urn in resource.property_dependencies.get("functionName", ())
            if (f := context.by_urn.get(urn)) is not None and f.type == TYPE
        ),
        None,
    )
    if function is None:
        usage.finding(
            "property-unknown",
            Severity.WARNING,
            "the function this configures is not in the stack; assumed 128 MB x86_64",
            "functionName",
        )
        memory_mb, architecture = DEFAULT_MEMORY_MB, DEFAULT_ARCHITECTURE
    else:
        function_props = PropertyReader(function, usage)
        memory_mb = function_props.number(
            "memorySize",
            default=DEFAULT_MEMORY_MB,
            unit="MB",
            minimum=Decimal(128),
            maximum=Decimal(10240),
        )
        architecture = function_props.choice(
            "architectures", default=DEFAULT_ARCHITECTURE, allowed=ARCHITECTURES, first_of_list=True
        )
    hours, how = enabled_hours(usage)
    usage.assume("hours enabled", plain_number(hours), UsageSource.DERIVED, how)
    gb_seconds = concurrency * memory_mb / MB_PER_GB * hours * SECONDS_PER_HOUR
    return [
        Charge(
            SERVICE,
            f"lambda.provisioned_concurrency.{architecture}",
            gb_seconds,
            f"Provisioned concurrency ({architecture})",
            f"{format_quantity(concurrency)} × {format_quantity(memory_mb)} MB × "
            f"{format_quantity(hours)} h",
        )
    ]
