"""Build costline price tables from AWS Price List bulk offer files (``costline pricing import``).

An offer file (``https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/<Offer>/current/<region>/index.json``)
holds ``products{sku: {productFamily, attributes{usagetype, regionCode, ...}}}`` and
``terms.OnDemand.<sku>.<offerTermCode>.priceDimensions.<rateCode>{beginRange, endRange, unit,
pricePerUnit.USD, description}``. Outside us-east-1 usagetypes carry a region prefix (``USW2-``,
``EU-``, ``EUC1-``, ``APN1-``); :data:`USAGETYPES` maps the suffix to a costline entry id.

Units: AWS prices per one AWS unit (``Requests``, ``GB-Mo``, ``Lambda-GB-Second``, ``Hrs``,
``1K tokens`` ...). S3 storage (usagetype ``TimedStorage-ByteHrs``) is metered in byte-hours
but *priced* per ``GB-Mo``, the same unit as costline's ``GB-month``. Each AWS unit is a number
of costline units (:data:`AWS_UNITS`: ``1K tokens`` = 1,000 tokens); tier bounds
(``beginRange``/``endRange``, ``Inf`` = open) are converted the same way, and a tier price is
``pricePerUnit.USD / units_per_aws_unit * price_per`` (USD per ``price_per`` costline units).

Everything here is pure: :func:`convert` takes parsed JSON documents and returns table documents;
bad input raises :class:`PriceListError` naming the file and the JSON path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from costline.pricing.bedrock_usagetypes import FOUNDATION_MODELS_UNITS, parse_bedrock_usagetype

__all__ = [
    "AWS_UNITS",
    "USAGETYPES",
    "Imported",
    "OfferFile",
    "PriceListError",
    "Target",
    "convert",
]

REGION_PREFIXES = {
    "us-east-1": "USE1",
    "us-east-2": "USE2",
    "us-west-1": "USW1",
    "us-west-2": "USW2",
    "eu-west-1": "EU",
    "eu-west-2": "EUW2",
    "eu-west-3": "EUW3",
    "eu-central-1": "EUC1",
    "eu-north-1": "EUN1",
    "ap-northeast-1": "APN1",
    "ap-northeast-2": "APN2",
    "ap-south-1": "APS3",
    "ap-southeast-1": "APS1",
    "ap-southeast-2": "APS2",
    "ca-central-1": "CAN1",
    "sa-east-1": "SAE1",
}
"""AWS Price List usagetype prefixes by region code (us-east-1 often has none)."""

AWS_UNITS: Mapping[str, Decimal] = {
    "requests": Decimal(1),
    "request": Decimal(1),
    "lambda-gb-second": Decimal(1),
    "gb-second": Decimal(1),
    "gb-seconds": Decimal(1),
    "second": Decimal(1),
    "gb-mo": Decimal(1),
    "gb": Decimal(1),
    "hrs": Decimal(1),
    "hours": Decimal(1),
    "hour": Decimal(1),
    "minutes": Decimal(1),
    "minute": Decimal(1),
    "messages": Decimal(1),
    "message": Decimal(1),
    "1k tokens": Decimal(1000),
    "1m tokens": Decimal(1000000),
    "tokens": Decimal(1),
    "images": Decimal(1),
}
"""How many costline units one AWS ``unit`` is (case-insensitive)."""


@dataclass(frozen=True)
class Target:
    """Where one usagetype goes: a costline entry id in ``service``'s table."""

    service: str
    id: str
    description: str
    unit: str
    price_per: Decimal
    units: Mapping[str, Decimal] | None = None
    """This offer's own AWS units (lower case) -> costline units, instead of :data:`AWS_UNITS`."""


def _t(service: str, entry_id: str, description: str, unit: str, price_per: int) -> Target:
    return Target(service, entry_id, description, unit, Decimal(price_per))


def _per_architecture(usagetype: str, entry_id: str, label: str) -> dict[tuple[str, str], Target]:
    """A Lambda price per GB-second for x86_64 (``usagetype``) and arm64 (``usagetype-ARM``)."""
    return {
        ("AWSLambda", usagetype + suffix): _t(
            "lambda", f"{entry_id}.{arch}", f"{label}, {arch}, per GB-second", "GB-second", 1
        )
        for suffix, arch in (("", "x86_64"), ("-ARM", "arm64"))
    }


