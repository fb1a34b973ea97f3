"""Exit codes under faults: 0 passed, 1 a gate failed, 2 bad input, 3 internal error.

A crash is never 1 (a CI job would read it as "over budget"): an unexpected exception is one
line and exit 3, the traceback only with ``costline --debug``. Output that cannot be written
(a full device, a closed stdout) is exit 2 with a message, never 0 with the report lost.
"""

from __future__ import annotations

import pytest

import costline.cli.main
from costline.cli.errors import (
    EXIT_BAD_INPUT,
    EXIT_GATE_FAILED,
    EXIT_INTERNAL_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
)
from tests.hostile import PREVIEW, assert_one_line_error, cli, run

INTERNAL = (
    "costline: internal error (ZeroDivisionError): this is a bug in costline, not in your "
    "input; run `costline --debug ...` for the traceback and report it"
)


def test_the_codes_are_the_documented_ones():
    assert (EXIT_OK, EXIT_GATE_FAILED, EXIT_BAD_INPUT, EXIT_INTERNAL_ERROR) == (0, 1, 2, 3)


@pytest.fixture
def crashing(monkeypatch):
    """A bug deep inside the estimate."""

    def boom(_kw):
        return 1 / 0

    monkeypatch.setattr(costline.cli.main, "load_from_options", boom)


def test_a_bug_is_exit_3_and_one_line_without_a_traceback(crashing):
    result = cli("estimate", "--from-preview", PREVIEW)
    assert result.exit_code == EXIT_INTERNAL_ERROR
    assert result.stderr.strip() == INTERNAL
    assert result.stdout == ""


def test_debug_adds_the_traceback(crashing):
    result = cli("--debug", "estimate", "--from-preview", PREVIEW)
    assert result.exit_code == EXIT_INTERNAL_ERROR
    assert "Traceback (most recent call last)" in result.stderr
    assert "ZeroDivisionError: division by zero" in result.stderr
    assert result.stderr.strip().splitlines()[-1] == INTERNAL


def test_debug_is_a_global_option_that_changes_nothing_else():
    plain, debug = (
        cli("estimate", "--from-preview", PREVIEW),
        cli("--debug", "estimate", "--from-preview", PREVIEW),
    )
    assert plain.exit_code == debug.exit_code == EXIT_OK
    assert plain.stdout == debug.stdout
    assert "--debug" in cli("--help").stdout


def test_ctrl_c_is_not_a_failed_gate(monkeypatch):
    def interrupted(_kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(costline.cli.main, "load_from_options", interrupted)
    result = cli("estimate", "--from-preview", PREVIEW)
    assert result.exit_code == EXIT_INTERRUPTED
    assert result.stderr.strip() == "Aborted!"


def test_a_dead_policy_pack_is_an_internal_error(monkeypatch, tmp_path):
    from costline.engine import HarnessError

    def dead(*_args, **_kwargs):
        raise HarnessError("the pack exited with status 9")

    monkeypatch.setattr("costline.engine.preview.run_engine", dead)
    monkeypatch.setattr(
        costline.cli.main, "load_preview_states", lambda *_a, **_k: ([], "a-project", {})
    )
    result = cli("preview")
    assert result.exit_code == EXIT_INTERNAL_ERROR
    assert result.stderr.strip() == (
        "costline: internal error: the policy pack failed: the pack exited with status 9"
    )


# --- stdout that cannot take the report ----------------------------------------------------
def test_stdout_on_a_full_device_is_exit_2_with_a_message():
    done = run("estimate", "--from-preview", PREVIEW, shell_redirect=">/dev/full")
    assert done.returncode == EXIT_BAD_INPUT
    assert_one_line_error(done.stderr, "cannot write to stdout: No space left on device")


def test_a_closed_stdout_is_exit_2_not_0():
    done = run("estimate", "--from-preview", PREVIEW, shell_redirect=">&-")
    assert done.returncode == EXIT_BAD_INPUT
    assert_one_line_error(done.stderr, "cannot write to stdout: it is closed")


def test_check_with_a_closed_stdout_does_not_pass_silently():
    done = run("check", "--from-preview", PREVIEW, "--budget", "1000", shell_redirect=">&-")
    assert done.returncode == EXIT_BAD_INPUT
    assert_one_line_error(done.stderr, "cannot write to stdout: it is closed")


def test_a_broken_pipe_is_exit_2_and_one_line():
    """A reader that stops reading (``| head -c 1``, closing the pipe before costline writes)."""
    import subprocess
    import sys

    from tests.hostile import REPO

    process = subprocess.Popen(
        [sys.executable, "-m", "costline.cli.main", "estimate", "--from-preview", str(PREVIEW)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    assert process.stdout is not None
    process.stdout.close()  # nobody will read
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == EXIT_BAD_INPUT
    assert_one_line_error(stderr.decode(), "cannot write to stdout: Broken pipe")


# --- policy config the pack can't read -----------------------------------------------------
def test_policy_config_that_is_not_utf8_is_exit_2(tmp_path):
    config = tmp_path / "cfg.json"
    config.write_bytes(b'{"stack-budget": {"monthlyBudgetUsd": 5\xff}}')
    result = cli("preview", "--policy-pack-config", config)
    assert result.exit_code == EXIT_BAD_INPUT
    assert_one_line_error(result.stderr, str(config), "not UTF-8")


# --- stderr that cannot take a message ----------------------------------------------------------
def test_a_full_stderr_keeps_the_exit_code_of_bad_input():
    done = run("estimate", "--from-preview", "/etc/hostname", shell_redirect="2>/dev/full")
    assert done.returncode == EXIT_BAD_INPUT


@pytest.mark.parametrize("redirect", ["2>/dev/full", "2>&-"])
def test_a_full_or_closed_stderr_does_not_fail_a_good_run(tmp_path, redirect):
    report = tmp_path / "report.md"
    done = run("estimate", "--from-preview", PREVIEW, "-o", report, shell_redirect=redirect)
    assert done.returncode == EXIT_OK
    assert report.read_text(encoding="utf-8").startswith("## 💰 costline: $102.29/month")
