"""A total that includes fail-closed worst-case bounds says so wherever the verdict is shown:
``costline check``'s verdict line, the JSON report's ``bounded_summary``, the markdown, HTML and
terminal headlines, and the pack's stack line and stack-budget message over the gRPC Analyzer
protocol; a total with no bound in it says nothing of bounds.

Worked out by hand from the us-east-1 list prices (Lambda $0.20 / 1M requests and
$0.0000166667 / GB-second x86_64, free tier 1M requests and 400,000 GB-s a month; S3 Standard
storage $0.023 / GB-month):

* ``fn``: 2,000,000 requests with no ``cost:avg-duration-ms``, 128 MB, the default 3 s timeout.
  Fail-open the duration is missing: requests 1,000,000 above the free tier × $0.20/M = $0.20.
  Fail-closed the duration takes its bound, the timeout: 2M × 3 s × 0.125 GB = 750,000 GB-s,
  350,000 above the free tier × $0.0000166667 = $5.833345; with the requests $6.033345 → $6.03.
* ``data``: 40 GB with its request counts declared 0: 40 × $0.023 = $0.92, no bound.
"""

from __future__ import annotations

import io

from click.testing import CliRunner
from rich.console import Console

from costline.cli.main import main
from costline.core.model import Resource
from costline.core.values import UNKNOWN_NUMBER
from costline.engine import EngineResource, make_urn, secret
from costline.estimator.pipeline import EstimateOptions, estimate
from costline.pricing.loader import load_price_book
from costline.render.terminal import print_report
from costline.review.report import build_report
from tests.test_verdicts import BUCKET, LAMBDA, check, engine, gate, rendered
from tests.test_verdicts import estimate_json as report

FN = (LAMBDA, "fn", {"tags": {"cost:monthly-requests": "2000000"}})
DATA = (
    BUCKET,
    "data",
    {
        "tags": {
            "cost:storage-gb": "40",
            "cost:monthly-get-requests": "0",
            "cost:monthly-put-requests": "0",
        }
    },
)
FN_BOUND = "1 resource priced at worst-case bounds: fn (cost:avg-duration-ms at its bound 3000)"
FAST = ["--what-if", "none", "--no-recommendations"]


# --- costline check ---------------------------------------------------------------------------
def test_check_says_the_total_includes_bounds_when_it_fails_and_when_it_passes(tmp_path):
    over = check(tmp_path, [FN, DATA], "--budget", "5", "--fail-closed")
    assert over.exit_code == 1, over.output
    assert over.output.splitlines()[0] == (
        f"costline check FAILED: $6.95/month, including {FN_BOUND}, budget $5.00"
    )  # $6.03 + $0.92 = $6.95, over $5.00
    within = check(tmp_path, [FN, DATA], "--budget", "10", "--fail-closed")
    assert within.exit_code == 0, within.output
    assert within.output.splitlines()[0] == (
        f"costline check passed: $6.95/month, including {FN_BOUND}, budget $10.00"
    )


def test_check_says_nothing_of_bounds_when_there_are_none(tmp_path):
    declared = check(tmp_path, [DATA], "--budget", "10", "--fail-closed")
    assert declared.exit_code == 0, declared.output
    assert declared.output.splitlines()[0] == "costline check passed: $0.92/month, budget $10.00"
    # fail-open, the missing duration is missing (not a bound): incomplete, never "bounds"
    open_ = check(tmp_path, [FN, DATA], "--budget", "10")
    assert open_.exit_code == 0, open_.output
    assert open_.output.splitlines()[0] == (
        "costline check passed, but the estimate is incomplete: $1.12/month + 1 resource not "
        "fully priced: fn (cost:avg-duration-ms missing), budget $10.00"
    )  # $0.20 + $0.92
    assert "worst-case" not in open_.output


# --- the report formats -----------------------------------------------------------------------
def test_the_json_report_carries_the_bounded_summary(tmp_path):
    closed = report(tmp_path, [FN, DATA], "--fail-closed")
    assert closed["total_monthly_usd"] == "6.953345"  # $6.033345 + $0.92, rounded for display
    assert closed["bounded_summary"] == FN_BOUND
    assert closed["complete"] is True
    assert report(tmp_path, [FN, DATA])["bounded_summary"] == ""


def test_the_markdown_headline_says_worst_case_bounds_not_all_costs_known(tmp_path):
    closed = rendered(tmp_path, [FN, DATA], "markdown", "--fail-closed")
    assert closed.splitlines()[0] == (
        "## 💰 costline: $6.95/month · ⚠️ includes worst-case bounds for 1 resource"
    )
    assert "all costs known" not in closed
    assert (
        "⚠️ **Worst-case bounds:** the cost of fn \\(cost:avg-duration-ms at its bound 3000\\) "
        "is priced at fail-closed worst-case bounds"
    ) in closed
    declared = rendered(tmp_path, [DATA], "markdown", "--fail-closed")
    assert declared.splitlines()[0] == "## 💰 costline: $0.92/month · all costs known"
    assert "Worst-case bounds" not in declared


