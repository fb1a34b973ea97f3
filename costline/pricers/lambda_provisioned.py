"""Lambda provisioned concurrency (``aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig``).

Billing (https://aws.amazon.com/lambda/pricing/): concurrency configured × the function's
memory (GB) × seconds enabled, at ``lambda.provisioned_concurrency.<architecture>`` per
GB-second, whether invoked or not. Enabled all month (730 h) unless
``cost:active-hours-per-day`` says how long a schedule keeps it on (× 30 days). The function
(memory, architecture) is the one named by the ``functionName`` property dependency. The
function's own invocations stay priced at on-demand duration: an upper bound, since the share
served by provisioned concurrency bills at the lower ``lambda.provisioned_duration`` price.
"""

from __future__ import annotations

from decimal import Decimal

from costline.core.model import Resource, Severity, UsageSource
from costline.core.money import format_quantity, plain_number
from costline.pricers.base import HOURS_PER_MONTH, MB_PER_GB, Charge, PricingContext, PropertyReader
from costline.pricers.lambda_function import (
    ARCHITECTURES,
    DEFAULT_ARCHITECTURE,
    DEFAULT_MEMORY_MB,
    SERVICE,
    TYPE,
)
from costline.usage.tags import ACTIVE_HOURS_PER_DAY, DEFAULT_DAYS_PER_MONTH, UsageReader

CONFIG_TYPE = "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig"
SECONDS_PER_HOUR = Decimal(3600)


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
    hours = HOURS_PER_MONTH
    if usage.has(ACTIVE_HOURS_PER_DAY):
        per_day = usage.number(ACTIVE_HOURS_PER_DAY)
        if per_day is not None:
            hours = per_day * DEFAULT_DAYS_PER_MONTH
    else:
        usage.assume("hours enabled", plain_number(hours), UsageSource.DEFAULT, "always on")
    gb_seconds = concurrency * memory_mb / MB_PER_GB * hours * SECONDS_PER_HOUR
    return [
        Charge(
            SERVICE,
            f"lambda.provisioned_concurrency.{architecture}",
            gb_seconds,
            f"Provisioned concurrency ({architecture})",
            f"{format_quantity(concurrency)} × {format_quantity(memory_mb)} MB × {format_quantity(hours)} h",
        )
    ]
