"""Every figure costline could not read is in the gap list, even when another gap already leaves
the cost it feeds out of the total; and fail-closed treats one figure the same wherever it is
read. Through ``costline estimate`` (the JSON report) and ``costline check``.

Figures by hand, us-east-1 list prices (Lambda $0.20 / 1M requests, $0.0000166667 / GB-second
x86_64, free tier 1M requests and 400,000 GB-s a month):

* ``fn``: 1,024 MB, 1,000,000 requests (inside the free tier, $0), 1,000 ms:
  1,000,000 × 1 s × 1 GB = 1,000,000 GB-s - 400,000 free = 600,000 × $0.0000166667 = $10.00002.
* a function whose ``memorySize`` is unknown, with provisioned concurrency 1 always on
  (730 h × 3,600 = 2,628,000 s), 1,000,000 requests of 1,000 ms (no free tier: the requests
  1M × $0.20/M = $0.20; 1,000,000 s served by the provisioned capacity at $0.0000097222 per
  GB-s; the config at $0.0000041667 per GB-s):

  - fail-open, both read the AWS default 128 MB (0.125 GB), incomplete: the function
    $0.20 + 1,000,000 × 0.125 × $0.0000097222 = $0.20 + $1.215275 = $1.415275; the config
    2,628,000 × 0.125 = 328,500 GB-s × $0.0000041667 = $1.36876095.
  - fail-closed, both take the bound 10,240 MB (10 GB), the AWS maximum: the function
    $0.20 + 10,000,000 GB-s × $0.0000097222 = $0.20 + $97.222 = $97.422; the config
    26,280,000 GB-s × $0.0000041667 = $109.500876.
* an imported model (``deepseek-r1-distill-llama-70b``) called by a Lambda 1,000 times a month
  (100 ms, 128 MB: 12.5 GB-s, inside the free tier, $0): 1,000 / 30 days = 33.3 requests a
  day, each opening a 5-minute window, 166.7 minutes, rounded up to 34 windows = 170 min/day
  × 30 = 5,100 active minutes. With 8 CMUs: 8 × 5,100 = 40,800 CMU-minutes × $0.0785 =
  $3,202.80, storage 8 × $1.95 = $15.60: $3,218.40.
* a bucket of 1,000 GB whose lifecycle moves objects to Standard-IA after 30 days and to Deep
  Archive after 180, with no expiration, and no requests: kept 30 days (a bound given in
  ``worstCase``), all of it is Standard: 1,000 × $0.023 = $23.00.
"""

from __future__ import annotations

from decimal import Decimal as D

from costline.core.completeness import completeness
from costline.core.model import Resource
from costline.core.values import UNKNOWN_NUMBER, UNKNOWN_STRING
from costline.estimator.pipeline import EstimateOptions, estimate
from tests.test_s3_lifecycle import LIFECYCLE
from tests.test_verdicts import BUCKET, LAMBDA, check, engine, estimate_json, stack_message

DURATION = "cost:avg-duration-ms"
INIT = "cost:init-duration-ms"
COLD = "cost:cold-start-percent"
PC = "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig"


def function(**tags: str) -> list:
    declared = {"cost:monthly-requests": "1000000", DURATION: "1000"}
    props = {"memorySize": 1024, "timeout": 30, "tags": {**declared, **tags}}
    return [(LAMBDA, "fn", props)]


def gaps(report: dict) -> list[str]:
    return [g["what"] for g in report["incomplete"]]


# --- 1. the INIT figures are read even when the duration is a gap --------------------------------
def test_an_unknown_duration_does_not_hide_an_unreadable_init(tmp_path):
    """Fail-open, the duration unknown: nothing of the run time is priced ($0, the requests in the
    free tier), and the gap list names the duration and the unreadable INIT both."""
    report = estimate_json(tmp_path, function(**{DURATION: UNKNOWN_NUMBER, INIT: "lots"}))
    assert report["total_monthly_usd"] == "0"
    assert gaps(report) == [f"{DURATION} unknown", f"{INIT} invalid"]


def test_an_unreadable_duration_does_not_hide_an_unreadable_cold_start_share(tmp_path):
    report = estimate_json(tmp_path, function(**{DURATION: "1,5", INIT: "800", COLD: "-1"}))
    assert report["total_monthly_usd"] == "0"
    assert gaps(report) == [f"{DURATION} invalid", f"{COLD} invalid"]


