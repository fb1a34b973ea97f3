"""``costline``'s entry point (:mod:`costline.cli.launch`): a run over a config file starts its
mock server before the command line loads; any other command starts nothing. Whatever it
guesses, the run's result is the command line's, and no server or folder outlives it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import costline.cli.main
from costline.cli import launch
from costline.readers import mock_server
from tests.conftest import SERVED_PROBE, run_python

ROOT = Path(__file__).resolve().parents[1]
USAGE = ROOT / "tests" / "fixtures" / "programs" / "stack-config-usage"
FAST = ("--what-if", "none", "--no-recommendations", "--no-free-tier")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["estimate", "--config", "costline.yml"], True),
        (["--debug", "check", "--config=costline.yml", "--budget", "5"], True),
        (["diff", "--format", "json", "--config", "c.yml"], True),
        (["estimate", "program/"], False),
        (["estimate", "--", "--config"], False),  # after --: an argument, not the option
        (["pricing", "import", "--config", "x"], False),  # not a command that runs stacks
        (["usage", "init", "--config"], False),
        (["--config", "x"], False),  # no command
        (["estimate", "--configs", "x"], False),
        ([], False),
    ],
)
def test_runs_over_config_is_estimate_diff_or_check_with_config(args, expected):
    assert launch.runs_over_config(args) is expected


@pytest.mark.parametrize(
    ("args", "cpus", "prestarts"),
    [
        (["estimate", "--config", "costline.yml"], 2, True),
        (["estimate", "--config", "costline.yml"], 1, False),  # stacks run one by one there
        (["estimate", "program/"], 4, False),
    ],
)
def test_the_entry_point_prestarts_a_server_only_for_a_config_run(
    monkeypatch, args, cpus, prestarts
):
    started, ran = [], []
    monkeypatch.setattr(sys, "argv", ["costline", *args])
    monkeypatch.setattr(os, "cpu_count", lambda: cpus)
    monkeypatch.setattr(mock_server, "prestart", lambda *a: started.append(a))
    monkeypatch.setattr(costline.cli.main, "main", lambda: ran.append(True))
    launch.main()
    assert ran == [True]
    assert started == ([(sys.executable, cpus, mock_server.runner_env())] if prestarts else [])


def test_a_config_run_through_the_entry_point_leaves_nothing_behind(tmp_path):
    """Two stacks of one program and a probe, run as the ``costline`` command runs: the
    totals worked out by hand in tests/test_mock_server.py (dev $17.47503375, big twice the
    handler's traffic, $34.54173375), the programs run by a mock server where the system can
    fork, and the server's folder gone once the command ends."""
    shutil.copytree(USAGE, tmp_path / "usage")
    dev = (tmp_path / "usage" / "Pulumi.dev.yaml").read_text()
    (tmp_path / "usage" / "Pulumi.big.yaml").write_text(dev.replace("2000000", "4000000"))
    (tmp_path / "probe").mkdir()
    (tmp_path / "probe" / "Pulumi.yaml").write_text("name: probe\nruntime: python\n")
    (tmp_path / "probe" / "__main__.py").write_text(SERVED_PROBE)
    (tmp_path / "costline.yml").write_text(
        "version: 1\nprojects:\n"
        "  - {path: usage, stack: dev, name: dev}\n"
        "  - {path: usage, stack: big, name: big}\n"
        "  - {path: probe, name: probe}\n"
    )
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp), "PROBE_FILE": str(tmp_path / "probe.txt")}
    entry = "import sys; from costline.cli.launch import main; sys.argv[0] = 'costline'; main()"
    command = ["estimate", "--config", "costline.yml", "--format", "json", *FAST]
    result = subprocess.run(
        [sys.executable, "-c", entry, *command],
        check=False,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    stacks = {s["name"]: s["report"] for s in json.loads(result.stdout)["stacks"]}
    assert stacks["dev"]["total_monthly_usd"] == "17.47503375"
    assert stacks["big"]["total_monthly_usd"] == "34.54173375"
    assert (tmp_path / "probe.txt").read_text() == str(mock_server.available())
    assert list(temp.iterdir()) == []


def test_the_entry_points_server_client_loads_no_other_reader():
    """The entry point imports the mock server's client before the command line: that loads
    no other reader (nor the Pulumi SDK); the package's names still load on first use, and a
    name it does not have is an AttributeError naming the package."""
    probe = (
        "import sys\n"
        "import costline.readers.mock_server\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('costline.', 'pulumi', 'yaml')))\n"
        "import costline.readers as readers\n"
        "print(loaded, readers.ProgramError.__module__)\n"
        "try:\n"
        "    readers.not_a_reader\n"
        "except AttributeError as exc:\n"
        "    print(exc)\n"
    )
    assert run_python(probe).splitlines() == [
        "['costline.core', 'costline.core.exports', 'costline.readers', "
        "'costline.readers.mock_server'] costline.readers.errors",
        "module 'costline.readers' has no attribute 'not_a_reader'",
    ]
