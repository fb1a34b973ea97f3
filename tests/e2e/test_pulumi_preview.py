"""`pulumi preview --policy-pack policypack` in the real Pulumi engine, end to end.

The reference program (repo root Pulumi.yaml + program/) on a local file backend with the test
AWS provider: a first preview (nothing deployed), `pulumi up`, then a second preview of the
stack that exists. Expected figures are worked out by hand from the list prices (us-east-1):

* Bedrock deepseek.r1-v1:0: 30,000 calls × (500 × $1.35 + 500 × $5.40) / 1M tokens = $101.25
* S3: 40 GB × $0.023 = $0.92, 30,000 GET × $0.0004/1,000 = $0.012, 100 PUT × $0.005/1,000
  = $0.0005 → $0.9325, shown $0.93
* API Gateway REST: 30,000 × $3.50 / 1M = $0.105, shown $0.11
* Lambda: 30,000 × 1 s × 0.5 GB = 15,000 GB-s, inside the 400,000 GB-s free tier → $0.00
* total $102.2875, shown $102.29; a $50 budget is exceeded by $52.29.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from tests.e2e.pulumi_cli import REPO, Workspace

pytestmark = pytest.mark.e2e

TOTAL = Decimal("101.25") + Decimal("0.9325") + Decimal("0.105") + Decimal("0")
SHOWN_TOTAL = f"${TOTAL.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}"  # $102.29
RESOURCE_LINES = {
    # (type as the engine displays it, name) → the cost shown on the resource's line
    ("aws:bedrock:InferenceProfile", "model"): "~$101.25/month",
    ("aws:s3:Bucket", "artifacts"): "~$0.93/month",
    ("aws:lambda:Function", "api-handler"): "~$0.00/month",
    ("aws:apigateway:Stage", "dev"): "~$0.11/month",
}
STACK = "(pulumi:pulumi:Stack: costline-reference-dev)"
# On a first preview pulumi-aws leaves the Lambda's unset Optional+Computed ephemeralStorage
# unknown (the test provider does the same); the pack still prices the line fully, with AWS's
# default, as it does once the stack exists.
LAMBDA_LINE = (
    "api-handler (aws:lambda:Function): ~$0.00/month — 30,000 req × 1,000 ms × 512 MB, "
    "inside free tier\n"
)


def costline_estimate_total() -> Decimal:
    """The stack total `costline estimate` gives for the same program (under mocks)."""
    done = subprocess.run(
        [str(Path(sys.executable).with_name("costline")), "estimate", "--format", "json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return Decimal(json.loads(done.stdout)["total_monthly_usd"])


def policy_block(output: str) -> str:
    """The `Policies:` section of the preview display."""
    assert "Policies:" in output, output
    return output[output.index("Policies:") :]


def stack_total(output: str) -> str:
    match = re.search(r"Stack total ~(\$[0-9,.]+)/month", output)
    assert match, output
    return match.group(1)


def write_config(tmp_path: Path, name: str, config: dict) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(config))
    return path


@pytest.fixture(scope="module")
def workspace(pulumi_bin, tmp_path_factory) -> Workspace:
    return Workspace.create(tmp_path_factory.mktemp("reference"), pulumi_bin)


@pytest.fixture(scope="module")
def lines_config(tmp_path_factory) -> Path:
    """Advisory pack config that also asks for every priced resource's cost line."""
    folder = tmp_path_factory.mktemp("config")
    return write_config(folder, "lines.json", {"cost-estimate": {"resourceLinesAboveUsd": 0}})


@pytest.fixture(scope="module")
def first_preview(workspace, lines_config):
    """Before anything is deployed: advisory policies, every resource's line asked for."""
    return workspace.preview(config=lines_config)


def test_by_default_a_first_preview_shows_one_cost_line(workspace, first_preview):
    result = workspace.preview()
    assert result.returncode == 0, result
    block = policy_block(result.stdout)
    assert block.count("- [advisory]  cost-estimate") == 1, block
    assert f"- [advisory]  cost-estimate  {STACK}" in block, block
    assert "Top cost drivers: model $101.25, artifacts $0.93, dev $0.11" in block, block
    assert stack_total(result.stdout) == SHOWN_TOTAL


@pytest.fixture(scope="module")
def deployed(workspace, first_preview):
    """`pulumi up` with the test provider, after the first-preview tests took their preview."""
    return workspace.up()


