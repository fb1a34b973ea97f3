"""Which AWS region a stack deploys to, read from its AWS provider configuration."""

from __future__ import annotations

from collections.abc import Iterable

from costline.core.model import Resource
from costline.core.values import is_unknown

DEFAULT_REGION = "us-east-1"
REGION_CODE_PATTERN = r"^[a-z]{2}(-[a-z]+)+-[0-9]$"
"""An AWS region code (``eu-central-1``, ``us-gov-west-1``): the policy config's ``region`` and
``costline pricing import --region`` are checked against it (a region is also a folder name)."""
AWS_PROVIDER_TYPE = "pulumi:providers:aws"


def detect_region(resources: Iterable[Resource]) -> str | None:
    """The ``region`` of the stack's AWS provider(s), when exactly one region is declared."""
    regions = {
        r.properties.get("region")
        for r in resources
        if r.type == AWS_PROVIDER_TYPE
        and isinstance(r.properties.get("region"), str)
        and not is_unknown(r.properties.get("region"))
    }
    return regions.pop() if len(regions) == 1 else None
