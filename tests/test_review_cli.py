"""``costline diff`` and ``costline check``: baselines, per-resource deltas, budgets and exit
codes."""

from __future__ import annotations

import copy
import json
from decimal import Decimal as D
from pathlib import Path

import pytest
from click.testing import CliRunner

from costline.cli.main import main
from costline.core.money import round_cents
from costline.review.budget import BudgetLimits, check_budget
from costline.review.diff import diff_reports
from costline.review.sections import schema_problems
from tests.conftest import SEED_OVERRIDE, costline_on
from tests.report_checks import gfm, table_with

EXPORT = Path("tests/fixtures/stack-export/reference-stack.export.json")
PREVIEW = "tests/fixtures/preview/reference-stack.preview.json"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"


def run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def seed_baseline(tmp_path) -> Path:
    """A JSON report of the reference stack at the seed template's prices ($38.605 a month)."""
    baseline = tmp_path / "seed.json"
    result = run(
        "estimate",
        "--from-preview",
        PREVIEW,
        "--prices",
        str(SEED_OVERRIDE),
        "--format",
        "json",
        "-o",
        str(baseline),
    )
    assert result.exit_code == 0, result.output
    return baseline


def by_type(data, suffix):
    return next(r for r in data["deployment"]["resources"] if r["type"].endswith(suffix))


def changed_export(tmp_path: Path) -> Path:
    """The reference stack after a change: Lambda memory 512 → 1024 MB, twice the traffic,
    the profile on Claude 3 Haiku, a new worker Lambda, and the bucket removed."""
    data = json.loads(EXPORT.read_text())
    fn = by_type(data, ":Function")
    fn["inputs"]["memorySize"] = 1024
    for suffix in (":RestApi", ":Stage", ":Function", ":InferenceProfile"):
        by_type(data, suffix)["inputs"]["tags"]["cost:daily-requests"] = "2000"
    profile = by_type(data, ":InferenceProfile")
    profile["inputs"]["tags"]["cost:bedrock-model"] = HAIKU
    worker = copy.deepcopy(fn)
    worker["urn"] = fn["urn"].replace("::api-handler", "::worker")
    worker["inputs"]["tags"] = {"cost:monthly-requests": "5000000", "cost:avg-duration-ms": "100"}
    worker["inputs"].pop("environment", None)
    worker["propertyDependencies"] = {}
    data["deployment"]["resources"] = [
        r for r in data["deployment"]["resources"] if not r["type"].endswith("s3/bucket:Bucket")
    ] + [worker]
    path = tmp_path / "changed.export.json"
    path.write_text(json.dumps(data))
    return path


