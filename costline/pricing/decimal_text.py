"""The text form of an exact decimal number, shared by the YAML loader and the checks."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

NUMBER_TEXT = re.compile(
    r"""^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)?$"""
)
"""``0.20``, ``-1``, ``1_000_000``, ``6e9``, ``.5``: what YAML files may write as a number."""


def to_decimal(text: str) -> Decimal | None:
    """``Decimal`` of a numeric string such as ``"0.20"`` or ``"1_000"``; None otherwise."""
    text = text.strip()
    if not NUMBER_TEXT.match(text):
        return None
    try:
        return Decimal(text.replace("_", ""))
    except InvalidOperation:
        return None
