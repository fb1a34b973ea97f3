"""Every template (markdown, HTML, JSON) for the reference stack and for edge stacks.

Markdown is rendered with a real GitHub-flavoured markdown renderer (markdown-it-py's
``gfm-like`` preset) and checked for its structure: tables with the right rows and cells,
``<details>`` blocks, no raw HTML from the stack. Every JSON report is validated against
``costline/review/report.schema.json``.

Golden files: ``tests/golden/*.md`` hold the expected markdown. After an intended change to a
template or a figure, regenerate them with

    COSTLINE_UPDATE_GOLDEN=1 python -m pytest tests/test_report_templates.py

and review the diff like code.
"""

from __future__ import annotations

import os
from decimal import Decimal as D
from pathlib import Path

import pytest

from costline.estimator.pipeline import estimate
from costline.estimator.priced import price_stack
from costline.readers import auto_detect
from costline.render.templates import render
from costline.review.budget import BudgetLimits
from costline.review.report import build_report
from costline.review.sections import Baseline, review_report
from tests.conftest import LAMBDA, PROFILE, make, seed_stack
from tests.report_checks import gfm, json_report, table_with, tables, tags

GOLDEN = Path(__file__).parent / "golden"
PREVIEW = "tests/fixtures/preview/reference-stack.preview.json"
HOSTILE = "<script>alert(1)</script>|@org/team`x`"


def review(resources, prices, *, source="stack", **kwargs):
    return review_report(price_stack(resources, prices, source=source), **kwargs)


def empty_stack():
    return []


def unpriced_stack():
    return [
        make("aws:gamelift/fleet:Fleet", "fleet"),
        make("aws:iot/thing:Thing", "thing"),
        make("aws:iam/role:Role", "role"),
    ]


def findings_stack():
    return [
        make(LAMBDA, "no-usage", memorySize=256),
        make(LAMBDA, "bad-usage", tags={"cost:monthly-requests": "1e6", "cost:daily-request": "5"}),
        make(
            PROFILE,
            "unknown-model",
            tags={"cost:monthly-requests": "100", "cost:bedrock-model": "acme.nope-v1"},
        ),
    ]


def huge_stack():
    """10^13 requests a month through a Lambda and 10^7 tokens each way per request."""
    return [
        make(
            LAMBDA,
            "firehose",
            memorySize=10240,
            tags={"cost:monthly-requests": "10000000000000", "cost:avg-duration-ms": "900000"},
        ),
        make(
            PROFILE,
            "model",
            tags={
                "cost:monthly-requests": "10000000000000",
                "cost:input-tokens": "10000000",
                "cost:output-tokens": "10000000",
                "cost:bedrock-model": "deepseek.r1-v1:0",
            },
        ),
    ]


def hostile_stack():
    return [
        make(
            LAMBDA,
            HOSTILE,
            memorySize=512,
            tags={
                "cost:monthly-requests": "1000",
                "cost:avg-duration-ms": "5",
                "cost:bedrock-model": HOSTILE,
                "cost:input-tokens": "1",
                "cost:output-tokens": "1",
                "owner": HOSTILE,
            },
        )
    ]


EDGE_STACKS = {
    "empty": empty_stack,
    "unpriced": unpriced_stack,
    "findings": findings_stack,
    "huge": huge_stack,
    "hostile": hostile_stack,
}


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("COSTLINE_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with COSTLINE_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), (
        f"{name} differs from its golden file (see the module doc)"
    )


# --- the reference stack -------------------------------------------------------------------


