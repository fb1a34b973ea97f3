"""Every figure costline could not read is in the gap list, even when another gap already leaves
the cost it feeds out of the total; and fail-closed treats one figure the same wherever it is
read. Through ``costline estimate`` (the JSON report) and ``costline check``.

Figures by hand, us-east-1 list prices (Lambda $0.20 / 1M requests, $0.0000166667 / GB-second
x86_64, free tier 1M requests and 400,000 GB-s a month):

* ``fn``: 1,024 MB, 1,000,000 requests (inside the free tier, $0), 1,000 ms:
  1,000,000 × 1 s × 1 GB = 1,000,000 GB-s - 400,000 free = 600,000 × $0.0000166667 = $10.00002.
"""

from __future__ import annotations

from costline.core.values import UNKNOWN_NUMBER
from tests.test_verdicts import LAMBDA, estimate_json

DURATION = "cost:avg-duration-ms"
INIT = "cost:init-duration-ms"
COLD = "cost:cold-start-percent"


def function(**tags: str) -> list:
    declared = {"cost:monthly-requests": "1000000", DURATION: "1000"}
    props = {"memorySize": 1024, "timeout": 30, "tags": {**declared, **tags}}
    return [(LAMBDA, "fn", props)]


def gaps(report: dict) -> list[str]:
    return [g["what"] for g in report["incomplete"]]


# --- 1. the INIT figures are read even when the duration is a gap --------------------------------
def test_an_unknown_duration_does_not_hide_an_unreadable_init(tmp_path):
    """Fail-open, the duration unknown: nothing of the run time is priced ($0, the requests in the
    free tier), and the gap list names the duration and the unreadable INIT both."""
    report = estimate_json(tmp_path, function(**{DURATION: UNKNOWN_NUMBER, INIT: "lots"}))
    assert report["total_monthly_usd"] == "0"
    assert gaps(report) == [f"{DURATION} unknown", f"{INIT} invalid"]


def test_an_unreadable_duration_does_not_hide_an_unreadable_cold_start_share(tmp_path):
    report = estimate_json(tmp_path, function(**{DURATION: "1,5", INIT: "800", COLD: "-1"}))
    assert report["total_monthly_usd"] == "0"
    assert gaps(report) == [f"{DURATION} invalid", f"{COLD} invalid"]


def test_an_unreadable_init_does_not_hide_an_unreadable_cold_start_share(tmp_path):
    """The duration read: priced as before, the INIT left out ($10.00002), and both INIT
    figures named."""
    report = estimate_json(tmp_path, function(**{INIT: UNKNOWN_NUMBER, COLD: "lots"}))
    assert report["total_monthly_usd"] == "10.00002"
    assert gaps(report) == [f"{INIT} unknown", f"{COLD} invalid"]


def test_an_unknown_duration_with_readable_or_undeclared_init_adds_no_gap(tmp_path):
    undeclared = estimate_json(tmp_path, function(**{DURATION: UNKNOWN_NUMBER}))
    assert gaps(undeclared) == [f"{DURATION} unknown"]
    declared = estimate_json(tmp_path, function(**{DURATION: UNKNOWN_NUMBER, INIT: "800"}))
    assert declared["total_monthly_usd"] == "0"
    assert gaps(declared) == [f"{DURATION} unknown"]