def test_an_unreadable_init_does_not_hide_an_unreadable_cold_start_share(tmp_path):
    """The duration read: priced as before, the INIT left out ($10.00002), and both INIT
    figures named."""
    report = estimate_json(tmp_path, function(**{INIT: UNKNOWN_NUMBER, COLD: "lots"}))
    assert report["total_monthly_usd"] == "10.00002"
    assert gaps(report) == [f"{INIT} unknown", f"{COLD} invalid"]


def test_unknown_requests_do_not_hide_an_unreadable_duration_or_init(tmp_path):
    """Nothing is priced without the requests ($0); the gap list names every figure that could
    not be read, and only those: an undeclared INIT is no gap, nor a readable duration."""
    requests = {"cost:monthly-requests": UNKNOWN_NUMBER}
    report = estimate_json(tmp_path, function(**requests, **{DURATION: "lots", INIT: "-1"}))
    assert report["total_monthly_usd"] == "0"
    assert gaps(report) == [
        "cost:monthly-requests unknown",
        f"{DURATION} invalid",
        f"{INIT} invalid",
    ]
    readable = estimate_json(tmp_path, function(**requests, **{INIT: "800"}))
    assert gaps(readable) == ["cost:monthly-requests unknown"]


def test_an_unknown_duration_with_readable_or_undeclared_init_adds_no_gap(tmp_path):
    undeclared = estimate_json(tmp_path, function(**{DURATION: UNKNOWN_NUMBER}))
    assert gaps(undeclared) == [f"{DURATION} unknown"]
    declared = estimate_json(tmp_path, function(**{DURATION: UNKNOWN_NUMBER, INIT: "800"}))
    assert declared["total_monthly_usd"] == "0"
    assert gaps(declared) == [f"{DURATION} unknown"]


# --- 2. a function's memory and architecture read one way for the function and its config ------
def pc_stack(*, in_stack: bool = True, **fn_props) -> list[Resource]:
    fn_urn = f"urn:pulumi:dev::p::{LAMBDA}::fn"
    tags = {"cost:monthly-requests": "1000000", DURATION: "1000"}
    fn = Resource.from_engine(
        urn=fn_urn, type=LAMBDA, name="fn", properties={"tags": tags, **fn_props}
    )
    pc = Resource.from_engine(
        urn=f"urn:pulumi:dev::p::{PC}::pc",
        type=PC,
        name="pc",
        properties={"provisionedConcurrentExecutions": 1},
        property_dependencies={"functionName": [fn_urn]},
    )
    return [fn, pc] if in_stack else [pc]


def monthly(est) -> dict[str, D]:
    return {r.name: r.monthly_usd for r in est.resources}


def test_an_unknown_memory_is_a_gap_for_the_function_and_its_config(prices):
    est = estimate(pc_stack(memorySize=UNKNOWN_NUMBER), prices)
    assert monthly(est) == {"fn": D("1.415275"), "pc": D("1.36876095")}
    state = completeness(est)
    assert state.missing_by_resource() == {
        "fn": ["memorySize unknown"],
        "pc": ["memorySize unknown"],
    }
    assert state.bounded == ()


def test_fail_closed_prices_an_unknown_memory_at_its_bound_for_both(prices):
    est = estimate(pc_stack(memorySize=UNKNOWN_NUMBER), prices, EstimateOptions(fail_closed=True))
    assert monthly(est) == {"fn": D("97.422"), "pc": D("109.500876")}
    state = completeness(est)
    assert state.complete
    assert state.bounded_by_resource() == {
        "fn": ["memorySize at its bound 10240 MB"],
        "pc": ["memorySize at its bound 10240 MB"],
    }


def test_an_invalid_memory_is_read_alike_too(prices):
    """A memory of the wrong type: fail-open the AWS default and a gap on both, fail-closed the
    bound on both (the figures above)."""
    open_ = estimate(pc_stack(memorySize="lots"), prices)
    assert monthly(open_) == {"fn": D("1.415275"), "pc": D("1.36876095")}
    assert completeness(open_).missing_by_resource() == {
        "fn": ["memorySize invalid"],
        "pc": ["memorySize invalid"],
    }
    closed = estimate(pc_stack(memorySize="lots"), prices, EstimateOptions(fail_closed=True))
    assert monthly(closed) == {"fn": D("97.422"), "pc": D("109.500876")}
    assert completeness(closed).complete