def test_the_html_and_terminal_verdicts_say_so_too(tmp_path):
    html = rendered(tmp_path, [FN, DATA], "html", "--fail-closed")
    assert '<span class="complete no">includes worst-case bounds for 1 resource</span>' in html
    assert "Priced at fail-closed worst-case bounds, not at declared figures: fn (" in html
    plain = rendered(tmp_path, [DATA], "html", "--fail-closed")
    assert '<span class="complete">all costs known</span>' in plain
    assert "worst-case bounds" not in plain
    first = terminal_verdict([FN, DATA], fail_closed=True)
    assert first.endswith(
        "includes worst-case bounds for 1 resource: fn (cost:avg-duration-ms at its bound 3000)"
    )
    assert "all costs known" not in first
    assert terminal_verdict([DATA], fail_closed=True).endswith("· all costs known")


# --- both: part of the total left out, part a worst case ---------------------------------------
UNKNOWN_OUT = (  # ``data`` with its transfer out unknown: a gap with no bound, even fail-closed
    BUCKET,
    "data",
    {"tags": {**DATA[2]["tags"], "cost:monthly-transfer-out-gb": UNKNOWN_NUMBER}},
)
GAP = "data (cost:monthly-transfer-out-gb unknown)"


def test_a_total_both_incomplete_and_bounded_says_both_and_is_no_lower_bound(tmp_path):
    """Fail-closed, ``fn`` at its bound ($6.03) and ``data`` without its transfer out ($0.92):
    $6.95, which leaves the transfer out and takes fn's duration at its worst case, so it is
    neither a lower bound nor a worst case of the whole."""
    markdown = rendered(tmp_path, [FN, UNKNOWN_OUT], "markdown", "--fail-closed")
    assert markdown.splitlines()[0] == (
        "## 💰 costline: $6.95/month · ⚠️ incomplete · ⚠️ includes worst-case bounds for 1 resource"
    )
    assert (
        "⚠️ **Incomplete:** the cost of data \\(cost:monthly-transfer-out-gb unknown\\) is not "
        "fully known (see the findings), so the total leaves that cost out."
    ) in markdown
    assert "lower bound" not in markdown
    html = rendered(tmp_path, [FN, UNKNOWN_OUT], "html", "--fail-closed")
    assert (
        '<span class="complete no">incomplete · includes worst-case bounds for 1 resource</span>'
    ) in html
    assert "lower bound" not in html
    assert terminal_verdict([FN, UNKNOWN_OUT], fail_closed=True).endswith(
        f"· incomplete: {GAP} · includes worst-case bounds for 1 resource: fn "
        "(cost:avg-duration-ms at its bound 3000)"
    )
    # incomplete with no bound in it: a lower bound, and every format says so
    open_html = rendered(tmp_path, [FN, UNKNOWN_OUT], "html")
    assert '<span class="complete no">incomplete: the total is a lower bound</span>' in open_html
    open_md = rendered(tmp_path, [FN, UNKNOWN_OUT], "markdown")
    assert open_md.splitlines()[0] == "## 💰 costline: $1.12/month · ⚠️ incomplete"
    assert "(see the findings), so the total is a lower bound." in open_md


def terminal_verdict(resources, *, fail_closed: bool) -> str:
    """The first line of the terminal view (``--format table``) of the estimate."""
    stack = [
        Resource(urn=make_urn(type_, name), type=type_, name=name, properties=props)
        for type_, name, props in resources
    ]
    built = build_report(
        estimate(stack, load_price_book("us-east-1"), EstimateOptions(fail_closed=fail_closed))
    )
    out = io.StringIO()
    print_report(built, Console(file=out, width=200, force_terminal=False, color_system=None))
    return out.getvalue().splitlines()[0].rstrip()


# --- the pack over gRPC -----------------------------------------------------------------------
def stack_lines(result) -> str:
    return "\n".join(v.message for v in result.by_policy("cost-estimate") if not v.urn)


def test_the_pack_stack_line_and_budget_message_say_the_total_includes_bounds(pack):
    closed = pack.run(engine([FN, DATA]), gate(5, fail_closed=True))
    assert (
        f"Stack total ~$6.95/month, including {FN_BOUND} (budget $5.00, over by $1.95)"
    ) in stack_lines(closed)
    (violation,) = closed.by_policy("stack-budget")
    assert violation.enforcement_level == "mandatory"
    assert (
        f"Stack cost ~$6.95/month, including {FN_BOUND}, is over the budget $5.00 by $1.95."
    ) in violation.message
    within = pack.run(engine([FN, DATA]), gate(10, fail_closed=True))
    assert not within.mandatory
    assert f"Stack total ~$6.95/month, including {FN_BOUND} (budget $10.00" in stack_lines(within)


