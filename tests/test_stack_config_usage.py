"""Usage and budgets from stack config (``costline:usage``, ``costline:budget``): the CLI reads
them from ``Pulumi.<stack>.yaml``, the pack from ``ConfigureStack`` as the engine passes it (and
from ``PULUMI_CONFIG``, which engines up to about v3.260 also set).

The fixture (tests/fixtures/programs/stack-config-usage) has two x86 Lambdas, with the free tier
off so the figures are plain list prices ($0.20 per 1M requests, $0.0000166667 per GB-s):

* ``handler`` (512 MB) gets 2,000,000 requests × 1,000 ms from stack config:
  requests 2 × $0.20 = $0.40; duration 2,000,000 s × 0.5 GB = 1,000,000 GB-s = $16.6667.
* ``tagged`` (128 MB) has its own tags, which win over the stack config's 9,999,999:
  1,000,000 × $0.20/1M = $0.20; 1,000,000 × 0.1 s × 0.125 GB = 12,500 GB-s = $0.20833375.

Total $17.0667 + $0.40833375 = $17.47503375 → $17.48; the stack config's budget is $10.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from costline.cli.main import main
from costline.core.paths import data_dir
from costline.engine import EngineResource, PolicyPackProcess, make_urn
from tests.conftest import program_with_config

PROGRAM = Path(__file__).parent / "fixtures" / "programs" / "stack-config-usage"
FAST = ("--what-if", "none", "--no-recommendations", "--no-free-tier")
LAMBDA = "aws:lambda/function:Function"


def cli(*args: str):
    return CliRunner().invoke(main, [*args, str(PROGRAM), *FAST])


def test_estimate_takes_usage_from_stack_config_and_tags_win():
    result = cli("estimate", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    by_name = {r["name"]: r for r in report["resources"]}
    assert by_name["handler"]["monthly_usd"] == "17.0667"
    assert by_name["tagged"]["monthly_usd"] == "0.40833375"
    assert report["total_monthly_usd"] == "17.47503375"
    unmatched = [f for f in report["findings"] if f["code"] == "stack-usage-unmatched"]
    assert [f["message"] for f in unmatched] == [
        "Pulumi.dev.yaml: costline:usage.nowhere matches no resource of the stack; it is ignored"
    ]


def test_check_uses_the_stack_budget_unless_the_command_line_gives_one():
    over = cli("check")
    assert over.exit_code == 1, over.output
    assert over.stdout.splitlines()[0] == ("costline check FAILED: $17.48/month, budget $10.00")
    within = cli("check", "--budget", "17.48")
    assert within.exit_code == 0, within.output
    assert "budget $17.48" in within.stdout.splitlines()[0]


def stack(*resources: EngineResource) -> list[EngineResource]:
    return list(resources)


def lambda_(name: str, **props) -> EngineResource:
    return EngineResource(urn=make_urn(LAMBDA, name), properties={"memorySize": 512, **props})


@pytest.mark.parametrize(
    "how",
    [
        "configure-stack",  # v3.274: ConfigureStack's config, no environment
        "legacy-env",  # up to about v3.260: both
        "env-only",  # an engine whose ConfigureStack carries no config: PULUMI_CONFIG alone
    ],
)
def test_the_pack_reads_usage_and_budget_from_the_stack_config(how):
    config = {
        "costline:usage": json.dumps(
            {"handler": {"cost:monthly-requests": 2000000, "cost:avg-duration-ms": 1000}}
        ),
        "costline:budget": "10",
    }
    policy = {
        "stack-budget": {"enforcementLevel": "mandatory"},
        "cost-estimate": {"freeTier": False},
    }
    launch: dict = {
        "configure-stack": {"config": config},
        "legacy-env": {"config": config, "legacy_env": True},
        "env-only": {"env": {"PULUMI_CONFIG": json.dumps(config)}},
    }[how]
    with PolicyPackProcess(data_dir("policypack"), **launch) as pack:
        result = pack.run(stack(lambda_("handler")), policy)
    assert result.mandatory
    (violation,) = result.by_policy("stack-budget")
    assert "~$17.07/month is over the budget $10.00 by $7.07" in violation.message


def test_a_policy_budget_is_the_default_and_a_bad_stack_budget_is_said():
    config = {"costline:budget": "ten dollars"}
    policy = {"stack-budget": {"enforcementLevel": "mandatory", "monthlyBudgetUsd": 5}}
    with PolicyPackProcess(data_dir("policypack"), config=config) as pack:
        result = pack.run(
            stack(
                lambda_(
                    "handler",
                    tags={"cost:monthly-requests": "2000000", "cost:avg-duration-ms": "1000"},
                )
            ),
            {**policy, "cost-estimate": {"freeTier": False}},
        )
    (violation,) = result.by_policy("stack-budget")
    assert "over the budget $5.00" in violation.message
    texts = " ".join(v.message for v in result.violations)
    assert "costline:budget='ten dollars' is not a budget in USD; it is ignored" in texts


ENCRYPTED_USAGE = (
    "Pulumi.dev.yaml: costline:usage is encrypted (secure:, in whole or in part), and costline "
    "cannot decrypt it offline: the usage figures in it are unknown, so the estimate is incomplete"
)


def encrypted_program(tmp_path: Path, usage_yaml: str) -> Path:
    """The fixture's program with ``costline:usage`` as ``usage_yaml`` (holding ``secure:``)."""
    return program_with_config(
        PROGRAM, tmp_path, f"config:\n  aws:region: us-east-1\n  costline:usage:\n{usage_yaml}"
    )


