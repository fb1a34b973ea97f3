"""Run many Pulumi programs under mocks without importing the Pulumi SDK for each one.

Started by :mod:`costline.readers.mock_server` with the interpreter the programs run with
(``python .../_mock_server.py --listen-fd FD --max-children N``), by file path, importing
nothing from costline, like :mod:`costline.readers._mock_runner`. It imports the ``pulumi`` SDK
(and ``pulumi_aws`` when installed) once, then serves requests on the listening Unix socket it
was handed: for each, it forks a child that runs :func:`_mock_runner.main` on one program,
exactly as the runner's own subprocess would, and reports the child's exit code.

Each program still runs in a process of its own, a copy of this server made after the imports
and before any program code: its own working directory, environment (``PULUMI_CONFIG`` and
the rest, as the request gives them), ``sys.path`` and ``sys.modules`` for the program's
modules, and its own process group, which is killed at the request's timeout. Nothing a
program does reaches the server or the next program.

The request (see :func:`costline.readers.mock_server.run_on_server`) is a 4-byte length, sent
with two file descriptors (the files that become the child's stdout and stderr), then a JSON
object: ``argv`` (the runner's arguments), ``cwd``, ``env``, ``timeout`` (seconds) and
``imports`` (the SDK modules the program's source names). The answer is one JSON line:
``{"returncode": N, "timed_out": bool}`` (a negative code: killed by that signal), or
``{"fallback": "why"}`` when this server cannot run the program (the SDK does not import, or a
thread exists: forking a process with threads is not safe), and the caller then starts the
runner as a subprocess of its own. A client that closes its connection before the answer has
its child killed.

The provider SDKs import most of their modules lazily, on first use, and those imports are
most of a program's run (pulumi_aws's ``s3`` and ``bedrock`` alone take over a second), so the
server imports them before it forks: the ``imports`` a request names (read from the program's
source by the client, never run), and the ``pulumi``/``pulumi_*`` modules each child reports as
it imports them (what the source did not show). Only modules of those packages are imported
here, by name, from this interpreter's own path, never from a program's folder. The same goes
for the SDK's type hints: the first time a child needs a class's property types (every
resource, argument and output class a program uses: ``typing.get_type_hints`` on each property,
over a tenth of a program's run), it reports the class, and the server works them out once, in
the SDK's own cache, for every later child. Until a first child has finished (or run for
:data:`SCOUT_S` seconds) only one child runs, so that what it teaches the server reaches the
others.
"""

from __future__ import annotations

import argparse
import atexit
import collections
import contextlib
import gc
import importlib
import importlib.util
import json
import os
import select
import signal
import socket
import struct
import sys
import threading
import time
import traceback
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
HEADER = struct.Struct("!I")
MAX_REQUEST_BYTES = 64 * 1024 * 1024
REQUEST_READ_TIMEOUT_S = 10.0
SCOUT_S = 5.0
PARENT_CHECK_S = 1.0
PRELOAD = (
    "pulumi",
    "pulumi.runtime",
    "pulumi.runtime.mocks",
    "pulumi.runtime.stack",
    "pulumi.runtime.sync_await",
    "pulumi.runtime.settings",
    "google.protobuf.empty_pb2",
    "google.protobuf.json_format",
)
"""What :func:`_mock_runner.main` imports before the program runs."""
OPTIONAL_PRELOAD = ("pulumi_aws",)
RUNNER_MODULE = "_costline_mock_runner"
"""The name the runner is loaded under here (in ``sys.modules`` of every program's process)."""


def _warmable(name: str) -> bool:
    """Modules the server imports when a program did: the Pulumi SDK and provider SDKs."""
    return name == "pulumi" or name.startswith(("pulumi.", "pulumi_"))


TYPES_FUNCTION = "_types_from_py_properties"
"""``pulumi._types``' cached function giving a class's property types."""


def _class_key(cls: Any) -> str | None:
    """``module:qualname`` for a class of the SDKs the server may import; ``None`` for any
    other (a program's own classes, a class made inside a function)."""
    module, qualname = getattr(cls, "__module__", None), getattr(cls, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str) or not _warmable(module):
        return None
    if "<" in qualname or ":" in module or "\n" in module + qualname:
        return None
    return f"{module}:{qualname}"


