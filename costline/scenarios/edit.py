"""Modified copies of resources, for what-if scaling and recommendations.

:class:`~costline.core.model.Resource` is frozen; these helpers return copies with usage tags or
properties changed, so the estimator can price "the same stack, but ..." exactly as it prices
the real one. Secret paths follow the values: a tag computed from a secret is marked secret
in the copy, and a replaced value stops being secret unless the caller says it still is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from fractions import Fraction
from typing import Any

from costline.core.model import Resource
from costline.core.money import money_context, plain_number
from costline.core.values import is_unknown
from costline.usage.tags import (
    DAILY_REQUESTS,
    DAYS_PER_MONTH,
    MONTHLY_REQUESTS,
    UsageReader,
    UsageTag,
)

_TAG_MAPS = ("tags", "tagsAll")


def tags_editable(resource: Resource) -> bool:
    """False when the resource's ``tags`` map itself is unknown (nothing in it can be read)."""
    return not is_unknown(resource.properties.get("tags"))


def with_tags(
    resource: Resource, changes: Mapping[str, str | None], *, secret_keys: Iterable[str] = ()
) -> Resource:
    """A copy with ``changes`` applied to its tags: a string sets the tag in ``tags`` (which wins
    over ``tagsAll``), ``None`` removes it from both maps. ``secret_keys`` are the changed tags
    whose new value was computed from a secret. A changed tag no longer comes from stack config or
    a usage file."""
    if not changes:
        return resource
    maps: dict[str, dict[str, Any]] = {}
    for name in _TAG_MAPS:
        value = resource.properties.get(name)
        maps[name] = dict(value) if isinstance(value, Mapping) else {}
    for key, value in changes.items():
        maps["tagsAll"].pop(key, None)
        if value is None:
            maps["tags"].pop(key, None)
        else:
            maps["tags"][key] = value
    properties = {**resource.properties, "tags": maps["tags"]}
    if isinstance(resource.properties.get("tagsAll"), Mapping):
        properties["tagsAll"] = maps["tagsAll"]
    changed_paths = {f"{name}.{key}" for name in _TAG_MAPS for key in changes}
    secret_paths = {p for p in resource.secret_paths if p not in changed_paths}
    secret_paths.update(f"tags.{key}" for key in secret_keys if changes.get(key) is not None)
    origins = {k: v for k, v in resource.usage_origins.items() if k not in changes}
    return replace(
        resource,
        properties=properties,
        secret_paths=frozenset(secret_paths),
        usage_origins=origins
        if len(origins) < len(resource.usage_origins)
        else resource.usage_origins,
    )


def with_properties(resource: Resource, changes: Mapping[str, Any]) -> Resource:
    """A copy with top-level properties replaced (``None`` removes one, so AWS defaults apply);
    the replaced values are no longer secret."""
    properties = {k: v for k, v in resource.properties.items() if k not in changes}
    properties.update({k: v for k, v in changes.items() if v is not None})
    secret_paths = frozenset(p for p in resource.secret_paths if p.split(".", 1)[0] not in changes)
    return replace(resource, properties=properties, secret_paths=secret_paths)


def _has_tags(resource: Resource) -> bool:
    """Whether the resource declares any tag (without one, no figure is there to scale)."""
    properties = resource.properties
    return any(properties.get(name) for name in _TAG_MAPS)


def _scaled(value, factor: Fraction) -> str:
    with money_context():
        return plain_number(value * factor.numerator / factor.denominator)


def scale_usage(
    resource: Resource, factor: Fraction, tags: Iterable[UsageTag], *, requests: bool = False
) -> Resource:
    """A copy whose declared numeric ``tags`` are ``factor`` times their value (exact when the
    result is a terminating decimal). With ``requests``, the request figure is scaled too:
    ``cost:monthly-requests``, or ``cost:daily-requests`` × days rewritten as a monthly figure.
    Missing, unknown or malformed figures are left as they are (their findings remain)."""
    if factor == 1 or not tags_editable(resource) or not _has_tags(resource):
        return resource
    reader = UsageReader(resource)
    changes: dict[str, str | None] = {}
    secret: list[str] = []
    if requests and (reader.has(MONTHLY_REQUESTS) or reader.has(DAILY_REQUESTS)):
        monthly = reader.monthly_requests(required=False)
        if monthly is not None:
            changes.update(
                {
                    MONTHLY_REQUESTS.key: _scaled(monthly, factor),
                    DAILY_REQUESTS.key: None,
                    DAYS_PER_MONTH.key: None,
                }
            )
            if reader.secret_used:
                secret.append(MONTHLY_REQUESTS.key)
    for tag in tags:
        if reader.has(tag) and (value := reader.number(tag, required=False)) is not None:
            changes[tag.key] = _scaled(value, factor)
            if reader.is_secret(tag):
                secret.append(tag.key)
    return with_tags(resource, changes, secret_keys=secret)