def _s3_class_with_retrieval(code: str, key: str, label: str) -> dict[tuple[str, str], Target]:
    """Storage, the two request tiers and retrieval of an S3 storage class that charges for
    retrieval (usagetypes ``TimedStorage-<code>-ByteHrs``, ``Requests-<code>-Tier1`` ...)."""
    return {
        ("AmazonS3", f"TimedStorage-{code}-ByteHrs"): _t(
            "s3", f"s3.storage.{key}", f"S3 {label} storage, per GB-month", "GB-month", 1
        ),
        ("AmazonS3", f"Requests-{code}-Tier1"): _t(
            "s3",
            f"s3.requests.{key}.put",
            f"S3 {label} PUT, COPY, POST and LIST requests",
            "request",
            1000,
        ),
        ("AmazonS3", f"Requests-{code}-Tier2"): _t(
            "s3",
            f"s3.requests.{key}.get",
            f"S3 {label} GET, SELECT and all other requests",
            "request",
            1000,
        ),
        ("AmazonS3", f"Retrieval-{code}"): _t(
            "s3", f"s3.retrieval.{key}", f"S3 {label} data retrieval, per GB", "GB", 1
        ),
    }


USAGETYPES: Mapping[tuple[str, str], Target] = {
    ("AWSLambda", "Request"): _t(
        "lambda", "lambda.requests", "Lambda requests", "request", 1000000
    ),
    **_per_architecture("Lambda-GB-Second", "lambda.duration", "Lambda on-demand duration"),
    ("AWSLambda", "Lambda-Storage-GB-Second"): _t(
        "lambda",
        "lambda.ephemeral_storage",
        "Ephemeral storage above 512 MB, per GB-second",
        "GB-second",
        1,
    ),
    **_per_architecture(
        "Lambda-Provisioned-Concurrency",
        "lambda.provisioned_concurrency",
        "Provisioned concurrency",
    ),
    **_per_architecture(
        "Lambda-Provisioned-GB-Second",
        "lambda.provisioned_duration",
        "Provisioned-concurrency duration",
    ),
    ("AmazonApiGateway", "ApiGatewayRequest"): _t(
        "apigateway", "apigateway.rest.requests", "REST API requests", "request", 1000000
    ),
    ("AmazonApiGateway", "ApiGatewayHttpRequest"): _t(
        "apigateway",
        "apigateway.http.requests",
        "HTTP API requests, metered in 512 KB increments",
        "request",
        1000000,
    ),
    ("AmazonApiGateway", "ApiGatewayMessage"): _t(
        "apigateway",
        "apigateway.websocket.messages",
        "WebSocket API messages, metered in 32 KB increments",
        "message",
        1000000,
    ),
    ("AmazonApiGateway", "ApiGatewayMinute"): _t(
        "apigateway",
        "apigateway.websocket.connection_minutes",
        "WebSocket API connection minutes",
        "connection-minute",
        1000000,
    ),
    ("AmazonS3", "TimedStorage-ByteHrs"): _t(
        "s3", "s3.storage.standard", "S3 Standard storage, per GB-month", "GB-month", 1
    ),
    ("AmazonS3", "Requests-Tier1"): _t(
        "s3", "s3.requests.put", "S3 Standard PUT, COPY, POST and LIST requests", "request", 1000
    ),
    ("AmazonS3", "Requests-Tier2"): _t(
        "s3", "s3.requests.get", "S3 Standard GET, SELECT and all other requests", "request", 1000
    ),
    **_s3_class_with_retrieval("SIA", "standard_ia", "Standard-IA"),
    **_s3_class_with_retrieval("ZIA", "one_zone_ia", "One Zone-IA"),
    **_s3_class_with_retrieval("GIR", "glacier_ir", "Glacier Instant Retrieval"),
    ("AmazonS3", "TimedStorage-GlacierByteHrs"): _t(
        "s3",
        "s3.storage.glacier_flexible",
        "S3 Glacier Flexible Retrieval storage, per GB-month",
        "GB-month",
        1,
    ),
    ("AmazonS3", "TimedStorage-GDA-ByteHrs"): _t(
        "s3",
        "s3.storage.deep_archive",
        "S3 Glacier Deep Archive storage, per GB-month",
        "GB-month",
        1,
    ),
    ("AmazonS3", "DataTransfer-Out-Bytes"): _t(
        "s3",
        "s3.data_transfer_out.internet",
        "Data transfer out from S3 to the internet, per GB",
        "GB",
        1,
    ),
}
"""(offer code, usagetype without region prefix) -> costline entry. Bedrock is matched by
pattern."""

BEDROCK_OFFERS = ("AmazonBedrock", "AmazonBedrockFoundationModels", "AmazonBedrockService")
"""Offers whose usagetypes :mod:`costline.pricing.bedrock_usagetypes` reads."""