def diff_json(tmp_path: Path, baseline: Path | str) -> dict:
    result = costline_on(
        "diff", changed_export(tmp_path), "--baseline", str(baseline), "--format", "json"
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert schema_problems(data) == []
    return data


def test_diff_against_a_stack_export_names_what_changed(tmp_path):
    data = diff_json(tmp_path, EXPORT)
    base = data["baseline"]
    assert base["kind"] == "stack-export" and base["same_prices"]
    assert base["counts"] == {
        "added": 1,
        "removed": 1,
        "changed": 4,
        "unchanged": 12,
    }  # 17 before, 17 after
    entries = {e["name"]: e for e in base["resources"]}
    assert entries["worker"]["change"] == "added" and entries["worker"]["before_usd"] is None
    assert entries["artifacts"]["change"] == "removed" and entries["artifacts"]["after_usd"] is None
    handler = {c["key"]: (c["before"], c["after"]) for c in entries["api-handler"]["changes"]}
    assert handler["memorySize"] == ("512", "1024")
    assert handler["cost:daily-requests"] == ("1000", "2000")
    model = {c["key"]: (c["before"], c["after"]) for c in entries["model"]["changes"]}
    assert model["cost:bedrock-model"] == ("deepseek.r1-v1:0", HAIKU)
    # deltas are the displayed ones: rounded after minus rounded before
    assert D(base["delta_usd"]) == round_cents(D(data["total_monthly_usd"])) - round_cents(
        D(base["total_monthly_usd"])
    )
    for e in base["resources"]:
        assert D(e["delta_usd"]) == round_cents(D(e["after_usd"] or 0)) - round_cents(
            D(e["before_usd"] or 0)
        )
    assert D(base["total_monthly_usd"]) == D("102.2875")


def test_diff_against_a_json_report_and_its_markdown(tmp_path):
    baseline = tmp_path / "base.json"
    made = run("estimate", "--from-preview", str(EXPORT), "--format", "json", "-o", str(baseline))
    assert made.exit_code == 0, made.output
    data = diff_json(tmp_path, baseline)
    assert data["baseline"]["kind"] == "report"
    assert data["baseline"]["counts"]["added"] == 1
    result = run(
        "diff", "--from-preview", str(changed_export(tmp_path)), "--baseline", str(baseline)
    )
    html = gfm(result.output)
    changes = table_with(html, "What changed")
    assert changes[0] == ["Resource", "Change", "Before", "After", "Change/month", "What changed"]
    rows = {row[0]: row for row in changes[1:]}
    assert set(rows) == {"model", "worker", "api-handler", "artifacts", "dev", "api"}
    assert rows["api"][1:5] == [
        "changed",
        "$0.00",
        "$0.00",
        "$0.00",
    ]  # its traffic is counted on dev
    assert rows["artifacts"][1:4] == ["removed", "$0.93", "—"]
    assert "memorySize 512 → 1024" in rows["api-handler"][5]
    assert rows["model"][5].startswith(
        "cost:daily-requests 1000 → 2000; monthly requests 30000 → 60000; "
        "cost:bedrock-model deepseek.r1-v1:0 → anthropic.claude-3-haiku"
    )
    first_line = result.output.splitlines()[0]
    assert first_line.startswith("## 💰 costline: $") and "vs baseline" in first_line


def test_a_baseline_priced_differently_says_so(seed_baseline):
    result = run(
        "diff", "--from-preview", PREVIEW, "--baseline", str(seed_baseline), "--what-if", "none"
    )
    assert "part of the change may come from prices" in result.output
    rows = {r[0]: r for r in table_with(gfm(result.output), "What changed")[1:]}
    assert rows["model"][1:] == ["changed", "$37.50", "$101.25", "+$63.75", "prices"]


def _side(total: str, amounts: dict[str, str]) -> dict:
    resources = [
        {
            "urn": f"urn:{name}",
            "name": name,
            "type": "aws:x",
            "status": "priced",
            "monthly_usd": D(usd),
            "assumptions": [],
        }
        for name, usd in amounts.items()
    ]
    return {
        "total_monthly_usd": D(total),
        "by_service": [{"service": "S", "monthly_usd": D(total)}],
        "resources": resources,
        "pricing_version": "1",
        "pricing_region": "us-east-1",
        "price_overrides": [],
    }


def test_deltas_are_rounded_after_minus_rounded_before():
    """$102.2875 → $46.1535 is −$56.134 exactly (−$56.13), but shows as $102.29 → $46.15: −$56.14.
    $0.105 → $0.214 is +$0.109 exactly (+$0.11), but shows as $0.11 → $0.21: +$0.10."""
    base = diff_reports(
        _side("102.2875", {"a": "0.105", "b": "102.1825"}),
        _side("46.1535", {"a": "0.214", "b": "45.9395"}),
    )
    assert base["delta_usd"] == D("-56.14") and base["by_service"][0]["delta_usd"] == D("-56.14")
    rows = {e["name"]: e["delta_usd"] for e in base["resources"]}
    assert rows == {"a": D("0.10"), "b": D("-56.24")}
    assert base["delta_percent"] == D("-54.9")  # from the exact totals, as check_budget compares


def test_check_compares_the_displayed_increase():
    """Exact +$0.109 (would show +$0.11) but shown $0.11 → $0.21: the increase is +$0.10
    everywhere."""
    within = check_budget(D("0.214"), BudgetLimits(max_increase_usd=D("0.10")), D("0.105"))
    assert within.status == "within"
    over = check_budget(D("0.214"), BudgetLimits(max_increase_usd=D("0.09")), D("0.105"))
    assert [v.message for v in over.violations] == [
        "the increase $0.10/month over the baseline is more than the $0.09 allowed per change"
    ]
    budget = check_budget(D("102.2875"), BudgetLimits(monthly_budget_usd=D("50.004")))
    assert budget.violations[0].message.endswith("over the budget $50.00 by $52.29")


def tampered_baseline(tmp_path: Path) -> Path:
    """The reference stack's report with `dev` (API Gateway) at $0.0949 instead of $0.105 and
    `artifacts` (S3) $0.0025 lower, so the total is $102.2749 (the sum of the resources, as
    a baseline must be): exact deltas +$0.0101 and +$0.0126 (both +$0.01), shown +$0.02."""
    made = run("estimate", "--from-preview", PREVIEW, "--format", "json")
    data = json.loads(made.output)
    data["total_monthly_usd"] = "102.2749"
    lower = {"API Gateway": D("0.0101"), "S3": D("0.0025")}
    for row in data["by_service"]:
        row["monthly_usd"] = str(D(row["monthly_usd"]) - lower.get(row["service"], 0))
    next(r for r in data["resources"] if r["name"] == "dev")["monthly_usd"] = "0.0949"
    bucket = next(r for r in data["resources"] if r["name"] == "artifacts")
    bucket["monthly_usd"] = str(D(bucket["monthly_usd"]) - D("0.0025"))
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(data))
    return path


