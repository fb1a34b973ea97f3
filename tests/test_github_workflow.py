"""The example GitHub Actions workflow: one upserted PR comment, a failing step on violations."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from costline.estimator.pipeline import estimate
from costline.render.templates import render
from costline.review.report import build_report
from tests.conftest import seed_stack

WORKFLOW = Path(__file__).resolve().parents[1] / "examples" / "github-actions" / "cost-check.yml"
MARKER = "<!-- costline-report -->"  # what the markdown report ends with
STACK_MARKER = "<!-- costline-report program=. stack=dev -->"  # what the comment starts with


@pytest.fixture(scope="module")
def workflow():
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def steps(workflow):
    (job,) = workflow["jobs"].values()
    return job["steps"]


def step(workflow, name_part):
    return next(s for s in steps(workflow) if name_part in s.get("name", ""))


def test_runs_on_pull_requests_with_permission_to_comment(workflow):
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert (
        "pull_request" in triggers and "pull_request_target" not in triggers
    )  # never run PR code with a write token
    assert workflow["permissions"] == {"contents": "read", "pull-requests": "write"}


def test_the_markdown_report_still_ends_with_the_generic_marker(workflow, seed_prices):
    report = render(build_report(estimate(seed_stack(), seed_prices)), "markdown")
    assert report.rstrip().endswith(MARKER)
    assert "MARKER" not in workflow["env"]  # the comment's marker names the program and stack
    assert workflow["env"]["COMMENT_AUTHOR"] == ""


def test_check_step_runs_costline_check_and_records_its_exit_code(workflow):
    check = step(workflow, "costline check")
    assert check["id"] == "check"
    script = check["run"]
    assert "args=(check " in script and "--report ../costline-report.md" in script
    assert 'costline "${args[@]}"' in script
    assert "set +e" in script and 'echo "exit-code=$code" >> "$GITHUB_OUTPUT"' in script
    assert "--baseline" in script and "--budget" in script and "--max-increase-percent" in script


def test_comment_is_upserted_by_its_marker(workflow):
    upsert = step(workflow, "Upsert")
    assert upsert["uses"].startswith("actions/github-script@")
    assert "always()" in upsert["if"] and "head.repo.full_name == github.repository" in upsert["if"]
    script = upsert["with"]["script"]
    assert "github.paginate(github.rest.issues.listComments" in script
    find = re.search(r"comments\.find\((.*?)\);", script, re.DOTALL)
    assert find and "c.user.login === author" in find.group(1)
    assert ".startsWith(marker)" in find.group(1) and "includes(marker)" not in script
    assert "type === 'Bot'" not in script  # any bot's comment matched before
    update = script.index(
        "github.rest.issues.updateComment({ owner, repo, comment_id: existing.id, body })"
    )
    create = script.index("github.rest.issues.createComment({ owner, repo, issue_number, body })")
    assert (
        script.index("if (existing)") < update < script.index("} else {") < create
    )  # update, else create
    assert "body = `${marker}\\n${body}`" in script  # every comment starts with its marker
    assert "65000" in script  # stays under GitHub's comment size limit


def test_job_fails_on_a_mandatory_violation_and_on_bad_input(workflow):
    names = [s.get("name", "") for s in steps(workflow)]
    fail = step(workflow, "Fail on a mandatory budget violation")
    assert fail["if"] == "steps.check.outputs.exit-code == '1'" and "exit 1" in fail["run"]
    broken = step(workflow, "Fail when costline could not check")
    assert "exit 1" in broken["run"]
    assert names.index("Upsert the pull-request comment") < names.index(
        fail["name"]
    )  # comment first, then fail


def test_run_scripts_do_not_interpolate_expressions(workflow):
    """``${{ }}`` inside a script is a script-injection risk: values go through env instead."""
    for s in steps(workflow):
        assert "${{" not in s.get("run", ""), s["name"]


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_run_scripts_are_valid_bash(workflow):
    for s in steps(workflow):
        if "run" in s:
            result = subprocess.run(
                ["bash", "-n"], input=s["run"], capture_output=True, text=True, check=False
            )
            assert result.returncode == 0, (s["name"], result.stderr)


NODE_HARNESS = r"""
const fs = require('fs');
const [scriptFile, stateFile] = process.argv.slice(2);
const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
const calls = [];
const issues = {
  listComments: async () => ({ data: state.comments }),
  updateComment: async ({ comment_id, body }) => {
    const c = state.comments.find(c => c.id === comment_id);
    c.body = body;
    calls.push(['update', comment_id]);
    return { data: c };
  },
  createComment: async ({ issue_number, body }) => {
    const user = state.me ? { type: 'User', login: state.me }
      : { type: 'Bot', login: process.env.COMMENT_AUTHOR || 'github-actions[bot]' };
    const c = { id: state.next++, user, body, html_url: 'u', issue_number };
    state.comments.push(c); calls.push(['create', c.id]); return { data: c };
  },
};
// as GitHub answers the job's token, or a person's token
const users = { getAuthenticated: async () => {
  if (!state.me) {
    throw Object.assign(new Error('Resource not accessible by integration'), { status: 403 });
  }
  return { data: { login: state.me } };
} };
const github = { rest: { issues, users }, paginate: async (fn, params) => (await fn(params)).data };
const context = { repo: { owner: 'o', repo: 'r' }, payload: { pull_request: { number: 7 } },
                  serverUrl: 'https://github.com', runId: 1 };
