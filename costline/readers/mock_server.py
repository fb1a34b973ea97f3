"""Many mock runs with one ``pulumi`` import: the mock-runner server, and its client.

Running a program under mocks (:func:`costline.readers.mocks.mock_run`) starts a fresh
interpreter, which imports the Pulumi SDK and the provider SDK modules the program uses: about
1–2 s, nearly all of the run. ``costline estimate --config`` over many stacks opens
:func:`mock_servers` for the run: one server per interpreter the programs use
(:mod:`costline.readers._mock_server`), which imports the SDK once and forks a child per
program, having imported the provider modules the programs use (named in their source, see
:func:`program_imports`, or reported by earlier children) so that the children find them
imported. Every program still runs in a process of its own, with its own working directory,
environment, ``sys.path`` and modules, timeout and exit code (see the server's docstring);
:func:`run_on_server` is that run as the caller sees it: the runner's exit code, stdout and
stderr, as from the runner's subprocess. :func:`prestart` starts a server before the caller
knows it needs one (``costline``'s entry point, for a run over a config file), for
:func:`mock_servers` to take over or stop.

Where the server cannot run (no ``os.fork``: Windows; no Unix sockets), or cannot run a program
(the SDK does not import, the server has threads, it died), ``mock_run`` starts the runner as a
subprocess as it always does: the server only makes runs faster, never different.
"""

from __future__ import annotations

import ast
import atexit
import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

SERVER = Path(__file__).resolve().with_name("_mock_server.py")
HEADER_BYTES = 4
MAX_SCAN_FILES = 200
MAX_SCAN_BYTES = 1_000_000
ANSWER_LIMIT_BYTES = 64 * 1024
GRACE_S = 60.0
"""How much longer than the program's timeout a client waits for the server's answer (the
server kills the program at the timeout itself; this covers a queue and a stuck server)."""


@dataclass(frozen=True)
class ServerRun:
    """One program's run in a server's child, as a subprocess's result would tell it."""

    returncode: int
    stdout: str
    stderr: str
    timed_out: bool


def available() -> bool:
    """Whether this system can run a server: ``os.fork`` and Unix sockets."""
    return hasattr(os, "fork") and hasattr(socket, "AF_UNIX") and hasattr(socket, "send_fds")


@dataclass
class _Server:
    """A server process, the Unix socket it listens on (in a 0700 folder of its own) and what it
    was started for."""

    process: subprocess.Popen[bytes]
    address: str
    folder: str
    interpreter: str
    max_children: int
    env: dict[str, str]


_prestarted: list[_Server] = []


def runner_env() -> dict[str, str]:
    """The environment a mock run starts from: this process's, with unbuffered UTF-8 output
    and no ``__pycache__`` written into the user's program."""
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    return env


def prestart(interpreter: str, max_children: int, env: Mapping[str, str]) -> str | None:
    """Start a server for ``interpreter`` now, before the caller has even loaded what decides
    whether it needs one: ``costline``'s entry point does this for a run over a config file,
    so that the SDK's imports (most of a config run's first second) overlap the CLI's own.
    :func:`mock_servers` takes it over when it is asked for the same interpreter and
    environment (and no more children); :func:`discard_prestarted` stops it otherwise (at the
    latest when this process exits). Returns its socket's address (``None``: no server)."""
    if not available():
        return None
    server = _start(interpreter, max_children, env)
    if server is None:
        return None
    atexit.unregister(discard_prestarted)  # registered once, however many were started
    atexit.register(discard_prestarted)
    _prestarted.append(server)
    return server.address


def discard_prestarted() -> None:
    """Stop every server :func:`prestart` started that no :func:`mock_servers` took. Killed, not
    asked: a server still importing the SDK reads no request and would keep a CPU busy."""
    servers = list(_prestarted)
    _prestarted.clear()
    _stop(servers, kill=True)


@contextlib.contextmanager
def mock_servers(
    interpreters: Iterable[str], max_children: int, env: Mapping[str, str]
) -> Iterator[dict[str, str]]:
    """A server for each interpreter (at most ``max_children`` programs at once each), as
    ``{interpreter: socket address}`` for :func:`costline.readers.mocks.use_servers`; stopped,
    with every program they still run, on exit. Empty where :func:`available` says no; an
    interpreter that cannot be started has none. A server :func:`prestart` started for the
    same interpreter and environment is used instead of a new one; the others are stopped."""
    if not available():
        yield {}
        return
    servers: list[_Server] = []
    try:
        for interpreter in dict.fromkeys(interpreters):
            server = _take_prestarted(interpreter, max_children, env) or _start(
                interpreter, max_children, env
            )
            if server is not None:  # else its programs run as subprocesses, which say why
                servers.append(server)
        discard_prestarted()
        yield {server.interpreter: server.address for server in servers}
    finally:
        _stop(servers)


def _take_prestarted(interpreter: str, max_children: int, env: Mapping[str, str]) -> _Server | None:
    for server in _prestarted:
        if (
            server.interpreter == interpreter
            and server.env == dict(env)
            and max_children <= server.max_children  # its clients never ask for more at once
            and server.process.poll() is None
        ):
            _prestarted.remove(server)
            return server
    return None