def test_diff_and_check_show_the_rounded_delta(tmp_path):
    baseline = tampered_baseline(tmp_path)
    result = costline_on("diff", PREVIEW, "--baseline", str(baseline), "--format", "json")
    data = json.loads(result.output)
    assert schema_problems(data) == []
    base = data["baseline"]
    assert base["delta_usd"] == "0.02"
    assert {r["service"]: r["delta_usd"] for r in base["by_service"]}["API Gateway"] == "0.02"
    assert {e["name"]: e["delta_usd"] for e in base["resources"]}["dev"] == "0.02"
    markdown = run(
        "diff", "--from-preview", PREVIEW, "--baseline", str(baseline), "--what-if", "none"
    ).output
    assert (
        markdown.splitlines()[0]
        == "## 💰 costline: $102.29/month · 🔴 +$0.02 (0%) vs baseline · all costs known"
    )
    rows = {r[0]: r for r in table_with(gfm(markdown), "What changed")[1:]}
    assert rows["dev"][2:5] == ["$0.09", "$0.11", "+$0.02"]
    services = {r[0]: r for r in table_with(gfm(markdown), "Baseline")[1:]}
    assert services["API Gateway"][1:] == ["$0.11", "$0.09", "+$0.02"]
    assert services["Total"][1:] == ["$102.29", "$102.27", "+$0.02"]
    result, _comment = check(tmp_path, "--max-increase", "0.01", baseline=str(baseline))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "costline check FAILED: $102.29/month, +$0.02 (0%) vs baseline",
        "  - the increase $0.02/month over the baseline is more than the $0.01 allowed per change",
    ]
    assert check(tmp_path, "--max-increase", "0.02", baseline=str(baseline))[0].exit_code == 0


def test_a_baseline_with_other_price_overrides_names_them(tmp_path, seed_baseline):
    """Same tables and region, other override file: the note and the broken limit say so."""
    result, comment = check(
        tmp_path, "--budget", "50", "--max-increase-percent", "10", baseline=str(seed_baseline)
    )
    assert result.exit_code == 1
    assert (
        "the increase (+165%) over the baseline $38.61 is more than the 10% allowed per change "
        "(the baseline used other prices: see the note)"
    ) in result.output
    note = next(line for line in comment.splitlines() if line.startswith("ℹ️")).replace(
        "\\", ""
    )  # unescaped
    assert (
        note.startswith("ℹ️ The baseline was priced with tables ")
        and "(us-east-1) and overrides " in note
    )
    assert (
        "seed-template.yaml; this run with no overrides: part of the change may come from prices."
        in note
    )
    html = run(
        "diff", "--from-preview", PREVIEW, "--baseline", str(seed_baseline), "--format", "html"
    ).output
    assert "seed-template.yaml; this run with no overrides" in html
    # the other way round: a plain baseline, this run with the override file
    plain = tmp_path / "plain.json"
    run("estimate", "--from-preview", PREVIEW, "--format", "json", "-o", str(plain))
    result = run(
        "check",
        "--from-preview",
        PREVIEW,
        "--prices",
        str(SEED_OVERRIDE),
        "--baseline",
        str(plain),
        "--report",
        str(tmp_path / "again.md"),
    )
    note = next(
        line for line in (tmp_path / "again.md").read_text().splitlines() if line.startswith("ℹ️")
    )
    assert (
        ") and overrides" not in note
        and "; this run with overrides " in note
        and "seed-template.yaml" in note
    )


