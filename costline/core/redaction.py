"""Masking secret values in every text an estimate carries, as a last line of defence.

Pricers already show ``[secret]`` in place of the figures they read from a secret (see
:class:`costline.usage.tags.UsageReader`), but a secret *text* (a model id in a secret tag, a secret
architecture) can still end up inside a message, a line item's description or a price id,
directly or after flowing to another resource (:mod:`costline.usage.traffic`). So the estimator
collects every secret string of the stack and replaces each occurrence in its output with
``[secret]``, the way CI systems mask known secrets in logs.

Strings shorter than :data:`MIN_MASKED_CHARS` are not masked (masking ``"1"`` would garble
every figure); those are covered by the pricers' own masking alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Any, overload

from costline.core.model import Assumption, Finding, LineItem, Resource, ResourceEstimate

MASK = "[secret]"
MIN_MASKED_CHARS = 4


def secret_strings(resources: Iterable[Resource]) -> frozenset[str]:
    """Every string value (of at least :data:`MIN_MASKED_CHARS`) at or under a secret path."""
    found: set[str] = set()
    for resource in resources:
        if resource.secret_paths:
            _collect(resource.properties, "", resource.secret_paths, False, found)
    return frozenset(found)


def _collect(
    value: Any, path: str, secret_paths: frozenset[str], inside: bool, found: set[str]
) -> None:
    """Walk ``value`` as :func:`costline.core.values.decode` names paths (keys may hold dots)."""
    inside = inside or path in secret_paths
    if isinstance(value, str):
        if inside and len(value.strip()) >= MIN_MASKED_CHARS:
            found.update({value, value.strip()})
    elif isinstance(value, dict):
        for key, item in value.items():
            _collect(item, f"{path}.{key}" if path else str(key), secret_paths, inside, found)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _collect(item, f"{path}.{index}" if path else str(index), secret_paths, inside, found)


class Redactor:
    """Replaces every occurrence of the given secrets in the texts of estimate records."""

    def __init__(self, secrets: Iterable[str]) -> None:
        ordered = sorted(set(secrets), key=len, reverse=True)  # longest first: no partial masks
        self._pattern = re.compile("|".join(re.escape(s) for s in ordered)) if ordered else None

    @overload
    def text(self, value: str) -> str: ...
    @overload
    def text(self, value: None) -> None: ...
    @overload
    def text(self, value: str | None) -> str | None: ...
    def text(self, value: str | None) -> str | None:
        if value is None or self._pattern is None:
            return value
        return self._pattern.sub(MASK, value)

    def finding(self, f: Finding) -> Finding:
        return replace(
            f,
            message=self.text(f.message),
            suggestion=self.text(f.suggestion),
            field=self.text(f.field),
            gap=self.text(f.gap),
        )

    def resource(self, r: ResourceEstimate) -> ResourceEstimate:
        if self._pattern is None:
            return r
        return replace(
            r,
            line_items=tuple(self._line_item(i) for i in r.line_items),
            findings=tuple(self.finding(f) for f in r.findings),
            assumptions=tuple(self._assumption(a) for a in r.assumptions),
        )

    def _line_item(self, i: LineItem) -> LineItem:
        return replace(
            i,
            description=self.text(i.description),
            note=self.text(i.note),
            price_id=self.text(i.price_id),
        )

    def _assumption(self, a: Assumption) -> Assumption:
        return replace(a, value=self.text(a.value), detail=self.text(a.detail))
