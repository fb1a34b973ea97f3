"""Usage and budgets from stack config reach the pack in the real Pulumi engine.

The engine (v3.274) passes a policy pack the stack's config only in ``ConfigureStack`` (config
and the names of its secret keys), not in the environment. The program is the multi-stack
example's ingest project, which declares no ``cost:*`` tags: every figure comes from
``costline:usage`` in ``Pulumi.dev.yaml``. By hand (us-east-1 list prices, free tier on):

* S3: 200 GB × $0.023 = $4.60; 300,000 PUT × $0.005/1,000 = $1.50; 300,000 GET × $0.0004/1,000
  = $0.12 → $6.22
* Lambda (arm64, 1,024 MB): 300,000 × 1.5 s × 1 GB = 450,000 GB-s, 50,000 past the 400,000 free
  × $0.0000133334 = $0.66667; 300,000 requests inside the free million → $0.67
* total $6.88667, shown $6.89; the stack's `costline:budget` is $25.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.pulumi_cli import REPO, Workspace

pytestmark = pytest.mark.e2e

INGEST = REPO / "examples" / "multi-stack" / "ingest"


def policy(tmp_path: Path, config: dict) -> Path:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(config))
    return path


@pytest.fixture(scope="module")
def workspace(pulumi_bin, tmp_path_factory) -> Workspace:
    ws = Workspace.create(tmp_path_factory.mktemp("ingest"), pulumi_bin, project=INGEST, main=None)
    (ws.root / "Pulumi.prod.yaml").unlink()  # one stack here
    return ws


def test_usage_and_budget_from_stack_config_reach_the_pack(workspace, tmp_path):
    mandatory = policy(tmp_path, {"stack-budget": {"enforcementLevel": "mandatory"}})
    result = workspace.preview(config=mandatory)
    assert result.returncode == 0, result
    assert "~$6.89/month" in result.stdout, result  # priced from costline:usage, not missing
    assert " 0 missing usage" in result.stdout, result
    assert "of budget $25.00" in result.stdout or "budget $25.00" in result.stdout, result

    workspace.run("config", "set", "costline:budget", "6.88", check=True)
    over = workspace.preview(config=mandatory)
    assert over.returncode != 0, over  # the stack's own budget, mandatory: blocks
    assert "over the budget $6.88 by $0.01" in over.stdout, over
    workspace.run("config", "set", "costline:budget", "6.89", check=True)
    within = workspace.preview(config=mandatory)
    assert within.returncode == 0, within  # $6.88667 is within $6.89
    workspace.run("config", "set", "costline:budget", "25", check=True)


def test_a_secret_usage_figure_prices_the_stack_and_is_never_shown(workspace, tmp_path):
    lines = policy(tmp_path, {"cost-estimate": {"resourceLinesAboveUsd": 0}})
    workspace.run(
        "config",
        "set",
        "--secret",
        "--path",
        'costline:usage.uploads["cost:storage-gb"]',
        "4321",
        check=True,
    )
    try:
        result = workspace.preview(config=lines)
    finally:
        workspace.run(
            "config",
            "set",
            "--path",
            'costline:usage.uploads["cost:storage-gb"]',
            "200",
            check=True,
        )
    assert result.returncode == 0, result
    assert "4321" not in result.stdout + result.stderr
    assert "4,321" not in result.stdout + result.stderr
    # 4,321 GB × $0.023 = $99.383 + $1.62 requests = $101.00 for the bucket, priced from the secret
    assert "uploads (aws:s3" in result.stdout and "~$101.00/month" in result.stdout, result