def test_same_prices_add_nothing_to_the_limit_message(tmp_path):
    result, comment = check(
        tmp_path, "--max-increase", "0", baseline=str(tampered_baseline(tmp_path))
    )
    assert result.exit_code == 1 and "other prices" not in result.output
    assert "The baseline was priced with" not in comment


def check(tmp_path: Path, *args: str, baseline: str | None = None):
    report = tmp_path / "comment.md"
    argv = ["check", "--from-preview", PREVIEW, "--report", str(report), *args]
    if baseline:
        argv += ["--baseline", baseline]
    result = run(*argv)
    return result, (report.read_text() if report.exists() else None)


def test_check_within_budget_exits_0_and_writes_the_comment(tmp_path):
    result, comment = check(tmp_path, "--budget", "150")
    assert result.exit_code == 0, result.output
    assert result.stdout == "costline check passed: $102.29/month, budget $150.00\n"
    assert (
        comment.splitlines()[0]
        == "## ✅ costline: $102.29/month · 68% of budget $150.00 · all costs known"
    )
    assert comment.rstrip().endswith("<!-- costline-report -->")


def test_check_warns_near_the_budget_without_failing(tmp_path):
    result, comment = check(tmp_path, "--budget", "110")
    assert result.exit_code == 0
    assert "passed with a warning" in result.output
    assert comment.startswith("## ⚠️ costline: $102.29/month · 93% of budget $110.00")


def test_check_over_the_mandatory_budget_exits_1(tmp_path):
    result, comment = check(tmp_path, "--budget", "50")
    assert result.exit_code == 1
    assert "the total $102.29/month is over the budget $50.00 by $52.29" in result.output
    assert comment.startswith("## ❌ costline: $102.29/month · over budget $50.00 by $52.29")
    assert "**Cost check failed:**" in comment


def test_budget_compares_whole_cents_like_the_policy_pack(tmp_path):
    """$102.2875 shows as $102.29: a $102.29 budget holds it."""
    assert check(tmp_path, "--budget", "102.29")[0].exit_code == 0
    assert check(tmp_path, "--budget", "102.28")[0].exit_code == 1


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("--max-increase", "63.68"), 0),
        (("--max-increase", "63.67"), 1),
        (("--max-increase-percent", "170"), 0),
        (("--max-increase-percent", "150"), 1),
    ],
)
def test_increase_limits_against_a_baseline(tmp_path, seed_baseline, args, code):
    """Seed prices $38.605 → list prices $102.2875: +$63.6825 (+164.96%, shown +165%)."""
    result, comment = check(tmp_path, *args, baseline=str(seed_baseline))
    assert result.exit_code == code, result.output
    assert "+$63.68 (+165%) vs baseline" in comment.splitlines()[0]


def test_percent_limit_from_an_empty_baseline_is_broken_by_any_increase(tmp_path):
    empty = tmp_path / "empty.export.json"
    empty.write_text(json.dumps({"version": 3, "deployment": {"resources": []}}))
    result, _ = check(tmp_path, "--max-increase-percent", "10", baseline=str(empty))
    assert result.exit_code == 1 and "from $0.00" in result.output