_DIMENSION_LABELS = {
    "input_tokens": "input tokens",
    "output_tokens": "output tokens",
    "cache_read_tokens": "prompt-cache read input tokens",
    "cache_write_tokens": "prompt-cache write input tokens, 5-minute TTL",
    "cache_write_1h_tokens": "prompt-cache write input tokens, 1-hour TTL",
}
_MODE_LABELS = {
    "on_demand": "on-demand",
    "batch": "batch inference",
    "global": "global cross-Region inference profile (global.)",
}


OFFER_URL = (
    "https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/{offer}/current/{region}/index.json"
)
SERVICE_DESCRIPTIONS = {
    "lambda": "AWS Lambda",
    "apigateway": "Amazon API Gateway",
    "s3": "Amazon S3",
    "bedrock": "Amazon Bedrock",
}


class PriceListError(Exception):
    """An offer file that cannot be converted: ``file``, the JSON ``path`` and what is wrong."""

    def __init__(self, file: str, path: str, message: str) -> None:
        super().__init__(f"{file}: {path}: {message}")
        self.file, self.path, self.message = file, path, message


@dataclass(frozen=True)
class OfferFile:
    """One parsed offer file and the name to report it by."""

    name: str
    document: Any


@dataclass
class Imported:
    """The result: one table document per service, and what was left out (usagetype: reason)."""

    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    as_of: str = ""


def convert(offers: Sequence[OfferFile], region: str, version: str) -> Imported:
    """Table documents (``costline-pricing/1``) for ``region`` from ``offers``; see the module
    doc."""
    result = Imported()
    entries: dict[str, dict[str, dict[str, Any]]] = {}
    origins: dict[str, str] = {}
    dates: list[str] = []
    for offer in offers:
        doc = _mapping(offer.document, offer.name, "$")
        code = _text(doc.get("offerCode"), offer.name, "$.offerCode")
        as_of = _date(doc.get("publicationDate"), offer.name)
        dates.append(as_of)
        products = _mapping(doc.get("products"), offer.name, "$.products")
        on_demand = _mapping(
            _mapping(doc.get("terms"), offer.name, "$.terms").get("OnDemand"),
            offer.name,
            "$.terms.OnDemand",
        )
        for sku, product in products.items():
            path = f"$.products.{sku}"
            attributes = _mapping(
                _mapping(product, offer.name, path).get("attributes"),
                offer.name,
                f"{path}.attributes",
            )
            if attributes.get("regionCode", region) != region:
                continue
            usagetype = _text(
                attributes.get("usagetype"), offer.name, f"{path}.attributes.usagetype"
            )
            suffix = _strip_prefix(usagetype, region)
            if suffix is None:
                continue
            target, extra = _target(code, suffix, attributes)
            if target is None:
                result.skipped.append(f"{usagetype} ({offer.name}): no costline entry")
                continue
            if sku not in on_demand:
                raise PriceListError(
                    offer.name, f"$.terms.OnDemand.{sku}", f"no on-demand terms for {usagetype}"
                )
            tiers = _tiers(on_demand[sku], target, offer.name, f"$.terms.OnDemand.{sku}")
            entry = {
                "description": target.description,
                "unit": target.unit,
                "price_per": target.price_per,
                "tiers": tiers,
                "source": OFFER_URL.format(offer=code, region=region) + f" usagetype {usagetype}",
                "usagetype": usagetype,
                "as_of": as_of,
            }
            if extra:
                entry["attributes"] = extra
            table = entries.setdefault(target.service, {})
            if target.id in table and table[target.id]["tiers"] != tiers:
                raise PriceListError(
                    offer.name,
                    path,
                    f"{usagetype} prices {target.id} differently from {origins[target.id]}",
                )
            table.setdefault(target.id, entry)
            origins.setdefault(target.id, f"{offer.name} {path}")
    for service, table in entries.items():
        result.tables[service] = {
            "schema": "costline-pricing/1",
            "version": version,
            "region": region,
            "currency": "USD",
            "service": service,
            "description": f"{SERVICE_DESCRIPTIONS[service]}, imported from AWS Price List offer "
            "files",
            "entries": dict(sorted(table.items())),
        }
    result.as_of = min(dates) if dates else ""
    return result


