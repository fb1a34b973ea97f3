"""Secrets are masked by provenance in every output, through the real entry points.

Each stack below goes through the policy pack over the gRPC Analyzer protocol (every violation
and the pack's stderr and report file) and through ``costline estimate`` (stdout, stderr and the
report in every format, what-if rows and recommendations included). A secret's text must appear
in none of them, and figures that are *not* secret must not be garbled by the masking (a secret
"1000" next to a plain "10000000").
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from costline.cli.main import main
from costline.core.paths import data_dir
from costline.core.values import SECRET_SIGNATURE, SIGNATURE_KEY
from costline.engine import EngineResource, PolicyPackProcess, make_urn, secret
from costline.render.templates import FORMATS
from tests.conftest import program_with_config

LAMBDA = "aws:lambda/function:Function"
PROVIDER = "pulumi:providers:aws"
PROFILE = "aws:bedrock/inferenceProfile:InferenceProfile"
DURATION = {"cost:avg-duration-ms": "100"}


def res(type_token: str, name: str, **properties: Any) -> EngineResource:
    return EngineResource(urn=make_urn(type_token, name), properties=properties)


def pack_outputs(
    pack: PolicyPackProcess,
    resources: list[EngineResource],
    tmp_path: Path,
    policy: dict[str, Any] | None = None,
):
    """Every text the pack produced for ``resources``: violations, report file, stderr.
    ``policy``: more policy config (by policy name, merged over the defaults here)."""
    from costline.engine.preview import format_policies

    report = tmp_path / "pack-report.md"
    config: dict[str, Any] = {
        # every resource's cost line too: those lines must not leak either
        "cost-estimate": {"reportPath": str(report), "resourceLinesAboveUsd": 0},
        "lambda-worst-case": {"maxMultipleOfExpected": 1},
    }
    for name, settings in (policy or {}).items():
        config[name] = {**config.get(name, {}), **settings}
    result = pack.run(resources, config)
    assert pack.returncode is None, pack.stderr_text
    texts = {
        "violations": "\n".join(v.message for v in result.violations),
        "pack stderr": pack.stderr_text,
    }
    if report.exists():
        texts["pack report"] = report.read_text(encoding="utf-8")
    texts["preview"] = format_policies(result, [])
    return result, texts


def body(message: str) -> str:
    """A violation's message without the policy description the engine puts first."""
    return message.split("\n", 1)[1]


def assert_nowhere(texts: dict[str, str], *patterns: str) -> None:
    """No pattern (a regex of the secret as a whole figure or word) in any text."""
    for name, text in texts.items():
        for pattern in patterns:
            match = re.search(pattern, text)
            assert match is None, (
                f"{pattern!r} in {name}: …{text[max(0, match.start() - 80) : match.end() + 80]}…"
            )


def whole(figure: str) -> str:
    """A regex for ``figure`` as a whole number, plain or with thousands separators."""
    digits = figure.replace(",", "")
    grouped = f"{int(digits):,}" if digits.isdigit() else digits
    options = {re.escape(digits), re.escape(grouped)}
    return rf"(?<![\d.,])(?:{'|'.join(sorted(options))})(?![\d])"


# --- the pack, over gRPC -----------------------------------------------------------------------
def test_a_secret_provider_region_without_tables_is_named_in_no_violation(pack, tmp_path):
    region = "xx-s3cr3t-9"
    resources = [
        res(PROVIDER, "default", region=secret(region)),
        res(LAMBDA, "fn", tags={"cost:monthly-requests": "1000", **DURATION}),
    ]
    result, texts = pack_outputs(pack, resources, tmp_path)
    assert_nowhere(texts, "s3cr3t")
    failures = [v.message for v in result.violations if "could not run policy" in v.message]
    # every policy that needs prices says why, without the region: the five policies
    assert len({m.split("policy ")[1].split(":")[0] for m in failures}) == 5, failures
    for message in failures:
        assert "the AWS provider's region is a secret (not shown)" in message, message
        assert "pricing/[secret]" in message


