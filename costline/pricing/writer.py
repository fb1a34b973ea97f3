"""Write price tables back out as YAML the loader reads exactly (``pricing/<region>/*.yaml``).

Decimals are written as plain decimal text (``0.0000166667``, never ``1.66667E-5`` and never via
float), dates and ids as strings, keys in the order given. Used by ``costline pricing import``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import yaml

_BaseDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _TableDumper(_BaseDumper):  # type: ignore[misc, valid-type]
    """A safe dumper that keeps mapping order and writes Decimals as plain numbers."""


def plain_decimal(value: Decimal) -> str:
    """``Decimal`` as fixed-point text without exponent or trailing zeros (``1E+6`` ->
    ``1000000``)."""
    text = format(value.normalize(), "f")
    return text if text not in ("-0", "") else "0"


def _decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.ScalarNode:
    text = plain_decimal(value)
    tag = "tag:yaml.org,2002:float" if "." in text else "tag:yaml.org,2002:int"
    return dumper.represent_scalar(tag, text)


def _mapping(dumper: yaml.SafeDumper, value: Mapping[str, Any]) -> yaml.MappingNode:
    return dumper.represent_mapping("tag:yaml.org,2002:map", value.items())


_TableDumper.add_representer(Decimal, _decimal)
_TableDumper.add_representer(dict, _mapping)


def dump_document(document: Mapping[str, Any], header: str = "") -> str:
    """YAML text of a table or manifest, after an optional ``#`` comment ``header``."""
    body = yaml.dump(
        dict(document), Dumper=_TableDumper, sort_keys=False, allow_unicode=True, width=100
    )
    comment = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines()) if header else ""
    return comment + body
