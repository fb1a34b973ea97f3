"""Lambda worst case: every declared request runs until the function's timeout.

A function's expected cost uses ``cost:avg-duration-ms``; its worst case replaces that with
the timeout (AWS default 3 s), traffic as declared. Computed by the estimator itself on a
copy of the stack, so free tier and tiers apply as they would.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from costline.core.model import Resource
from costline.core.money import plain_number
from costline.core.values import SECRET_DISPLAY, is_unknown, touches_secret
from costline.estimator.priced import PricedStack
from costline.pricers.lambda_function import DEFAULT_TIMEOUT_S
from costline.pricers.lambda_function import TYPE as LAMBDA_TYPE
from costline.usage.tags import AVG_DURATION_MS


@dataclass(frozen=True)
class LambdaWorstCase:
    urn: str
    name: str
    timeout_s: Decimal
    expected_usd: Decimal
    worst_usd: Decimal
    timeout_secret: bool = False
    """The timeout came from a secret: messages show ``[secret]`` for it."""

    @property
    def shown_timeout_s(self) -> str:
        return SECRET_DISPLAY if self.timeout_secret else plain_number(self.timeout_s)


def timeout_s(resource: Resource) -> Decimal:
    """The declared timeout in seconds, or the AWS default when absent, unknown or invalid."""
    timeout = resource.properties.get("timeout")
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and 0 < timeout <= 900:
        return Decimal(repr(timeout)) if isinstance(timeout, float) else Decimal(timeout)
    return DEFAULT_TIMEOUT_S


def at_timeout(resource: Resource) -> Resource:
    """A copy of a Lambda function whose average duration is its timeout."""
    tags = resource.properties.get("tags")
    tags = dict(tags) if isinstance(tags, dict) else {}
    tags[AVG_DURATION_MS.key] = plain_number(timeout_s(resource) * 1000)
    secret_paths = {p for p in resource.secret_paths if p != f"tags.{AVG_DURATION_MS.key}"}
    if touches_secret("timeout", resource.secret_paths):  # the duration is the secret timeout
        secret_paths.add(f"tags.{AVG_DURATION_MS.key}")
    return replace(
        resource,
        properties={**resource.properties, "tags": tags},
        secret_paths=frozenset(secret_paths),
    )


def lambda_worst_cases(stack: PricedStack) -> list[LambdaWorstCase]:
    """Expected vs worst-case monthly cost of every Lambda function in the stack."""
    resources, expected = stack.resources, stack.estimate
    lambdas = {
        r.urn
        for r in resources
        if r.type == LAMBDA_TYPE and not is_unknown(r.properties.get("tags"))
    }
    if not lambdas:
        return []
    worst = stack.price([at_timeout(r) if r.urn in lambdas else r for r in resources])
    worst_by_urn = {r.urn: r for r in worst.resources}
    by_urn = {r.urn: r for r in resources}
    return [
        LambdaWorstCase(
            r.urn,
            r.name,
            timeout_s(by_urn[r.urn]),
            r.monthly_usd,
            worst_by_urn[r.urn].monthly_usd,
            touches_secret("timeout", by_urn[r.urn].secret_paths),
        )
        for r in expected.resources
        if r.urn in lambdas
    ]