def test_a_secret_provider_region_with_tables_prices_there_and_is_not_shown(pack, tmp_path):
    resources = [
        res(PROVIDER, "default", region=secret("eu-west-1")),
        res(LAMBDA, "fn", tags={"cost:monthly-requests": "1000", **DURATION}),
    ]
    _, texts = pack_outputs(pack, resources, tmp_path)
    assert_nowhere(texts, "eu-west-1")
    assert "could not run policy" not in texts["violations"]
    assert "prices 2026" in texts["violations"] and "([secret], as of" in texts["violations"]


@pytest.mark.parametrize(
    ("tag_value", "figure"),
    [
        ([secret(987654321.0)], "987654321"),
        ({"v": secret(31337.25)}, "31337.25"),
        (secret([987654321.0]), "987654321"),
    ],
    ids=["secret item of a list", "secret value of a map", "secret list"],
)
def test_a_secret_number_inside_a_tag_value_is_not_printed(pack, tmp_path, tag_value, figure):
    resources = [res(LAMBDA, "fn", tags={"cost:monthly-requests": tag_value, **DURATION})]
    result, texts = pack_outputs(pack, resources, tmp_path)
    assert_nowhere(texts, whole(figure), r"31,?337")
    (usage,) = [body(v.message) for v in result.by_policy("usage-tags")]
    assert usage.startswith("fn: cost:monthly-requests=[secret] is a "), usage


def test_a_secret_architecture_is_used_and_named_nowhere(pack, tmp_path):
    resources = [
        res(
            LAMBDA,
            "fn",
            architectures=[secret("arm64")],
            memorySize=1024,
            tags={"cost:monthly-requests": "10000000", **DURATION},
        )
    ]
    result, texts = pack_outputs(pack, resources, tmp_path)
    assert_nowhere(texts, "arm64", "x86")
    (line,) = [body(v.message) for v in result.by_policy("cost-estimate") if v.urn]
    # 10M requests × 100 ms × 1 GB = 1,000,000 GB-s; 600,000 billable after the free 400,000 at
    # arm64's $0.0000133334/GB-s = $8.00040 (x86_64 would be $10.00002); requests 9M × $0.20/M
    # = $1.80: the secret architecture was used for the price.
    assert line.startswith("fn (aws:lambda:Function): ~$9.80/month — usage from a secret value")


def test_a_secret_tags_map_masks_its_figures_and_garbles_no_other(pack, tmp_path):
    resources = [
        res(LAMBDA, "hidden", tags=secret({"cost:monthly-requests": "1000", **DURATION})),
        res(LAMBDA, "plain", tags={"cost:monthly-requests": "10000000", **DURATION}),
    ]
    result, texts = pack_outputs(pack, resources, tmp_path)
    assert "[secret]0" not in "".join(texts.values())
    lines = {
        v.urn.rsplit("::", 1)[1]: body(v.message)
        for v in result.by_policy("cost-estimate")
        if v.urn
    }
    # 10,001,000 requests share the 1M free ones: plain's share (999,900) would tell the
    # secret 1,000, so it is not shown; its figures are.
    assert lines["plain"] == (
        "plain (aws:lambda:Function): ~$1.80/month — part free (the free tier is shared with "
        "usage from a secret value), 10,000,000 req × 100 ms × 128 MB, inside free tier"
    ), lines["plain"]
    assert lines["hidden"].endswith("usage from a secret value"), lines["hidden"]
    report = texts["pack report"]
    assert "| plain | monthly requests | 10000000 |" in report
    assert "| hidden | monthly requests | \\[secret\\] |" in report


def test_a_secret_unknown_model_gets_no_did_you_mean(pack, tmp_path):
    near = "anthropic.claude-3-haiku-20240307-v9:0"  # one character from a priced id
    resources = [
        res(
            PROFILE,
            "p",
            tags={
                "cost:monthly-requests": "1000",
                "cost:input-tokens": "10",
                "cost:bedrock-model": secret(near),
            },
        )
    ]
    result, texts = pack_outputs(pack, resources, tmp_path)
    assert_nowhere(texts, "v9:0", "did you mean")
    (message,) = [body(v.message) for v in result.by_policy("usage-tags")]
    assert message.startswith("p: no on-demand price for Bedrock model [secret] in us-east-1;")


