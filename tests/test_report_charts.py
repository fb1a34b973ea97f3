"""The reports' charts: inline SVG in HTML (cost by service, the what-if curve) and the Mermaid
what-if chart in markdown. The SVG is parsed as XML and its geometry checked against figures
worked out here by hand; the Mermaid block is read back line by line."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from decimal import Decimal as D
from fractions import Fraction

import pytest

from costline.readers import auto_detect
from costline.render.charts import (
    BAR_MAX,
    LOG_RATIO,
    PLOT_HEIGHT,
    PLOT_LEFT,
    PLOT_TOP,
    PLOT_WIDTH,
    mermaid_what_if,
    service_bars,
    what_if_lines,
)
from costline.render.templates import render
from costline.render.view import ReportView
from tests.report_checks import gfm
from tests.test_report_templates import PREVIEW, review

SVG = "{http://www.w3.org/2000/svg}"

# The reference stack at list prices, worked out from the price tables' sources:
# Bedrock: 15M input tokens × $1.35/1M + 15M output × $5.40/1M = $20.25 + $81.00
# S3: 40 GB × $0.023 + 30,000 GET × $0.0004/1k + 100 PUT × $0.005/1k = $0.92 + $0.012 + $0.0005
# API Gateway: 30,000 REST requests × $3.50/1M; Lambda: inside the free tier
REFERENCE = {
    "Bedrock": Fraction("101.25"),
    "S3": Fraction("0.9325"),
    "API Gateway": Fraction("0.105"),
    "Lambda": Fraction(0),
}


@pytest.fixture(scope="module")
def reference(prices):
    return review(auto_detect(PREVIEW), prices)


def svgs(page: str) -> dict[str, ET.Element]:
    """Every inline ``<svg>`` of the page, parsed as XML, by id."""
    found = {}
    for text in re.findall(r"<svg\b.*?</svg>", page, flags=re.S):
        element = ET.fromstring(text)  # raises on anything that is not well-formed XML
        found[element.get("id")] = element
    return found


def test_service_bars_are_proportional_to_the_figures(reference):
    assert {row["service"]: Fraction(row["monthly_usd"]) for row in reference["by_service"]} == (
        REFERENCE
    )
    chart = svgs(render(reference, "html"))["chart-services"]
    assert chart.get("role") == "img" and chart.get("aria-labelledby")
    assert chart.find(f"{SVG}title").text == "Monthly cost by service"
    assert chart.find(f"{SVG}desc").text == (
        "Bedrock: $101.25; S3: $0.93; API Gateway: $0.11; Lambda: $0.00"
    )
    bars = {rect.get("data-service"): D(rect.get("width")) for rect in chart.iter(f"{SVG}rect")}
    largest = max(REFERENCE.values())
    for service, usd in REFERENCE.items():
        expected = Fraction(BAR_MAX) * usd / largest  # 260 px × share of the largest
        assert abs(Fraction(bars[service]) - expected) <= Fraction(1, 200), service
    assert bars["Bedrock"] == 260 and bars["Lambda"] == 0
    assert D("2.39") <= bars["S3"] <= D("2.40")  # 260 × 0.9325 / 101.25 = 2.3946
    labels = [t.text for t in chart.iter(f"{SVG}text")]
    assert labels == [
        "Bedrock", "$101.25", "S3", "$0.93", "API Gateway", "$0.11", "Lambda", "$0.00",
    ]  # fmt: skip


def test_bars_of_an_empty_or_free_stack_have_no_length():
    assert service_bars([])["bars"] == []
    free = service_bars([{"service": "Lambda", "monthly_usd": D(0)}])
    assert [b["length"] for b in free["bars"]] == [0]


def test_what_if_curve_uses_a_log_axis_when_the_costs_span_more_than_100x(reference):
    """Costs run from $0.11 (API Gateway today) to $3,375 (Bedrock at 1M calls): log cost axis;
    calls run from 30,000 to 1,000,000 (33×): linear traffic axis."""
    chart = svgs(render(reference, "html"))["chart-what-if"]
    assert chart.find(f"{SVG}title").text == "Monthly cost against traffic (calls/month)"
    desc = chart.find(f"{SVG}desc").text
    assert desc.startswith("Cost on a logarithmic axis. Values of $0.00 are not drawn")
    assert "logarithmic axis. At 30,000 calls/month: Total $102.29, Bedrock $101.25," in desc
    assert "; at 1,000,000 calls/month: Total $3,381.50, Bedrock $3,375.00, S3 $1.34" in desc
    lines = {
        line.get("data-series"): [
            tuple(map(float, p.split(","))) for p in line.get("points").split()
        ]
        for line in chart.iter(f"{SVG}polyline")
    }
    assert list(lines) == ["Total", "Bedrock", "S3", "API Gateway", "Lambda"]  # total under
    # the axis spans whole decades: 10^-1 ($0.105) to 10^4 ($3,375)
    low, high = -1, 4

    def y(usd: float) -> float:
        return float(PLOT_TOP + PLOT_HEIGHT) - float(PLOT_HEIGHT) * (
            (math.log10(usd) - low) / (high - low)
        )

    def x(calls: float) -> float:
        return float(PLOT_LEFT) + float(PLOT_WIDTH) * calls / 1_000_000

    bedrock = [(30_000, 101.25), (100_000, 337.5), (500_000, 1687.5), (1_000_000, 3375)]
    expected = [coordinate for c, u in bedrock for coordinate in (x(c), y(u))]
    assert [v for point in lines["Bedrock"] for v in point] == pytest.approx(expected, abs=0.01)
    # Lambda costs $0.00 until 1M calls ($1.67): only that point can sit on a log axis
    assert [v for point in lines["Lambda"] for v in point] == pytest.approx(
        [x(1_000_000), y(1.6666667)], abs=0.01
    )
    ticks = [t.text for t in chart.iter(f"{SVG}text")]
    # 100k sits 29 px from 30k: too close for its label
    assert [t for t in ticks if re.fullmatch(r"[\d.]+[kMB]", t)] == ["30k", "500k", "1M"]
    assert [t for t in ticks if t[0] == "$"] == ["$0.10", "$1", "$10", "$100", "$1,000", "$10,000"]


def _what_if(rows, services=("Bedrock",)):
    return {
        "services": list(services),
        "rows": [
            {
                "volume": volume,
                "factor": factor,
                "total_monthly_usd": sum(costs, D(0)),
                "by_service": [
                    {"service": s, "monthly_usd": c} for s, c in zip(services, costs, strict=True)
                ],
            }
            for volume, factor, costs in rows
        ],
    }


def test_log_axis_boundary_is_a_ratio_of_100():
    at_limit = _what_if([(D(1), D(1), [D(1)]), (D(2), D(2), [LOG_RATIO])])
    past_limit = _what_if([(D(1), D(1), [D(1)]), (D(2), D(2), [LOG_RATIO + D("0.01")])])
    assert what_if_lines(at_limit)["log_y"] is False
    assert what_if_lines(past_limit)["log_y"] is True
    # linear: $1 sits 1/100 of the way up from $0, $100 at the top
    (line, _total) = what_if_lines(at_limit)["series"]
    bottom = PLOT_TOP + PLOT_HEIGHT
    assert [p["y"] for p in line["points"]] == [bottom - PLOT_HEIGHT / 100, PLOT_TOP]


def test_no_curve_when_placing_today_would_reveal_a_secret_volume():
    # a secret edge volume: absolute rows hide their factor, today's row its volume
    secret = _what_if([(None, D(1), [D(1)]), (D(100000), None, [D(3)])])
    assert what_if_lines(secret) is None and mermaid_what_if(secret) is None
    # multipliers only: placed by their factor, nothing secret
    multipliers = _what_if([(None, D(1), [D(1)]), (None, D(2), [D(2)])])
    assert what_if_lines(multipliers)["x_unit"] == "× today's traffic"
    assert what_if_lines(_what_if([(D(1), D(1), [D(1)])])) is None  # one row: no curve


def test_mermaid_what_if_chart_in_the_pr_comment(reference):
    text = render(reference, "markdown")
    block = text.split("```mermaid\n")[1].split("```")[0].splitlines()
    assert block[1:5] == [
        "xychart-beta",
        '    title "Monthly cost (USD) against traffic (calls/month)"',
        '    x-axis ["30k", "100k", "500k", "1M"]',
        '    y-axis "USD/month"',
    ]
    series = [re.fullmatch(r"    line \[(.*)\]", line)[1].split(", ") for line in block[5:]]
    # one line per service in the table's column order, then the total, in cents
    assert series == [
        ["101.25", "337.50", "1687.50", "3375.00"],
        ["0.93", "0.96", "1.13", "1.34"],
        ["0.11", "0.35", "1.75", "3.50"],
        ["0.00", "0.00", "0.00", "1.67"],
        ["102.29", "338.81", "1690.38", "3381.50"],
    ]
    html = gfm(text)
    assert "🟦 Bedrock · 🟥 S3 · 🟩 API Gateway · 🟨 Lambda · ⬛ Total" in html
    assert '<pre><code class="language-mermaid">' in html
    # --no-mermaid (render option) leaves the table only
    plain = render(reference, "markdown", view=ReportView(mermaid=False))
    assert "```mermaid" not in plain and "| Calls/month |" in plain