def _threads() -> int:
    """Threads in this process, native ones included where the system says (Linux)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


def _load_runner() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(RUNNER_MODULE, HERE / "_mock_runner.py")
    if spec is None or spec.loader is None:
        raise ImportError("the mock runner is missing beside the server")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@dataclass
class Request:
    conn: socket.socket
    argv: list[str]
    cwd: str
    env: dict[str, str]
    timeout: float
    imports: list[str]
    out_fd: int
    err_fd: int


@dataclass
class Child:
    pid: int
    request: Request
    names_fd: int
    deadline: float
    names: bytearray = field(default_factory=bytearray)
    timed_out: bool = False
    abandoned: bool = False  # its client closed the connection: killed, waiting to be reaped


class _ImportReporter:
    """A meta path finder that finds nothing: it writes the name of every ``pulumi``/``pulumi_*``
    module the program imports to the server, as it is imported, and lets the real finders
    load it. Never blocks the program: what the pipe cannot take now waits for the next import
    or the end of the run."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.pending = bytearray()
        os.set_blocking(fd, False)

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if _warmable(name):
            self.pending += name.encode() + b"\n"
            self.flush()
        return None

    def report_type_hints(self) -> None:
        """Report every SDK class whose property types this child works out itself (a miss
        of the SDK's cache: the server has not), as ``module:qualname``."""
        sdk_types = sys.modules.get("pulumi._types")
        cached = getattr(sdk_types, TYPES_FUNCTION, None)
        if cached is None or not callable(getattr(cached, "cache_info", None)):
            return  # another SDK: nothing to report

        def reporting(cls: type) -> Any:
            misses = cached.cache_info().misses
            found = cached(cls)
            key = _class_key(cls) if cached.cache_info().misses != misses else None
            if key is not None:
                self.pending += key.encode() + b"\n"
            return found

        reporting.__wrapped__ = cached  # type: ignore[attr-defined]  # as functools.wraps says
        setattr(sdk_types, TYPES_FUNCTION, reporting)

    def flush(self, *, wait: bool = False) -> None:
        try:
            if wait:
                os.set_blocking(self.fd, True)
            while self.pending:
                self.pending = self.pending[os.write(self.fd, self.pending) :]
        except BlockingIOError:
            pass
        except OSError:  # the server is gone: nobody to tell
            self.pending.clear()