def test_a_duplicate_urn_is_priced_twice_and_reported(pack, tmp_path):
    one = res(LAMBDA, "fn", tags={"cost:monthly-requests": "1000000", **DURATION})
    result, _ = pack_outputs(pack, [one, one], tmp_path)
    # two copies of 1M requests: 2M, of which 1M are free: 1M × $0.20/M = $0.20 of requests;
    # 2 × 1M × 0.1 s × 0.125 GB = 25,000 GB-s, all free.
    stack = next(body(v.message) for v in result.by_policy("cost-estimate") if not v.urn)
    assert stack.startswith("Stack total ~$0.20/month"), stack
    assert f"2 resources share the URN {one.urn}: each is priced" in stack


# --- the CLI, every format ---------------------------------------------------------------------
def plaintext(value: Any) -> dict[str, str]:
    """A secret as ``pulumi stack export --show-secrets`` prints it."""
    return {SIGNATURE_KEY: SECRET_SIGNATURE, "plaintext": json.dumps(value)}


def export(tmp_path: Path, resources: list[tuple[str, str, dict[str, Any]]]) -> Path:
    path = tmp_path / "export.json"
    path.write_text(
        json.dumps(
            {
                "version": 3,
                "deployment": {
                    "manifest": {},
                    "resources": [
                        {
                            "urn": make_urn(type_token, name),
                            "type": type_token,
                            "custom": True,
                            "inputs": inputs,
                            "outputs": {},
                        }
                        for type_token, name, inputs in resources
                    ],
                },
            }
        ),
        encoding="utf-8",
    )
    return path


def cli_outputs(tmp_path: Path, source: Path, *extra: str) -> dict[str, str]:
    texts = {}
    for fmt in FORMATS:
        out = tmp_path / f"report.{fmt}"
        result = CliRunner().invoke(
            main,
            ["estimate", "--from-preview", str(source), "--format", fmt, "-o", str(out), *extra],
        )
        assert result.exit_code == 0, result.output
        texts[f"{fmt} report"] = out.read_text(encoding="utf-8")
        texts[f"{fmt} stdout+stderr"] = result.stdout + result.stderr
    return texts


def test_show_secrets_plaintext_reaches_no_report(tmp_path):
    source = export(
        tmp_path,
        [
            (PROVIDER, "default", {"region": plaintext("eu-west-1")}),
            (
                LAMBDA,
                "fn",
                {
                    "architectures": [plaintext("arm64")],
                    "memorySize": plaintext(3008),
                    "timeout": plaintext(777),
                    "tags": {
                        "cost:monthly-requests": [plaintext(987654321.0)],
                        "cost:daily-requests": plaintext("4321"),
                        "cost:avg-duration-ms": plaintext("123456.75"),
                    },
                },
            ),
            (PROFILE, "p", {"tags": plaintext({"cost:monthly-requests": "55555", "cost:x": "1"})}),
            (
                PROFILE,
                "unpriced",
                {
                    "tags": {
                        "cost:monthly-requests": "1000",
                        "cost:input-tokens": "10",
                        "cost:bedrock-model": plaintext("acme.s3cr3t-model-v1:0"),
                    }
                },
            ),
        ],
    )
    texts = cli_outputs(tmp_path, source, "--what-if", "2x,1M")
    assert_nowhere(
        texts,
        "eu-west-1",
        "arm64",
        whole("3008"),
        whole("777"),
        whole("987654321"),
        whole("4321"),
        whole("129630"),  # 4,321 × 30 days
        r"123,?456",
        r"123,?457",
        whole("55555"),
        "cost:x",
        "s3cr3t",
    )
    report = json.loads(texts["json report"])
    assert report["pricing_region"] == "[secret]"
    (fn,) = [r for r in report["resources"] if r["name"] == "fn"]
    assert {i["description"] for i in fn["line_items"]} == {"[secret]"}
    assert {i["price_id"] for i in fn["line_items"]} == {"[secret]"}
    assert Decimal(fn["monthly_usd"]) > 0  # the secret figures were priced


