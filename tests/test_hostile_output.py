"""Writing reports: only over regular files, never half a file, the file's own mode kept.

Every target costline must not replace (a device node, a FIFO, a socket, a folder, a terminal
or pipe behind ``/proc/self/fd/N``, a read-only file) is refused with exit 2 by the CLI and as
an advisory violation by the policy pack, and is left exactly as it was.
"""

from __future__ import annotations

import json
import os
import socket
import stat
from pathlib import Path

import pytest

from costline.cli.errors import EXIT_BAD_INPUT, EXIT_OK
from costline.core.files import OutputRefused, write_atomically
from costline.engine import EngineResource, make_urn
from tests.hostile import PREVIEW, assert_one_line_error, cli

LAMBDA = "aws:lambda/function:Function"


# --- targets that are not regular files ------------------------------------------------------
def char_device(tmp_path: Path) -> Path:
    """A character device of our own (the null device's numbers), so no system node is at risk."""
    node = tmp_path / "null"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("creating a device node needs root")
    return node


def fifo(tmp_path: Path) -> Path:
    node = tmp_path / "fifo"
    os.mkfifo(node)
    return node


def unix_socket(tmp_path: Path) -> Path:
    node = tmp_path / "sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(node))
    server.close()  # the node stays
    return node


def folder(tmp_path: Path) -> Path:
    node = tmp_path / "dir"
    node.mkdir()
    return node


def pipe_fd(tmp_path: Path) -> Path:
    """``/proc/self/fd/N`` for a pipe this test holds open (what ``/proc/self/fd/1`` is when
    stdout is piped)."""
    read_end, write_end = os.pipe()
    tmp_path.joinpath("fds").write_text(f"{read_end} {write_end}")
    return Path(f"/proc/{os.getpid()}/fd/{write_end}")


NOT_REGULAR = {
    "a character device": char_device,
    "a FIFO (named pipe)": fifo,
    "a socket": unix_socket,
    "a pipe behind /proc/self/fd": pipe_fd,
}


def _kind_word(kind: str) -> str:
    return "a FIFO (named pipe)" if kind == "a pipe behind /proc/self/fd" else kind


def _identity(path: Path) -> tuple[int, int, int]:
    status = os.stat(path)
    return status.st_ino, status.st_mode, status.st_size


@pytest.mark.parametrize("kind", NOT_REGULAR)
def test_write_atomically_refuses_what_is_not_a_regular_file(tmp_path, kind):
    target = NOT_REGULAR[kind](tmp_path)
    before = _identity(target)
    with pytest.raises(OutputRefused) as refused:
        write_atomically(target, "report")
    assert str(refused.value) == (
        f"{target}: refusing to replace {_kind_word(kind)}; write to a regular file "
        "(or - for stdout)"
    )
    assert _identity(target) == before
    assert [p.name for p in target.parent.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.parametrize("kind", NOT_REGULAR)
def test_the_cli_refuses_them_with_exit_2(tmp_path, kind):
    target = NOT_REGULAR[kind](tmp_path)
    before = _identity(target)
    result = cli("estimate", "--from-preview", PREVIEW, "-o", target)
    assert result.exit_code == EXIT_BAD_INPUT
    assert_one_line_error(result.stderr, f"{target}: refusing to replace {_kind_word(kind)}")
    assert _identity(target) == before


def test_a_folder_is_refused(tmp_path):
    target = folder(tmp_path)
    with pytest.raises(OutputRefused, match="refusing to replace a folder"):
        write_atomically(target, "report")
    assert target.is_dir() and list(target.iterdir()) == []


def test_check_refuses_a_device_as_its_report(tmp_path):
    target = char_device(tmp_path)
    result = cli("check", "--from-preview", PREVIEW, "--budget", "1000", "--report", target)
    assert result.exit_code == EXIT_BAD_INPUT
    assert_one_line_error(result.stderr, f"{target}: refusing to replace a character device")
    assert stat.S_ISCHR(os.stat(target).st_mode)


def test_dash_is_stdout(tmp_path):
    result = cli("estimate", "--from-preview", PREVIEW, "-o", "-", "--format", "json")
    assert result.exit_code == EXIT_OK
    assert (
        result.stdout.startswith("{") and json.loads(result.stdout)["schema"] == "costline-report/1"
    )
    assert not (tmp_path / "-").exists() and not Path("-").exists()


# --- read-only targets ------------------------------------------------------------------------
def test_a_read_only_file_is_refused_and_untouched(tmp_path):
    target = tmp_path / "report.md"
    target.write_text("the old report\n")
    target.chmod(0o444)
    result = cli("estimate", "--from-preview", PREVIEW, "-o", target)
    assert result.exit_code == EXIT_BAD_INPUT
    assert_one_line_error(result.stderr, f"{target}: the file is read-only; not replacing it")
    assert target.read_text() == "the old report\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o444


# --- modes ------------------------------------------------------------------------------------
@pytest.fixture
def umask():
    def set_to(mask: int) -> None:
        os.umask(mask)

    saved = os.umask(0o022)
    os.umask(saved)
    yield set_to
    os.umask(saved)


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_a_new_file_gets_the_umasks_mode(tmp_path, umask, mask, mode):
    umask(mask)
    target = tmp_path / "report.md"
    write_atomically(target, "x")
    assert stat.S_IMODE(target.stat().st_mode) == mode  # 0o666 less the umask, worked by hand


def test_a_replaced_file_keeps_its_own_mode(tmp_path, umask):
    umask(0o077)
    target = tmp_path / "report.md"
    target.write_text("old")
    target.chmod(0o604)
    write_atomically(target, "new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o604


def test_a_symlink_is_written_through(tmp_path):
    real = tmp_path / "real.md"
    real.write_text("old")
    link = tmp_path / "link.md"
    link.symlink_to(real)
    write_atomically(link, "new")
    assert link.is_symlink() and real.read_text() == "new"


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "report.md"
    target.write_text("old")
    with pytest.raises(UnicodeEncodeError):
        write_atomically(target, "half \udc80 written")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md"]


# --- the pack's reportPath ---------------------------------------------------------------------
def _fn() -> EngineResource:
    tags = {"cost:monthly-requests": "1000", "cost:avg-duration-ms": "100"}
    return EngineResource(urn=make_urn(LAMBDA, "fn"), properties={"tags": tags})


@pytest.mark.parametrize("kind", ["a character device", "a FIFO (named pipe)", "read-only"])
def test_the_pack_refuses_them_as_an_advisory_violation(pack, tmp_path, kind):
    if kind == "read-only":
        target = tmp_path / "report.md"
        target.write_text("old")
        target.chmod(0o444)
        expected = f"cannot write the report: {target}: the file is read-only; not replacing it"
    else:
        target = NOT_REGULAR[kind](tmp_path)
        expected = f"cannot write the report: {target}: refusing to replace {kind}"
    before = _identity(target)
    result = pack.run([_fn()], {"cost-estimate": {"reportPath": str(target)}})
    assert pack.returncode is None and not result.mandatory
    (error,) = [v for v in result.violations if "could not run policy" in v.message]
    assert error.enforcement_level == "advisory" and expected in error.message
    assert _identity(target) == before
