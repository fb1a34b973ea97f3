"""``costline usage init``: a usage template for a program's resources, for its stack config.

For every resource costline prices, the usage keys that set its cost (the table
:data:`costline.pricers.registry.USAGE_KEYS`, most important first) under ``costline:usage``,
ready to paste into ``Pulumi.<stack>.yaml`` (see :mod:`costline.usage.stack_config`). A figure
the resource already declares as a tag is filled in (and says so); the others are commented
out with the contract's example, unit and meaning. Secret and unknown values are never
written. Like Infracost's usage-file sync, it only writes what the program declares: it
changes no file of the program.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

from costline.core.model import Resource
from costline.core.values import is_secret_path, is_unknown
from costline.pricers.registry import USAGE_KEYS
from costline.usage.stack_config import USAGE_KEY

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


def _yaml_key(text: str) -> str:
    """A mapping key YAML reads back as exactly ``text`` (JSON strings are YAML strings)."""
    return text if _PLAIN_KEY.match(text) else json.dumps(text)


def _declared(resource: Resource, key: str) -> str | None:
    """The resource's own known, non-secret value for tag ``key`` (tags, else tagsAll)."""
    for field in ("tags", "tagsAll"):
        tags = resource.properties.get(field)
        if not isinstance(tags, Mapping) or key not in tags:
            continue
        value = tags[key]
        if is_unknown(value) or is_secret_path(f"{field}.{key}", resource.secret_paths):
            return None
        return value if isinstance(value, str) else None
    return None


def usage_template(resources: Sequence[Resource], stack: str) -> str:
    """The template text for ``resources`` of stack ``stack``."""
    lines = [
        f"# costline usage for stack {stack}: paste under `config:` in Pulumi.{stack}.yaml",
        "# and set the figures you expect (uncomment a line to use it). A resource's own cost:*",
        "# tags win over these, and these over a --usage-file; `costline estimate` shows where",
        "# each figure came from (tag, stack-config, usage-file).",
        "config:",
        f"  {USAGE_KEY}:",
    ]
    listed = 0
    for resource in resources:
        keys = USAGE_KEYS.get(resource.type)
        if not keys:
            continue
        listed += 1
        lines.append(f"    {_yaml_key(resource.name)}:  # {resource.type}")
        for tag in keys:
            value = _declared(resource, tag.key)
            if value is not None:
                lines.append(f"      {tag.key}: {json.dumps(value)}  # {tag.unit}, from its tag")
            else:
                lines.append(
                    f"      # {tag.key}: {json.dumps(tag.example)}  # {tag.unit}: {tag.meaning}"
                )
    if not listed:
        lines[-1] = f"  {USAGE_KEY}: {{}}  # no resource of this stack has a usage-driven cost"
    return "\n".join(lines) + "\n"
