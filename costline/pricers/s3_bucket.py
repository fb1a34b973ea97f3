"""Amazon S3 buckets (``aws:s3/bucket:Bucket``, and ``BucketV2`` from older providers).

Standard storage per GB-month (tiered), PUT/COPY/POST/LIST and GET/SELECT requests per
1,000 (https://aws.amazon.com/s3/pricing/), from ``cost:storage-gb``,
``cost:monthly-put-requests`` and ``cost:monthly-get-requests`` (own, or flowed in from the
Lambdas that read the bucket, see :mod:`costline.usage.traffic`), and data transfer out to the
internet
from ``cost:monthly-transfer-out-gb`` (100 GB a month free, account-wide). Storage and both
request counts are required: an undeclared one is unknown, so the estimate is incomplete (or,
fail-closed, takes its bound); a bucket nothing reads or writes declares 0. Transfer out and
retrieval from colder classes (``cost:monthly-retrieval-gb``) are optional: undeclared, each is
taken as 0 and the report's assumptions say so; declared but unreadable, the estimate is
incomplete (no bound: fail-closed fails).
"""

from __future__ import annotations

from decimal import Decimal

from costline.core.model import Resource, Severity, UsageSource
from costline.core.money import format_quantity, plain_number
from costline.pricers.base import FIXED, PER_TRAFFIC, Charge, PricingContext
from costline.usage.s3_lifecycle import CLASS_LABELS, DEFAULT_RETENTION_DAYS, class_mix
from costline.usage.tags import (
    MONTHLY_GET_REQUESTS,
    MONTHLY_PUT_REQUESTS,
    MONTHLY_RETRIEVAL_GB,
    MONTHLY_TRANSFER_OUT_GB,
    RETENTION_DAYS,
    STORAGE_GB,
    UsageReader,
)

BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
SERVICE = "S3"


def price_s3_bucket(
    resource: Resource, usage: UsageReader, context: PricingContext
) -> list[Charge]:
    charges: list[Charge] = []
    storage_gb = usage.number(STORAGE_GB)
    if storage_gb is not None:
        charges.extend(_storage_charges(resource, usage, context, storage_gb))
    for tag, price_id, label, short in (
        (MONTHLY_PUT_REQUESTS, "s3.requests.put", "PUT/COPY/POST/LIST requests", "PUT"),
        (MONTHLY_GET_REQUESTS, "s3.requests.get", "GET/SELECT requests", "GET"),
    ):
        count = usage.number(tag)  # undeclared: unknown (a finding), never taken as 0
        if count is not None:
            charges.append(
                Charge(
                    SERVICE,
                    price_id,
                    count,
                    label,
                    f"{format_quantity(count)} {short}",
                    scales=PER_TRAFFIC,
                )
            )
    transfer_gb = usage.optional_number(MONTHLY_TRANSFER_OUT_GB)  # undeclared: 0, said so
    if transfer_gb is not None:
        charges.append(
            Charge(
                SERVICE,
                "s3.data_transfer_out.internet",
                transfer_gb,
                "Data transfer out to the internet",
                f"{format_quantity(transfer_gb)} GB out",
                scales=PER_TRAFFIC,
            )
        )
    return charges


def _storage_charges(
    resource: Resource, usage: UsageReader, context: PricingContext, storage_gb: Decimal
) -> list[Charge]:
    """Storage per class: all Standard, or the mix its lifecycle rule implies (see
    :mod:`costline.usage.s3_lifecycle`), plus retrieval from the non-Standard classes."""
    lifecycle = context.s3_lifecycles.get(resource.urn)
    if lifecycle is not None and lifecycle.secret:
        usage.mark_secret(text=True)  # the storage classes and days came from a secret
    if lifecycle is None or not lifecycle.transitions:
        if lifecycle is not None:
            for problem in lifecycle.problems:
                usage.finding(
                    "s3-lifecycle-partial",
                    Severity.WARNING,
                    f"lifecycle {lifecycle.source}: {usage.masked(problem)}",
                    "rules",
                )
        return [
            Charge(
                SERVICE,
                "s3.storage.standard",
                storage_gb,
                "Standard storage",
                f"{format_quantity(storage_gb)} GB stored",
                scales=FIXED,
            )
        ]
    for problem in lifecycle.problems:
        usage.finding(
            "s3-lifecycle-partial",
            Severity.WARNING,
            f"lifecycle {lifecycle.source}: {usage.masked(problem)}",
            "rules",
        )
    if lifecycle.expiration_days is not None:
        retention = lifecycle.expiration_days
        usage.assume(
            "retention days",
            usage.masked(plain_number(retention)),
            UsageSource.PROPERTY,
            f"expiration in {lifecycle.source}",
        )
    elif usage.has(RETENTION_DAYS) and (declared := usage.number(RETENTION_DAYS)) is not None:
        retention = declared
    else:  # not declared, or declared but unreadable (a finding)
        retention = DEFAULT_RETENTION_DAYS
        why = f"{lifecycle.source} has no expiration"
        if usage.has(RETENTION_DAYS):
            usage.assume_instead(RETENTION_DAYS, plain_number(retention), why, key="retention days")
        else:
            usage.assume(
                "retention days",
                plain_number(retention),
                UsageSource.ASSUMED,
                f"{why}; set {RETENTION_DAYS.key}",
            )
    mix = class_mix(lifecycle, retention)
    charges = []
    for storage_class, share in mix.items():
        charges.append(
            Charge(
                SERVICE,
                f"s3.storage.{storage_class}",
                storage_gb * share,
                f"{CLASS_LABELS[storage_class]} storage",
                f"{(share * 100).quantize(Decimal('0.1'))}% of {format_quantity(storage_gb)} GB "
                f"(lifecycle {lifecycle.source}, objects kept {plain_number(retention)} days)",
                scales=FIXED,
            )
        )
    colder = {c: s for c, s in mix.items() if c != "standard"}
    if colder and (retrieval_gb := usage.optional_number(MONTHLY_RETRIEVAL_GB)) is not None:
        total = sum(colder.values())
        for storage_class, share in colder.items():
            charges.append(
                Charge(
                    SERVICE,
                    f"s3.retrieval.{storage_class}",
                    retrieval_gb * share / total,
                    f"Retrieval from {CLASS_LABELS[storage_class]}",
                    "retrieval split by class share",
                    scales=PER_TRAFFIC,
                )
            )
    return charges
