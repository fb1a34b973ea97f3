"""The one budget rule (costline.review.budget), pinned on both sides of every boundary through
both entry points: ``costline check`` and the policy pack over the gRPC Analyzer protocol.

The rule: every amount is rounded half-up to the cent, then compared exactly. Every expected
figure below is worked out by hand from the us-east-1 list prices:
S3 GET/SELECT requests $0.0004 per 1,000 (so 2,500 GETs = $0.001, 25,000 GETs = one cent);
Lambda $0.20 per 1M requests and $0.0000166667 per GB-second (x86_64, first tier).
"""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path

import pytest
from click.testing import CliRunner

from costline.cli.main import main
from costline.engine import EngineResource, make_urn
from tests.conftest import costline_on, preview_file

BUCKET = "aws:s3/bucket:Bucket"
LAMBDA = "aws:lambda/function:Function"
GET_PRICE_PER_1000 = D("0.0004")


def gets_for(usd: str) -> int:
    """How many GET requests cost exactly ``usd`` at $0.0004 per 1,000."""
    count = D(usd) / GET_PRICE_PER_1000 * 1000
    assert count == count.to_integral_value()
    return int(count)


def bucket_tags(usd: str) -> dict[str, str]:
    return {
        "cost:storage-gb": "0",
        "cost:monthly-get-requests": str(gets_for(usd)),
        "cost:monthly-put-requests": "0",
    }


def preview_of(tmp_path: Path, usd: str) -> Path:
    """A `pulumi preview --json` file with one bucket costing exactly ``usd`` a month."""
    return preview_file(tmp_path, [(BUCKET, "data", {"tags": bucket_tags(usd)})], project="budget")


def check(tmp_path: Path, usd: str, *args: str):
    return costline_on("check", preview_of(tmp_path, usd), *args)


def bucket(usd: str) -> EngineResource:
    return EngineResource(urn=make_urn(BUCKET, "data"), properties={"tags": bucket_tags(usd)})


# --- stack budget --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("usd", "passes"),
    [
        ("100.00", True),  # exactly the budget: within
        ("100.004", True),  # shows as $100.00: within
        ("100.005", False),  # shows as $100.01: over by a cent
        ("100.01", False),
    ],
)
def test_stack_budget_boundary_in_check(tmp_path, usd, passes):
    result = check(tmp_path, usd, "--budget", "100")
    assert result.exit_code == (0 if passes else 1), result.output
    if passes:
        assert (
            "costline check passed with a warning: $100.00/month, budget $100.00" in result.output
        )
    else:
        assert "costline check FAILED: $100.01/month, budget $100.00" in result.output
        assert "is over the budget $100.00 by $0.01" in result.output


@pytest.mark.parametrize(
    ("usd", "passes"), [("100.00", True), ("100.004", True), ("100.01", False)]
)
def test_stack_budget_boundary_in_the_pack(pack, usd, passes):
    result = pack.run(
        [bucket(usd)],
        {"stack-budget": {"enforcementLevel": "mandatory", "monthlyBudgetUsd": 100}},
    )
    assert result.mandatory is not passes
    (violation,) = result.by_policy("stack-budget")
    if passes:
        assert violation.enforcement_level == "advisory"
        assert "~$100.00/month is 100% of the budget $100.00 (warning at 80%)" in violation.message
    else:
        assert violation.enforcement_level == "mandatory"
        assert "~$100.01/month is over the budget $100.00 by $0.01" in violation.message


# --- warn-at percent -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("usd", "warns", "shown_percent"),
    [
        ("79.99", False, None),  # 79.99% of $100: below 80%
        ("79.994", False, None),  # shows as $79.99
        ("79.995", True, "80"),  # shows as $80.00
        ("80.00", True, "80"),
    ],
)
def test_warn_at_percent_boundary_in_check(tmp_path, usd, warns, shown_percent):
    result = check(tmp_path, usd, "--budget", "100", "--warn-at-percent", "80")
    assert result.exit_code == 0, result.output
    expected = "passed with a warning" if warns else "passed"
    shown = "$80.00" if warns else "$79.99"
    assert f"costline check {expected}: {shown}/month, budget $100.00" in result.output