def test_an_unknown_architecture_is_bounded_alike(prices):
    """x86_64, the AWS default, is also the dearer: the figures are the 128 MB ones both ways,
    and only the gap list and the bounds tell them apart."""
    open_ = estimate(pc_stack(architectures=UNKNOWN_STRING), prices)
    assert monthly(open_) == {"fn": D("1.415275"), "pc": D("1.36876095")}
    assert completeness(open_).missing_by_resource() == {
        "fn": ["architectures unknown"],
        "pc": ["architectures unknown"],
    }
    closed = estimate(
        pc_stack(architectures=UNKNOWN_STRING), prices, EstimateOptions(fail_closed=True)
    )
    assert monthly(closed) == {"fn": D("1.415275"), "pc": D("1.36876095")}
    assert completeness(closed).bounded_by_resource() == {
        "fn": ["architectures at its bound x86_64"],
        "pc": ["architectures at its bound x86_64"],
    }


def test_a_config_whose_function_is_not_in_the_stack(prices):
    """Its memory is unknown: fail-open the 128 MB default and a gap; fail-closed the 10,240 MB
    bound, x86_64 (the figures above for the config)."""
    open_ = estimate(pc_stack(in_stack=False), prices)
    assert monthly(open_) == {"pc": D("1.36876095")}
    assert completeness(open_).missing_by_resource() == {"pc": ["functionName unknown"]}
    closed = estimate(pc_stack(in_stack=False), prices, EstimateOptions(fail_closed=True))
    assert monthly(closed) == {"pc": D("109.500876")}
    state = completeness(closed)
    assert state.complete
    assert state.bounded_by_resource() == {"pc": ["functionName at its bound 10240 MB x86_64"]}


# --- 4. cost:cmu and cost:retention-days have no bound: the gate fails, saying how to fix it ---
CMU = "cost:cmu"
RETENTION = "cost:retention-days"


def imported(cmu: str) -> list:
    tags = {
        "cost:monthly-requests": "1000",
        DURATION: "100",
        "cost:imported-model": "deepseek-r1-distill-llama-70b",
        CMU: cmu,
    }
    return [(LAMBDA, "fn", {"tags": tags})]


def archive(retention: str) -> list:
    tags = {
        "cost:storage-gb": "1000",
        "cost:monthly-get-requests": "0",
        "cost:monthly-put-requests": "0",
        RETENTION: retention,
    }
    rule = {
        "id": "age-out",
        "status": "Enabled",
        "transitions": [
            {"days": 30, "storageClass": "STANDARD_IA"},
            {"days": 180, "storageClass": "DEEP_ARCHIVE"},
        ],
    }
    return [  # the rule finds its bucket by name
        (BUCKET, "archive", {"bucket": "archive-123", "tags": tags}),
        (LIFECYCLE, "archive-lifecycle", {"bucket": "archive-123", "rules": [rule]}),
    ]


def test_an_unreadable_cmu_fails_closed_naming_the_resource_the_tag_and_the_fix(tmp_path):
    open_ = check(tmp_path, imported("eight"), "--budget", "5000")
    assert open_.exit_code == 0, open_.output
    assert f"1 resource not fully priced: fn ({CMU} invalid)" in open_.output
    closed = check(tmp_path, imported("eight"), "--budget", "5000", "--fail-closed")
    assert closed.exit_code == 1, closed.output
    assert (
        f"fn: {CMU} invalid, with no worst-case bound: fail-closed cannot price its cost; "
        f"declare {CMU} with a plain value (e.g. {CMU}=8), or give it a bound in the pack's "
        "usage-tags worstCase"
    ) in closed.output
    declared = check(tmp_path, imported("8"), "--budget", "5000", "--fail-closed")
    assert declared.exit_code == 0, declared.output
    assert "costline check passed: $3,218.40/month, budget $5,000.00" in declared.output


def test_an_unreadable_retention_fails_closed_naming_the_resource_the_tag_and_the_fix(tmp_path):
    closed = check(tmp_path, archive(UNKNOWN_NUMBER), "--budget", "100", "--fail-closed")
    assert closed.exit_code == 1, closed.output
    assert (
        f"archive: {RETENTION} unknown, with no worst-case bound: fail-closed cannot price its "
        f"cost; declare {RETENTION} with a plain value (e.g. {RETENTION}=365), or give it a "
        "bound in the pack's usage-tags worstCase"
    ) in closed.output
    declared = check(tmp_path, archive("30"), "--budget", "100", "--fail-closed")
    assert declared.exit_code == 0, declared.output
    assert "costline check passed: $23.00/month, budget $100.00" in declared.output


def test_a_gap_that_is_not_a_tag_is_not_told_to_declare_one(tmp_path):
    untyped = [("aws:sqs/queue:Queue", "q", {"tags": {"cost:monthly-requests": "1000"}})]
    closed = check(tmp_path, untyped, "--budget", "100", "--fail-closed")
    assert closed.exit_code == 1, closed.output
    assert "fail-closed cannot price its cost" in closed.output
    assert "declare" not in closed.output