@pytest.mark.parametrize(
    "usage_yaml",
    [
        "    secure: v1:AAAABBBBCCCCDDDD\n",  # pulumi config set --secret costline:usage ...
        "    handler:\n      cost:monthly-requests:\n        secure: v1:AAAABBBBCCCCDDDD\n"
        "      cost:avg-duration-ms: 1000\n",  # pulumi config set --path --secret ...
    ],
)
def test_an_encrypted_costline_usage_is_unknown_not_zero_and_says_how_to_pass_it(
    tmp_path, usage_yaml
):
    program = encrypted_program(tmp_path, usage_yaml)
    result = CliRunner().invoke(main, ["estimate", str(program), "--format", "json", *FAST])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    (finding,) = [f for f in report["findings"] if f["field"] == "costline:usage"]
    assert finding["code"] == "stack-usage-encrypted"
    assert finding["message"] == ENCRYPTED_USAGE
    assert "must map" not in result.stdout
    assert finding["suggestion"].startswith(
        "pass the figures unencrypted: as plain costline:usage in Pulumi.dev.yaml, as cost:* "
        "tags on the resources, or in a --usage-file"
    )
    assert "v1:AAAABBBBCCCCDDDD" not in result.stdout
    # the estimate is incomplete, with the stack's gap named; `tagged` is still priced in full
    assert report["complete"] is False
    assert (
        "the stack (costline:usage encrypted, not readable offline)"
        in (report["incomplete_summary"])
    )
    by_name = {r["name"]: r for r in report["resources"]}
    assert by_name["tagged"]["monthly_usd"] == "0.40833375"
    assert by_name["handler"]["status"] == "usage_missing"


def test_an_encrypted_costline_usage_fails_a_fail_closed_check(tmp_path):
    program = encrypted_program(tmp_path, "    secure: v1:AAAABBBBCCCCDDDD\n")
    result = CliRunner().invoke(
        main, ["check", str(program), *FAST, "--budget", "1000", "--fail-closed"]
    )
    assert result.exit_code == 1, result.output
    assert (
        "the stack: costline:usage encrypted, not readable offline, with no worst-case bound"
        in result.stdout
    )


def test_a_plain_costline_usage_has_no_encrypted_finding():
    result = cli("estimate", "--format", "json")
    assert "stack-usage-encrypted" not in result.stdout
    assert json.loads(result.stdout)["complete"] is True
