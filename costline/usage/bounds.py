"""Every fail-closed bound in one place: the worst case costline prices instead of a figure it
could not determine, when ``--fail-closed`` (CLI) or ``failClosed`` (the pack) is on.

Two kinds, each with its source:

* **AWS limits** — the largest value AWS accepts for a property, so no deployed resource can
  cost more on that account (memory, timeout, ephemeral storage, the largest stage cache);
* **documented usage stand-ins** — costline's own chosen figures for traffic that has no
  physical limit (requests, tokens, storage...), listed in the README's fail-closed table and
  overridable with the pack's ``worstCase`` config.

A bound that depends on the price tables (the dearest Bedrock model priced in the region) is
computed where the tables are, from the tables (:func:`costline.pricers.bedrock.dearest_model`).
Where no bound exists (an unknown Provisioned Throughput ``modelUnits``; an unreadable
``cost:cmu``, as AWS sets an imported model's CMUs at import and documents no largest count,
https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CustomModelUnits.html; an
unreadable ``cost:retention-days``, as no retention is the dearest for every lifecycle: a
shorter one keeps more in Standard, a longer one more in classes with retrieval fees; a type
costline does not price, a region without tables), the gap stays missing and a fail-closed gate
fails, saying how to fix it; the pack's ``worstCase`` can give any usage tag a bound.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from costline.usage.tags import (
    INPUT_TOKENS,
    MONTHLY_CONNECTION_MINUTES,
    MONTHLY_GET_REQUESTS,
    MONTHLY_MESSAGES,
    MONTHLY_PUT_REQUESTS,
    MONTHLY_REQUESTS,
    OUTPUT_TOKENS,
    STORAGE_GB,
)

LAMBDA_QUOTAS = "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"
LAMBDA_LIFECYCLE = "https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html"
APIGW_CACHE = (
    "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-caching.html"
)

LAMBDA_MAX_MEMORY_MB = Decimal(10240)
"""Largest Lambda ``memorySize`` (10,240 MB), :data:`LAMBDA_QUOTAS`."""
LAMBDA_MAX_TIMEOUT_S = Decimal(900)
"""Largest Lambda ``timeout`` (900 s = 15 minutes), :data:`LAMBDA_QUOTAS`."""
LAMBDA_MAX_EPHEMERAL_MB = Decimal(10240)
"""Largest Lambda ``ephemeralStorage.size`` (10,240 MB), :data:`LAMBDA_QUOTAS`."""
LAMBDA_MAX_INIT_MS = Decimal(10000)
"""Longest INIT phase of an on-demand function (10 s; an INIT that takes longer is retried within
the first invocation, billed as its run time), :data:`LAMBDA_LIFECYCLE`."""
LAMBDA_ALL_COLD_STARTS_PERCENT = Decimal(100)
"""The most invocations that can start a new execution environment: every one."""
LAMBDA_DEAREST_ARCHITECTURE = "x86_64"
"""The dearer Lambda architecture per GB-second (arm64 is about 20% cheaper), the price tables."""
APIGW_HTTP_QUOTAS = (
    "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html"
)
APIGW_WEBSOCKET_QUOTAS = (
    "https://docs.aws.amazon.com/apigateway/latest/developerguide/"
    "apigateway-execution-service-websocket-limits-table.html"
)
APIGW_HTTP_MAX_PAYLOAD_KB = Decimal(10240)
"""Largest HTTP API request payload (10 MB), :data:`APIGW_HTTP_QUOTAS`."""
APIGW_WEBSOCKET_MAX_MESSAGE_KB = Decimal(128)
"""Largest WebSocket message payload (128 KB), :data:`APIGW_WEBSOCKET_QUOTAS`."""
APIGW_LARGEST_CACHE_GB = "237"
"""Largest REST stage cache (237 GB), :data:`APIGW_CACHE`."""
APIGW_CACHE_ENABLED = True
"""An unknown ``cacheClusterEnabled`` is priced as enabled."""

DEFAULT_WORST_CASE: Mapping[str, Decimal] = {
    MONTHLY_REQUESTS.key: Decimal(10_000_000),
    INPUT_TOKENS.key: Decimal(4096),
    OUTPUT_TOKENS.key: Decimal(4096),
    STORAGE_GB.key: Decimal(1000),
    MONTHLY_GET_REQUESTS.key: Decimal(10_000_000),
    MONTHLY_PUT_REQUESTS.key: Decimal(1_000_000),
    MONTHLY_MESSAGES.key: Decimal(10_000_000),
    MONTHLY_CONNECTION_MINUTES.key: Decimal(10_000_000),
}
"""Documented usage stand-ins for unreadable ``cost:*`` tags (the README's fail-closed table); a
Lambda's duration falls back to its timeout. Chosen so that deleting tags never lowers an
estimate for a typical service."""
