"""Usage declared outside a resource (stack config, a usage file) added to its ``cost:*`` tags.

Both :mod:`costline.usage.stack_config` and :mod:`costline.usage.infracost_file` turn their
figures into tags with :func:`with_usage`, which records where each came from in
:attr:`~costline.core.model.Resource.usage_origins`, so the report shows it, and never replaces
a tag the resource already has: its own, a provider default tag, or one an earlier source added.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from costline.core.model import Resource, UsageOrigin


def with_usage(
    resource: Resource,
    values: Mapping[str, str],
    origins: Mapping[str, UsageOrigin],
    *,
    secret: bool = False,
) -> Resource:
    """``resource`` with ``values`` added to its ``tags``, each recorded with its origin (see
    :attr:`~costline.core.model.Resource.usage_origins`). Every tag already on the resource wins:
    its own ``tags``, the provider's default tags in ``tagsAll``, and figures an earlier source
    added (stack config before a usage file). Tags that are unknown at preview stay unknown (the
    usage-tag checks say so). ``secret``: the values came from a secret config value, so the
    tags they become are secret too."""
    if not values:
        return resource
    own = resource.properties.get("tags")
    if own is not None and not isinstance(own, Mapping):
        return resource
    defaults = resource.properties.get("tagsAll")
    declared = {*(own or {}), *(defaults if isinstance(defaults, Mapping) else {})}
    added = {key: value for key, value in values.items() if key not in declared}
    if not added:
        return resource
    secret_paths = resource.secret_paths
    if secret:
        secret_paths = secret_paths | {f"tags.{key}" for key in added}
    return dataclasses.replace(
        resource,
        properties={**resource.properties, "tags": {**added, **dict(own or {})}},
        secret_paths=secret_paths,
        usage_origins={**resource.usage_origins, **{key: origins[key] for key in added}},
    )
