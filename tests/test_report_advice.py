"""Recommendations ranked by dollars, and savings too small to matter folded into one line:
under the larger of an absolute amount and a share of the total, in cents as displayed."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from click.testing import CliRunner

from costline.cli.main import main
from costline.readers import auto_detect
from costline.render.advice import fold_threshold, ranked_advice
from costline.render.templates import render
from costline.render.view import ReportView
from tests.report_checks import gfm
from tests.test_report_templates import PREVIEW, review


def rec(title, saving):
    return {"title": title, "monthly_saving_usd": None if saving is None else D(saving)}


def titles(items):
    return [r["title"] for r in items]


def test_threshold_is_the_larger_of_the_amount_and_the_share():
    assert fold_threshold(D(100), D(1), D(1)) == D("1.00")  # 1% of $100 = $1 = the amount
    assert fold_threshold(D(1000), D(1), D(1)) == D("10.00")  # 1% of $1,000 wins
    assert fold_threshold(D(20), D(1), D(1)) == D("1.00")  # $0.20 share: the amount wins
    assert fold_threshold(D("102.2875"), D(1), D(1)) == D("1.02")  # $1.022875 → cents
    assert fold_threshold(D(500), D(0), D(0)) == D(0)


@pytest.mark.parametrize(
    ("saving", "shown"),
    [("1.00", True), ("0.99", False), ("0.995", True), ("0.994", False), ("25", True)],
)
def test_both_sides_of_the_fold_in_displayed_cents(saving, shown):
    ranked = ranked_advice([rec("x", saving)], D(100))  # threshold $1.00
    assert titles(ranked["savings"] if shown else ranked["folded"]) == ["x"]


def test_savings_ranked_by_dollars_and_advice_kept_in_order():
    recs = [
        rec("alarm", None),
        rec("small", "0.08"),
        rec("b-mid", "5"),
        rec("big", "25.31"),
        rec("a-mid", "5"),
        rec("info", None),
        rec("tiny", "0.50"),
    ]
    ranked = ranked_advice(recs, D(100))
    assert titles(ranked["savings"]) == ["big", "a-mid", "b-mid"]  # ties by title
    assert titles(ranked["folded"]) == ["tiny", "small"]
    assert ranked["folded_usd"] == D("0.58")  # $0.50 + $0.08
    assert titles(ranked["advice"]) == ["alarm", "info"]
    assert ranked_advice(None, D(100)) is None


@pytest.fixture(scope="module")
def reference(prices):
    return review(auto_detect(PREVIEW), prices)


def test_reference_report_folds_the_eight_cent_saving(reference):
    """$102.29 total: threshold max($1.00, 1% = $1.02) = $1.02. Fewer tokens saves $25.31 (shown);
    HTTP API $0.08 = 30,000 × ($3.50 − $1.00) / 1M = $0.075 (folded)."""
    html = gfm(render(reference, "markdown"))
    recs = html.split("<h3>Recommendations</h3>")[1].split("<h3>")[0]
    assert recs.count("<li>") == 4  # one numbered saving, three advice items
    assert (
        "<strong>Cut Bedrock tokens by 25%</strong> — saves <strong>$25.31/month</strong>" in recs
    )
    assert (
        "<p>Smaller savings (each under $1.02/month, $0.08/month together): "
        "Use an HTTP API instead of a REST API (api: $0.08).</p>"
    ) in recs
    page = render(reference, "html")
    assert '<p class="note folded">Smaller savings (each under $1.02/month' in page
    table = render(reference, "table", view=ReportView(width=200))
    assert (
        "Smaller savings (each under $1.02/month, $0.08/month together): "
        "Use an HTTP API instead of a REST API ($0.08)"
    ) in table
    unfolded = gfm(
        render(reference, "markdown", view=ReportView(fold_below_usd=D(0), fold_below_percent=D(0)))
    )
    assert "Smaller savings" not in unfolded
    assert "<strong>Use an HTTP API instead of a REST API</strong> — saves" in unfolded


def test_cli_fold_options():
    runner = CliRunner()
    args = ["estimate", "--from-preview", PREVIEW, "--what-if", "none"]
    folded = runner.invoke(main, args)
    assert "Smaller savings (each under $1.02/month" in folded.output
    # 10% of $102.29 = $10.23 > $1: still only the HTTP API saving is under it
    wide = runner.invoke(main, [*args, "--fold-below-percent", "10"])
    assert "Smaller savings (each under $10.23/month, $0.08/month together)" in wide.output
    none = runner.invoke(main, [*args, "--fold-below", "0", "--fold-below-percent", "0"])
    assert none.exit_code == 0 and "Smaller savings" not in none.output
    bad = runner.invoke(main, [*args, "--fold-below", "-1"])
    assert bad.exit_code == 2 and bad.output.startswith("costline: error: --fold-below: '-1'")