class Server:
    def __init__(self, listener: socket.socket, max_children: int) -> None:
        self.listener = listener
        self.max_children = max(1, max_children)
        self.runner: types.ModuleType | None = None
        self.broken: str | None = None
        self.queue: collections.deque[Request] = collections.deque()
        self.children: dict[int, Child] = {}
        self.to_warm: collections.deque[str] = collections.deque()
        self.tried: set[str] = set()
        self.finished_any = False
        self.first_started: float | None = None
        self.parent = os.getppid()
        self.wake_r, self.wake_w = os.pipe()

    # --- start-up ---------------------------------------------------------------------------
    def preload(self) -> None:
        try:
            self.runner = _load_runner()
            for name in PRELOAD:
                importlib.import_module(name)
                self.tried.add(name)
        except Exception as exc:  # the subprocess fallback reports it as the runner does
            self.broken = f"the mock runner cannot import what it needs: {exc}"
            return
        for name in OPTIONAL_PRELOAD:
            self._warm(name)

    # --- the loop ---------------------------------------------------------------------------
    def serve(self) -> int:
        for fd in (self.wake_r, self.wake_w):
            os.set_blocking(fd, False)
        signal.set_wakeup_fd(self.wake_w, warn_on_full_buffer=False)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            while True:
                self._reap()
                self._start_queued()
                readable = self._wait()
                if readable is None:
                    return 0
                for fd in readable:
                    self._handle(fd)
                if self.to_warm and not self._pending_events():
                    self._warm(self.to_warm.popleft())
        except SystemExit:  # stdin closed, or SIGTERM
            return 0
        finally:
            for child in self.children.values():
                _kill(child.pid)

    def _wait(self) -> list[int] | None:
        watched = [self.listener.fileno(), 0, self.wake_r]
        watched += [c.request.conn.fileno() for c in self.children.values() if not c.abandoned]
        watched += [c.names_fd for c in self.children.values()]
        watched += [r.conn.fileno() for r in self.queue]
        now = time.monotonic()
        timeout = PARENT_CHECK_S
        if self.to_warm:
            timeout = 0.0
        for child in self.children.values():
            timeout = min(timeout, max(0.0, child.deadline - now))
        if self.first_started is not None and not self.finished_any and self.queue:
            timeout = min(timeout, max(0.0, self.first_started + SCOUT_S - now))
        readable, _, _ = select.select(watched, [], [], timeout)
        if os.getppid() != self.parent:
            return None
        now = time.monotonic()
        for child in self.children.values():
            if not child.timed_out and now >= child.deadline:
                child.timed_out = True
                _kill(child.pid)
        return readable

    def _pending_events(self) -> bool:
        return bool(select.select([self.listener.fileno(), self.wake_r], [], [], 0)[0])

    def _handle(self, fd: int) -> None:
        if fd == 0:
            if not os.read(0, 4096):  # the parent closed our stdin: it is done, or gone
                raise SystemExit(0)
        elif fd == self.wake_r:
            try:
                while os.read(self.wake_r, 4096):
                    pass
            except BlockingIOError:
                pass
        elif fd == self.listener.fileno():
            self._accept()
        else:
            for child in list(self.children.values()):
                if fd == child.names_fd:
                    self._read_names(child)
                elif fd == child.request.conn.fileno() and not child.abandoned:
                    child.abandoned = True  # the client gave up (its own timeout) or died
                    _kill(child.pid)
            for request in list(self.queue):
                if fd == request.conn.fileno():
                    self.queue.remove(request)
                    _close_request(request)

    def _accept(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        fds: list[int] = []
        try:
            conn.settimeout(REQUEST_READ_TIMEOUT_S)
            header, fds, _, _ = socket.recv_fds(conn, HEADER.size, 2)
            if len(fds) != 2:
                raise ValueError("expected the child's stdout and stderr")
            while len(header) < HEADER.size:
                more = conn.recv(HEADER.size - len(header))
                if not more:
                    raise ValueError("truncated request")
                header += more
            (size,) = HEADER.unpack(header)
            if size > MAX_REQUEST_BYTES:
                raise ValueError("request too large")
            body = bytearray()
            while len(body) < size:
                more = conn.recv(min(1 << 20, size - len(body)))
                if not more:
                    raise ValueError("truncated request")
                body += more
            data = json.loads(body)
            conn.settimeout(None)
            request = Request(
                conn=conn,
                argv=[str(a) for a in data["argv"]],
                cwd=str(data["cwd"]),
                env={str(k): str(v) for k, v in data["env"].items()},
                timeout=float(data["timeout"]),
                imports=[str(name) for name in data.get("imports", [])],
                out_fd=fds[0],
                err_fd=fds[1],
            )
        except Exception:  # not one of our clients: nothing to answer
            for fd in fds:
                with contextlib.suppress(OSError):
                    os.close(fd)
            conn.close()
            return
        if self.broken:
            self._answer(request, {"fallback": self.broken})
            return
        self.queue.append(request)

    # --- children ---------------------------------------------------------------------------
    def _may_start(self) -> bool:
        if len(self.children) >= self.max_children:
            return False
        if self.children and not self.finished_any and self.first_started is not None:
            return time.monotonic() - self.first_started >= SCOUT_S
        return True

    def _start_queued(self) -> None:
        while self.queue and self._may_start():
            request = self.queue.popleft()
            while self.to_warm:  # what earlier children reported, before this one starts
                self._warm(self.to_warm.popleft())
            for name in request.imports:
                if _warmable(name) and name not in self.tried:
                    self._warm(name)
            if _threads() > 1:
                self.broken = "the mock server has threads; forking it is not safe"
                self._answer(request, {"fallback": self.broken})
                continue
            self._fork(request)

    def _fork(self, request: Request) -> None:
        gc.freeze()  # fewer pages copied: the children do not touch the server's objects
        names_r, names_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(names_r)
            self._child(request, names_w)
        os.close(names_w)
        _close_files(request)  # the child has them now
        os.set_blocking(names_r, False)
        now = time.monotonic()
        self.first_started = self.first_started or now
        self.children[pid] = Child(pid, request, names_r, deadline=now + request.timeout)

    def _child(self, request: Request, names_fd: int) -> None:
        code = 1
        try:
            code = _run_child(self, request, names_fd)
        finally:
            os._exit(code)

    def _reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            child = self.children.pop(pid, None)
            if child is None:
                continue
            self.finished_any = True
            self._read_names(child)
            os.close(child.names_fd)
            code = os.waitstatus_to_exitcode(status)
            self._answer(child.request, {"returncode": code, "timed_out": child.timed_out})

    def _read_names(self, child: Child) -> None:
        try:
            while chunk := os.read(child.names_fd, 65536):
                child.names += chunk
        except (BlockingIOError, OSError):
            pass
        *lines, rest = bytes(child.names).split(b"\n")
        child.names = bytearray(rest)
        for line in lines:
            name = line.decode("utf-8", "replace")
            if _warmable(name) and name not in self.tried:
                self.tried.add(name)
                self.to_warm.append(name)

    def _warm(self, name: str) -> None:
        """Import ``name`` here, and load it and its packages when the SDK made them lazy; for
        ``module:qualname``, work out that class's property types in the SDK's cache."""
        if ":" in name:
            self._warm_types(name)
            return
        self.tried.add(name)
        try:
            importlib.import_module(name)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            return
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            module = sys.modules.get(".".join(parts[:i]))
            if isinstance(module, types.ModuleType) and type(module) is not types.ModuleType:
                with contextlib.suppress(Exception):  # any attribute loads a lazy module
                    getattr(module, "__costline_load__", None)

    def _warm_types(self, key: str) -> None:
        self.tried.add(key)
        module_name, _, qualname = key.partition(":")
        module = sys.modules.get(module_name)  # a module this server imported: no new import
        sdk_types = sys.modules.get("pulumi._types")
        cached = getattr(sdk_types, TYPES_FUNCTION, None)
        if module is None or cached is None:
            return
        with contextlib.suppress(Exception):  # the next child works it out itself, as before
            target: Any = module
            for part in qualname.split("."):
                target = getattr(target, part, None)
            if isinstance(target, type) and _class_key(target) == key:
                cached(target)

    def _answer(self, request: Request, answer: dict[str, Any]) -> None:
        with contextlib.suppress(OSError):
            request.conn.sendall(json.dumps(answer).encode() + b"\n")
        _close_request(request)


def _run_child(server: Server, request: Request, names_fd: int) -> int:
    """In the forked child: become the program's process, run the runner, return its code."""
    os.setsid()  # a process group of its own: the timeout kills whatever the program started
    signal.set_wakeup_fd(-1)
    for signum in (signal.SIGCHLD, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)
    for fd in (server.listener.fileno(), server.wake_r, server.wake_w):
        os.close(fd)
    for other in [*server.children.values()]:
        os.close(other.names_fd)
        other.request.conn.close()
    for queued in server.queue:
        queued.conn.close()
        _close_files(queued)
    request.conn.close()
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(request.out_fd, 1)
    os.dup2(request.err_fd, 2)
    for fd in (null, request.out_fd, request.err_fd):
        if fd > 2:
            os.close(fd)
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(line_buffering=True, write_through=True)  # as PYTHONUNBUFFERED
    reporter = _ImportReporter(names_fd)
    code = 1
    try:
        os.chdir(request.cwd)
        os.environ.clear()
        os.environ.update(request.env)
        sys.dont_write_bytecode = bool(os.environ.get("PYTHONDONTWRITEBYTECODE"))
        sys.meta_path.insert(0, reporter)
        reporter.report_type_hints()
        assert server.runner is not None
        code = server.runner.main(request.argv)
    except SystemExit as exc:
        code = _exit_code(exc.code)
    except BaseException:
        traceback.print_exc()
        code = 1
    with contextlib.suppress(BaseException):
        atexit._run_exitfuncs()  # what the program registered, as at an interpreter's exit
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BaseException):
            stream.flush()
    reporter.flush(wait=True)
    return code


def _exit_code(code: Any) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def _kill(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)  # not yet its own group leader


def _close_files(request: Request) -> None:
    """Close the request's stdout and stderr here, once (a closed number may be reused)."""
    for fd in (request.out_fd, request.err_fd):
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)
    request.out_fd = request.err_fd = -1


def _close_request(request: Request) -> None:
    _close_files(request)
    with contextlib.suppress(OSError):
        request.conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen-fd", type=int, required=True)
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    sys.path[:] = [p for p in sys.path if p and Path(p).resolve() != HERE]
    listener = socket.socket(fileno=args.listen_fd)
    server = Server(listener, args.max_children)
    server.preload()
    code = server.serve()
    # Skip the interpreter's teardown: freeing the SDK's thousands of modules and classes takes
    # longer than anything else the server does when it stops, and it has nothing to flush.
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