def test_a_secret_1000_does_not_garble_a_plain_10000000_in_any_format(tmp_path):
    source = export(
        tmp_path,
        [
            (LAMBDA, "hidden", {"tags": plaintext({"cost:monthly-requests": "1000", **DURATION})}),
            (LAMBDA, "plain", {"tags": {"cost:monthly-requests": "10000000", **DURATION}}),
        ],
    )
    texts = cli_outputs(tmp_path, source)
    for name, text in texts.items():
        assert "[secret]0" not in text, name
    # today's calls at the edge, 10,001,000, would tell the secret 1,000: not in any what-if
    # row, chart or label (nor 30,000's factor against it, 0.0029996...)
    assert_nowhere(texts, whole("10001000"), r"10\.001M", r"0\.0029996")
    assert "10,000,000 requests" in texts["markdown report"]
    assert "10,000,000 requests" in texts["html report"]
    report = json.loads(texts["json report"])
    by_name = {r["name"]: r for r in report["resources"]}
    assert {a["key"]: a["value"] for a in by_name["plain"]["assumptions"]}[
        "cost:monthly-requests"
    ] == "10000000"
    assert {a["key"]: a["value"] for a in by_name["hidden"]["assumptions"]}[
        "cost:monthly-requests"
    ] == "[secret]"
    assert [i["quantity"] for i in by_name["hidden"]["line_items"]] == [None, None]
    # 10M × 0.1 s × 0.125 GB = 125,000 GB-s (line items are listed by price id)
    assert [i["quantity"] for i in by_name["plain"]["line_items"]] == ["125000", "10000000"]
    assert [i["free_quantity"] for i in by_name["plain"]["line_items"]] == ["125000", None]


def test_a_secret_region_without_tables_fails_with_exit_2_not_naming_it(tmp_path):
    source = export(
        tmp_path,
        [
            (PROVIDER, "default", {"region": plaintext("xx-s3cr3t-9")}),
            (LAMBDA, "fn", {"tags": {"cost:monthly-requests": "1000", **DURATION}}),
        ],
    )
    result = CliRunner().invoke(main, ["estimate", "--from-preview", str(source)])
    assert result.exit_code == 2, result.output
    assert "s3cr3t" not in result.stdout + result.stderr
    assert result.stderr.startswith("costline: error: pricing/[secret]: the AWS provider's region")
    # --region overrides it: the same stack then prices
    again = CliRunner().invoke(
        main, ["estimate", "--from-preview", str(source), "--region", "us-east-1"]
    )
    assert again.exit_code == 0 and "s3cr3t" not in again.stdout + again.stderr


def test_a_secret_timeout_is_not_named_by_the_worst_case(pack, tmp_path):
    resources = [
        res(
            LAMBDA,
            "fn",
            timeout=secret(777),
            tags={"cost:monthly-requests": "10000000", **DURATION},
        )
    ]
    result, texts = pack_outputs(pack, resources, tmp_path)
    assert_nowhere(texts, whole("777"), whole("777000"))
    (worst,) = [body(v.message) for v in result.by_policy("lambda-worst-case")]
    assert worst.startswith("fn: if every request ran to the [secret] s timeout it would cost ~$")


def test_a_secret_costline_usage_in_stack_config_is_used_and_not_shown(tmp_path):
    """``pulumi config set --secret costline:usage``: the engine hands the pack its plaintext in
    ConfigureStack's config and names the key in its configSecretKeys."""
    usage = {"fn": {"cost:monthly-requests": "987654321", **DURATION}}
    with PolicyPackProcess(
        data_dir("policypack"),
        config={"costline:usage": usage},
        secret_keys=["costline:usage"],
    ) as secret_pack:
        result, texts = pack_outputs(secret_pack, [res(LAMBDA, "fn")], tmp_path)
    assert_nowhere(texts, whole("987654321"))
    (line,) = [body(v.message) for v in result.by_policy("cost-estimate") if v.urn]
    # 987,654,321 requests: 986,654,321 billable × $0.20/M = $197.3308642; duration
    # 987,654,321 × 0.1 s × 0.125 GB = 12,345,679.0125 GB-s, 11,945,679.0125 after the free
    # 400,000, × $0.0000166667 = $199.0950484: $396.43 a month, priced from the secret figures.
    assert line == (
        "fn (aws:lambda:Function): ~$396.43/month — usage from a secret value"
        " · usage from stack config: costline:usage.fn"
    )