const core = { info: () => {} };
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
const script = new AsyncFunction('require', 'github', 'context', 'core',
                                 fs.readFileSync(scriptFile, 'utf8'));
script(require, github, context, core)
  .then(() => {
    fs.writeFileSync(stateFile, JSON.stringify(state));
    console.log(JSON.stringify(calls));
  })
  .catch(e => { console.error(e); process.exit(1); });
"""


STACK_ENV = {"PATH": "/usr/bin:/bin", "PROGRAM_DIR": ".", "PULUMI_STACK": "dev"}


def run_upsert(workflow, tmp_path: Path, comments: list[dict], env: dict[str, str]) -> tuple:
    """One run of the Upsert step's script against a fake GitHub holding ``comments``; returns
    the API calls it made and the comments after it."""
    import json

    (tmp_path / "harness.js").write_text(NODE_HARNESS)
    (tmp_path / "script.js").write_text(step(workflow, "Upsert")["with"]["script"])
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"next": 100, "comments": comments}))
    report = tmp_path / "costline-report.md"
    report.write_text(f"## ✅ costline: $1.00/month\n\n{MARKER}\n")
    result = subprocess.run(
        ["node", "harness.js", "script.js", str(state)],
        cwd=tmp_path,
        env={**STACK_ENV, "REPORT_PATH": str(report), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), json.loads(state.read_text())["comments"]


def comment(id_: int, login: str, body: str, type_: str = "Bot") -> dict:
    return {"id": id_, "user": {"type": type_, "login": login}, "body": body}


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.parametrize(
    "other",
    [
        comment(1, "renovate[bot]", f"{STACK_MARKER}\nanother bot quoting the marker"),
        comment(1, "renovate[bot]", f"see {MARKER} and {STACK_MARKER}"),
        comment(1, "dev", f"{STACK_MARKER}\na person pasting the marker", "User"),
        comment(1, "github-actions[bot]", f"a comment of another workflow: {STACK_MARKER}"),
        comment(
            1,
            "github-actions[bot]",
            "<!-- costline-report program=. stack=prod -->\nthe prod stack's comment",
        ),
    ],
    ids=[
        "another bot, marker first",
        "another bot, marker inside",
        "a person, marker first",
        "the same bot, marker not first",
        "the same bot, another stack",
    ],
)
def test_the_upsert_leaves_every_comment_it_did_not_post_alone(workflow, tmp_path, other):
    calls, comments = run_upsert(workflow, tmp_path, [dict(other)], {})
    assert calls == [["create", 100]]
    assert comments[0] == other
    assert comments[1]["user"]["login"] == "github-actions[bot]"
    assert comments[1]["body"].startswith(f"{STACK_MARKER}\n## ✅ costline: $1.00/month")


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_upsert_updates_its_own_stacks_comment_and_only_that(workflow, tmp_path):
    prod = comment(1, "github-actions[bot]", "<!-- costline-report program=. stack=prod -->\nprod")
    dev = comment(2, "github-actions[bot]", f"{STACK_MARKER}\nold dev report")
    calls, comments = run_upsert(workflow, tmp_path, [dict(prod), dict(dev)], {})
    assert calls == [["update", 2]]
    assert comments[0] == prod
    assert comments[1]["body"] == f"{STACK_MARKER}\n## ✅ costline: $1.00/month\n\n{MARKER}\n"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_a_configured_author_and_a_hostile_stack_name(workflow, tmp_path):
    """COMMENT_AUTHOR names the bot that posts; a stack name cannot end the HTML comment early."""
    marker = "<!-- costline-report program=infra stack=a%2D%2D%3Eb -->"
    mine = comment(3, "acme-ci[bot]", f"{marker}\nold")
    theirs = comment(4, "github-actions[bot]", f"{marker}\nnot ours")
    calls, comments = run_upsert(
        workflow,
        tmp_path,
        [dict(theirs), dict(mine)],
        {"COMMENT_AUTHOR": "acme-ci[bot]", "PROGRAM_DIR": "infra", "PULUMI_STACK": "a-->b"},
    )
    assert calls == [["update", 3]]
    assert comments[0] == theirs and comments[1]["body"].startswith(f"{marker}\n## ✅")


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_comment_script_creates_once_then_updates_the_same_comment(workflow, tmp_path):
    """Run the github-script step's script in node against a fake GitHub API: a person's comment
    quoting the marker is left alone, the first push creates the comment, later pushes update it."""
    import json

    (tmp_path / "harness.js").write_text(NODE_HARNESS)
    (tmp_path / "script.js").write_text(step(workflow, "Upsert")["with"]["script"])
    state = tmp_path / "state.json"
    state.write_text(
        json.dumps(
            {
                "next": 2,
                "comments": [
                    {
                        "id": 1,
                        "user": {"type": "User", "login": "dev"},
                        "body": f"why does {MARKER} show up?",
                    }
                ],
            }
        )
    )
    report = tmp_path / "costline-report.md"
    env = {**STACK_ENV, "REPORT_PATH": str(report)}

    def push(body: str | None) -> list:
        if body is None:
            report.unlink(missing_ok=True)
        else:
            report.write_text(body)
        result = subprocess.run(
            ["node", "harness.js", "script.js", str(state)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    assert push(f"## ✅ first\n\n{MARKER}\n") == [["create", 2]]
    assert push(f"## ❌ second\n\n{MARKER}\n") == [["update", 2]]
    assert push("## from a user template without the marker\n") == [["update", 2]]
    assert push(None) == [["update", 2]]  # costline failed before writing a report
    comments = json.loads(state.read_text())["comments"]
    assert [c["id"] for c in comments] == [1, 2]
    assert comments[0]["body"] == f"why does {MARKER} show up?"
    assert comments[1]["body"].startswith(
        f"{STACK_MARKER}\n## ⚠️ costline could not estimate this change"
    )
    assert push("x" * 70000 + "\n\n" + "y" * 10) == [["update", 2]]
    assert len(json.loads(state.read_text())["comments"][1]["body"]) <= 65536


# --- the steps' shell scripts, run for real in a workspace laid out as the workflow lays it out --
REPO = Path(__file__).resolve().parents[1]


def _run_step(
    workflow, name_part, workspace: Path, env: dict[str, str]
) -> tuple[subprocess.CompletedProcess, dict]:
    """Run one step's ``run`` script with bash as Actions does (``bash -e``), in its
    working-directory, with the workflow's env and ``costline`` on PATH; returns the process
    and what the step wrote to $GITHUB_OUTPUT."""
    import os
    import sys

    the_step = step(workflow, name_part)
    output = workspace / f"output-{the_step['id']}"
    output.write_text("")
    full_env = {
        **os.environ,
        **{k: str(v) for k, v in workflow["env"].items()},
        **env,
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(workspace / "summary.md"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    cwd = workspace / the_step.get("working-directory", ".")
    done = subprocess.run(
        ["bash", "-e", "-c", the_step["run"]],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,  # the callers assert on the exit code
    )
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
    return done, outputs


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """head/ and base/ checkouts of this repository's bundled program (the base without the
    override file the pull request adds)."""
    root = tmp_path_factory.mktemp("workspace")
    for side in ("head", "base"):
        shutil.copytree(REPO / "program", root / side / "program")
        for name in ("Pulumi.yaml", "Pulumi.dev.yaml"):
            shutil.copy(REPO / name, root / side / name)
    (root / "head" / "pricing" / "overrides").mkdir(parents=True)
    shutil.copy(
        REPO / "pricing" / "overrides" / "seed-template.yaml",
        root / "head" / "pricing" / "overrides",
    )
    return root


def test_the_steps_run_from_the_pull_requests_root_so_relative_price_files_work(
    workflow, workspace
):
    env = {
        "COSTLINE_ARGS": "--prices pricing/overrides/seed-template.yaml",
        "BUDGET_USD": "50",
        "MAX_INCREASE_PERCENT": "10",
    }
    baseline, outputs = _run_step(workflow, "Baseline", workspace, env)
    assert baseline.returncode == 0, baseline.stderr
    assert outputs == {"file": "../baseline.json"} and "::warning" not in baseline.stdout
    check, outputs = _run_step(
        workflow, "costline check", workspace, {**env, "BASELINE": "../baseline.json"}
    )
    assert check.returncode == 0, check.stderr
    assert outputs == {"exit-code": "0"}, (
        check.stderr
    )  # same program, same prices: within every limit
    report = (workspace / "costline-report.md").read_text()
    assert report.startswith("## ✅ costline: $38.61/month") and report.rstrip().endswith(MARKER)
    assert (workspace / "summary.md").read_text() == report


def test_a_base_branch_that_cannot_be_estimated_is_a_warning_that_says_why(workflow, workspace):
    baseline, outputs = _run_step(
        workflow, "Baseline", workspace, {"COSTLINE_ARGS": "--prices nowhere.yaml"}
    )
    assert baseline.returncode == 0 and outputs == {}
    assert "::warning title=costline::could not estimate the base branch" in baseline.stdout
    assert "nowhere.yaml: no such price override file" in baseline.stdout


def test_a_base_branch_without_the_program_is_a_notice(workflow, workspace):
    baseline, outputs = _run_step(workflow, "Baseline", workspace, {"PROGRAM_DIR": "infra"})
    assert baseline.returncode == 0 and outputs == {}
    assert "::notice title=costline::the base branch has no infra yet" in baseline.stdout


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_with_a_personal_token_the_comment_is_still_updated_not_duplicated(workflow, tmp_path):
    """A PAT's comments are a User's, not a Bot's: the script finds them by the token's login."""
    import json

    (tmp_path / "harness.js").write_text(NODE_HARNESS)
    (tmp_path / "script.js").write_text(step(workflow, "Upsert")["with"]["script"])
    state = tmp_path / "state.json"
    state.write_text(
        json.dumps(
            {
                "next": 2,
                "me": "ci-bot-user",
                "comments": [
                    {
                        "id": 1,
                        "user": {"type": "User", "login": "dev"},
                        "body": f"why does {MARKER} show up?",
                    }
                ],
            }
        )
    )
    report = tmp_path / "costline-report.md"
    env = {**STACK_ENV, "REPORT_PATH": str(report)}
    calls = []
    for body in ("## ✅ first\n", "## ❌ second\n"):
        report.write_text(body)
        result = subprocess.run(
            ["node", "harness.js", "script.js", str(state)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        calls += json.loads(result.stdout)
    assert calls == [["create", 2], ["update", 2]]
    assert [c["user"]["login"] for c in json.loads(state.read_text())["comments"]] == [
        "dev",
        "ci-bot-user",
    ]
