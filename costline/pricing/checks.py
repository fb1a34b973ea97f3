"""Validation of price files: the JSON Schema (``schema.json``), then what it cannot say.

Schema errors become :class:`PricingError` naming the file, the entry and the field of the
most relevant error (``jsonschema.exceptions.best_match``). Semantic checks cover tier order
(strictly increasing ``up_to``, only the last tier open-ended), USD only, the region and
version of a table matching its folder's ``region.yaml``, ids carrying their table's service
prefix, real calendar dates, and Bedrock model attributes matching the id.

``jsonschema`` is imported on first use only (~130 ms); :mod:`costline.pricing.cache` lets a
warm load skip it for files validated before.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from costline.pricing.decimal_text import to_decimal
from costline.pricing.errors import PricingError

SCHEMA_PATH = Path(__file__).with_name("schema.json")
CURRENCY = "USD"
KINDS = ("table", "region", "overrides")

# Where numbers live in each kind of document, as (path pattern) tuples; "*" is any key or index.
_NUMERIC_FIELDS = (
    ("entries", "*", "price_per"),
    ("entries", "*", "tiers", "*", "up_to"),
    ("entries", "*", "tiers", "*", "usd"),
    ("free_tiers", "*", "quantity"),
)
_BEDROCK_MODEL_ID = re.compile(r"^bedrock\.(on_demand|batch|global|provisioned)\.")
_BEDROCK_KINDS = ("text", "embedding", "image")
_DECIMAL_REPR = re.compile(r"Decimal\('([^']*)'\)")
_UNEXPECTED = re.compile(r"\('([^']*)' (?:was|were) unexpected\)")


# --- numbers written as strings -------------------------------------------------------------


def coerce_numbers(document: Any) -> Any:
    """Turn numeric strings (``usd: "0.20"``) into Decimals in the price fields, in place."""
    if isinstance(document, dict):
        for pattern in _NUMERIC_FIELDS:
            _coerce(document, pattern)
    return document


def _coerce(node: Any, pattern: tuple[str, ...]) -> None:
    head, rest = pattern[0], pattern[1:]
    keys: Iterable[Any]
    if isinstance(node, dict):
        keys = list(node) if head == "*" else [head] if head in node else []
    elif isinstance(node, list) and head == "*":
        keys = range(len(node))
    else:
        return
    for key in keys:
        if rest:
            _coerce(node[key], rest)
        elif isinstance(node[key], str):
            number = to_decimal(node[key])
            if number is not None:
                node[key] = number


# --- JSON Schema ----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _schema_bytes() -> bytes:
    return SCHEMA_PATH.read_bytes()


@lru_cache(maxsize=len(KINDS))
def _validator(kind: str):
    """A validator for one kind of file (``$defs/<kind>``). Decimals are JSON Schema numbers."""
    from jsonschema import Draft202012Validator

    schema = json.loads(_schema_bytes())
    return Draft202012Validator(
        {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": f"#/$defs/{kind}"}
    )


def validate_schema(document: Any, kind: str, file: str) -> None:
    """Raise the most relevant schema error for ``document`` as a PricingError."""
    from jsonschema.exceptions import best_match

    error = best_match(_validator(kind).iter_errors(document))
    if error is not None:
        raise _schema_error(error, file)


def _schema_error(error, file: str) -> PricingError:
    path = list(error.absolute_path)
    entry: str | None = None
    if len(path) >= 2 and path[0] in ("entries", "free_tiers"):
        entry, path = str(path[1]), path[2:]
    elif (
        path[:1] in (["entries"], ["free_tiers"]) and "propertyNames" in error.absolute_schema_path
    ):
        entry, path = str(error.instance), []
    if error.validator == "required" and isinstance(error.instance, Mapping):
        missing = next((name for name in error.validator_value if name not in error.instance), None)
        if missing is not None:
            path = [*path, missing]
    if error.validator in ("additionalProperties", "unevaluatedProperties") and isinstance(
        error.instance, Mapping
    ):
        unexpected = _UNEXPECTED.search(error.message)  # name the field that should not be there
        if unexpected is not None and unexpected.group(1) in error.instance:
            path = [*path, unexpected.group(1)]
    field = "/".join(str(part) for part in path) or None
    return PricingError(file, _DECIMAL_REPR.sub(r"\1", error.message), entry=entry, field=field)


# --- semantic checks ------------------------------------------------------------------------


def check_date(value: str, file: str, entry: str | None, field: str) -> None:
    try:
        _dt.date.fromisoformat(value)
    except ValueError:
        raise PricingError(
            file, f"{value!r} is not a calendar date (YYYY-MM-DD)", entry=entry, field=field
        ) from None


def check_currency(currency: str, file: str) -> None:
    if currency != CURRENCY:
        raise PricingError(
            file,
            f"currency {currency!r} is not supported: costline prices are in {CURRENCY}",
            field="currency",
        )


def check_tiers(tiers: Sequence[Mapping[str, Any]], file: str, entry: str) -> None:
    """Bands in order: every ``up_to`` above the previous one, only the last open-ended."""
    previous: Decimal | None = None
    last = len(tiers) - 1
    for index, tier in enumerate(tiers):
        up_to = tier.get("up_to")
        if up_to is None:
            if index != last:
                raise PricingError(
                    file,
                    "only the last tier may be open-ended (omit up_to)",
                    entry=entry,
                    field=f"tiers/{index}/up_to",
                )
            continue
        if index == last:
            raise PricingError(
                file,
                f"the last tier must be open-ended: remove up_to {up_to}",
                entry=entry,
                field=f"tiers/{index}/up_to",
            )
        if previous is not None and up_to <= previous:
            raise PricingError(
                file,
                f"up_to {up_to} must be greater than the previous tier's {previous}",
                entry=entry,
                field=f"tiers/{index}/up_to",
            )
        previous = up_to


def check_entry(entry_id: str, entry: Mapping[str, Any], file: str) -> None:
    """What the schema cannot say about one entry (tables and overrides alike)."""
    check_tiers(entry["tiers"], file, entry_id)
    check_date(entry["as_of"], file, entry_id, "as_of")
    if _BEDROCK_MODEL_ID.match(entry_id):
        _check_bedrock_attributes(entry_id, entry.get("attributes") or {}, file)


def _check_bedrock_attributes(entry_id: str, attributes: Mapping[str, Any], file: str) -> None:
    for name in ("model_id", "provider", "model_name"):
        if not isinstance(attributes.get(name), str) or not attributes[name]:
            raise PricingError(
                file,
                "Bedrock model entries need this attribute",
                entry=entry_id,
                field=f"attributes/{name}",
            )
    model_id = attributes["model_id"]
    mode = entry_id.split(".")[1]
    if not entry_id.startswith(f"bedrock.{mode}.{model_id}."):
        raise PricingError(
            file,
            f"{model_id!r} is not the model in the id",
            entry=entry_id,
            field="attributes/model_id",
        )
    if mode != "provisioned" and attributes.get("kind") not in _BEDROCK_KINDS:
        raise PricingError(
            file,
            f"kind must be one of {', '.join(_BEDROCK_KINDS)}",
            entry=entry_id,
            field="attributes/kind",
        )


def check_table_header(
    document: Mapping[str, Any], file: str, *, region: str, version: str
) -> None:
    """A table's currency, region and version against its folder and ``region.yaml``."""
    check_currency(document["currency"], file)
    if document["region"] != region:
        raise PricingError(
            file,
            f"region {document['region']!r} does not match its folder {region!r}",
            field="region",
        )
    if document["version"] != version:
        raise PricingError(
            file,
            f"version {document['version']!r} differs from {version!r} in the region's "
            "region.yaml: one version per region",
            field="version",
        )
    prefix = f"{document['service']}."
    for section in ("entries", "free_tiers"):
        for item_id in document.get(section) or {}:
            if not item_id.startswith(prefix):
                raise PricingError(
                    file,
                    f"ids in a {document['service']!r} table start with {prefix!r}",
                    entry=item_id,
                )