@pytest.mark.parametrize(("usd", "warns"), [("79.99", False), ("79.995", True), ("80.00", True)])
def test_warn_at_percent_boundary_in_the_pack(pack, usd, warns):
    result = pack.run(
        [bucket(usd)],
        {
            "stack-budget": {
                "enforcementLevel": "mandatory",
                "monthlyBudgetUsd": 100,
                "warnAtPercent": 80,
            }
        },
    )
    assert not result.mandatory
    warnings = result.by_policy("stack-budget")
    if warns:
        (warning,) = warnings
        assert warning.enforcement_level == "advisory"
        assert "~$80.00/month is 80% of the budget $100.00 (warning at 80%)" in warning.message
    else:
        assert warnings == []


def test_check_and_pack_agree_on_the_warning_the_issue_found(tmp_path, pack):
    """At $79.95 with a $100 budget and warning at 80%, `check` used to warn (its 79.95% showed
    as 80.0%) and the pack did not: both now stay quiet."""
    result = check(tmp_path, "79.95", "--budget", "100", "--warn-at-percent", "80")
    assert "costline check passed: $79.95/month, budget $100.00" in result.output
    config = {"stack-budget": {"monthlyBudgetUsd": 100, "warnAtPercent": 80}}
    assert pack.run([bucket("79.95")], config).by_policy("stack-budget") == []


# --- resource budget (the pack) ------------------------------------------------------------
@pytest.mark.parametrize(("usd", "over"), [("10.00", None), ("10.004", None), ("10.01", "$0.01")])
def test_resource_budget_boundary(pack, usd, over):
    result = pack.run(
        [bucket(usd)],
        {"resource-budget": {"enforcementLevel": "mandatory", "maxMonthlyUsd": 10}},
    )
    violations = result.by_policy("resource-budget")
    if over is None:
        assert violations == [] and not result.mandatory
    else:
        (violation,) = violations
        assert violation.enforcement_level == "mandatory"
        assert f"over its budget $10.00 by {over}" in violation.message


@pytest.mark.parametrize(("usd", "over"), [("10.00", None), ("10.004", None), ("10.01", "$0.01")])
def test_resource_budget_boundary_in_check(tmp_path, usd, over):
    result = check(tmp_path, usd, "--max-resource-usd", "10")
    assert result.exit_code == (0 if over is None else 1), result.output
    if over is not None:
        assert f"data costs ~$10.01/month, over its budget $10.00 by {over}" in result.output


# --- Lambda worst case (the pack) ----------------------------------------------------------
def worst_case_lambda() -> EngineResource:
    """1,000,000 requests at 1,024 MB (1 GB), 108 ms on average, 1 s timeout, no free tier:
    requests $0.20; expected duration 1,000,000 × 0.108 s × 1 GB = 108,000 GB-s × $0.0000166667
    = $1.8000036, total $2.0000036 → $2.00; worst case 1,000,000 GB-s = $16.6667, total
    $16.8667 → $16.87. Shown worst ÷ shown expected = 16.87 / 2.00 = 8.435."""
    return EngineResource(
        urn=make_urn(LAMBDA, "fn"),
        properties={
            "memorySize": 1024,
            "timeout": 1,
            "tags": {"cost:monthly-requests": "1000000", "cost:avg-duration-ms": "108"},
        },
    )


@pytest.mark.parametrize(("multiple", "flagged"), [("8.435", False), ("8.43", True)])
def test_worst_case_multiple_boundary(pack, multiple, flagged):
    result = pack.run(
        [worst_case_lambda()],
        {
            "cost-estimate": {"freeTier": False},
            "lambda-worst-case": {
                "enforcementLevel": "mandatory",
                "maxMultipleOfExpected": float(multiple),
            },
        },
    )
    violations = result.by_policy("lambda-worst-case")
    assert result.mandatory is flagged
    if flagged:
        (violation,) = violations
        assert (
            "would cost ~$16.87/month, 8.4× its expected $2.00 (limit 8.43×)" in violation.message
        )
    else:
        assert violations == []