# --- a secret costline:budget -----------------------------------------------------------------
# `handler` (512 MB, x86, free tier off): 2,000,000 requests × $0.20/M = $0.40; 2,000,000 × 1 s
# × 0.5 GB = 1,000,000 GB-s × $0.0000166667 = $16.6667; $17.0667 a month, shown $17.07.
HANDLER_TAGS = {"cost:monthly-requests": "2000000", "cost:avg-duration-ms": "1000"}
NO_FREE_TIER = {"cost-estimate": {"freeTier": False}}


def secret_budget_outputs(budget: str, tmp_path: Path, policy: dict[str, Any]):
    with PolicyPackProcess(
        data_dir("policypack"),
        config={"costline:budget": budget},
        secret_keys=["costline:budget"],
    ) as secret_pack:
        return pack_outputs(
            secret_pack,
            [res(LAMBDA, "handler", memorySize=512, tags=HANDLER_TAGS)],
            tmp_path,
            {**NO_FREE_TIER, **policy},
        )


def stack_line(result) -> str:
    (line,) = [body(v.message) for v in result.by_policy("cost-estimate") if not v.urn]
    return line.splitlines()[0]


def test_a_secret_stack_budget_that_is_broken_fails_and_is_shown_nowhere(tmp_path):
    # $17.07 is over $13.57 by $3.50: neither figure may appear, the verdict must
    result, texts = secret_budget_outputs(
        "13.57", tmp_path, {"stack-budget": {"enforcementLevel": "mandatory"}}
    )
    assert_nowhere(texts, whole("13.57"), whole("3.50"), r"13\.5")
    assert result.mandatory
    (violation,) = result.by_policy("stack-budget")
    assert body(violation.message).startswith(
        "Stack cost ~$17.07/month is over the budget [secret]. Top cost drivers: handler $17.07"
    )
    assert stack_line(result).startswith("Stack total ~$17.07/month (budget [secret]: over) · ")


def test_a_secret_stack_budget_at_the_warning_share_warns_without_the_share(tmp_path):
    # $17.07 of $19.75 is 86.4% (over the 80% warning), headroom $2.68: none may appear
    result, texts = secret_budget_outputs(
        "19.75", tmp_path, {"stack-budget": {"enforcementLevel": "mandatory"}}
    )
    assert_nowhere(texts, whole("19.75"), whole("2.68"), r"86\.4")
    assert not result.mandatory
    assert (
        "Stack cost ~$17.07/month is at or above 80% of the budget [secret] (warning at 80%)"
        in texts["violations"]
    )
    assert stack_line(result).startswith("Stack total ~$17.07/month (budget [secret]: within) · ")


def test_a_secret_stack_budget_within_shows_no_headroom(tmp_path):
    # headroom $98.76 − $17.07 = $81.69
    result, texts = secret_budget_outputs("98.76", tmp_path, {})
    assert_nowhere(texts, whole("98.76"), whole("81.69"))
    assert stack_line(result).startswith("Stack total ~$17.07/month (budget [secret]: within) · ")
    assert not result.by_policy("stack-budget")


def test_a_plain_stack_budget_is_still_shown(tmp_path):
    """The other side: without the key among the secret keys the same budget is shown in full."""
    with PolicyPackProcess(data_dir("policypack"), config={"costline:budget": "13.57"}) as plain:
        result, _ = pack_outputs(
            plain,
            [res(LAMBDA, "handler", memorySize=512, tags=HANDLER_TAGS)],
            tmp_path,
            {**NO_FREE_TIER, "stack-budget": {"enforcementLevel": "mandatory"}},
        )
    (violation,) = result.by_policy("stack-budget")
    assert "is over the budget $13.57 by $3.50." in violation.message
    assert stack_line(result).startswith(
        "Stack total ~$17.07/month (budget $13.57, over by $3.50) · "
    )


