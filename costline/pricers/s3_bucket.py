"""Amazon S3 buckets (``aws:s3/bucket:Bucket``, and ``BucketV2`` from older providers).

Standard storage per GB-month (tiered), PUT/COPY/POST/LIST and GET/SELECT requests per
1,000 (https://aws.amazon.com/s3/pricing/), from ``cost:storage-gb``,
``cost:monthly-put-requests`` and ``cost:monthly-get-requests`` (own, or flowed in from the
Lambdas that read the bucket, see :mod:`costline.traffic`), and data transfer out to the internet
from ``cost:monthly-transfer-out-gb`` (100 GB a month free, account-wide). Storage is required for an
estimate; an undeclared request count is shown as an assumption of zero.
"""

from __future__ import annotations


from costline.model import Resource, UsageSource
from costline.money import format_quantity
from costline.pricers.base import Charge, PricingContext
from costline.usage import MONTHLY_GET_REQUESTS, MONTHLY_PUT_REQUESTS, MONTHLY_TRANSFER_OUT_GB, STORAGE_GB, UsageReader

BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
SERVICE = "S3"


def price_s3_bucket(resource: Resource, usage: UsageReader, context: PricingContext) -> list[Charge]:
    charges: list[Charge] = []
    storage_gb = usage.number(STORAGE_GB)
    if storage_gb is not None:
        charges.append(Charge(SERVICE, "s3.storage.standard", storage_gb, "Standard storage",
                              f"{format_quantity(storage_gb)} GB stored"))
    for tag, price_id, label, short in (
            (MONTHLY_PUT_REQUESTS, "s3.requests.put", "PUT/COPY/POST/LIST requests", "PUT"),
            (MONTHLY_GET_REQUESTS, "s3.requests.get", "GET/SELECT requests", "GET")):
        if usage.has_or_derived(tag):
            count = usage.number(tag)
            if count is not None:
                charges.append(Charge(SERVICE, price_id, count, label, f"{format_quantity(count)} {short}"))
        else:
            usage.assume(tag.key, "0", UsageSource.DEFAULT, "not declared")
    if usage.has(MONTHLY_TRANSFER_OUT_GB):
        transfer_gb = usage.number(MONTHLY_TRANSFER_OUT_GB)
        if transfer_gb is not None:
            charges.append(Charge(SERVICE, "s3.data_transfer_out.internet", transfer_gb, "Data transfer out to the internet",
                                  f"{format_quantity(transfer_gb)} GB out"))
    return charges


