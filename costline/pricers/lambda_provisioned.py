"""Lambda provisioned concurrency (``aws:lambda/provisionedConcurrencyConfig:...``).

Billing (https://aws.amazon.com/lambda/pricing/): concurrency configured × the function's
memory (GB) × seconds enabled, at ``lambda.provisioned_concurrency.<architecture>`` per
GB-second, whether invoked or not. Enabled all month (730 h) unless ``cost:active-hours-per-day``
says how long a schedule keeps it on, × ``cost:days-per-month`` (default 30), each day's period
rounded up to 5 minutes. The function (memory, architecture) is the one named by the
``functionName`` property dependency, read as the function's own pricer reads them (an unknown
memory is a gap, fail-closed the 10,240 MB bound; a function not in the stack, fail-closed,
10,240 MB x86_64). The function's own invocations are priced by
:mod:`costline.pricers.lambda_function`: at the provisioned-concurrency duration rate up to the
capacity configured here, without the free tier.
"""

from __future__ import annotations

from decimal import Decimal

from costline.core.model import Resource, Severity, UsageSource
from costline.core.money import format_quantity, plain_number
from costline.pricers.base import FIXED, MB_PER_GB, Charge, PricingContext, PropertyReader
from costline.pricers.lambda_function import (
    DEFAULT_ARCHITECTURE,
    DEFAULT_MEMORY_MB,
    PC_CONFIG_TYPE,
    SECONDS_PER_HOUR,
    SERVICE,
    TYPE,
    enabled_hours,
    function_architecture,
    function_memory_mb,
)
from costline.usage.bounds import LAMBDA_DEAREST_ARCHITECTURE, LAMBDA_MAX_MEMORY_MB
from costline.usage.tags import UsageReader

CONFIG_TYPE = PC_CONFIG_TYPE
_FUNCTION_FIX = "set functionName from the function resource in this stack, so its memory is read"


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
    if function is None:  # its memory and architecture are unknown
        if usage.fail_closed:
            memory_mb, architecture = LAMBDA_MAX_MEMORY_MB, LAMBDA_DEAREST_ARCHITECTURE
            usage.priced_at_bound(
                "functionName",
                f"{plain_number(memory_mb)} MB {architecture}",
                "the function this configures is not in the stack, so its memory and "
                "architecture are unknown",
                _FUNCTION_FIX,
            )
        else:
            memory_mb, architecture = DEFAULT_MEMORY_MB, DEFAULT_ARCHITECTURE
            usage.finding(
                "property-unknown",
                Severity.WARNING,
                "the function this configures is not in the stack; assumed 128 MB x86_64",
                "functionName",
                _FUNCTION_FIX,
            )
    else:
        function_props = PropertyReader(function, usage)
        memory_mb = function_memory_mb(function_props)
        architecture = function_architecture(function_props)
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
            scales=FIXED,
        )
    ]
