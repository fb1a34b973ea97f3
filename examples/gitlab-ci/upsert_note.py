"""Create or update costline's note on a GitLab merge request (standard library only).

Usage: ``python upsert_note.py REPORT.md`` in a merge-request pipeline. Reads CI_API_V4_URL,
CI_PROJECT_ID, CI_MERGE_REQUEST_IID, COSTLINE_GITLAB_TOKEN (a project access token with the
``api`` scope), PROGRAM_DIR and PULUMI_STACK. The note starts with a marker naming the program
and the stack (MARKER, when set, replaces it), so the notes of two stacks (two jobs, or one job
per stack) never overwrite each other. The note updated is the one that *starts* with this
marker line and was written by the token's own user, so another bot's note quoting the marker
is never overwritten. Without a token it only says so (the report is still a job artifact).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.parse
import urllib.request
from collections.abc import Mapping

LIMIT = 999_000  # GitLab refuses notes over 1,000,000 characters


def _call(method: str, url: str, token: str, body: dict | None = None) -> object:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("PRIVATE-TOKEN", token)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def _id(text: str) -> str:
    """``text`` percent-encoded as the GitHub example's marker encodes it (``-`` too, so no
    ``-->`` can end the HTML comment early)."""
    return urllib.parse.quote(text, safe="!~*'()").replace("-", "%2D")


def marker_for(env: Mapping[str, str]) -> str:
    """MARKER when set, else ``<!-- costline-report program=… stack=… -->``."""
    if env.get("MARKER"):
        return env["MARKER"]
    program, stack = _id(env.get("PROGRAM_DIR", "")), _id(env.get("PULUMI_STACK", ""))
    return f"<!-- costline-report program={program} stack={stack} -->"


def main() -> int:
    env = os.environ
    token = env.get("COSTLINE_GITLAB_TOKEN", "")
    if not token:
        print("costline: COSTLINE_GITLAB_TOKEN is not set: no MR note (see the job artifacts)")
        return 0
    marker = marker_for(env)
    path = sys.argv[1]
    try:
        with open(path, encoding="utf-8") as report:
            text = report.read()
    except OSError:
        text = "## ⚠️ costline could not estimate this change\n\nSee the job log.\n"
    body = f"{marker}\n{text[:LIMIT]}"
    project = urllib.parse.quote(env["CI_PROJECT_ID"], safe="")
    api, merge_request = env["CI_API_V4_URL"], env["CI_MERGE_REQUEST_IID"]
    notes_url = f"{api}/projects/{project}/merge_requests/{merge_request}/notes"
    me = _call("GET", f"{api}/user", token)["id"]  # type: ignore[index]
    page = 1
    while True:
        notes = _call("GET", f"{notes_url}?per_page=100&page={page}", token)
        for note in notes:  # type: ignore[union-attr]
            if note["author"]["id"] == me and note["body"].startswith(marker + "\n"):
                _call("PUT", f"{notes_url}/{note['id']}", token, {"body": body})
                print(f"costline: updated note {note['id']}")
                return 0
        if len(notes) < 100:  # type: ignore[arg-type]
            break
        page += 1
    created = _call("POST", notes_url, token, {"body": body})
    print(f"costline: created note {created['id']}")  # type: ignore[index]
    return 0


if __name__ == "__main__":
    sys.exit(main())
