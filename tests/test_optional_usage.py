"""An optional usage figure is never a silent $0: S3 transfer out
(``cost:monthly-transfer-out-gb``), S3 retrieval from colder classes
(``cost:monthly-retrieval-gb``) and a Lambda's INIT phase (``cost:init-duration-ms``).

Not declared, each is taken as 0 and the report's assumptions say so (source ``default``), in
markdown, HTML and JSON. Declared but unknown (an engine unknown on a first preview, or a tag map
not known until the update runs) or malformed, the estimate is incomplete, never $0 for it;
fail-closed, the INIT phase takes the 10 s INIT limit, and transfer out and retrieval (no bound)
fail the gate. Through ``costline estimate``/``check`` and the pack over the gRPC Analyzer
protocol.

Figures by hand, us-east-1 list prices:

* the bucket: 40 GB of Standard storage × $0.023 = $0.92, declared 0 GETs and 0 PUTs; 500 GB
  out to the internet: the first 100 GB a month are free, 400 GB × $0.09 = $36.00, so $36.92.
* the function: 1,024 MB x86_64, 1,000,000 requests of 1,000 ms: requests inside the free 1M;
  1,000,000 × 1 s × 1 GB = 1,000,000 GB-s - 400,000 free = 600,000 × $0.0000166667 = $10.00002
  → **$10.00**. With an 800 ms INIT at the default 1% of invocations: 10,000 cold starts ×
  0.8 s × 1 GB = 8,000 GB-s more, 608,000 × $0.0000166667 = $10.1333536 → **$10.13**.
  Fail-closed, an unknown INIT at its 10 s limit: 10,000 × 10 s × 1 GB = 100,000 GB-s more,
  700,000 × $0.0000166667 = $11.66669 → **$11.67**; an unknown cold-start share at 100% with
  an 800 ms INIT: 1,000,000 × 0.8 s × 1 GB = 800,000 GB-s more, 1,400,000 × $0.0000166667 =
  $23.33338 → **$23.33**.
* retrieval (the lifecycle of tests/test_s3_lifecycle.py: 150/335 of the colder data in
  Standard-IA at $0.01/GB, 185/335 in Deep Archive at $0.02/GB): 10 GB a month is
  10 × (150 × $0.01 + 185 × $0.02) / 335 = $52/335 (about $0.155).

The JSON report carries the exact totals ($10.00002 ...); the headlines round them to cents.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from costline.core.completeness import completeness
from costline.core.values import UNKNOWN_NUMBER, UNKNOWN_STRING
from costline.engine import secret
from costline.estimator.pipeline import EstimateOptions, estimate
from tests.conftest import costline_on
from tests.test_s3_lifecycle import RULE, bucket_with_lifecycle
from tests.test_verdicts import (
    BUCKET,
    LAMBDA,
    check,
    engine,
    estimate_json,
    gate,
    preview,
    stack_message,
)

TRANSFER = "cost:monthly-transfer-out-gb"
INIT = "cost:init-duration-ms"
RETRIEVAL = "cost:monthly-retrieval-gb"


def bucket(**tags) -> list:
    declared = {
        "cost:storage-gb": "40",
        "cost:monthly-get-requests": "0",
        "cost:monthly-put-requests": "0",
    }
    return [(BUCKET, "data", {"tags": {**declared, **tags}})]


def function(**tags) -> list:
    declared = {"cost:monthly-requests": "1000000", "cost:avg-duration-ms": "1000"}
    props = {"memorySize": 1024, "timeout": 30, "tags": {**declared, **tags}}
    return [(LAMBDA, "fn", props)]


def rows(report: dict, key: str) -> list[tuple[str, str, str | None]]:
    """The assumption rows for ``key``: (value, source, detail)."""
    return [
        (a["value"], a["source"], a["detail"])
        for r in report["resources"]
        for a in r["assumptions"]
        if a["key"] == key
    ]


# --- not declared: 0, and every report says so ------------------------------------------------
def test_undeclared_transfer_out_is_zero_and_says_so(tmp_path):
    report = estimate_json(tmp_path, bucket())
    assert report["total_monthly_usd"] == "0.92"
    assert report["complete"] is True
    assert rows(report, TRANSFER) == [
        ("0", "default", "GB/month: not declared, so no transfer out to the internet is priced")
    ]
    for fmt, row in (
        (
            "markdown",
            f"| data | {TRANSFER} | 0 (GB/month: not declared, so no transfer out to the "
            "internet is priced) | default |",
        ),
        (
            "html",
            f"<tr><td>data</td><td>{TRANSFER}</td><td>0 (GB/month: not declared, so no transfer "
            "out to the internet is priced)</td><td>default</td></tr>",
        ),
    ):
        shown = costline_on("estimate", preview(tmp_path, bucket()), "--format", fmt)
        assert shown.exit_code == 0, shown.output
        assert row in shown.output, shown.output


def test_declared_transfer_out_is_priced_from_the_tag(tmp_path):
    report = estimate_json(tmp_path, bucket(**{TRANSFER: "500"}))
    assert report["total_monthly_usd"] == "36.92"
    assert report["complete"] is True
    assert rows(report, TRANSFER) == [("500", "tag", "GB/month")]


def test_undeclared_init_is_zero_and_says_so_declared_is_priced(tmp_path):
    undeclared = estimate_json(tmp_path, function())
    assert undeclared["total_monthly_usd"] == "10.00002"
    assert undeclared["complete"] is True
    assert rows(undeclared, INIT) == [
        ("0", "default", "ms: not declared, so no INIT time for cold starts is priced")
    ]
    declared = estimate_json(tmp_path, function(**{INIT: "800"}))
    assert declared["total_monthly_usd"] == "10.1333536"
    assert declared["complete"] is True
    assert rows(declared, INIT) == [("800", "tag", "ms")]
    assert rows(declared, "cost:cold-start-percent")[0][:2] == ("1", "default")


def test_undeclared_retrieval_is_zero_only_where_there_is_colder_data(prices):
    with_colder = estimate(bucket_with_lifecycle([RULE]), prices)
    archive = next(r for r in with_colder.resources if r.name == "archive")
    assert [(a.value, a.source.value) for a in archive.assumptions if a.key == RETRIEVAL] == [
        ("0", "default")
    ]
    assert not [i for i in archive.line_items if i.price_id.startswith("s3.retrieval.")]
    # no lifecycle rule: all Standard, nothing to retrieve, so no row about it
    standard = estimate(bucket_with_lifecycle([{**RULE, "status": "Disabled"}]), prices)
    archive = next(r for r in standard.resources if r.name == "archive")
    assert not [a for a in archive.assumptions if a.key == RETRIEVAL]
    declared = estimate(bucket_with_lifecycle([RULE], **{RETRIEVAL: "10"}), prices)
    archive = next(r for r in declared.resources if r.name == "archive")
    retrieval = sum(
        (i.monthly_usd for i in archive.line_items if i.price_id.startswith("s3.retrieval.")), D(0)
    )
    assert abs(retrieval - D(52) / D(335)) < D("1e-20")
    assert [(a.value, a.source.value) for a in archive.assumptions if a.key == RETRIEVAL] == [
        ("10", "tag")
    ]


# --- declared but unknown or malformed: incomplete, never $0 ----------------------------------
@pytest.mark.parametrize(
    ("resources", "total", "gap"),
    [
        (bucket(**{TRANSFER: UNKNOWN_NUMBER}), "0.92", f"data ({TRANSFER} unknown)"),
        (bucket(**{TRANSFER: "lots"}), "0.92", f"data ({TRANSFER} invalid)"),
        (function(**{INIT: UNKNOWN_NUMBER}), "10.00002", f"fn ({INIT} unknown)"),
        (function(**{INIT: "-800"}), "10.00002", f"fn ({INIT} invalid)"),
        # the whole tag map unknown: the figure may be declared, so it is unknown, not 0
        (
            [(BUCKET, "data", {"tags": UNKNOWN_STRING})],
            "0",
            "data (cost:storage-gb unknown, cost:monthly-put-requests unknown, "
            f"cost:monthly-get-requests unknown, {TRANSFER} unknown)",
        ),
    ],
    ids=[
        "transfer-unknown",
        "transfer-malformed",
        "init-unknown",
        "init-malformed",
        "tags-unknown",
    ],
)
def test_an_unreadable_optional_figure_makes_the_estimate_incomplete(
    tmp_path, resources, total, gap
):
    report = estimate_json(tmp_path, resources)
    assert report["total_monthly_usd"] == total
    assert report["complete"] is False
    assert report["incomplete_summary"] == f"1 resource not fully priced: {gap}"
    # nothing is said to be 0 for it: the gap says it is not known
    assert not [r for k in (TRANSFER, INIT) for r in rows(report, k) if r[1] == "default"]


def test_an_unknown_retrieval_is_incomplete_and_has_no_bound(prices):
    requests = {"cost:monthly-get-requests": "0", "cost:monthly-put-requests": "0"}
    stack = bucket_with_lifecycle([RULE], **requests, **{RETRIEVAL: UNKNOWN_NUMBER})
    open_ = completeness(estimate(stack, prices))
    assert open_.summary() == f"1 resource not fully priced: archive ({RETRIEVAL} unknown)"
    closed = completeness(estimate(stack, prices, EstimateOptions(fail_closed=True)))
    assert closed.summary() == f"1 resource not fully priced: archive ({RETRIEVAL} unknown)"
    assert closed.bounded == ()


def test_a_secret_init_is_priced_and_never_shown(prices):
    from costline.core.model import Resource

    props = {
        "memorySize": 1024,
        "timeout": 30,
        "tags": {
            "cost:monthly-requests": "1000000",
            "cost:avg-duration-ms": "1000",
            INIT: secret("800"),
        },
    }
    fn = Resource.from_engine(
        urn=f"urn:pulumi:dev::p::{LAMBDA}::fn", type=LAMBDA, name="fn", properties=props
    )
    est = estimate([fn], prices)
    assert est.total_monthly_usd.quantize(D("0.01")) == D("10.13")
    (resource,) = est.resources
    assert [(a.value, a.source.value) for a in resource.assumptions if a.key == INIT] == [
        ("[secret]", "tag")
    ]
    assert "800" not in " ".join(i.note or "" for i in resource.line_items)


# --- fail-closed: the INIT limit, or the gate fails -------------------------------------------
def test_check_fail_closed_prices_an_unknown_init_at_its_limit(tmp_path):
    resources = function(**{INIT: UNKNOWN_NUMBER})
    open_ = check(tmp_path, resources, "--budget", "11")
    assert open_.exit_code == 0, open_.output
    assert (
        "costline check passed with a warning, but the estimate is incomplete: $10.00/month + 1 "
        "resource not "
        f"fully priced: fn ({INIT} unknown), budget $11.00"
    ) in open_.output
    closed = check(tmp_path, resources, "--budget", "11", "--fail-closed")
    assert closed.exit_code == 1, closed.output
    assert (
        f"costline check FAILED: $11.67/month, including 1 resource priced at worst-case bounds: "
        f"fn ({INIT} at its bound 10000), budget $11.00"
    ) in closed.output
    met = check(tmp_path, resources, "--budget", "12", "--fail-closed")
    assert met.exit_code == 0, met.output


def test_fail_closed_prices_an_unknown_cold_start_share_at_every_invocation(tmp_path):
    report = estimate_json(
        tmp_path,
        function(**{INIT: "800", "cost:cold-start-percent": UNKNOWN_NUMBER}),
        "--fail-closed",
    )
    assert report["total_monthly_usd"] == "23.33338"
    assert report["complete"] is True
    assert [g["field"] for g in report["bounded"]] == ["tags.cost:cold-start-percent"]


def test_check_fail_closed_fails_on_an_unknown_transfer_out_with_no_bound(tmp_path):
    resources = bucket(**{TRANSFER: UNKNOWN_NUMBER})
    closed = check(tmp_path, resources, "--budget", "100", "--fail-closed")
    assert closed.exit_code == 1, closed.output
    assert f"data: {TRANSFER} unknown, with no worst-case bound" in closed.output
    declared = check(tmp_path, bucket(**{TRANSFER: "500"}), "--budget", "100", "--fail-closed")
    assert declared.exit_code == 0, declared.output
    assert "costline check passed: $36.92/month, budget $100.00" in declared.output


# --- the pack over the gRPC Analyzer protocol --------------------------------------------------
def test_the_pack_says_an_unknown_init_is_not_known_then_bounds_it(pack):
    unknown = function(**{INIT: UNKNOWN_NUMBER})
    open_ = pack.run(engine(unknown), gate(11, fail_closed=False))
    assert not open_.mandatory
    assert (
        f"Stack total ~$10.00/month + 1 resource not fully priced: fn ({INIT} unknown)"
        in stack_message(open_)
    )
    usage = [v.message for v in open_.by_policy("usage-tags")]
    assert any(f"{INIT} is not known until the update runs" in m for m in usage), usage
    closed = pack.run(engine(unknown), gate(11, fail_closed=True))
    (violation,) = closed.by_policy("stack-budget")
    assert violation.enforcement_level == "mandatory"
    assert (
        f"~$11.67/month, including 1 resource priced at worst-case bounds: fn ({INIT} at its "
        "bound 10000), is over the budget $11.00 by $0.67"
    ) in violation.message
    undeclared = pack.run(engine(function()), gate(11, fail_closed=True))
    assert not undeclared.mandatory
    assert "Stack total ~$10.00/month (budget" in stack_message(undeclared)
    assert "not fully priced" not in stack_message(undeclared)


def test_the_pack_fails_closed_on_an_unknown_transfer_out(pack):
    unknown = bucket(**{TRANSFER: UNKNOWN_NUMBER})
    open_ = pack.run(engine(unknown), gate(100, fail_closed=False))
    assert not open_.mandatory
    assert (
        f"Stack total ~$0.92/month + 1 resource not fully priced: data ({TRANSFER} unknown)"
        in stack_message(open_)
    )
    closed = pack.run(engine(unknown), gate(100, fail_closed=True))
    assert closed.mandatory
    (violation,) = closed.by_policy("stack-budget")
    assert (
        f"1 resource not fully priced: data ({TRANSFER} unknown): failClosed cannot check the "
        "budget $100.00"
    ) in violation.message


def test_the_packs_worst_case_config_can_bound_transfer_out(pack):
    """``worstCase`` gives a figure without a documented bound one: 1,000 GB out, 900 above the
    free 100 GB × $0.09 = $81.00, plus the $0.92 of storage."""
    config = gate(50, fail_closed=True)
    config["usage-tags"]["worstCase"] = {TRANSFER: 1000}
    closed = pack.run(engine(bucket(**{TRANSFER: UNKNOWN_NUMBER})), config)
    (violation,) = closed.by_policy("stack-budget")
    assert (
        f"~$81.92/month, including 1 resource priced at worst-case bounds: data ({TRANSFER} at "
        "its bound 1000), is over the budget $50.00 by $31.92"
    ) in violation.message


# --- a setting the resource does not declare says so too: a REST stage's cache ------------------
def test_a_stage_cache_flag_always_has_a_row(prices):
    """Not set: AWS's default, off (a default row); set: the property; unknown: assumed off
    (fail-open), a gap."""
    from costline.core.model import Resource

    def stage(**props) -> Resource:
        return Resource.from_engine(
            urn="urn:pulumi:dev::p::aws:apigateway/stage:Stage::dev",
            type="aws:apigateway/stage:Stage",
            name="dev",
            properties=props,
        )

    def flag_rows(est):
        (resource,) = est.resources
        return [
            (a.value, a.source.value)
            for a in resource.assumptions
            if a.key == "cacheClusterEnabled"
        ]

    assert flag_rows(estimate([stage()], prices)) == [("false", "default")]
    assert flag_rows(estimate([stage(cacheClusterEnabled=False)], prices)) == [
        ("false", "property")
    ]
    unknown = estimate([stage(cacheClusterEnabled=UNKNOWN_STRING)], prices)
    assert flag_rows(unknown) == [("false", "assumed")]
    assert completeness(unknown).summary() == (
        "1 resource not fully priced: dev (cacheClusterEnabled unknown)"
    )


# --- the request size of an HTTP or WebSocket API -----------------------------------------------
@pytest.mark.parametrize(
    ("props", "tags", "open_usd", "closed_usd", "bound"),
    [
        # 1M requests × 1 increment × $1.00/M = $1.00 fail-open; fail-closed the largest
        # payload, 10 MB = 20 increments of 512 KB: $20.00
        ({"protocolType": "HTTP"}, {"cost:monthly-requests": "1000000"}, "1", "20", "10240"),
        # 1M messages × $1.00/M and 0 connection minutes: $1.00; fail-closed 128 KB = 4
        # increments of 32 KB: $4.00
        (
            {"protocolType": "WEBSOCKET"},
            {"cost:monthly-messages": "1000000", "cost:monthly-connection-minutes": "0"},
            "1",
            "4",
            "128",
        ),
    ],
    ids=["http", "websocket"],
)
def test_an_unknown_request_size_is_a_gap_then_the_largest_payload(
    prices, props, tags, open_usd, closed_usd, bound
):
    from costline.core.model import Resource

    api = Resource.from_engine(
        urn="urn:pulumi:dev::p::aws:apigatewayv2/api:Api::api",
        type="aws:apigatewayv2/api:Api",
        name="api",
        properties={**props, "tags": {**tags, "cost:avg-request-kb": UNKNOWN_NUMBER}},
    )
    open_ = estimate([api], prices, EstimateOptions(free_tier=False))
    assert open_.total_monthly_usd == D(open_usd)
    assert completeness(open_).summary() == (
        "1 resource not fully priced: api (cost:avg-request-kb unknown)"
    )
    closed = estimate([api], prices, EstimateOptions(free_tier=False, fail_closed=True))
    assert closed.total_monthly_usd == D(closed_usd)
    assert completeness(closed).bounded_summary() == (
        f"1 resource priced at worst-case bounds: api (cost:avg-request-kb at its bound {bound})"
    )
