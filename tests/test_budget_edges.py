"""A $0 budget, through ``costline check`` and the pack over gRPC: nothing is a share of $0, so
a stack that shows $0.00 passes quietly (no warning at 80% of nothing) and any cent is over.

Figures by hand, as in test_budget_rule.py: S3 GETs at $0.0004 per 1,000, so 10,000 GETs cost
$0.004 (shown $0.00) and 25,000 GETs $0.01.
"""

from __future__ import annotations

import pytest

from tests.test_budget_rule import bucket, check


@pytest.mark.parametrize(
    ("usd", "verdict"),
    [
        ("0", "passed: $0.00/month, budget $0.00"),
        ("0.004", "passed: $0.00/month, budget $0.00"),  # shows as $0.00: within
        ("0.01", "FAILED: $0.01/month, budget $0.00"),
    ],
)
def test_zero_budget_in_check(tmp_path, usd, verdict):
    result = check(tmp_path, usd, "--budget", "0")
    assert result.exit_code == (1 if verdict.startswith("FAILED") else 0), result.output
    assert f"costline check {verdict}" in result.output
    assert "warning" not in result.output


@pytest.mark.parametrize(("usd", "over"), [("0", False), ("0.004", False), ("0.01", True)])
def test_zero_budget_in_the_pack(pack, usd, over):
    config = {"stack-budget": {"enforcementLevel": "mandatory", "monthlyBudgetUsd": 0}}
    result = pack.run([bucket(usd)], config)
    budget = [v.message for v in result.by_policy("stack-budget")]
    assert bool(result.mandatory) == over, budget
    if over:
        assert budget == [budget[0]] and "over the budget $0.00 by $0.01" in budget[0]
    else:
        assert budget == []