def test_first_preview_shows_each_priced_resource_and_the_stack_total(first_preview):
    assert first_preview.returncode == 0, first_preview
    block = policy_block(first_preview.stdout)
    assert "⚠️ costline@v0.1.0 (local: policypack)" in block
    for (type_token, name), cost in RESOURCE_LINES.items():
        assert f"- [advisory]  cost-estimate  ({type_token}: {name})" in block, (type_token, block)
        assert cost in block, (name, cost, block)
    assert f"- [advisory]  cost-estimate  {STACK}" in block, block


def test_first_preview_total_matches_costline_estimate(first_preview):
    assert stack_total(first_preview.stdout) == SHOWN_TOTAL
    assert costline_estimate_total() == TOTAL


def test_first_preview_prices_the_lambda_fully_despite_its_unknown_storage(first_preview):
    block = policy_block(first_preview.stdout)
    assert LAMBDA_LINE in block, block
    assert "partly priced" not in block


def test_preview_json_read_back_by_costline_gives_the_same_total(workspace, tmp_path):
    """`pulumi preview --json` of the real engine, read by `costline estimate --from-preview`."""
    result = workspace.preview("--json", pack=None)
    assert result.returncode == 0, result
    preview = tmp_path / "preview.json"
    preview.write_text(result.stdout)
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("costline")),
            "estimate",
            "--from-preview",
            str(preview),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert Decimal(json.loads(done.stdout)["total_monthly_usd"]) == TOTAL


def test_mandatory_budget_fails_the_preview_with_the_violation(workspace, tmp_path):
    config = write_config(
        tmp_path,
        "budget.json",
        {"stack-budget": {"enforcementLevel": "mandatory", "monthlyBudgetUsd": 50}},
    )
    result = workspace.preview(config=config)
    assert result.returncode != 0, result
    block = policy_block(result.stdout)
    assert f"- [mandatory]  stack-budget  {STACK}" in block, block
    assert f"Stack cost ~{SHOWN_TOTAL}/month is over the budget $50.00 by $52.29." in block, block


def test_advisory_budget_only_warns(workspace, tmp_path):
    config = write_config(
        tmp_path,
        "budget.json",
        {"stack-budget": {"enforcementLevel": "advisory", "monthlyBudgetUsd": 50}},
    )
    result = workspace.preview(config=config)
    assert result.returncode == 0, result
    block = policy_block(result.stdout)
    assert f"- [advisory]  stack-budget  {STACK}" in block, block
    assert "is over the budget $50.00 by $52.29" in block


def test_budget_above_the_total_raises_nothing(workspace, tmp_path):
    config = write_config(
        tmp_path,
        "budget.json",
        {"stack-budget": {"enforcementLevel": "mandatory", "monthlyBudgetUsd": 200}},
    )
    result = workspace.preview(config=config)
    assert result.returncode == 0, result
    assert "stack-budget" not in policy_block(result.stdout)


def test_all_mandatory_blocks_on_the_budget_but_not_on_the_estimate(workspace, tmp_path):
    config = write_config(
        tmp_path, "all.json", {"all": "mandatory", "stack-budget": {"monthlyBudgetUsd": 50}}
    )
    result = workspace.preview(config=config)
    assert result.returncode != 0, result
    block = policy_block(result.stdout)
    assert f"- [mandatory]  stack-budget  {STACK}" in block, block
    assert f"- [advisory]  cost-estimate  {STACK}" in block, block
    assert "[mandatory]  cost-estimate" not in block


def test_second_preview_of_the_deployed_stack(workspace, deployed, lines_config):
    result = workspace.preview(config=lines_config)
    assert result.returncode == 0, result
    block = policy_block(result.stdout)
    for (type_token, name), cost in RESOURCE_LINES.items():
        assert f"- [advisory]  cost-estimate  ({type_token}: {name})" in block, (type_token, block)
        assert cost in block, (name, cost, block)
    assert stack_total(result.stdout) == SHOWN_TOTAL
    # the deployed state holds the provider's values: nothing is unknown any more
    assert LAMBDA_LINE in block and "partly priced" not in block
    # nothing changed since `pulumi up`: no resource to create, update or replace
    assert re.search(r"\b(\d+) unchanged\b", result.stdout), result.stdout
    assert not re.search(r"\b\d+ to (create|update|replace)\b", result.stdout), result.stdout