def _start(interpreter: str, max_children: int, env: Mapping[str, str]) -> _Server | None:
    folder = tempfile.mkdtemp(prefix="costline-mocks-")  # 0700: only this user connects
    address = os.path.join(folder, "server.sock")
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
            listener.bind(address)
            listener.listen(max(64, max_children))
            fd = listener.fileno()
            process = subprocess.Popen(
                [
                    interpreter,
                    str(SERVER),
                    "--listen-fd",
                    str(fd),
                    "--max-children",
                    str(max_children),
                ],
                pass_fds=[fd],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=dict(env),
                cwd=folder,
            )
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)
        return None
    return _Server(process, address, folder, interpreter, max_children, dict(env))


def _stop(servers: Iterable[_Server], *, kill: bool = False) -> None:
    servers = list(servers)
    for server in servers:
        with contextlib.suppress(OSError):
            if kill:
                server.process.kill()
            elif server.process.stdin is not None:
                server.process.stdin.close()  # the server's cue to stop
    for server in servers:
        try:
            server.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()
        with contextlib.suppress(OSError):
            if server.process.stdin is not None:
                server.process.stdin.close()
        shutil.rmtree(server.folder, ignore_errors=True)


def run_on_server(
    address: str, argv: list[str], cwd: Path, env: Mapping[str, str], timeout: float
) -> ServerRun | None:
    """Run the mock runner with ``argv`` in a child of the server at ``address``; ``None``
    when the server cannot (the caller then starts the runner as a subprocess)."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn,
    ):
        try:
            conn.connect(address)
            request = {
                "argv": argv,
                "cwd": str(cwd),
                "env": dict(env),
                "timeout": timeout,
                "imports": program_imports(argv[0]),
            }
            body = json.dumps(request).encode()
            socket.send_fds(
                conn, [len(body).to_bytes(HEADER_BYTES, "big")], [out.fileno(), err.fileno()]
            )
            conn.sendall(body)
        except OSError:
            return None
        answer, timed_out = _answer(conn, timeout + GRACE_S)
        if answer is not None and "fallback" in answer:
            return None
        if answer is None and not timed_out:
            return None  # the server died: the program runs again as a subprocess
        stdout, stderr = _read(out), _read(err)
    if answer is None:
        return ServerRun(-9, stdout, stderr, timed_out=True)
    return ServerRun(int(answer["returncode"]), stdout, stderr, bool(answer.get("timed_out")))


def program_imports(program: str) -> list[str]:
    """The ``pulumi``/``pulumi_*`` modules a program's source names, read (never run) from its
    ``.py`` files: ``import pulumi_aws as aws`` … ``aws.s3.Bucket`` names ``pulumi_aws`` and
    ``pulumi_aws.s3``; ``from pulumi_aws import s3`` names ``pulumi_aws.s3``. A name that is a
    class, not a module, just fails to import. At most :data:`MAX_SCAN_FILES` files of
    :data:`MAX_SCAN_BYTES` each, virtualenvs and hidden folders left out."""
    names: dict[str, None] = {}
    for path in _program_files(Path(program)):
        try:
            if path.stat().st_size > MAX_SCAN_BYTES:
                continue
            tree = ast.parse(path.read_bytes(), filename=str(path))
        except (OSError, SyntaxError, ValueError):
            continue
        aliases: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for item in node.names:
                    if _sdk_module(item.name):
                        names[item.name] = None
                        local = item.asname or item.name.split(".")[0]
                        aliases[local] = item.name if item.asname else local
            elif (
                isinstance(node, ast.ImportFrom)
                and node.module
                and not node.level
                and _sdk_module(node.module)
            ):
                names[node.module] = None
                for item in node.names:
                    if item.name != "*":
                        aliases[item.asname or item.name] = f"{node.module}.{item.name}"
                        names[f"{node.module}.{item.name}"] = None
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
            ):
                names[f"{aliases[node.value.id]}.{node.attr}"] = None
    return list(names)


def _program_files(program: Path) -> list[Path]:
    if program.is_file():
        return [program]
    found: list[Path] = []
    for folder, subfolders, files in os.walk(program):
        subfolders[:] = sorted(
            d
            for d in subfolders
            if not d.startswith((".", "__")) and d not in ("venv", "site-packages", "node_modules")
        )
        found += [Path(folder, f) for f in sorted(files) if f.endswith(".py")]
        if len(found) >= MAX_SCAN_FILES:
            return found[:MAX_SCAN_FILES]
    return found


def _sdk_module(name: str) -> bool:
    return name == "pulumi" or name.startswith(("pulumi.", "pulumi_"))


def _answer(conn: socket.socket, wait_s: float) -> tuple[dict[str, Any] | None, bool]:
    """The server's one-line answer, and whether waiting for it timed out."""
    conn.settimeout(wait_s)
    data = b""
    try:
        while not data.endswith(b"\n") and len(data) < ANSWER_LIMIT_BYTES:
            chunk = conn.recv(4096)
            if not chunk:
                return None, False
            data += chunk
    except TimeoutError:
        return None, True  # closing the connection makes the server kill the program
    except OSError:
        return None, False
    try:
        answer = json.loads(data)
    except ValueError:
        return None, False
    return (answer if isinstance(answer, dict) else None), False


def _read(file: IO[bytes]) -> str:
    file.seek(0)
    return file.read().decode("utf-8", errors="replace")
