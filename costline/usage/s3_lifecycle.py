"""The storage-class mix an S3 lifecycle configuration implies for a bucket.

Model (stated in every estimate that uses it): objects arrive at a steady rate and live
``R`` days, where ``R`` is the rule's expiration (``expiration.days``), else the bucket's
``cost:retention-days`` tag, else 365 days (an assumption the estimate says it made). In steady
state object ages are spread evenly over ``[0, R)``, so the share of the bucket's
``cost:storage-gb`` in a class is the share of those ``R`` days the rule's transitions keep an
object in that class. Minimum storage durations and transition request charges are not priced.
Only the first enabled rule is used (rules with filters cannot be weighted without knowing
how much data each prefix holds; the estimate says so when there are several).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from costline.core.model import Resource
from costline.core.values import is_unknown, touches_secret

LIFECYCLE_TYPES = (
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
)
DEFAULT_RETENTION_DAYS = Decimal(365)

# AWS storage class names (lifecycle ``storageClass``) → costline price-table class ids.
STORAGE_CLASSES: Mapping[str, str] = {
    "STANDARD": "standard",
    "STANDARD_IA": "standard_ia",
    "ONEZONE_IA": "one_zone_ia",
    "GLACIER_IR": "glacier_ir",
    "GLACIER": "glacier_flexible",
    "DEEP_ARCHIVE": "deep_archive",
}

CLASS_LABELS: Mapping[str, str] = {
    "standard": "Standard",
    "standard_ia": "Standard-IA",
    "one_zone_ia": "One Zone-IA",
    "glacier_ir": "Glacier Instant Retrieval",
    "glacier_flexible": "Glacier Flexible Retrieval",
    "deep_archive": "Glacier Deep Archive",
}


@dataclass(frozen=True)
class Lifecycle:
    """One bucket's first enabled lifecycle rule: ``transitions`` as (day, class id), sorted;
    ``secret`` when the rules came from (or hold) a secret: nothing read from them is shown."""

    source: str
    transitions: tuple[tuple[Decimal, str], ...]
    expiration_days: Decimal | None
    problems: tuple[str, ...] = ()
    secret: bool = False


def lifecycles_by_bucket(stack: Sequence[Resource]) -> dict[str, Lifecycle]:
    """Bucket URN → its lifecycle, linked by the configuration's ``bucket`` property dependency
    or, failing that, by the bucket name it names."""
    configs = [r for r in stack if r.type in LIFECYCLE_TYPES]
    if not configs:
        return {}  # most stacks: no lifecycle rules, nothing to index
    buckets_by_name = {
        r.properties.get("bucket"): r.urn
        for r in stack
        if isinstance(r.properties.get("bucket"), str)
        and r.type.startswith("aws:s3/bucket")
        and r.type not in LIFECYCLE_TYPES
    }
    bucket_urns = {r.urn for r in stack}
    found: dict[str, Lifecycle] = {}
    for config in configs:
        target = next(
            (u for u in config.property_dependencies.get("bucket", ()) if u in bucket_urns), None
        )
        if target is None:
            target = buckets_by_name.get(config.properties.get("bucket"))
        if target is not None:
            found[target] = parse_lifecycle(config)
    return found


def parse_lifecycle(config: Resource) -> Lifecycle:
    lifecycle = _parse_lifecycle(config)
    if touches_secret("rules", config.secret_paths):
        return replace(lifecycle, secret=True)
    return lifecycle


def _parse_lifecycle(config: Resource) -> Lifecycle:
    rules = config.properties.get("rules")
    problems: list[str] = []
    if not isinstance(rules, list):
        return Lifecycle(
            config.name, (), None, ("rules are unknown or missing; priced as Standard",)
        )
    enabled = [r for r in rules if isinstance(r, Mapping) and r.get("status") == "Enabled"]
    if not enabled:
        return Lifecycle(config.name, (), None, ())
    if len(enabled) > 1:
        problems.append(
            f"{len(enabled)} enabled rules; only the first is used for the storage-class mix"
        )
    rule = enabled[0]
    transitions: list[tuple[Decimal, str]] = []
    for t in rule.get("transitions") or []:
        days, storage_class = (
            _number(t.get("days")) if isinstance(t, Mapping) else None,
            t.get("storageClass") if isinstance(t, Mapping) else None,
        )
        if (
            days is None
            or not isinstance(storage_class, str)
            or storage_class not in STORAGE_CLASSES
        ):
            problems.append(
                f"transition {t.get('storageClass') if isinstance(t, Mapping) else t!r} "
                "is not priced (unknown days or storage class); ignored"
            )
            continue
        transitions.append((days, STORAGE_CLASSES[storage_class]))
    expiration = rule.get("expiration")
    expiration_days = _number(expiration.get("days")) if isinstance(expiration, Mapping) else None
    return Lifecycle(config.name, tuple(sorted(transitions)), expiration_days, tuple(problems))


def class_mix(lifecycle: Lifecycle, retention_days: Decimal) -> dict[str, Decimal]:
    """Share of stored data per class id (shares sum to 1) for objects kept ``retention_days``."""
    if retention_days <= 0:
        return {"standard": Decimal(1)}
    bounds = [(Decimal(0), "standard"), *lifecycle.transitions]
    mix: dict[str, Decimal] = {}
    for i, (start, storage_class) in enumerate(bounds):
        end = bounds[i + 1][0] if i + 1 < len(bounds) else retention_days
        days = min(end, retention_days) - min(start, retention_days)
        if days > 0:
            mix[storage_class] = mix.get(storage_class, Decimal(0)) + days / retention_days
    return mix


def _number(value: Any) -> Decimal | None:
    if (
        is_unknown(value)
        or isinstance(value, bool)
        or not isinstance(value, (int, float))
        or value < 0
    ):
        return None
    if isinstance(value, int):
        return Decimal(value)  # float() of a JSON integer with 400 digits would overflow
    return Decimal(int(value)) if value.is_integer() else None