def test_a_secret_stack_budget_is_not_named_by_the_worst_case(tmp_path):
    # every request at the 900 s timeout: 2,000,000 × 900 s × 0.5 GB = 900,000,000 GB-s, far
    # over 10% of any of these budgets
    result, texts = secret_budget_outputs(
        "13.57",
        tmp_path,
        {"lambda-worst-case": {"maxMultipleOfExpected": 1000000, "maxPercentOfBudget": 10}},
    )
    assert_nowhere(texts, whole("13.57"), r"13\.5")
    (worst,) = [body(v.message) for v in result.by_policy("lambda-worst-case")]
    assert "more than 10% of the stack budget [secret]" in worst


def test_a_secret_stack_budget_that_is_not_a_number_is_not_quoted(tmp_path):
    _, texts = secret_budget_outputs("s3cr3t-budget", tmp_path, {})
    assert_nowhere(texts, "s3cr3t")
    assert "costline:budget=[secret] is not a budget in USD; it is ignored" in texts["violations"]


# --- an encrypted costline:budget in the CLI, which cannot decrypt it --------------------------
BUDGET_PROGRAM = Path(__file__).parent / "fixtures" / "programs" / "stack-config-usage"
CIPHERTEXT = "v1:AAAABBBBCCCCsecretbudget"


def encrypted_budget_program(tmp_path: Path) -> Path:
    return program_with_config(
        BUDGET_PROGRAM,
        tmp_path,
        f"config:\n  aws:region: us-east-1\n  costline:budget:\n    secure: {CIPHERTEXT}\n",
    )


ENCRYPTED_BUDGET = (
    "Pulumi.dev.yaml: costline:budget is encrypted (secure:), and costline cannot decrypt it "
    "offline: no stack budget applies here"
)


def test_check_with_an_encrypted_budget_asks_for_budget_instead_of_passing(tmp_path):
    program = encrypted_budget_program(tmp_path)
    result = CliRunner().invoke(main, ["check", str(program), "--what-if", "none"])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == (
        f"costline: error: {ENCRYPTED_BUDGET}: give the budget with --budget"
    )
    assert CIPHERTEXT not in result.output
    given = CliRunner().invoke(main, ["check", str(program), "--what-if", "none", "--budget", "1"])
    assert given.exit_code == 0, given.output
    assert "budget $1.00" in given.stdout.splitlines()[0]


def test_check_config_with_an_encrypted_stack_budget_fails_that_stack_not_passes(tmp_path):
    program = encrypted_budget_program(tmp_path)
    config = tmp_path / "costline.yml"
    config.write_text(f"version: 1\nprojects:\n  - {{path: {program}, name: locked}}\n")
    args = ["check", "--config", str(config), "--what-if", "none", "--no-recommendations"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output  # bad input for that stack, never a pass
    assert result.stdout.splitlines()[0] == (
        f"locked: costline check could not run: {ENCRYPTED_BUDGET}: give the budget as "
        "budget_usd in the config file, or --budget"
    )
    assert CIPHERTEXT not in result.output
    given = CliRunner().invoke(main, [*args, "--budget", "1"])
    assert given.exit_code == 0, given.output
    assert given.stdout.splitlines()[0].startswith("locked: costline check passed")
    assert "budget $1.00" in given.stdout.splitlines()[0]


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_encrypted_budget_is_said_and_shown_in_no_format(tmp_path, fmt):
    program = encrypted_budget_program(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["estimate", str(program), "--what-if", "none", "--format", fmt, "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert CIPHERTEXT not in text + result.output
    if fmt == "json":
        (finding,) = [f for f in json.loads(text)["findings"] if f["field"] == "costline:budget"]
        assert finding["message"] == ENCRYPTED_BUDGET


def test_costline_preview_says_the_pack_gets_no_encrypted_budget(tmp_path):
    program = encrypted_budget_program(tmp_path)
    result = CliRunner().invoke(main, ["preview", str(program)])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == (
        f"costline: warning: {ENCRYPTED_BUDGET}; the pack gets it only under `pulumi preview`, "
        "which decrypts it"
    )
    assert CIPHERTEXT not in result.output
    plain = CliRunner().invoke(main, ["preview", str(BUDGET_PROGRAM)])
    assert plain.exit_code == 0, plain.output
    assert "warning" not in plain.stderr
