"""Writing output files safely: atomically, only over a regular file, keeping its mode.

:func:`write_atomically` is what ``--output``, ``check --report``, the pack's ``reportPath`` and
``pricing import`` write with:

* the text goes to a temporary file in the target's folder, is flushed and ``fsync``-ed, then
  renamed over the target (``os.replace``) and the folder synced: a reader sees the old file or
  the new one, never half of one, also after a crash;
* an existing target that is not a regular file (a device such as ``/dev/null``, a FIFO, a
  socket, a folder, ``/proc/self/fd/1`` on a terminal) is refused: renaming over it would
  replace the node itself, which as root replaces ``/dev/null``;
* a read-only target (no write bit, or one this process may not write) is refused, also as root;
* a symbolic link is written through: the file it points to is replaced, the link stays;
* a new file gets the mode the umask gives (``0o666 & ~umask``), a replaced file keeps its own;
* with ``replace=False`` nothing that exists is replaced, whatever it is (a file, a link, even a
  dangling one): the finished temporary file is hard-linked to the target's name, which fails
  when the name is taken, so a file that appears meanwhile is kept too.

No library was used: ``atomicwrites`` is archived, and neither it nor the maintained ones
(``safer``, ``atomicfile``) refuse a non-regular target or keep the replaced file's mode, which
is most of what this module is for (see docs/reliability.md).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path


class OutputRefused(Exception):
    """A target costline will not write over; ``str()`` says why, naming the path."""


_KINDS = (
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def check_target(path: Path) -> os.stat_result | None:
    """The target's status when it exists (``None`` when it does not); raises
    :class:`OutputRefused` when it must not be replaced."""
    try:
        status = os.stat(path)  # follows links: what a write would reach
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        raise OutputRefused(f"{path}: a part of this path is not a folder") from None
    if not stat.S_ISREG(status.st_mode):
        raise OutputRefused(
            f"{path}: refusing to replace {_kind(status.st_mode)}; write to a regular file "
            "(or - for stdout)"
        )
    if not status.st_mode & 0o222 or not os.access(path, os.W_OK):
        raise OutputRefused(f"{path}: the file is read-only; not replacing it")
    return status


def _umask() -> int:
    """The process's umask, read without changing it where the system says (Linux)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)  # elsewhere: set and restore at once
    os.umask(mask)
    return mask


def write_atomically(path: Path, text: str, *, replace: bool = True) -> None:
    """Write ``text`` (UTF-8) to ``path`` as the module docstring says.

    Raises :class:`OutputRefused` for a target it must not replace, ``FileExistsError`` when
    ``replace`` is false and ``path`` exists, ``OSError`` when the folder cannot take the file;
    either way the target and its folder are as they were."""
    path = Path(path)
    if not replace:
        if os.path.lexists(path):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(path))
        _write_then(path, text, 0o666 & ~_umask(), os.link)  # never over an existing name
        return
    existing = check_target(path)  # through links, also /proc's magic ones to pipes
    if path.is_symlink():
        path = Path(os.path.realpath(path))
        existing = check_target(path)
    mode = stat.S_IMODE(existing.st_mode) if existing is not None else 0o666 & ~_umask()
    _write_then(path, text, mode, os.replace)


def _write_then(path: Path, text: str, mode: int, put: Callable[[str, Path], None]) -> None:
    """``text`` to a synced temporary file of ``mode`` beside ``path``, then ``put`` there."""
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        put(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)  # gone after a replace; the spare name after a link
    _sync_folder(directory)


def _sync_folder(directory: Path) -> None:
    """Make the rename itself durable (best effort: not every system opens folders)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