def test_seed_scenario_markdown(seed_prices):
    """The reference stack (preview fixture) at the seed's prices: $38.61, the corrected seed
    scaling table, and recommendations."""
    report = review(auto_detect(PREVIEW), seed_prices, source="reference-stack.preview.json")
    json_report(report)
    text = render(report, "markdown")
    golden("seed-scenario.md", text)
    assert text.splitlines()[0] == "## 💰 costline: $38.61/month · all costs known"
    html = gfm(text)
    services = table_with(html, "Service")
    assert services[1:] == [
        ["Bedrock", "$37.50"],
        ["S3", "$1.00"],
        ["API Gateway", "$0.11"],
        ["Lambda", "$0.00"],
        ["Total", "$38.61"],
    ]
    what_if = table_with(html, "Calls/month")
    assert what_if[0] == ["Calls/month", "Scale", "Bedrock", "S3", "API Gateway", "Lambda", "Total"]
    assert what_if[1:] == [
        ["30,000 (now)", "1×", "$37.50", "$1.00", "$0.11", "$0.00", "$38.61"],
        ["100,000", "3.33×", "$125.00", "$1.00", "$0.35", "$0.00", "$126.35"],
        ["500,000", "16.67×", "$625.00", "$1.00", "$1.75", "$0.00", "$627.75"],
        ["1,000,000", "33.33×", "$1,250.00", "$1.00", "$3.50", "$1.67", "$1,256.17"],
    ]
    breakdown = html.split("<details><summary>Per-resource breakdown")[1].split("</details>")[0]
    resources, items = tables(breakdown)
    assert [r[0] for r in resources[1:]] == [
        "model",
        "artifacts",
        "dev",
        "api-handler",
    ]  # most expensive first
    assert all(len(row) == 6 for row in items)
    lines = [row for row in items[1:] if row[1] != "subtotal"]
    assert len(lines) == 8
    # a subtotal closes each resource of several line items: $7.50 + $30.00 input and output
    # tokens at the seed's $0.50 / $2.00 per 1M; S3's $0.00 + $0.00 + 40 GB × $0.025 = $1.00
    assert [row for row in items if row[1] == "subtotal"] == [
        ["model", "subtotal", "", "", "$37.50", ""],
        ["artifacts", "subtotal", "", "", "$1.00", ""],
        ["api-handler", "subtotal", "", "", "$0.00", ""],
    ]
    dev = [row[0] for row in items].index("dev")
    assert items[dev + 1][:2] == [
        "api-handler",
        "Lambda: Duration (x86_64)",
    ]  # one item: no subtotal
    assumptions = html.split("<details><summary>Assumptions</summary>")[1].split("</details>")[0]
    assert "costline tables 2026.12.0 for us-east-1, as of 2025-02-28" in assumptions
    assert ["api-handler", "memorySize", "512 (MB)", "property"] in tables(assumptions)[0]
    assert "<h3>Recommendations</h3>" in html
    assert "<strong>Cut Bedrock tokens by 25%</strong> — saves <strong>$9.38/month</strong>" in html
    assert html.index("Batch inference is not offered") < html.index("Set an AWS Budgets alarm")
    assert (
        '<a href="https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-create.html">'
        in html
    )


def test_reference_check_markdown_with_baseline_and_budget(seed_prices, prices):
    """List prices against a seed-priced baseline, with a $50 budget and a 20% increase limit."""
    resources = auto_detect(PREVIEW)
    baseline = Baseline(build_report(estimate(resources, seed_prices)), "baseline.json", "report")
    report = review(
        resources,
        prices,
        source="reference-stack.preview.json",
        baseline=baseline,
        limits=BudgetLimits(monthly_budget_usd=D(50), max_increase_percent=D(20)),
    )
    data = json_report(report)
    assert [v["code"] for v in data["budget"]["violations"]] == [
        "over-budget",
        "increase-over-percent",
    ]
    text = render(report, "markdown")
    golden("reference-check.md", text)
    assert text.splitlines()[0] == (
        "## ❌ costline: $102.29/month · 🔴 +$63.68 (+165%) vs baseline · over budget $50.00 "
        "by $52.29 · increase over the limit · all costs known"
    )
    html = gfm(text)
    assert table_with(html, "Baseline")[-1] == ["Total", "$102.29", "$38.61", "+$63.68"]
    assert "<li>❌ the total $102.29/month is over the budget $50.00 by $52.29</li>" in html


@pytest.mark.parametrize("fmt", ["markdown", "html", "json"])
def test_every_format_renders_the_reference_stack(prices, fmt):
    text = render(review(auto_detect(PREVIEW), prices), fmt)
    assert "102.29" in text or "102.2875" in text
    assert "1,256.17" not in text  # list prices, not the seed's
    if fmt == "html":
        assert (
            text.startswith("<!DOCTYPE html>") and "<details" in text and "script" not in tags(text)
        )


# --- edge stacks ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EDGE_STACKS))
def test_edge_stacks_render_in_every_format_and_validate(prices, name):
    report = review(EDGE_STACKS[name](), prices)
    json_report(report)
    for fmt in ("markdown", "html"):
        text = render(report, fmt)
        html = gfm(text) if fmt == "markdown" else text
        assert "script" not in tags(html)
        for table in tables(html):
            assert len({len(row) for row in table}) == 1, (
                table
            )  # every row has as many cells as the header


