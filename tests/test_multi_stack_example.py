"""The README's multi-stack example, end to end, and the combined report's verdict.

The example (``examples/multi-stack/``) is run exactly as the README says, from the repository
root through the real CLI, and its console output and PR comment table are compared with the
README's blocks. The ingest stacks' figures are also worked out here by hand from AWS's list
prices (S3 Standard $0.023/GB-month, PUT $0.005 and GET $0.0004 per 1,000; Lambda arm64
$0.0000133334 per GB-second past 400,000 free, requests $0.20 per million past one million
free — the same in us-east-1 and eu-west-1), not read from costline's tables.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "multi-stack"
COSTLINE = [sys.executable, "-m", "costline.cli.main"]
FAST = ("--what-if", "none", "--no-recommendations")


def costline(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COSTLINE, *args], cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )


def readme_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("## Many stacks in one run")
    return text[start : text.index("\n## The policy pack", start)]


def block(section: str, language: str) -> str:
    match = re.search(rf"```{language}\n(.*?)```", section, re.S)
    assert match, f"no {language} block in the README's multi-stack section"
    return match.group(1)


def cents(usd: Decimal) -> Decimal:
    return usd.quantize(Decimal("0.01"))


def by_hand(storage_gb: int, requests: int, duration_s: Decimal) -> Decimal:
    """An ingest stack: the bucket (storage, PUTs and GETs, one per request) and the 1 GB
    arm64 Lambda (one invocation per request)."""
    s3 = (
        storage_gb * Decimal("0.023")
        + requests * Decimal("0.005") / 1000
        + requests * Decimal("0.0004") / 1000
    )
    gb_seconds = requests * duration_s * 1  # 1,024 MB = 1 GB
    duration = max(gb_seconds - 400_000, 0) * Decimal("0.0000133334")
    calls = max(requests - 1_000_000, 0) * Decimal("0.20") / 1_000_000
    return s3 + duration + calls


def test_the_readme_example_runs_as_shown(tmp_path):
    section = readme_section()
    console = block(section, "console").splitlines()
    command = console[0]
    assert command == (
        "$ costline check --config examples/multi-stack/costline.yml --report comment.md"
    )
    report = tmp_path / "comment.md"
    args = command.split()[2:]
    args[args.index("comment.md")] = str(report)
    result = costline(*args)
    assert result.returncode == 1, result.stderr  # ingest:prod is over its budget
    assert result.stdout.splitlines() == console[1:]
    comment = report.read_text(encoding="utf-8")
    assert comment.startswith(block(section, "markdown"))
    for name in ("reference-dev", "ingest:dev", "ingest:prod"):
        assert comment.count(f"<details><summary>{name}</summary>") == 1
    assert str(ROOT) not in comment  # paths below the current folder are shown relative
    config = block(section, "yaml")
    assert config in (EXAMPLE / "costline.yml").read_text(encoding="utf-8")


def test_the_ingest_figures_match_a_hand_calculation():
    dev = by_hand(200, 300_000, Decimal("1.5"))
    prod = by_hand(5000, 6_000_000, Decimal("1.5"))
    assert cents(dev) == Decimal("6.89")  # 4.60 + 1.50 + 0.12 + 50,000 GB-s × 0.0000133334
    assert cents(prod) == Decimal("263.07")
    result = costline("estimate", "--config", str(EXAMPLE / "costline.yml"), "--format", "json")
    assert result.returncode == 0, result.stderr
    stacks = {s["name"]: s["report"] for s in json.loads(result.stdout)["stacks"]}
    assert cents(Decimal(stacks["ingest:dev"]["total_monthly_usd"])) == cents(dev)
    assert cents(Decimal(stacks["ingest:prod"]["total_monthly_usd"])) == cents(prod)
    assert stacks["ingest:prod"]["pricing_region"] == "eu-west-1"
    assert stacks["ingest:dev"]["pricing_region"] == "us-east-1"


def project(tmp_path: Path, stacks: dict[str, str]) -> Path:
    """A copy of the ingest program with the given stack files (name → Pulumi.<name>.yaml)."""
    folder = tmp_path / "ingest"
    shutil.copytree(
        EXAMPLE / "ingest", folder, ignore=shutil.ignore_patterns("Pulumi.*.yaml", "__pycache__")
    )
    for name, body in stacks.items():
        (folder / f"Pulumi.{name}.yaml").write_text(body, encoding="utf-8")
    return folder


USAGE = """config:
  aws:region: us-east-1
  costline:usage:
    uploads: {cost:storage-gb: 200, cost:monthly-put-requests: 300000,
              cost:monthly-get-requests: 300000}
    processor: {cost:monthly-requests: 300000, cost:avg-duration-ms: 1500}
