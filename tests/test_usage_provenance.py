"""Where each usage figure came from, and which source wins when they disagree.

Precedence, highest first (README, "Usage without tags"): a ``cost:*`` tag on the resource (its
own ``tags`` or a provider default tag in ``tagsAll``); ``costline:usage`` in stack config; the
``--usage-file`` (CLI only: the pack has no usage file). Every figure's source is shown: in the
JSON report's ``assumptions[].source`` and ``origin``, in the markdown and HTML assumptions, in
the pack's resource lines and its usage findings.

The fixture (tests/fixtures/programs/usage-precedence) has two x86 Lambdas of 128 MB (0.125 GB);
with the free tier off, requests are $0.20 per 1M and duration $0.0000166667 per GB-s:

* the tag (``tagged`` only): 1,000,000 requests × 100 ms → $0.20 + 12,500 GB-s = $0.20833375,
  $0.40833375 in all;
* stack config (stack ``configured``, both Lambdas): 3,000,000 × 200 ms → $0.60 +
  75,000 GB-s = $1.2500025, $1.8500025 in all;
* the usage file (both Lambdas): 5,000,000 × 300 ms → $1.00 + 187,500 GB-s = $3.12500625,
  $4.12500625 in all.
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

PROGRAM = Path(__file__).parent / "fixtures" / "programs" / "usage-precedence"
USAGE_FILE = PROGRAM / "infracost-usage.yml"
FAST = ("--what-if", "none", "--no-recommendations", "--no-free-tier")
LAMBDA = "aws:lambda/function:Function"

TAG = ("1000000", "100", "0.40833375")
CONFIG = ("3000000", "200", "1.8500025")
FILE = ("5000000", "300", "4.12500625")


def estimate(stack: str, *extra: str, fmt: str = "json"):
    result = CliRunner().invoke(
        main, ["estimate", str(PROGRAM), "--stack", stack, "--format", fmt, *FAST, *extra]
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def resources(stack: str, *extra: str) -> dict[str, dict]:
    report = json.loads(estimate(stack, *extra))
    return {r["name"]: r for r in report["resources"]}


def inputs(resource: dict) -> dict[str, tuple[str, str, str | None]]:
    """The usage figures declared or flowed in: key → (value, source, origin) (not the
    optional figures taken as 0 because nothing declares them, source ``default``)."""
    return {
        a["key"]: (a["value"], a["source"], a["origin"])
        for a in resource["assumptions"]
        if a["key"].startswith("cost:") and a["source"] != "default"
    }


def assert_figures(
    resource: dict, figures: tuple[str, str, str], source: str, origin: str | None
) -> None:
    requests, duration, monthly = figures
    assert inputs(resource) == {
        "cost:monthly-requests": (requests, source, origin),
        "cost:avg-duration-ms": (duration, source, origin),
    }
    assert resource["monthly_usd"] == monthly
    (requests_item,) = [i for i in resource["line_items"] if i["description"] == "Requests"]
    assert requests_item["quantity"] == requests


def program_with(tmp_path: Path, dev_yaml: str) -> Path:
    """The fixture's program with ``dev_yaml`` as its only stack's config (``Pulumi.dev.yaml``)."""
    return program_with_config(PROGRAM, tmp_path, dev_yaml)


CONFIGURED = "Pulumi.configured.yaml: costline:usage.{}"
FILE_ENTRY = f"{USAGE_FILE}: resource_usage.aws_lambda_function.{{}}"


# --- the CLI: each source alone ------------------------------------------------------------
def test_a_tag_alone_is_a_tag():
    by_name = resources("plain")
    assert_figures(by_name["tagged"], TAG, "tag", None)
    assert inputs(by_name["untagged"]) == {}  # and no figure: usage missing, not $0
    assert by_name["untagged"]["status"] == "usage_missing"


def test_stack_config_alone_names_the_stack_file_and_the_entry():
    by_name = resources("configured")
    assert_figures(by_name["untagged"], CONFIG, "stack-config", CONFIGURED.format("untagged"))


def test_a_usage_file_alone_names_the_file_and_the_entry():
    by_name = resources("plain", "--usage-file", str(USAGE_FILE))
    assert_figures(by_name["untagged"], FILE, "usage-file", FILE_ENTRY.format("untagged"))


# --- the CLI: each pair in conflict --------------------------------------------------------
def test_a_tag_wins_over_stack_config():
    by_name = resources("configured")
    assert_figures(by_name["tagged"], TAG, "tag", None)


def test_a_tag_wins_over_the_usage_file():
    by_name = resources("plain", "--usage-file", str(USAGE_FILE))
    assert_figures(by_name["tagged"], TAG, "tag", None)


def test_stack_config_wins_over_the_usage_file_and_a_tag_over_both():
    by_name = resources("configured", "--usage-file", str(USAGE_FILE))
    assert_figures(by_name["untagged"], CONFIG, "stack-config", CONFIGURED.format("untagged"))
    assert_figures(by_name["tagged"], TAG, "tag", None)


def test_the_usage_file_fills_in_what_stack_config_leaves_out(tmp_path):
    """Precedence is per figure: stack config's requests, the file's duration."""
    program = program_with(
        tmp_path,
        "config:\n  costline:usage:\n    untagged:\n      cost:monthly-requests: 3000000\n",
    )
    result = CliRunner().invoke(
        main,
        ["estimate", str(program), "--format", "json", *FAST, "--usage-file", str(USAGE_FILE)],
    )
    assert result.exit_code == 0, result.output
    (untagged,) = [r for r in json.loads(result.stdout)["resources"] if r["name"] == "untagged"]
    assert inputs(untagged) == {
        "cost:monthly-requests": (
            "3000000",
            "stack-config",
            "Pulumi.dev.yaml: costline:usage.untagged",
        ),
        "cost:avg-duration-ms": ("300", "usage-file", FILE_ENTRY.format("untagged")),
    }
    # 3,000,000 requests → $0.60; 3,000,000 × 0.3 s × 0.125 GB = 112,500 GB-s × $0.0000166667
    # = $1.87500375
    assert untagged["monthly_usd"] == "2.47500375"


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_the_assumptions_show_every_source_and_where(fmt):
    text = estimate("configured", "--usage-file", str(USAGE_FILE), fmt=fmt)
    if fmt == "markdown":
        assert (
            "| untagged | cost:monthly-requests | 3000000 (requests/month) | stack-config "
            "(Pulumi.configured.yaml: costline:usage.untagged) |" in text
        )
        assert "| tagged | cost:monthly-requests | 1000000 (requests/month) | tag |" in text
    else:
        assert (
            "<tr><td>untagged</td><td>cost:monthly-requests</td><td>3000000 (requests/month)</td>"
            "<td>stack-config (Pulumi.configured.yaml: costline:usage.untagged)</td></tr>"
        ) in text
        assert (
            "<tr><td>tagged</td><td>cost:monthly-requests</td><td>1000000 (requests/month)</td>"
            "<td>tag</td></tr>"
        ) in text
    file_only = estimate("plain", "--usage-file", str(USAGE_FILE), fmt=fmt)
    entry = "resource_usage.aws_lambda_function.untagged"
    if fmt == "markdown":  # markdown escapes the underscores
        assert "| untagged | cost:monthly-requests | 5000000 (requests/month) | usage-file (" in (
            file_only
        )
        assert f"infracost-usage.yml: {entry.replace('_', chr(92) + '_')}) |" in file_only
    else:
        assert (
            "<tr><td>untagged</td><td>cost:monthly-requests</td><td>5000000 (requests/month)</td>"
            f"<td>usage-file ({USAGE_FILE}: {entry})</td></tr>"
        ) in file_only


def test_a_figure_out_of_range_in_stack_config_says_where_to_fix_it(tmp_path):
    program = program_with(
        tmp_path,
        "config:\n  costline:usage:\n    untagged:\n      cost:avg-duration-ms: 900001\n"
        "      cost:monthly-requests: 1000\n",
    )
    result = CliRunner().invoke(main, ["estimate", str(program), "--format", "json", *FAST])
    assert result.exit_code == 0, result.output
    messages = [f["message"] for f in json.loads(result.stdout)["findings"]]
    assert (
        "untagged: cost:avg-duration-ms='900001' is larger than the plausible maximum 900,000 ms "
        "(from Pulumi.dev.yaml: costline:usage.untagged)"
    ) in messages


def test_a_fail_closed_bound_is_a_bound():
    by_name = resources("plain", "--fail-closed")
    figures = inputs(by_name["untagged"])
    assert figures["cost:monthly-requests"][1:] == ("bound", None)
    assert figures["cost:avg-duration-ms"][1:] == ("bound", None)


# --- the pack, over gRPC: stack config as the engine passes it (ConfigureStack) ------------
def lambda_(name: str, **props) -> EngineResource:
    return EngineResource(urn=make_urn(LAMBDA, name), properties={"memorySize": 128, **props})


TAGS = {"cost:monthly-requests": "1000000", "cost:avg-duration-ms": "100"}
STACK_USAGE = {"cost:monthly-requests": 3000000, "cost:avg-duration-ms": 200}


def run_pack(config: dict, *stack: EngineResource, tmp_path: Path):
    report = tmp_path / "report.md"
    policy = {
        "cost-estimate": {
            "freeTier": False,
            "resourceLinesAboveUsd": 0,
            "reportPath": str(report),
        }
    }
    with PolicyPackProcess(data_dir("policypack"), config=config) as pack:
        result = pack.run(list(stack), policy)
        assert pack.returncode is None, pack.stderr_text
    lines = {
        v.message.split("\n", 1)[1].split(" (", 1)[0]: v.message.split("\n", 1)[1]
        for v in result.by_policy("cost-estimate")
        if v.urn
    }
    return lines, report.read_text(encoding="utf-8")


def test_the_pack_shows_stack_config_as_the_source_and_a_tag_wins_over_it(tmp_path):
    usage = {"untagged": STACK_USAGE, "tagged": STACK_USAGE, "defaulted": STACK_USAGE}
    lines, report = run_pack(
        {"costline:usage": json.dumps(usage)},
        lambda_("untagged"),
        lambda_("tagged", tags=TAGS),
        # a provider default tag is a tag on the resource too: it wins over stack config
        lambda_("defaulted", tags={}, tagsAll=TAGS),
        tmp_path=tmp_path,
    )
    assert lines["untagged"].startswith("untagged (aws:lambda:Function): ~$1.85/month — ")
    assert lines["untagged"].endswith(" · usage from stack config: costline:usage.untagged")
    for name in ("tagged", "defaulted"):
        assert lines[name].startswith(f"{name} (aws:lambda:Function): ~$0.41/month — ")
        assert "usage from" not in lines[name]
    assert (
        "| untagged | cost:monthly-requests | 3000000 (requests/month) | stack-config "
        "(stack config: costline:usage.untagged) |" in report
    )
    for name in ("tagged", "defaulted"):
        assert f"| {name} | cost:monthly-requests | 1000000 (requests/month) | tag |" in report


def test_the_pack_without_stack_config_takes_the_tag(tmp_path):
    lines, report = run_pack({}, lambda_("tagged", tags=TAGS), tmp_path=tmp_path)
    assert lines["tagged"].startswith("tagged (aws:lambda:Function): ~$0.41/month — ")
    assert "usage from" not in lines["tagged"]
    assert "| tagged | cost:monthly-requests | 1000000 (requests/month) | tag |" in report


def test_the_pack_says_a_bad_stack_config_figure_comes_from_stack_config(tmp_path):
    usage = {"untagged": {"cost:monthly-requests": "3,000,000", "cost:avg-duration-ms": 200}}
    with PolicyPackProcess(
        data_dir("policypack"), config={"costline:usage": json.dumps(usage)}
    ) as pack:
        result = pack.run([lambda_("untagged")], {"cost-estimate": {"freeTier": False}})
    (message,) = [v.message for v in result.by_policy("usage-tags")]
    assert (
        "untagged: cost:monthly-requests='3,000,000' contains a thousands separator; expected a "
        "plain decimal number in requests/month (from stack config: costline:usage.untagged)"
    ) in message
