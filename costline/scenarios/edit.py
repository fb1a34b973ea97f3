"""Modified copies of resources, for what-if scaling and recommendations.

:class:`~costline.core.model.Resource` is frozen; these helpers return copies with usage tags or
properties changed, so the estimator can price "the same stack, but ..." exactly as it prices
the real one. Secret paths follow the values: a tag computed from a secret is marked secret
in the copy, and a replaced value stops being secret unless the caller says it still is.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction
from typing import Any

from costline.core.model import Resource, ResourceEstimate, Severity
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


def rewrites_cleanly(
    resource: Resource,
    result: ResourceEstimate,
    tags: Iterable[UsageTag],
    *,
    requests: bool = False,
) -> bool:
    """Whether :func:`scale_usage` of ``resource`` (``tags``, ``requests``) only scales the
    figures its pricer read and leaves every finding of ``result`` (its estimate) as it is, so
    that a scaled copy's totals can be billed from the stack's charges
    (:mod:`costline.estimator.scaled`). Not when its ``tags`` map is unknown but it declares one
    of the tags all the same (in ``tagsAll``: priced, but never scaled), nor when a finding on it
    that is not INFO may be about a tag its copies set or remove (one that names such a tag, or
    no field at all): a copy may lose or change it (a request figure declared both daily and
    monthly that disagree, a day count of 0...)."""
    if result.urn != resource.urn:
        return False
    if not result.findings and type(resource.properties.get("tags", {})) is dict:
        return True  # the usual case: a plain tag map, and no finding a copy could lose
    tags = tuple(tags)
    if not tags_editable(resource):
        keys = {tag.key for tag in tags}
        if requests:
            keys.update((MONTHLY_REQUESTS.key, DAILY_REQUESTS.key))
        return not _declares_any(resource, keys)
    problems = [f for f in result.findings if f.severity is not Severity.INFO]
    if not problems:
        return True  # the usual case: nothing a copy could lose (read no tags for it)
    scaling = usage_scaling(resource, tags, requests=requests)
    changed = {key for key, _ in scaling.changes} if scaling is not None else set()
    return not any(
        f.field is None or (f.field.startswith("tags.") and f.field[5:] in changed)
        for f in problems
    )


def _declares_any(resource: Resource, keys: Collection[str]) -> bool:
    """Whether the resource's ``tags`` or ``tagsAll`` map holds one of ``keys`` (a usage reader
    finds a tag nowhere else, so without one no figure is there to scale)."""
    for name in _TAG_MAPS:
        tags = resource.properties.get(name)
        if isinstance(tags, Mapping) and any(str(key) in keys for key in tags):
            return True
    return False


def scaled_figure(value: Decimal, factor: Fraction) -> str:
    """A usage figure × ``factor`` as a copy's tag holds it (50 significant digits, plain)."""
    with money_context():
        return plain_number(value * factor.numerator / factor.denominator)


def scale_usage(
    resource: Resource, factor: Fraction, tags: Iterable[UsageTag], *, requests: bool = False
) -> Resource:
    """A copy whose declared numeric ``tags`` are ``factor`` times their value (exact when the
    result is a terminating decimal). With ``requests``, the request figure is scaled too:
    ``cost:monthly-requests``, or ``cost:daily-requests`` × days rewritten as a monthly figure.
    Missing, unknown or malformed figures are left as they are (their findings remain)."""
    if factor == 1:
        return resource
    scaling = usage_scaling(resource, tags, requests=requests)
    return resource if scaling is None else scaling.scaled(factor)


@dataclass(frozen=True)
class UsageScaling:
    """What :func:`scale_usage` reads of a resource, whatever the factor: the tags it changes, in
    the order it changes them (tag key → the figure it scales, or ``None`` for a tag it
    removes), and which scaled figures come from a secret. One reading serves every factor
    (what-if rows scale the same stack several times)."""

    resource: Resource
    changes: tuple[tuple[str, Decimal | None], ...]
    secret_keys: tuple[str, ...]

    def scaled(self, factor: Fraction) -> Resource:
        """``scale_usage(resource, factor, ...)`` (``factor`` ≠ 1)."""
        changes = {
            key: None if value is None else scaled_figure(value, factor)
            for key, value in self.changes
        }
        return with_tags(self.resource, changes, secret_keys=self.secret_keys)

    def only(self, tags: Iterable[UsageTag]) -> UsageScaling | None:
        """How :func:`scale_usage` scales the resource's ``tags`` alone (a subset of the tags this
        was read for, without ``requests``): each tag's figure is read the same way whatever else
        is read; ``None`` when none of them is there to scale."""
        keys = list(dict.fromkeys(tag.key for tag in tags))  # in the order scale_usage reads them
        read = dict(self.changes)
        changes = tuple((key, read[key]) for key in keys if key in read)
        if not changes:
            return None
        return UsageScaling(
            self.resource, changes, tuple(key for key in self.secret_keys if key in keys)
        )


def usage_scaling(
    resource: Resource, tags: Iterable[UsageTag], *, requests: bool = False
) -> UsageScaling | None:
    """How :func:`scale_usage` scales ``resource``; ``None`` when it has no figure to scale."""
    tags = tuple(tags)
    keys = {tag.key for tag in tags}
    if requests:
        keys.update((MONTHLY_REQUESTS.key, DAILY_REQUESTS.key))
    if not tags_editable(resource) or not _declares_any(resource, keys):
        return None
    reader = UsageReader(resource)
    changes: dict[str, Decimal | None] = {}
    secret: list[str] = []
    if requests and (reader.has(MONTHLY_REQUESTS) or reader.has(DAILY_REQUESTS)):
        monthly = reader.monthly_requests(required=False)
        if monthly is not None:
            changes.update(
                {MONTHLY_REQUESTS.key: monthly, DAILY_REQUESTS.key: None, DAYS_PER_MONTH.key: None}
            )
            if reader.secret_used:
                secret.append(MONTHLY_REQUESTS.key)
    for tag in tags:
        if reader.has(tag) and (value := reader.number(tag, required=False)) is not None:
            changes[tag.key] = value
            if reader.is_secret(tag):
                secret.append(tag.key)
    if not changes:
        return None
    return UsageScaling(resource, tuple(changes.items()), tuple(secret))