def lambda_preview(tmp_path: Path) -> Path:
    """:func:`worst_case_lambda` as a `pulumi preview --json` file."""
    fn = worst_case_lambda()
    step = {
        "op": "create",
        "urn": fn.urn,
        "newState": {"urn": fn.urn, "type": LAMBDA, "custom": True, "inputs": fn.properties},
    }
    path = tmp_path / "lambda-preview.json"
    path.write_text(json.dumps({"steps": [step]}))
    return path


@pytest.mark.parametrize(("multiple", "flagged"), [("8.435", False), ("8.43", True)])
def test_worst_case_multiple_boundary_in_check(tmp_path, multiple, flagged):
    result = CliRunner().invoke(
        main,
        [
            "check",
            "--from-preview",
            str(lambda_preview(tmp_path)),
            "--no-free-tier",
            "--what-if",
            "none",
            "--no-recommendations",
            "--max-worst-case-multiple",
            multiple,
        ],
    )
    assert result.exit_code == (1 if flagged else 0), result.output
    assert (
        "costline check " + ("FAILED" if flagged else "passed") + ": $2.00/month" in result.output
    )
    if flagged:
        assert "would cost ~$16.87/month, 8.4× its expected $2.00 (limit 8.43×)" in result.output


@pytest.mark.parametrize(("percent", "flagged"), [("16.87", False), ("16.86", True)])
def test_worst_case_percent_of_budget_boundary(pack, percent, flagged):
    """$16.87 is 16.87% of a $100 budget."""
    result = pack.run(
        [worst_case_lambda()],
        {
            "cost-estimate": {"freeTier": False},
            "stack-budget": {"monthlyBudgetUsd": 100},
            "lambda-worst-case": {
                "enforcementLevel": "mandatory",
                "maxMultipleOfExpected": 100,
                "maxPercentOfBudget": float(percent),
            },
        },
    )
    violations = result.by_policy("lambda-worst-case")
    assert result.mandatory is flagged
    if flagged:
        (violation,) = violations
        assert "more than 16.86% of the stack budget $100.00" in violation.message
    else:
        assert violations == []


# --- max increase (check, against a baseline) ----------------------------------------------
def baseline_report(tmp_path: Path, usd: str) -> Path:
    result = costline_on("estimate", preview_of(tmp_path, usd), "--format", "json")
    assert result.exit_code == 0, result.output
    path = tmp_path / "baseline.json"
    path.write_text(result.output)
    return path


OVER_DOLLARS = "the increase $10.01/month over the baseline is more than the $10.00"
OVER_PERCENT = "the increase (+10.01%) over the baseline $100.00 is more than the 10%"


@pytest.mark.parametrize(
    ("limit", "usd", "broken"),
    [
        # at most $10 more: $110.004 shows as $110.00 (+$10.00), $110.005 as $110.01 (+$10.01)
        ("--max-increase", "110.00", None),
        ("--max-increase", "110.004", None),
        ("--max-increase", "110.005", OVER_DOLLARS),
        ("--max-increase", "110.01", OVER_DOLLARS),
        # at most 10% more: $110.00 is +10% exactly, $110.01 is +10.01%
        ("--max-increase-percent", "110.00", None),
        ("--max-increase-percent", "110.01", OVER_PERCENT),
    ],
)
def test_max_increase_boundary(tmp_path, limit, usd, broken):
    """Baseline $100.00; at most 10 (dollars or percent) more per change."""
    base = baseline_report(tmp_path, "100.00")
    result = check(tmp_path, usd, "--baseline", str(base), limit, "10")
    assert result.exit_code == (1 if broken else 0), result.output
    if broken:
        assert broken in result.output
    else:
        assert "is more than" not in result.output
