"""Download AWS's public Price List offer files (``costline pricing update``).

AWS publishes each offer's current prices for one region, without credentials, at
``<endpoint>/offers/v1.0/aws/<Offer>/current/<region>/index.json``; :data:`DEFAULT_ENDPOINT` is
AWS's own. A download is bounded (:data:`MAX_OFFER_BYTES`, :data:`TIMEOUT_S`) and only ``http``
and ``https`` endpoints are accepted.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from costline.core.limits import LimitError, parse_json

__all__ = [
    "DEFAULT_ENDPOINT",
    "DEFAULT_OFFERS",
    "DownloadError",
    "OfferMissing",
    "download_offer",
    "offer_url",
]

DEFAULT_ENDPOINT = "https://pricing.us-east-1.amazonaws.com"
DEFAULT_OFFERS = (
    "AWSLambda",
    "AmazonApiGateway",
    "AmazonS3",
    "AmazonBedrock",
    "AmazonBedrockFoundationModels",
    "AmazonBedrockService",
)
MAX_OFFER_BYTES = 512 * 1024 * 1024
"""Larger than any of these offers' one-region files; a bigger answer is not an offer file."""
TIMEOUT_S = 120


class DownloadError(Exception):
    """An offer file that could not be fetched or parsed: the message names the URL."""


class OfferMissing(DownloadError):
    """The endpoint has no such offer for the region (HTTP 404)."""


@dataclass(frozen=True)
class Downloaded:
    url: str
    document: Any


def offer_url(endpoint: str, offer: str, region: str) -> str:
    parsed = urllib.parse.urlsplit(endpoint)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise DownloadError(f"--endpoint {endpoint!r}: expected an http:// or https:// URL")
    return (
        f"{endpoint.rstrip('/')}/offers/v1.0/aws/{urllib.parse.quote(offer)}/current/"
        f"{urllib.parse.quote(region)}/index.json"
    )


def download_offer(endpoint: str, offer: str, region: str) -> Downloaded:
    """The parsed offer file; :class:`OfferMissing` on 404, :class:`DownloadError` otherwise."""
    url = offer_url(endpoint, offer, region)
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # scheme checked above
            body = response.read(MAX_OFFER_BYTES + 1)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise OfferMissing(f"{url}: no such offer file (HTTP 404)") from None
        raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DownloadError(f"{url}: cannot download ({reason})") from None
    if len(body) > MAX_OFFER_BYTES:
        raise DownloadError(f"{url}: larger than {MAX_OFFER_BYTES} bytes, not an offer file")
    try:
        return Downloaded(url, parse_json(body.decode("utf-8")))
    except LimitError as exc:
        raise DownloadError(f"{url}: {exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = (
            f"line {exc.lineno}, column {exc.colno}: {exc.msg}"
            if isinstance(exc, json.JSONDecodeError)
            else "not UTF-8"
        )
        raise DownloadError(f"{url}: $: not valid JSON ({where})") from None
