"""An undeclared figure is unknown, never an assumed 0 (or an assumed minimum): the estimate is
incomplete and says which resource and what to declare. Through ``costline estimate`` and
``costline check`` and through the policy pack over the gRPC Analyzer protocol.

* An S3 bucket's request counts: a bucket declared at 0 requests is complete at $0 for
  requests. By hand from the us-east-1 list prices: Standard storage $0.023 / GB-month, so 40 GB
  is $0.92; fail-closed, the documented stand-ins 10,000,000 GETs × $0.0004 / 1,000 = $4.00 and
  1,000,000 PUTs × $0.005 / 1,000 = $5.00, so $9.92.
* A Bedrock customization job's ``epochCount``, whose AWS default depends on the base model:
  Titan Text Lite training $0.40 / 1M tokens and $1.95 a month of storage, so 1,000,000 tokens
  at 1 epoch (the lower bound) is $0.40 + $1.95 = $2.35 and at 2 epochs $0.80 + $1.95 = $2.75.
"""

from __future__ import annotations

from tests.test_verdicts import (
    BUCKET,
    check,
    engine,
    estimate_json,
    gate,
    stack_message,
)

UNDECLARED = [(BUCKET, "data", {"tags": {"cost:storage-gb": "40"}})]
DECLARED_ZERO = [
    (
        BUCKET,
        "data",
        {
            "tags": {
                "cost:storage-gb": "40",
                "cost:monthly-get-requests": "0",
                "cost:monthly-put-requests": "0",
            }
        },
    )
]
GAP = "data (cost:monthly-put-requests missing, cost:monthly-get-requests missing)"


def test_undeclared_requests_make_the_estimate_incomplete_naming_bucket_and_tags(tmp_path):
    report = estimate_json(tmp_path, UNDECLARED)
    assert report["total_monthly_usd"] == "0.92"  # storage only: the requests are not in it
    assert report["complete"] is False
    assert report["incomplete_summary"] == f"1 resource not fully priced: {GAP}"
    gaps = {(g["resource_name"], g["field"], g["code"]) for g in report["incomplete"]}
    assert gaps == {
        ("data", "tags.cost:monthly-get-requests", "usage-tag-missing"),
        ("data", "tags.cost:monthly-put-requests", "usage-tag-missing"),
    }
    (bucket,) = report["resources"]
    assert bucket["status"] == "partial"
    # no request figure is stated as an assumption: nothing was assumed
    assert not [a for a in bucket["assumptions"] if a["key"].endswith("-requests")]
    fixes = {f["field"]: f["suggestion"] for f in bucket["findings"]}
    assert fixes["tags.cost:monthly-get-requests"] == (
        "add the tag cost:monthly-get-requests=30000, or cost:monthly-get-requests=0 if nothing "
        "reads the bucket"
    )
    assert fixes["tags.cost:monthly-put-requests"] == (
        "add the tag cost:monthly-put-requests=100, or cost:monthly-put-requests=0 if nothing "
        "writes to or lists the bucket"
    )


def test_requests_declared_zero_are_complete_at_zero(tmp_path):
    report = estimate_json(tmp_path, DECLARED_ZERO)
    assert report["total_monthly_usd"] == "0.92"
    assert report["complete"] is True
    assert report["incomplete"] == [] and report["bounded"] == []
    (bucket,) = report["resources"]
    assert bucket["status"] == "priced"
    sources = {a["key"]: (a["value"], a["source"]) for a in bucket["assumptions"]}
    assert sources["cost:monthly-get-requests"] == ("0", "tag")
    assert sources["cost:monthly-put-requests"] == ("0", "tag")


def test_check_passes_but_says_incomplete_then_fails_closed_at_the_bounds(tmp_path):
    open_ = check(tmp_path, UNDECLARED, "--budget", "5")
    assert open_.exit_code == 0, open_.output
    assert (
        f"costline check passed, but the estimate is incomplete: $0.92/month + 1 resource not "
        f"fully priced: {GAP}, budget $5.00"
    ) in open_.output
    closed = check(tmp_path, UNDECLARED, "--budget", "5", "--fail-closed")
    assert closed.exit_code == 1, closed.output
    assert "costline check FAILED: $9.92/month" in closed.output
    assert "over the budget $5.00 by $4.92" in closed.output
    declared = check(tmp_path, DECLARED_ZERO, "--budget", "5", "--fail-closed")
    assert declared.exit_code == 0, declared.output
    assert "costline check passed: $0.92/month, budget $5.00" in declared.output


