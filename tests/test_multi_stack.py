"""``--config costline.yml``: many stacks in one run, one combined report, the worst exit code.

Every case runs the real CLI; the stacks are the bundled reference program (repository root),
whose total at list prices is $102.2875/month (README: Bedrock $101.25 + S3 $0.9325 + API
Gateway $0.105 + Lambda $0).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from click.testing import CliRunner

from costline.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
FAST = ("--what-if", "none", "--no-recommendations")


def write_config(folder: Path, body: str) -> Path:
    """``costline.yml`` in ``folder``: ``ROOT`` is the reference program, ``COPY`` a copy of it
    (a stack is listed once: the same stack twice would count twice in the total)."""
    path = folder / "costline.yml"
    if "COPY" in body:
        body = body.replace("COPY", os.path.relpath(reference_copy(folder), folder))
    path.write_text(body.replace("ROOT", os.path.relpath(ROOT, folder)))
    return path


def reference_copy(folder: Path) -> Path:
    """The reference program copied into ``folder``, run by this interpreter (as the bundled
    one is); its total is the reference's, $102.2875/month."""
    copy = folder / "reference-copy"
    if not copy.exists():
        shutil.copytree(
            ROOT / "program", copy / "program", ignore=shutil.ignore_patterns("__pycache__")
        )
        project = (ROOT / "Pulumi.yaml").read_text()
        (copy / "Pulumi.yaml").write_text(project.replace("virtualenv: .venv", ""))
        shutil.copy(ROOT / "Pulumi.dev.yaml", copy / "Pulumi.dev.yaml")
    return copy


def run(*args: str):
    return CliRunner().invoke(main, [*args, *FAST])


def test_check_runs_every_stack_and_exits_with_the_worst(tmp_path):
    config = write_config(
        tmp_path,
        """version: 1
projects:
  - path: ROOT
    name: roomy
    budget_usd: 150
  - path: COPY
    stack: dev
    name: tight
    budget_usd: 102.28
""",
    )
    report, data = tmp_path / "comment.md", tmp_path / "report.json"
    result = run(
        "check", "--config", str(config), "--report", str(report), "--json-report", str(data)
    )
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "roomy: costline check passed: $102.29/month, budget $150.00"
    assert lines[1] == "tight: costline check FAILED: $102.29/month, budget $102.28"
    assert lines[-1] == (  # 2 × 102.2875
        "costline check: 1 of 2 stacks failed the check · $204.58/month in all · all costs known,"
        " exit 1"
    )
    comment = report.read_text()
    assert comment.startswith(
        "## ❌ costline: 1 of 2 stacks failed the check · $204.58/month in all · all costs known\n"
    )
    assert "| roomy | $102.29 | $150.00 | ✅ within budget |" in comment
    assert "| tight | $102.29 | $102.28 | ❌ over budget |" in comment
    assert "| **Total** | **$204.58** | | |" in comment
    assert comment.count("<details><summary>roomy</summary>") == 1
    assert comment.count("<details><summary>tight</summary>") == 1
    document = json.loads(data.read_text())
    assert document["total_monthly_usd"] == "204.575"
    assert document["complete"] is True
    assert document["exit_code"] == 1
    assert [(s["name"], s["exit_code"]) for s in document["stacks"]] == [("roomy", 0), ("tight", 1)]


def test_a_stack_with_bad_input_is_reported_and_the_others_still_run(tmp_path):
    config = write_config(
        tmp_path,
        """version: 1
projects:
  - path: ROOT
    name: good
  - path: COPY
    name: broken
    usage_file: missing.yml
""",
    )
    result = run("estimate", "--config", str(config), "--format", "json")
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    good, broken = document["stacks"]
    assert good["exit_code"] == 0 and good["report"]["total_monthly_usd"] == "102.2875"
    assert broken["exit_code"] == 2 and broken["report"] is None
    assert "missing.yml" in broken["error"]
    assert document["total_monthly_usd"] == "102.2875"  # the broken stack is left out, and said
    assert document["complete"] is False
    assert f"costline: error: broken: {broken['error']}" in result.stderr


def test_infracost_json_has_a_project_per_stack(tmp_path):
    config = write_config(
        tmp_path,
        "version: 1\nprojects:\n  - path: ROOT\n    name: a\n  - path: COPY\n    name: b\n",
    )
    result = run("estimate", "--config", str(config), "--format", "infracost-json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert [p["name"] for p in document["projects"]] == ["a", "b"]
    assert document["totalMonthlyCost"] == "204.575"


def test_config_mistakes_are_one_line_errors_naming_the_place(tmp_path):
    cases = {
        "version: 2\nprojects: [{path: ROOT}]\n": "version: 1 was expected",
        "version: 1\nprojects: [{path: ROOT, budgte_usd: 5}]\n": "projects/0: Additional",
        "version: 1\nprojects: [{path: ROOT, budget_usd: -1}]\n": "-1 is not a non-negative",
        "version: 1\nprojects: [{path: nowhere}]\n": "nowhere: no Pulumi.yaml there",
        "version: 1\nprojects: [{path: ROOT, name: x}, {path: COPY, name: x}]\n": "repeated: x",
        "version: 1\nprojects: [{path: ROOT, name: x}, {path: ROOT, name: y}]\n": (
            "projects/1: the same program and stack as projects/0"
        ),
        "a: &a [1]\nb: *a\n": "YAML aliases are not allowed",
        "version: 1\nprojects: [\n": "not valid YAML",
    }
    for body, message in cases.items():
        config = write_config(tmp_path, body)
        result = run("estimate", "--config", str(config))
        assert result.exit_code == 2, (body, result.output)
        assert message in result.stderr, (body, result.stderr)
        assert "Traceback" not in result.output


def test_config_and_a_program_folder_together_are_refused(tmp_path):
    config = write_config(tmp_path, "version: 1\nprojects: [{path: ROOT}]\n")
    result = run("estimate", str(ROOT), "--config", str(config))
    assert result.exit_code == 2
    assert "give either --config or PROGRAM_DIR" in result.stderr
