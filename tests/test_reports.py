"""Reports: markdown (checked with a real markdown renderer), standalone HTML, JSON, user
templates."""

from __future__ import annotations

import json
from decimal import Decimal

from click.testing import CliRunner
from markdown_it import MarkdownIt

from costline.cli.main import main
from costline.estimator.pipeline import estimate
from costline.render.templates import render
from costline.review.report import build_report
from tests.conftest import LAMBDA, make, seed_stack

PREVIEW = "tests/fixtures/preview/reference-stack.preview.json"
HOSTILE = "<script>alert(1)</script>|`x`@org/team\x1b[31m\nnext"


def md_html(text: str) -> str:
    return MarkdownIt("commonmark").enable("table").render(text)


def hostile_stack():
    return [
        make(
            LAMBDA,
            "evil|name<b>",
            memorySize=512,
            tags={"cost:monthly-requests": HOSTILE, "cost:daily-request": "5"},
        )
    ]


def test_markdown_tables_keep_their_shape_and_totals(seed_prices):
    html = md_html(render(build_report(estimate(seed_stack(), seed_prices)), "markdown"))
    assert "<h2>💰 costline: $38.61/month · all costs known</h2>" in html
    service_table = html.split("<table>")[1]
    assert service_table.count("<tr>") == 6  # header, 4 services, total
    assert (
        '<td style="text-align:left">Bedrock</td>\n<td style="text-align:right">$37.50</td>'
        in service_table
    )
    assert "<strong>$38.61</strong>" in service_table


def test_hostile_names_and_tag_values_cannot_change_markdown_structure_or_ping(prices):
    text = render(build_report(estimate(hostile_stack(), prices)), "markdown")
    html = md_html(text)
    assert "<script>" not in html and "<b>" not in html
    assert "\x1b" not in text
    assert "@org" not in text  # a zero-width space breaks the mention
    resources_table = html.split("<table>")[2]
    row = next(r for r in resources_table.split("<tr>") if "evil" in r)
    assert row.count("<td") == 4  # the | in the name did not add a cell


def test_html_is_standalone_and_escaped(prices):
    page = render(build_report(estimate(hostile_stack(), prices)), "html")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "http://" not in page and "https://" not in page.split("<body>")[0]  # no external assets
    assert "\x1b" not in page


def test_json_report_money_is_exact_strings(seed_prices):
    data = json.loads(render(build_report(estimate(seed_stack(), seed_prices)), "json"))
    assert data["total_monthly_usd"] == "38.605"
    assert {s["service"]: s["monthly_usd"] for s in data["by_service"]}["Bedrock"] == "37.5"
    assert Decimal(data["total_monthly_usd"]) == sum(
        Decimal(r["monthly_usd"]) for r in data["resources"]
    )


def test_user_templates_override_by_name_and_fall_back(tmp_path):
    (tmp_path / "report.md.j2").write_text("TOTAL={{ report.total_monthly_usd | usd }}\n")
    runner = CliRunner()
    own = runner.invoke(main, ["estimate", "--from-preview", PREVIEW, "--templates", str(tmp_path)])
    assert own.exit_code == 0 and own.output == "TOTAL=$102.29\n"
    fallback = runner.invoke(
        main,
        ["estimate", "--from-preview", PREVIEW, "--templates", str(tmp_path), "--format", "html"],
    )
    assert fallback.exit_code == 0 and "<!DOCTYPE html>" in fallback.output


def test_broken_user_template_is_a_one_line_error(tmp_path):
    (tmp_path / "report.md.j2").write_text("{% for %}\n")
    result = CliRunner().invoke(
        main, ["estimate", "--from-preview", PREVIEW, "--templates", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "TemplateSyntaxError" in result.output and "Traceback" not in result.output


def test_a_templates_folder_that_is_missing_or_holds_no_template_is_an_error(tmp_path):
    """A typo in --templates must not silently fall back to the bundled report."""
    runner = CliRunner()
    missing = runner.invoke(
        main, ["estimate", "--from-preview", PREVIEW, "--templates", str(tmp_path / "nope")]
    )
    assert missing.exit_code == 2 and len(missing.output.splitlines()) == 1
    assert (
        missing.output.startswith("costline: error: Invalid value for '--templates'")
        and "does not exist" in missing.output
    )
    (tmp_path / "report.md.jinja").write_text("misnamed")
    for command in ("estimate", "check", "diff"):
        result = runner.invoke(
            main,
            [command, "--from-preview", PREVIEW, "--templates", str(tmp_path)]
            + (["--baseline", PREVIEW] if command == "diff" else []),
        )
        assert result.exit_code == 2, command
        assert (
            "holds neither report.md.j2 nor report.html.j2" in result.output
            and len(result.output.splitlines()) == 1
        )


def test_click_usage_errors_are_one_line_exit_2(tmp_path):
    for argv, expected in (
        (["check", "--budget", "5", "--bogus"], "costline: error: No such option '--bogus'"),
        (
            ["estimate", str(tmp_path / "nope")],
            "costline: error: Invalid value for '[PROGRAM_DIR]'",
        ),
        (["estimate", "--format", "pdf"], "costline: error: Invalid value for '--format'"),
    ):
        result = CliRunner().invoke(main, argv)
        assert result.exit_code == 2, argv
        assert result.output.startswith(expected) and len(result.output.splitlines()) == 1, (
            result.output
        )