def test_the_pack_says_nothing_of_bounds_without_any(pack):
    declared = pack.run(engine([DATA]), gate(5, fail_closed=True))
    assert "Stack total ~$0.92/month (budget $5.00, headroom $4.08)" in stack_lines(declared)
    assert "worst-case" not in stack_lines(declared)
    open_ = pack.run(engine([FN, DATA]), gate(5, fail_closed=False))
    assert (
        "Stack total ~$1.12/month + 1 resource not fully priced: fn (cost:avg-duration-ms "
        "missing) (budget $5.00"
    ) in stack_lines(open_)
    assert "worst-case" not in stack_lines(open_)


def test_a_secret_timeout_is_not_shown_as_the_duration_bound(pack, tmp_path):
    """A 7 s secret timeout: 2M × 7 s × 0.125 GB = 1,750,000 GB-s, 1,350,000 above the free
    tier × $0.0000166667 = $22.500045, with $0.20 of requests $22.70."""
    fn = EngineResource(
        urn=make_urn(LAMBDA, "fn"),
        properties={"timeout": secret(7), "tags": {"cost:monthly-requests": "2000000"}},
    )
    closed = pack.run([fn], gate(5, fail_closed=True))
    line = stack_lines(closed)
    assert (
        "Stack total ~$22.70/month, including 1 resource priced at worst-case bounds: fn "
        "(cost:avg-duration-ms at its bound [secret])"
    ) in line
    assert all("7000" not in v.message for v in closed.violations)


# --- many stacks (--config costline.yml) --------------------------------------------------------
def test_the_multi_stack_verdict_says_which_stacks_include_bounds(tmp_path):
    """One program, stacks ``dev`` and ``prod`` alike: ``fn`` as above ($6.03 fail-closed, $0.20
    fail-open with its duration missing), run as two projects of one costline.yml: $12.07
    (2 × $6.033345) in all under --fail-closed."""
    program = tmp_path / "svc"
    program.mkdir()
    (program / "Pulumi.yaml").write_text("name: svc\nruntime: python\n")
    for stack in ("dev", "prod"):  # two stacks alike (a stack is listed once)
        (program / f"Pulumi.{stack}.yaml").write_text("config:\n  aws:region: us-east-1\n")
    (program / "__main__.py").write_text(
        "import pulumi_aws as aws\n\n"
        'aws.lambda_.Function("fn", runtime="python3.12", handler="app.handler", '
        'role="arn:aws:iam::123456789012:role/fixture", '
        'tags={"cost:monthly-requests": "2000000"})\n'
    )
    config = tmp_path / "costline.yml"
    config.write_text(
        "version: 1\nprojects:\n"
        "  - path: svc\n    stack: dev\n    name: one\n    budget_usd: 10\n"
        "  - path: svc\n    stack: prod\n    name: two\n    budget_usd: 5\n"
    )
    comment = tmp_path / "comment.md"
    closed = CliRunner().invoke(
        main, ["check", "--config", str(config), "--fail-closed", "--report", str(comment), *FAST]
    )
    assert closed.exit_code == 1, closed.output
    lines = closed.stdout.splitlines()
    bound = "1 resource priced at worst-case bounds: fn (cost:avg-duration-ms at its bound 3000)"
    assert lines[0] == f"one: costline check passed: $6.03/month, including {bound}, budget $10.00"
    assert lines[1] == f"two: costline check FAILED: $6.03/month, including {bound}, budget $5.00"
    assert lines[-1] == (
        "costline check: 1 of 2 stacks failed the check · $12.07/month in all · ⚠️ worst-case "
        "bounds in 2 stacks, exit 1"
    )
    text = comment.read_text()
    assert text.startswith(
        "## ❌ costline: 1 of 2 stacks failed the check · $12.07/month in all · ⚠️ worst-case "
        "bounds in 2 stacks\n"
    )
    assert "| one | $6.03 | $10.00 | ✅ within budget · ⚠️ worst-case bounds |" in text
    assert "⚠️ **Worst-case bounds:** part of the cost of one, two is priced" in text
    open_ = CliRunner().invoke(main, ["check", "--config", str(config), *FAST])
    assert open_.exit_code == 0, open_.output
    assert "worst-case" not in open_.stdout
    assert open_.stdout.splitlines()[-1] == (
        "costline check: 2 stacks within budget · $0.40/month in all · ⚠️ incomplete in 2 "
        "stacks, exit 0"
    )
