"""The CI examples: actions pinned by commit, no install from an unpublished package name, and
the GitLab note upsert against a loopback stand-in for GitLab's API."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
GITHUB = EXAMPLES / "github-actions" / "cost-check.yml"
GITLAB = EXAMPLES / "gitlab-ci" / ".gitlab-ci.yml"
UPSERT = EXAMPLES / "gitlab-ci" / "upsert_note.py"
MARKER = "<!-- costline-report -->"


def test_every_github_action_is_pinned_by_commit():
    uses = re.findall(r"uses:\s*(\S+)", GITHUB.read_text())
    assert len(uses) == 5
    for action in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", action), action


def _step(workflow: dict, name: str) -> str:
    (step,) = [s for s in workflow["jobs"]["cost-check"]["steps"] if s.get("name") == name]
    return step["run"]


def test_no_example_installs_costline_by_an_unpublished_name(tmp_path):
    github = yaml.safe_load(GITHUB.read_text())
    gitlab = yaml.safe_load(GITLAB.read_text())
    assert github["env"]["COSTLINE_PACKAGE"] == ""
    assert gitlab["costline"]["variables"]["COSTLINE_PACKAGE"] == ""
    for script in (_step(github, "Install costline"), gitlab["costline"]["script"][0]):
        done = subprocess.run(
            ["bash", "-c", script],
            env={"COSTLINE_PACKAGE": "", "PATH": "/usr/bin:/bin"},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 2
        assert "COSTLINE_PACKAGE" in done.stdout + done.stderr


def test_the_gitlab_job_runs_on_merge_requests_and_its_scripts_parse():
    job = yaml.safe_load(GITLAB.read_text())["costline"]
    assert job["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
    assert job["artifacts"]["when"] == "always"
    for script in job["script"]:
        assert subprocess.run(["bash", "-n", "-c", script], check=False).returncode == 0


class FakeGitLab(BaseHTTPRequestHandler):
    """Just the endpoints the upsert uses; notes live in ``self.server.notes``."""

    def log_message(self, *args) -> None:  # quiet
        pass

    def _reply(self, payload) -> None:
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        assert self.headers["PRIVATE-TOKEN"] == "secret-token"
        if self.path == "/api/v4/user":
            return self._reply({"id": 7})
        assert self.path.startswith("/api/v4/projects/group%2Fapp/merge_requests/3/notes?")
        return self._reply(self.server.notes)

    def _body(self) -> dict:
        return json.loads(self.rfile.read(int(self.headers["Content-Length"])))

    def do_PUT(self) -> None:
        note_id = int(self.path.rsplit("/", 1)[1])
        self.server.calls.append(("PUT", note_id, self._body()["body"]))
        self._reply({"id": note_id})

    def do_POST(self) -> None:
        self.server.calls.append(("POST", None, self._body()["body"]))
        self._reply({"id": 99})


@pytest.fixture
def gitlab():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeGitLab)
    server.notes, server.calls = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def upsert(gitlab, tmp_path, **variables: str) -> str:
    """Run upsert_note.py as the job does; ``variables`` replace the job's (MARKER is set
    unless given)."""
    report = tmp_path / "costline-report.md"
    report.write_text("## 💰 costline: $102.29/month\n")
    env = {
        "CI_API_V4_URL": f"http://127.0.0.1:{gitlab.server_address[1]}/api/v4",
        "CI_PROJECT_ID": "group/app",
        "CI_MERGE_REQUEST_IID": "3",
        "COSTLINE_GITLAB_TOKEN": "secret-token",
        "MARKER": MARKER,
        **variables,
    }
    done = subprocess.run(
        [sys.executable, str(UPSERT), str(report)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def note(note_id: int, author: int, body: str) -> dict:
    return {"id": note_id, "author": {"id": author}, "body": body}


def test_a_first_run_creates_the_note(gitlab, tmp_path):
    assert upsert(gitlab, tmp_path).strip() == "costline: created note 99"
    assert gitlab.calls == [("POST", None, f"{MARKER}\n## 💰 costline: $102.29/month\n")]


def test_its_own_note_is_updated_and_another_bots_quote_of_the_marker_is_left_alone(
    gitlab, tmp_path
):
    gitlab.notes = [
        note(1, 8, f"{MARKER}\nanother bot's copy"),  # another user
        note(2, 7, f"I quote {MARKER} mid-text"),  # ours, but not a costline note
        note(3, 7, f"{MARKER}\nold report"),
    ]
    assert upsert(gitlab, tmp_path).strip() == "costline: updated note 3"
    assert [(c[0], c[1]) for c in gitlab.calls] == [("PUT", 3)]


def test_only_foreign_notes_means_a_new_note(gitlab, tmp_path):
    gitlab.notes = [note(1, 8, f"{MARKER}\nanother bot's copy")]
    upsert(gitlab, tmp_path)
    assert [(c[0], c[1]) for c in gitlab.calls] == [("POST", None)]


def test_without_a_marker_each_stack_has_its_own_note(gitlab, tmp_path):
    """The job's default (MARKER empty): the marker names the program and the stack, so two
    stacks' jobs on one merge request keep two notes, and each updates its own."""
    dev = "<!-- costline-report program=services%2Fapi stack=dev -->"
    prod_eu = "<!-- costline-report program=services%2Fapi stack=prod%2Deu -->"
    job = {"MARKER": "", "PROGRAM_DIR": "services/api"}
    assert (
        upsert(gitlab, tmp_path, **job, PULUMI_STACK="dev").strip() == "costline: created note 99"
    )
    assert gitlab.calls[-1][2].startswith(dev + "\n")
    gitlab.notes = [note(4, 7, f"{dev}\nold dev report")]
    upsert(gitlab, tmp_path, **job, PULUMI_STACK="prod-eu")  # dev's note is not prod-eu's
    assert gitlab.calls[-1][:2] == ("POST", None)
    assert gitlab.calls[-1][2].startswith(prod_eu + "\n")
    gitlab.notes.append(note(5, 7, f"{prod_eu}\nold prod report"))
    upsert(gitlab, tmp_path, **job, PULUMI_STACK="prod-eu")
    upsert(gitlab, tmp_path, **job, PULUMI_STACK="dev")
    assert [c[:2] for c in gitlab.calls[-2:]] == [("PUT", 5), ("PUT", 4)]


def test_a_program_or_stack_name_cannot_end_the_marker_early(gitlab, tmp_path):
    upsert(gitlab, tmp_path, MARKER="", PROGRAM_DIR="a -->b", PULUMI_STACK="x--><script>")
    first_line = gitlab.calls[-1][2].split("\n", 1)[0]
    assert first_line == (
        "<!-- costline-report program=a%20%2D%2D%3Eb stack=x%2D%2D%3E%3Cscript%3E -->"
    )
    assert first_line.count("-->") == 1
