"""S3 storage classes: the class mix a lifecycle rule implies, and retrieval from cold classes."""

from decimal import Decimal as D

from costline.core.model import Resource, ResourceStatus
from costline.estimator.pipeline import estimate
from tests.conftest import BUCKET, make

LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"


def bucket_with_lifecycle(rules, **tags):
    bucket = make(BUCKET, "archive", tags={"cost:storage-gb": "1000", **tags})
    config = Resource.from_engine(
        urn=f"urn:pulumi:dev::p::{LIFECYCLE}::archive-lifecycle",
        type=LIFECYCLE,
        name="archive-lifecycle",
        properties={"bucket": "archive-123", "rules": rules},
        property_dependencies={"bucket": [bucket.urn]},
    )
    return [bucket, config]


RULE = {
    "id": "age-out",
    "status": "Enabled",
    "transitions": [
        {"days": 30, "storageClass": "STANDARD_IA"},
        {"days": 180, "storageClass": "DEEP_ARCHIVE"},
    ],
    "expiration": {"days": 365},
}


def storage(est):
    return {
        i.price_id: i for r in est.resources for i in r.line_items if i.price_id.startswith("s3.")
    }


def test_lifecycle_mix_prices_each_class_for_its_share_of_the_retention(prices):
    """Objects live 365 days: 30 in Standard, 150 in Standard-IA, 185 in Deep Archive.
    1,000 GB × (30/365 × $0.023 + 150/365 × $0.0125 + 185/365 × $0.00099)."""
    est = estimate(bucket_with_lifecycle([RULE]), prices)
    items = storage(est)
    assert items["s3.storage.standard"].quantity == D(1000) * D(30) / D(365)
    assert items["s3.storage.standard_ia"].quantity == D(1000) * D(150) / D(365)
    assert items["s3.storage.deep_archive"].quantity == D(1000) * D(185) / D(365)
    expected = (
        D(1000) * 30 / 365 * D("0.023")
        + D(1000) * 150 / 365 * D("0.0125")
        + D(1000) * 185 / 365 * D("0.00099")
    )
    assert abs(est.total_monthly_usd - expected) < D("1e-20")
    assert "objects kept 365 days" in items["s3.storage.deep_archive"].note
    lifecycle = next(r for r in est.resources if r.name == "archive-lifecycle")
    assert lifecycle.status is ResourceStatus.FREE


def test_without_expiration_retention_comes_from_the_tag_or_is_assumed(prices):
    rule = {**RULE, "expiration": None}
    tagged = storage(
        estimate(bucket_with_lifecycle([rule], **{"cost:retention-days": "60"}), prices)
    )
    assert tagged["s3.storage.standard"].quantity == D(500)  # 30 of 60 days
    assert "s3.storage.deep_archive" not in tagged  # nothing lives past day 60
    est = estimate(bucket_with_lifecycle([rule]), prices)
    bucket = next(r for r in est.resources if r.name == "archive")
    assumed = [a for a in bucket.assumptions if a.key == "retention days"]
    assert assumed and assumed[0].value == "365" and assumed[0].source.value == "assumed"


def test_retrieval_is_split_over_the_cold_classes(prices):
    """10 GB/month read back: 150/335 from Standard-IA at $0.01/GB, 185/335 from Deep Archive at
    $0.02/GB."""
    items = storage(
        estimate(bucket_with_lifecycle([RULE], **{"cost:monthly-retrieval-gb": "10"}), prices)
    )
    # Shares are computed at 28 significant digits, so compare to 1e-20 dollars.
    assert abs(items["s3.retrieval.standard_ia"].monthly_usd - D(10) * 150 / 335 * D("0.01")) < D(
        "1e-20"
    )
    assert abs(items["s3.retrieval.deep_archive"].monthly_usd - D(10) * 185 / 335 * D("0.02")) < D(
        "1e-20"
    )


def test_unpriced_transitions_and_extra_rules_are_findings(prices):
    rules = [
        {**RULE, "transitions": [{"days": 30, "storageClass": "INTELLIGENT_TIERING"}]},
        {"id": "other", "status": "Enabled"},
    ]
    est = estimate(bucket_with_lifecycle(rules), prices)
    bucket = next(r for r in est.resources if r.name == "archive")
    messages = [f.message for f in bucket.findings if f.code == "s3-lifecycle-partial"]
    assert any("2 enabled rules" in m for m in messages)
    assert any("INTELLIGENT_TIERING" in m for m in messages)
    assert storage(est)["s3.storage.standard"].quantity == D(1000)


def test_disabled_rules_leave_the_bucket_in_standard(prices):
    items = storage(estimate(bucket_with_lifecycle([{**RULE, "status": "Disabled"}]), prices))
    assert set(items) == {"s3.storage.standard"}


def test_an_unreadable_retention_is_a_gap_and_the_assumed_365_says_why(prices):
    from costline.core.completeness import completeness
    from costline.core.values import UNKNOWN_NUMBER

    rule = {**RULE, "expiration": None}
    requests = {"cost:monthly-get-requests": "0", "cost:monthly-put-requests": "0"}
    est = estimate(
        bucket_with_lifecycle([rule], **requests, **{"cost:retention-days": UNKNOWN_NUMBER}), prices
    )
    bucket = next(r for r in est.resources if r.name == "archive")
    (assumed,) = [a for a in bucket.assumptions if a.key == "retention days"]
    assert (assumed.value, assumed.source.value) == ("365", "assumed")
    assert assumed.detail.endswith("the declared cost:retention-days could not be used")
    assert completeness(est).summary() == (
        "1 resource not fully priced: archive (cost:retention-days unknown)"
    )
    undeclared = estimate(bucket_with_lifecycle([rule], **requests), prices)
    bucket = next(r for r in undeclared.resources if r.name == "archive")
    (assumed,) = [a for a in bucket.assumptions if a.key == "retention days"]
    assert assumed.detail.endswith("set cost:retention-days")
    assert completeness(undeclared).complete
