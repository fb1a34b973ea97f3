"""Which AWS region a stack deploys to, read from its AWS provider configuration."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from costline.core.model import Resource
from costline.core.values import is_unknown, touches_secret

DEFAULT_REGION = "us-east-1"
REGION_CODE_PATTERN = r"^[a-z]{2}(-[a-z]+)+-[0-9]$"
"""An AWS region code (``eu-central-1``, ``us-gov-west-1``): the policy config's ``region`` and
``costline pricing import --region`` are checked against it (a region is also a folder name)."""
AWS_PROVIDER_TYPE = "pulumi:providers:aws"


@dataclass(frozen=True)
class StackRegion:
    """The region of the stack's AWS provider(s); ``secret`` when any provider declares it as a
    secret (``pulumi config set --secret aws:region``): it is used to pick the price tables and
    never shown (see ``region_secret`` of :func:`costline.pricing.load_price_book`)."""

    name: str
    secret: bool = False


def stack_region(resources: Iterable[Resource]) -> StackRegion | None:
    """The ``region`` of the stack's AWS provider(s), when exactly one region is declared."""
    regions: set[str] = set()
    secret = False
    for r in resources:
        region = r.properties.get("region") if r.type == AWS_PROVIDER_TYPE else None
        if isinstance(region, str) and not is_unknown(region):
            regions.add(region)
            secret = secret or touches_secret("region", r.secret_paths)
    return StackRegion(regions.pop(), secret) if len(regions) == 1 else None


def detect_region(resources: Iterable[Resource]) -> str | None:
    """The name of :func:`stack_region` (whether it is a secret or not)."""
    region = stack_region(resources)
    return region.name if region is not None else None