def test_the_pack_fails_closed_on_both_and_its_worst_case_can_bound_them(pack):
    config = {
        "stack-budget": {"enforcementLevel": "mandatory", "monthlyBudgetUsd": 5000},
        "usage-tags": {"failClosed": True},
    }
    closed = pack.run(engine(imported("eight") + archive("lots")), config)
    assert closed.mandatory
    usage = [v.message for v in closed.by_policy("usage-tags")]
    assert any(f"fn: {CMU}='eight' is not a plain decimal number" in m for m in usage), usage
    assert any(f"archive: {RETENTION}='lots' is not a plain" in m for m in usage), usage
    (violation,) = closed.by_policy("stack-budget")
    assert (
        f"2 resources not fully priced: fn ({CMU} invalid); archive ({RETENTION} invalid): "
        "failClosed cannot check the budget $5,000.00"
    ) in violation.message
    config["usage-tags"]["worstCase"] = {CMU: 8, RETENTION: 30}
    bounded = pack.run(engine(imported("eight") + archive("lots")), config)
    assert not bounded.mandatory
    assert "Stack total ~$3,241.40/month, including 2 resources priced at worst-case bounds" in (
        stack_message(bounded)
    )  # $3,218.40 + $23.00


# --- 3. the traffic edges are built once per estimate -------------------------------------------
def test_an_estimate_builds_the_traffic_edges_once(prices, monkeypatch):
    """A service whose Lambda declares tokens but no model, and reaches an inference profile (an
    IAM policy hint): the traffic pass follows the edges, and the Lambda pricer asks which
    Lambdas call a profile (its tokens are priced there, not on the Lambda) from the same edges.
    """
    from costline.testing.stacks import services_stack
    from costline.usage import traffic

    built = []
    edges = traffic._edges

    def counted(by_urn):
        built.append(len(by_urn))
        return edges(by_urn)

    stack = services_stack(17)  # the stack and its provider, then one service of 15 resources
    before = estimate(stack, prices)
    monkeypatch.setattr(traffic, "_edges", counted)
    after = estimate(stack, prices)
    assert built == [17]
    assert after == before
    handler = next(r for r in after.resources if r.name == "handler-0")
    assert not [i for i in handler.line_items if i.service == "Bedrock"]  # priced at the profile
    profile = next(r for r in after.resources if r.name == "model-0")
    assert [i for i in profile.line_items if i.service == "Bedrock"]


# --- 5. a declared figure that could not be used: one wording wherever a fallback is taken -----
def test_every_fallback_for_a_declared_figure_says_which_tag_could_not_be_used(prices):
    """Days per month, imported-model copies and S3 retention each take a stand-in when the
    declared figure is unreadable (a gap): an ``assumed`` row, saying which tag could not be
    used, in the same words."""
    from tests.conftest import make
    from tests.test_s3_lifecycle import RULE, bucket_with_lifecycle

    stage = make(
        "aws:apigateway/stage:Stage",
        "dev",
        tags={"cost:daily-requests": "100000", "cost:days-per-month": "lots"},
    )
    model = make(
        "aws:bedrock/inferenceProfile:InferenceProfile",
        "model",
        tags={
            "cost:daily-requests": "5",
            "cost:imported-model": "my-model",
            "cost:active-hours-per-day": "2",
            "cost:cmu": "4",
            "cost:model-copies": UNKNOWN_STRING,
        },
    )
    requests = {"cost:monthly-get-requests": "0", "cost:monthly-put-requests": "0"}
    bucket = bucket_with_lifecycle(
        [{**RULE, "expiration": None}], **requests, **{RETENTION: "lots"}
    )
    est = estimate([stage, model, *bucket], prices)
    rows = {
        (r.name, a.key): (a.value, a.source.value, a.detail)
        for r in est.resources
        for a in r.assumptions
        if a.source.value == "assumed"
    }
    assert rows == {
        ("dev", "cost:days-per-month"): (
            "30",
            "assumed",
            "days per month for cost:daily-requests; the declared cost:days-per-month could not "
            "be used",
        ),
        ("model", "cost:model-copies"): (
            "1",
            "assumed",
            "one model copy active at a time; the declared cost:model-copies could not be used",
        ),
        ("archive", "retention days"): (
            "365",
            "assumed",
            "archive-lifecycle has no expiration; the declared cost:retention-days could not be "
            "used",
        ),
    }