def test_fail_closed_json_lists_both_request_counts_as_bounded(tmp_path):
    report = estimate_json(tmp_path, UNDECLARED, "--fail-closed")
    assert report["total_monthly_usd"] == "9.92"
    assert report["complete"] is True
    assert report["bounded_monthly_usd"] == "9.92"
    assert {g["field"] for g in report["bounded"]} == {
        "tags.cost:monthly-get-requests",
        "tags.cost:monthly-put-requests",
    }


def test_the_pack_reports_undeclared_requests_and_passes_declared_zero(pack):
    open_ = pack.run(engine(UNDECLARED), gate(5, fail_closed=False))
    assert not open_.mandatory
    assert f"Stack total ~$0.92/month + 1 resource not fully priced: {GAP}" in (
        stack_message(open_)
    )
    usage = [v.message for v in open_.by_policy("usage-tags")]
    assert any(
        "no cost:monthly-get-requests tag" in m
        and "or cost:monthly-get-requests=0 if nothing reads the bucket" in m
        for m in usage
    ), usage
    closed = pack.run(engine(UNDECLARED), gate(5, fail_closed=True))
    (violation,) = closed.by_policy("stack-budget")
    assert violation.enforcement_level == "mandatory"
    assert (
        "~$9.92/month, including 1 resource priced at worst-case bounds: data "
        "(cost:monthly-put-requests at its bound 1000000, cost:monthly-get-requests at its bound "
        "10000000), is over the budget $5.00 by $4.92"
    ) in violation.message
    zero = pack.run(engine(DECLARED_ZERO), gate(5, fail_closed=True))
    assert not zero.mandatory
    assert "not fully priced" not in stack_message(zero)
    assert "Stack total ~$0.92/month" in stack_message(zero)
    assert zero.by_policy("usage-tags") == []


# --- a customization job's epochCount -----------------------------------------------------------
CUSTOM_MODEL = "aws:bedrock/customModel:CustomModel"


def custom_model(hyperparameters: dict) -> list:
    props = {
        "baseModelIdentifier": "amazon.titan-text-lite-v1",
        "hyperparameters": hyperparameters,
        "tags": {"cost:training-tokens": "1000000"},
    }
    return [(CUSTOM_MODEL, "ft", props)]


def test_an_unset_epoch_count_is_incomplete_at_its_lower_bound(tmp_path):
    unset = estimate_json(tmp_path, custom_model({"batchSize": "8"}))
    assert unset["total_monthly_usd"] == "2.35"
    assert unset["complete"] is False
    assert unset["incomplete_summary"] == (
        "1 resource not fully priced: ft (hyperparameters.epochCount not set)"
    )
    declared = estimate_json(tmp_path, custom_model({"epochCount": "2"}))
    assert declared["total_monthly_usd"] == "2.75"
    assert declared["complete"] is True
    result = check(tmp_path, custom_model({}), "--budget", "10", "--fail-closed")
    assert result.exit_code == 1, result.output  # no worst-case bound for an epoch count
    assert "ft: hyperparameters.epochCount not set, with no worst-case bound" in result.output


def test_the_pack_says_an_unset_epoch_count_is_not_known(pack):
    result = pack.run(engine(custom_model({})), gate(10, fail_closed=False))
    assert not result.mandatory
    assert (
        "Stack total ~$2.35/month + 1 resource not fully priced: ft "
        "(hyperparameters.epochCount not set)"
    ) in stack_message(result)
    declared = pack.run(engine(custom_model({"epochCount": "2"})), gate(10, fail_closed=True))
    assert not declared.mandatory
    assert "Stack total ~$2.75/month (budget" in stack_message(declared)
