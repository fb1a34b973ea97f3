"""YAML in which every number is an exact ``Decimal`` built from its text, never a float.

``0.0000166667`` loads as ``Decimal("0.0000166667")``; ``1_000_000`` and ``6e9`` load as
Decimals too. Dates stay strings (``as_of: 2026-11-01`` is the text ``"2026-11-01"``), and a
key repeated in one mapping is an error instead of PyYAML's silent last-one-wins. Uses
libyaml's parser when PyYAML has it.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

from costline.core.limits import LimitError, check_number_text, load_yaml
from costline.pricing.decimal_text import NUMBER_TEXT
from costline.pricing.errors import PricingError

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

DECIMAL_TAG = "tag:costline.dev,2026:decimal"
_YAML_INT = "tag:yaml.org,2002:int"
_YAML_FLOAT = "tag:yaml.org,2002:float"
_YAML_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class DuplicateKeyError(yaml.MarkedYAMLError):
    """The same key twice in one mapping (PyYAML would keep only the last)."""


class DecimalSafeLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """A safe loader whose numbers are Decimals and whose dates are strings."""

    def construct_mapping(self, node, deep=False):
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise DuplicateKeyError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
            seen[key] = True
        return super().construct_mapping(node, deep=deep)


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal:
    text = check_number_text(loader, node)
    try:
        value = Decimal(text.replace("_", ""))
    except InvalidOperation:
        raise yaml.constructor.ConstructorError(
            None, None, f"{text!r} is not a decimal number", node.start_mark
        ) from None
    if not value.is_finite():
        raise yaml.constructor.ConstructorError(
            None, None, f"{text!r} is not a finite number", node.start_mark
        )
    return value


# Drop PyYAML's int/float/timestamp resolvers (ints in YAML 1.1 include octal and sexagesimal
# forms; floats would go through binary), then resolve plain numbers to exact Decimals.
DecimalSafeLoader.yaml_implicit_resolvers = {
    first: [
        (tag, rx) for tag, rx in resolvers if tag not in (_YAML_INT, _YAML_FLOAT, _YAML_TIMESTAMP)
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
DecimalSafeLoader.add_implicit_resolver(DECIMAL_TAG, NUMBER_TEXT, list("-+0123456789."))
for _tag in (DECIMAL_TAG, _YAML_INT, _YAML_FLOAT):  # explicit !!int / !!float become Decimals too
    DecimalSafeLoader.add_constructor(_tag, _construct_decimal)


def parse_decimal_yaml(text: str | bytes) -> Any:
    """Parse one YAML document within :mod:`costline.core.limits`; raises ``yaml.YAMLError``
    (with line marks) when malformed, :class:`~costline.core.limits.LimitError` past a limit."""
    return load_yaml(text, DecimalSafeLoader)


def parse_price_file(raw: bytes, file: str) -> Any:
    """Parse one price file; malformed YAML becomes a PricingError with line and column."""
    try:
        return parse_decimal_yaml(raw)
    except LimitError as exc:
        raise PricingError(file, str(exc)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise PricingError(file, f"malformed YAML: {where}{exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise PricingError(file, f"malformed YAML: {exc}") from None
