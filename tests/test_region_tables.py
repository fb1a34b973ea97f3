"""Every region's tables pinned at their boundaries: free tiers and tier edges, both sides.

The expected figures are typed here from AWS's published list prices (per region), not read
from the tables under test, and worked out by hand:

* API Gateway REST: the first 333 million requests a month at the region's first-tier price per
  million, the next ones at $2.80. 333,000,000 requests = 333 × first; 334,000,000 = 333 × first
  + 1 × $2.80.
* API Gateway HTTP: the first 300 million at the region's first-tier price, then $0.90.
* Lambda: 1,000,000 requests and 400,000 GB-seconds free a month, then $0.20 per million
  requests and $0.0000166667 per GB-second (x86_64, first tier).
* S3 data transfer out to the internet: 100 GB free a month, then the region's first-tier price
  per GB.

The free tier never applies to API Gateway here (it is the 12-month offer, not always-free), so
those cases run without it, the Lambda and S3 ones with it.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from costline.estimator.pipeline import EstimateOptions, estimate
from costline.pricing import load_price_book
from tests.conftest import BUCKET, LAMBDA, REST_API, make

HTTP_API = "aws:apigatewayv2/api:Api"

# region: (REST first tier $/M, HTTP first tier $/M, S3 transfer out first tier $/GB)
PUBLISHED = {
    "us-east-1": ("3.50", "1.00", "0.09"),
    "us-west-2": ("3.50", "1.00", "0.09"),
    "eu-west-1": ("3.50", "1.00", "0.09"),
    "eu-central-1": ("3.70", "1.00", "0.09"),
    "ap-northeast-1": ("3.50", "1.29", "0.114"),
}
REGIONS = sorted(PUBLISHED)
NO_FREE_TIER = EstimateOptions(free_tier=False)


def line_usd(stack, region: str, price_id: str, options: EstimateOptions | None = None) -> D:
    result = estimate(stack, load_price_book(region), options or EstimateOptions())
    (item,) = [i for r in result.resources for i in r.line_items if i.price_id == price_id]
    return item.monthly_usd


def rest_api(requests: int):
    return [make(REST_API, "api", tags={"cost:monthly-requests": str(requests)})]


def http_api(requests: int):
    tags = {"cost:monthly-requests": str(requests)}
    return [make(HTTP_API, "api", protocolType="HTTP", tags=tags)]


def lambda_fn(requests: int, avg_ms: int = 1, memory_mb: int = 128):
    tags = {"cost:monthly-requests": str(requests), "cost:avg-duration-ms": str(avg_ms)}
    return [make(LAMBDA, "fn", memorySize=memory_mb, tags=tags)]


def bucket(transfer_out_gb: int):
    tags = {
        "cost:storage-gb": "0",
        "cost:monthly-get-requests": "0",
        "cost:monthly-put-requests": "0",
        "cost:monthly-transfer-out-gb": str(transfer_out_gb),
    }
    return [make(BUCKET, "b", tags=tags)]


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize(
    ("api", "price_id", "edge_millions", "first_column", "next_usd"),
    [
        (rest_api, "apigateway.rest.requests", 333, 0, "2.80"),
        (http_api, "apigateway.http.requests", 300, 1, "0.90"),
    ],
)
def test_api_requests_tier_boundary(region, api, price_id, edge_millions, first_column, next_usd):
    """Up to the edge every million costs the first-tier price; one million past it, the next."""
    first = D(PUBLISHED[region][first_column])
    at_edge = line_usd(api(edge_millions * 1_000_000), region, price_id, NO_FREE_TIER)
    past = line_usd(api((edge_millions + 1) * 1_000_000), region, price_id, NO_FREE_TIER)
    assert at_edge == edge_millions * first
    assert past == edge_millions * first + D(next_usd)


@pytest.mark.parametrize("region", REGIONS)
def test_lambda_free_requests_boundary(region):
    """1,000,000 requests are free; one more costs $0.20 / 1,000,000 = $0.0000002."""
    assert line_usd(lambda_fn(1_000_000), region, "lambda.requests") == 0
    assert line_usd(lambda_fn(1_000_001), region, "lambda.requests") == D("0.0000002")


@pytest.mark.parametrize("region", REGIONS)
def test_lambda_free_gb_seconds_boundary(region):
    """1 GB × 1 s per request: 400,000 requests use exactly the 400,000 free GB-seconds; one
    request more bills 1 GB-second at $0.0000166667."""
    at_edge = lambda_fn(400_000, avg_ms=1000, memory_mb=1024)
    past = lambda_fn(400_001, avg_ms=1000, memory_mb=1024)
    assert line_usd(at_edge, region, "lambda.duration.x86_64") == 0
    assert line_usd(past, region, "lambda.duration.x86_64") == D("0.0000166667")


@pytest.mark.parametrize("region", REGIONS)
def test_s3_free_transfer_out_boundary(region):
    """100 GB out are free; 101 GB bill one GB at the region's first-tier price."""
    first = D(PUBLISHED[region][2])
    assert line_usd(bucket(100), region, "s3.data_transfer_out.internet") == 0
    assert line_usd(bucket(101), region, "s3.data_transfer_out.internet") == first