def test_empty_stack(prices):
    report = review([], prices)
    text = render(report, "markdown")
    golden("empty-stack.md", text)
    html = gfm(text)
    assert table_with(html, "Service")[1:] == [["Total", "$0.00"]]
    assert "The stack has no resources." in html
    assert "No request traffic is declared" in html  # no what-if rows without traffic
    assert "No change costline knows of saves money" in html
    assert "Calls/month" not in html


def test_unpriced_resources_only(prices):
    text = render(review(unpriced_stack(), prices), "markdown")
    html = gfm(text)
    # two resources whose cost costline cannot determine: the verdict says incomplete, names them
    assert text.startswith(
        "## 💰 costline: $0.00/month · ⚠️ incomplete\n\n"
        "⚠️ **Incomplete:** the cost of "
        "fleet \\(aws:gamelift/fleet:Fleet not priced by costline\\), "
        "thing \\(aws:iot/thing:Thing not priced by costline\\) is not fully known "
        "(see the findings), so the total is a lower bound.\n\n"
        "3 resources: 0 priced, 1 free, 0 missing usage, 2 not priced"
    )
    assert table_with(html, "Type")[1:] == [  # types as `pulumi preview` prints them
        ["fleet", "aws:gamelift:Fleet", "not priced", "$0.00"],
        ["thing", "aws:iot:Thing", "not priced", "$0.00"],
    ]
    assert "costline does not price aws:gamelift/fleet:Fleet yet" in html


def test_findings_are_listed_with_their_fix(prices):
    html = gfm(render(review(findings_stack(), prices), "markdown"))
    findings = html.split("<h3>Findings</h3>")[1]
    assert "no-usage: no cost:monthly-requests or cost:daily-requests tag" in findings
    assert "bad-usage: cost:monthly-requests='1e6' uses an exponent" in findings
    assert "did you mean cost:daily-requests?" in findings
    assert "no on-demand price for Bedrock model 'acme.nope-v1'" in findings
    statuses = {row[0]: row[2] for row in table_with(html, "Type")[1:]}
    assert statuses == {
        "no-usage": "usage missing",
        "bad-usage": "usage missing",
        "unknown-model": "usage missing",
    }
    assert (
        "3 resources: 0 priced, 0 free, 3 missing usage, 0 not priced · ⚠️ 4 findings to read"
        in html
    )


def test_huge_numbers_are_exact_and_readable(prices):
    """10^13 requests × 10^7 tokens = 10^20 tokens each way at $1.35 / $5.40 per 1M:
    $135,000,000,000,000 + $540,000,000,000,000 = $675 trillion for Bedrock."""
    report = review(huge_stack(), prices)
    data = json_report(report)
    bedrock = next(s for s in data["by_service"] if s["service"] == "Bedrock")
    assert bedrock["monthly_usd"] == "675000000000000"
    text = render(report, "markdown")
    assert "$675,000,000,000,000.00" in text
    assert "E+" not in text and "e+" not in text
    html_page = render(report, "html")
    assert "$675,000,000,000,000.00" in html_page
    what_if = table_with(gfm(text), "Calls/month")
    assert what_if[1][0] == "30,000"  # the seed's rows scale 10^13 calls down
    assert data["what_if"]["edge"]["monthly_calls"] == "10000000000000"


def test_hostile_tag_values_are_escaped_everywhere(prices):
    report = review(hostile_stack(), prices)
    data = json_report(report)
    assert data["resources"][0]["name"] == HOSTILE  # JSON is data: kept exactly
    text = render(report, "markdown")
    html = gfm(text)
    assert "script" not in tags(html) and "<script>" not in html
    assert "@org" not in text  # a zero-width space stops the mention
    assert "&lt;script&gt;alert(1)&lt;/script&gt;|@\u200borg/team`x`" in html  # shown literally
    resources = table_with(html, "Type")
    assert len(resources[1]) == 4  # the | in the name did not add a cell
    page = render(report, "html")
    assert "script" not in tags(page) and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<code>" not in text.split("<details>")[0]


def test_user_template_gets_the_review_sections(tmp_path, seed_prices):
    (tmp_path / "report.md.j2").write_text(
        "{% for row in report.what_if.rows %}{{ row.volume | qty }}={{ row.total_monthly_usd | usd "
        "}};{% endfor %}{{ report.recommendations | length }}\n"
    )
    report = review(seed_stack(), seed_prices)
    assert (
        render(report, "markdown", tmp_path)
        == "30,000=$38.61;100,000=$126.35;500,000=$627.75;1,000,000=$1,256.17;5\n"
    )