def _target(
    code: str, suffix: str, attributes: Mapping[str, Any]
) -> tuple[Target | None, dict[str, Any] | None]:
    if code in BEDROCK_OFFERS:
        servicename = attributes.get("servicename")
        usage = parse_bedrock_usagetype(
            code, suffix, servicename if isinstance(servicename, str) else None
        )
        if usage is None:
            return None, None
        base = usage.dimension.removesuffix("_above_200k")
        label = _DIMENSION_LABELS[base] + (
            " of requests above 200K input tokens (long context)" if usage.dimension != base else ""
        )
        target = Target(
            "bedrock",
            usage.price_id,
            f"{usage.model_name} {label}, {_MODE_LABELS[usage.mode]}",
            "token",
            Decimal(1000000),
            FOUNDATION_MODELS_UNITS if code == "AmazonBedrockFoundationModels" else None,
        )
        return target, {
            "model_id": usage.model_id,
            "provider": usage.provider,
            "model_name": usage.model_name,
            "kind": usage.kind,
        }
    return USAGETYPES.get((code, suffix)), None


def _strip_prefix(usagetype: str, region: str) -> str | None:
    """The usagetype without this region's prefix; None when it carries another region's prefix."""
    own = REGION_PREFIXES.get(region)
    if own and usagetype.startswith(own + "-"):
        return usagetype[len(own) + 1 :]
    head = usagetype.split("-", 1)[0]
    if head in REGION_PREFIXES.values():
        return None
    return usagetype


def _tiers(terms: Any, target: Target, file: str, path: str) -> list[dict[str, Any]]:
    """Tiers in costline units from every price dimension of one SKU's on-demand terms."""
    bands: list[tuple[Decimal, Decimal | None, Decimal]] = []
    for term_code, term in _mapping(terms, file, path).items():
        term_path = f"{path}.{term_code}.priceDimensions"
        dimensions = _mapping(
            _mapping(term, file, f"{path}.{term_code}").get("priceDimensions"), file, term_path
        )
        for rate_code, raw_dimension in dimensions.items():
            where = f"{term_path}.{rate_code}"
            dimension = _mapping(raw_dimension, file, where)
            unit = _text(dimension.get("unit"), file, f"{where}.unit")
            per_aws_unit = (target.units or AWS_UNITS).get(unit.lower())
            if per_aws_unit is None:
                raise PriceListError(
                    file,
                    f"{where}.unit",
                    f"unknown unit {unit!r} "
                    f"(known: {', '.join(sorted(target.units or AWS_UNITS))})",
                )
            usd = _decimal(
                _mapping(dimension.get("pricePerUnit"), file, f"{where}.pricePerUnit").get("USD"),
                file,
                f"{where}.pricePerUnit.USD",
            )
            begin = _decimal(dimension.get("beginRange", "0"), file, f"{where}.beginRange")
            end_raw = dimension.get("endRange", "Inf")
            end = None if end_raw == "Inf" else _decimal(end_raw, file, f"{where}.endRange")
            bands.append(
                (
                    begin * per_aws_unit,
                    None if end is None else end * per_aws_unit,
                    usd / per_aws_unit * target.price_per,
                )
            )
    if not bands:
        raise PriceListError(file, path, "no price dimensions")
    bands.sort(key=lambda band: band[0])
    tiers: list[dict[str, Any]] = []
    expected = Decimal(0)
    for index, (begin, end, usd) in enumerate(bands):
        if begin != expected:
            raise PriceListError(
                file,
                path,
                f"price tiers leave a gap or overlap at {begin} (expected a tier from {expected})",
            )
        last = index == len(bands) - 1
        if end is None and not last:
            raise PriceListError(file, path, "an open-ended (Inf) tier is followed by another tier")
        if end is not None and last:
            raise PriceListError(
                file, path, f"the last tier ends at {end}; it must be open-ended (Inf)"
            )
        tiers.append(
            {"usd": usd.normalize()} if end is None else {"up_to": end, "usd": usd.normalize()}
        )
        expected = end if end is not None else expected
    return tiers


def _mapping(value: Any, file: str, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PriceListError(file, path, f"expected an object, got {type(value).__name__}")
    return value


def _text(value: Any, file: str, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise PriceListError(file, path, "expected a non-empty string")
    return value


def _decimal(value: Any, file: str, path: str) -> Decimal:
    try:
        number = Decimal(_text(value, file, path))
    except InvalidOperation:
        raise PriceListError(file, path, f"not a decimal number: {value!r}") from None
    if not number.is_finite() or number < 0:
        raise PriceListError(file, path, f"not a non-negative number: {value!r}")
    return number


def _date(value: Any, file: str) -> str:
    text = _text(value, file, "$.publicationDate")
    if not re.match(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        raise PriceListError(file, "$.publicationDate", f"not an ISO date: {text!r}")
    return text[:10]
