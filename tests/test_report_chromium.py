"""The HTML report in a real browser: headless Chromium (Debian's ``chromium`` package) parses
the page and screenshots it. Skipped only when chromium is not installed (``.ci/run`` installs it).
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import tempfile
from decimal import Decimal as D

import pytest

from costline.estimator.pipeline import estimate
from costline.readers import auto_detect
from costline.render.templates import render
from costline.review.budget import BudgetLimits
from costline.review.report import build_report
from costline.review.sections import Baseline
from tests.report_checks import table_with, tables, tags
from tests.test_report_templates import HOSTILE, PREVIEW, hostile_stack, review

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)"
)
WINDOW = (1200, 1600)


def chromium(*args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                f"--user-data-dir={profile}",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


@pytest.fixture(scope="module")
def page(tmp_path_factory, seed_prices, prices):
    resources = auto_detect(PREVIEW)
    baseline = Baseline(build_report(estimate(resources, seed_prices)), "baseline.json", "report")
    report = review(
        [*resources, *hostile_stack()],
        prices,
        source="reference + hostile",
        baseline=baseline,
        limits=BudgetLimits(monthly_budget_usd=D(50)),
    )
    path = tmp_path_factory.mktemp("html") / "report.html"
    path.write_text(render(report, "html"), encoding="utf-8")
    return path


def test_chromium_parses_the_page_as_intended(page):
    result = chromium("--dump-dom", page.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    assert "script" not in tags(dom)  # the hostile name stayed text
    assert HOSTILE.replace("<", "&lt;").replace(">", "&gt;") in dom
    assert table_with(dom, "Baseline")[-1][:3] == ["Total", "$102.29", "$38.61"]
    what_if = table_with(dom, "Calls/month")
    assert [row[0] for row in what_if[1:]] == ["30,000 (now)", "100,000", "500,000", "1,000,000"]
    assert all(len(row) == len(what_if[0]) for row in what_if)
    assert len(tables(dom)) == 5  # services, changes, breakdown, assumptions, what-if
    assert "over the limit" in dom and "<details" in dom


def test_chromium_screenshots_the_page(page, tmp_path):
    shot = tmp_path / "report.png"
    result = chromium(
        f"--screenshot={shot}", f"--window-size={WINDOW[0]},{WINDOW[1]}", page.as_uri()
    )
    assert result.returncode == 0, result.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == WINDOW
    assert len(data) > 50_000  # a rendered page, not a blank one