"""
NO_USAGE = "config:\n  aws:region: us-east-1\n"


def config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "costline.yml"
    path.write_text(body, encoding="utf-8")
    return path


def test_an_incomplete_stack_makes_the_total_a_lower_bound(tmp_path):
    project(tmp_path, {"known": USAGE, "blind": NO_USAGE})
    path = config(
        tmp_path,
        "version: 1\nprojects:\n"
        "  - {path: ingest, stack: known}\n"
        "  - {path: ingest, stack: blind}\n",
    )
    report, data = tmp_path / "comment.md", tmp_path / "report.json"
    result = costline("estimate", "--config", str(path), "-o", str(report), *FAST, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    comment = report.read_text(encoding="utf-8")
    assert comment.startswith(
        "## 💰 costline: $6.89/month across 2 stacks · ⚠️ incomplete in 1 stack\n"
    )
    assert "⚠️ **Incomplete:** part of the cost of ingest:blind is not known" in comment
    assert "| ingest:blind | $0.00 | — | no budget · ⚠️ incomplete |" in comment
    assert "| ingest:known | $6.89 | — | no budget |" in comment
    result = costline("estimate", "--config", str(path), "--format", "json", "-o", str(data), *FAST)
    assert result.returncode == 0, result.stderr
    assert json.loads(data.read_text())["complete"] is False


def test_every_stack_known_says_so_and_a_warning_leads(tmp_path):
    project(tmp_path, {"known": USAGE, "twin": USAGE})  # a stack is listed once
    path = config(
        tmp_path,
        "version: 1\nprojects:\n"
        "  - {path: ingest, stack: known, name: roomy, budget_usd: 100}\n"
        "  - {path: ingest, stack: twin, name: close, budget_usd: 7, warn_at_percent: 90}\n",
    )
    result = costline("check", "--config", str(path), "--report", "comment.md", *FAST, cwd=tmp_path)
    assert result.returncode == 0, result.stderr  # $6.89 is 98% of $7: a warning, not a failure
    comment = (tmp_path / "comment.md").read_text(encoding="utf-8")
    assert comment.startswith(
        "## ⚠️ costline: 1 of 2 stacks near budget · $13.77/month in all · all costs known\n"
    )
    assert "| close | $6.89 | $7.00 | ⚠️ near budget |" in comment
    assert result.stdout.splitlines()[-1] == (
        "costline check: 1 of 2 stacks near budget · $13.77/month in all · all costs known, exit 0"
    )
    path.write_text(path.read_text().replace("budget_usd: 7,", "budget_usd: 8,"))
    result = costline("check", "--config", str(path), "--report", "comment.md", *FAST, cwd=tmp_path)
    assert result.returncode == 0, result.stderr  # 86% of $8: under the 90% warning
    comment = (tmp_path / "comment.md").read_text(encoding="utf-8")
    assert comment.startswith(
        "## ✅ costline: 2 stacks within budget · $13.77/month in all · all costs known\n"
    )


def test_a_stack_that_cannot_be_estimated_leads_the_heading(tmp_path):
    project(tmp_path, {"known": USAGE, "twin": USAGE})
    path = config(
        tmp_path,
        "version: 1\nprojects:\n  - {path: ingest, stack: known}\n"
        "  - {path: ingest, stack: twin, name: broken, usage_file: missing.yml}\n",
    )
    result = costline("estimate", "--config", str(path), "-o", "comment.md", *FAST, cwd=tmp_path)
    assert result.returncode == 2
    comment = (tmp_path / "comment.md").read_text(encoding="utf-8")
    assert comment.startswith(
        "## ❌ costline: 1 of 2 stacks could not be estimated · $6.89/month across the others"
        " · ⚠️ incomplete\n"
    )
    assert "⚠️ Could not be estimated, left out of the total: broken." in comment


@pytest.mark.skipif(os.name != "posix", reason="relative paths as on a CI runner")
def test_program_paths_outside_the_current_folder_stay_absolute(tmp_path):
    project(tmp_path, {"known": USAGE})
    path = config(tmp_path, "version: 1\nprojects:\n  - {path: ingest, stack: known}\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = costline("estimate", "--config", str(path), *FAST, cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    shown = [line for line in result.stdout.splitlines() if " resources: " in line]
    assert shown and shown[0].split(" · ")[-1].startswith("/")  # absolute (markdown-escaped)
    assert shown[0].endswith("/ingest")
    result = costline("estimate", "--config", str(path), *FAST, cwd=tmp_path)
    shown = [line for line in result.stdout.splitlines() if " resources: " in line]
    assert shown and shown[0].endswith(" · ingest")


def test_diff_shows_each_stack_against_its_baseline_and_the_sum(tmp_path):
    folder = project(tmp_path, {"known": USAGE, "grown": USAGE})
    made = costline(
        "estimate",
        "ingest",
        "--stack",
        "known",
        "--format",
        "json",
        "-o",
        "base.json",
        *FAST,
        cwd=tmp_path,
    )
    assert made.returncode == 0, made.stderr
    grown = (folder / "Pulumi.grown.yaml").read_text()
    (folder / "Pulumi.grown.yaml").write_text(
        grown.replace("cost:storage-gb: 200", "cost:storage-gb: 300")
    )
    path = config(
        tmp_path,
        "version: 1\nprojects:\n"
        "  - {path: ingest, stack: known, baseline: base.json}\n"
        "  - {path: ingest, stack: grown, baseline: base.json}\n",
    )
    result = costline("diff", "--config", str(path), "-o", "comment.md", *FAST, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    comment = (tmp_path / "comment.md").read_text(encoding="utf-8")
    # 100 GB more at $0.023 = +$2.30 on $6.88667: +33.4%
    assert "| Stack | Monthly | vs baseline | Budget | Status |" in comment
    assert "| ingest:known | $6.89 | $0.00 (0%) | — | no budget |" in comment
    assert "| ingest:grown | $9.19 | +$2.30 (+33.4" in comment
    # 6.88667 + 9.18667 = 16.07334: the exact sum, not the sum of the rounded rows
    assert "| **Total** | **$16.07** | **+$2.30** | | |" in comment
    for command in ("diff", "check"):  # a --baseline beside --config would go unused
        refused = costline(command, "--config", str(path), "--baseline", "base.json", cwd=tmp_path)
        assert refused.returncode == 2
        assert "each stack's baseline is its `baseline` entry" in refused.stderr
    alone = costline("diff", "ingest", "--stack", "known", cwd=tmp_path)
    assert alone.returncode == 2 and "diff needs --baseline FILE" in alone.stderr