def test_check_writes_a_json_report_that_can_be_the_next_baseline(tmp_path):
    json_file = tmp_path / "next.json"
    result, _ = check(tmp_path, "--budget", "500", "--json-report", str(json_file))
    assert result.exit_code == 0
    data = json.loads(json_file.read_text())
    assert schema_problems(data) == [] and data["budget"]["status"] == "within"
    again, _ = check(tmp_path, "--max-increase", "0", baseline=str(json_file))
    assert (
        again.exit_code == 0
        and again.stdout == "costline check passed: $102.29/month, $0.00 (0%) vs baseline\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--budget", "abc"), "--budget: 'abc' is not an amount"),
        (("--budget", "-5"), "--budget: '-5' is not an amount"),
        (("--budget", "1e3"), "is not an amount"),
        (("--max-increase", "5"), "need --baseline FILE"),
        (("--warn-at-percent", "150", "--budget", "10"), "--warn-at-percent"),
        (("--baseline", "no/such/file.json"), "no/such/file.json: no such file"),
        (("--what-if", "lots"), "--what-if: 'lots'"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, args, message):
    result, _ = check(tmp_path, *args)
    assert result.exit_code == 2
    assert (
        message in result.output
        and result.output.count("\n") == 1
        and "Traceback" not in result.output
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"schema": "costline-report/1", "total_monthly_usd": 5}', "not a valid costline report"),
        ('{"schema": "costline-report/9"}', "is not supported"),
        ('{"hello": "world"}', "is not a costline JSON report"),
        ("[1, 2]", "is not a costline JSON report"),
        ("{", "is not complete JSON"),
    ],
)
def test_bad_baselines_exit_2(tmp_path, content, message):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    result = run("diff", "--from-preview", PREVIEW, "--baseline", str(bad))
    assert result.exit_code == 2
    assert message in result.output and result.output.startswith("costline: error: --baseline ")


def test_unwritable_report_is_a_one_line_error(tmp_path):
    result = run(
        "check", "--from-preview", PREVIEW, "--report", str(tmp_path / "missing" / "comment.md")
    )
    assert result.exit_code == 2
    assert "cannot write the report" in result.output and "Traceback" not in result.output


def _edited_baseline(tmp_path: Path, edit) -> Path:
    """A real JSON report of the reference stack at list prices ($102.2875), edited."""
    baseline = tmp_path / "baseline.json"
    run("estimate", "--from-preview", PREVIEW, "--format", "json", "-o", str(baseline))
    data = json.loads(baseline.read_text())
    edit(data)
    baseline.write_text(json.dumps(data))
    return baseline


def _negative_total(data: dict) -> None:
    # With a -$100,000 baseline, $102.29 would be an "increase" of -100.1%: any limit passed.
    data["total_monthly_usd"] = "-100000"


def _negative_resource(data: dict) -> None:
    first = data["resources"][0]
    data["total_monthly_usd"] = str(
        D(data["total_monthly_usd"]) - D(first["monthly_usd"]) - 1
    )  # still the sum of the resources, and positive
    first["monthly_usd"] = "-1"


def _total_not_the_sum(data: dict) -> None:
    data["total_monthly_usd"] = "100000"  # the resources still add up to 102.2875


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_negative_total, "total_monthly_usd: -100000 is negative"),
        (_negative_resource, "resources[0].monthly_usd: -1 is negative"),
        (
            _total_not_the_sum,
            "total_monthly_usd: 100000 is not the sum of the resources' monthly_usd (102.2875)",
        ),
    ],
    ids=["negative total", "negative resource", "total not the sum"],
)
def test_a_baseline_with_impossible_money_is_refused_not_compared(tmp_path, edit, message):
    baseline = _edited_baseline(tmp_path, edit)
    result, _ = check(tmp_path, "--max-increase-percent", "25", baseline=str(baseline))
    assert result.exit_code == 2, result.output
    assert (
        result.stderr
        == f"costline: error: --baseline {baseline}: {message}"
        + ("" if "sum" in message else "; a monthly cost is never below $0")
        + ("; the report was not written by costline as it is" if "sum" in message else "")
        + "\n"
    )


def test_an_unedited_baseline_report_is_still_accepted(tmp_path):
    baseline = _edited_baseline(tmp_path, lambda data: None)
    result, _ = check(tmp_path, "--max-increase-percent", "0", baseline=str(baseline))
    assert result.exit_code == 0, result.output
