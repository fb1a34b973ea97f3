"""A Python stand-in for the Go ``pulumi-language-python`` host, for the end-to-end tests only.

Why it exists: ``pulumi-language-python`` is its own Go module
(``github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3``) and the Go module proxy
serves no version of it, so ``tests/e2e/build-pulumi`` can build the real CLI but not this host.
The engine side stays real; only the few lines of process plumbing the host does are redone here.

What it mirrors (read from pulumi/pulumi ``sdk/python/cmd/pulumi-language-python/main.go``):

* start-up: argv ends with the engine address; serve ``LanguageRuntime`` on 127.0.0.1, print the
  port on stdout;
* ``Run``: start ``<python> pulumi-language-python-exec --monitor … --engine … --project …
  --root_directory … --stack … --pwd … --dry_run … --parallel … --organization … <entry point>``
  with ``PULUMI_CONFIG`` / ``PULUMI_CONFIG_SECRET_KEYS`` as JSON in the environment, the program's
  output going to this process's stdout/stderr; exit code 32 means "error already shown" (bail);
  the exec script is the SDK's own, copied by ``build-pulumi`` from the Go module cache of the
  same Pulumi release and installed next to this host, where the Go host looks for it;
* the interpreter: ``runtime.options.virtualenv`` (relative to the project root) when set, else
  ``PULUMI_PYTHON_CMD``, else ``python3`` on PATH (the pip toolchain's rules);
* ``RunPlugin`` for a policy pack (kind ``analyzer``): ``<python> -u -m pulumi.policy <args…>
  <pack dir>`` with the pack directory as working directory, stdout/stderr streamed back and the
  exit code sent last. The Go host also puts a gRPC proxy in front of the pack to learn the stack
  configuration and export ``PULUMI_PROJECT``/``PULUMI_STACK``/``PULUMI_CONFIG`` to it; that proxy
  is not reproduced (the pack still receives the same values through ``ConfigureStack``);
* ``GetRequiredPackages``: the Go host lists the installed packages' ``pulumi-plugin.json``; this
  one answers an empty list, so the engine loads a provider when the program first asks for it
  (the version the SDK sends with each request), which is how the tests install theirs anyway.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2, json_format
from plugin_server import serve
from pulumi.runtime.proto import language_pb2, language_pb2_grpc, plugin_pb2

EXEC_SCRIPT = "pulumi-language-python-exec"
BAIL_EXIT_CODE = 32  # pulumi-language-python-exec: "exited after showing a user-actionable message"


def python_command(root: str, options: dict[str, Any]) -> str:
    """The interpreter the pip toolchain would pick for this project."""
    venv = options.get("virtualenv")
    if venv:
        path = Path(venv) if os.path.isabs(venv) else Path(root) / venv
        return str(path / "bin" / "python")
    cmd = os.environ.get("PULUMI_PYTHON_CMD") or shutil.which("python3") or "python3"
    return cmd


def _options(info: language_pb2.ProgramInfo) -> dict[str, Any]:
    return json_format.MessageToDict(info.options) if info.HasField("options") else {}


class LanguageHost(language_pb2_grpc.LanguageRuntimeServicer):
    def __init__(self, engine_address: str, exec_script: Path) -> None:
        self.engine_address = engine_address
        self.exec_script = exec_script

    def Handshake(self, request, context):
        self.engine_address = request.engine_address or self.engine_address
        return language_pb2.LanguageHandshakeResponse()

    def GetPluginInfo(self, request, context):
        return plugin_pb2.PluginInfo(version=os.environ.get("PULUMI_E2E_VERSION", "3.0.0"))

    def GetRequiredPlugins(self, request, context):
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "GetRequiredPlugins is not implemented")

    def GetRequiredPackages(self, request, context):
        return language_pb2.GetRequiredPackagesResponse(packages=[])

    def InstallDependencies(self, request, context):
        yield language_pb2.InstallDependenciesResponse(stdout=b"")

    def GetProgramDependencies(self, request, context):
        return language_pb2.GetProgramDependenciesResponse(dependencies=[])

    def About(self, request, context):
        info = request.info
        python = python_command(info.root_directory, _options(info))
        return language_pb2.AboutResponse(executable=python, version=sys.version.split()[0])

    def Cancel(self, request, context):
        return empty_pb2.Empty()

    def Run(self, request, context):
        info = request.info
        python = python_command(info.root_directory, _options(info))
        if not os.path.exists(python) and os.sep in python:
            return language_pb2.RunResponse(
                error=f"the virtualenv's interpreter {python} does not exist (run pulumi install)"
            )
        args = [python, str(self.exec_script)]
        for key, value in (
            ("monitor", request.monitor_address),
            ("engine", self.engine_address),
            ("project", request.project),
            ("root_directory", info.root_directory),
            ("stack", request.stack),
            ("pwd", request.pwd),
            ("dry_run", "true" if request.dryRun else "false"),
            ("parallel", str(request.parallel)),
            ("organization", request.organization),
        ):
            if value:
                args += [f"--{key}", value]
        args.append(info.entry_point)
        args += list(request.args)
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        env["PULUMI_CONFIG"] = json.dumps(dict(request.config))
        env["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(list(request.configSecretKeys))
        proc = subprocess.run(args, env=env, stdout=sys.stdout, stderr=sys.stderr, check=False)
        if proc.returncode == 0:
            return language_pb2.RunResponse()
        if proc.returncode == BAIL_EXIT_CODE:
            return language_pb2.RunResponse(bail=True)
        return language_pb2.RunResponse(
            error=f"program exited with non-zero exit code: {proc.returncode}"
        )

    def RunPlugin(self, request, context) -> Iterator[language_pb2.RunPluginResponse]:
        info = request.info
        if request.kind != "analyzer":
            context.abort(
                grpc.StatusCode.UNIMPLEMENTED, "only policy packs (kind analyzer) are run here"
            )
        python = python_command(info.root_directory, _options(info))
        args = [python, "-u", "-m", "pulumi.policy", *request.args, info.program_directory]
        env = dict(os.environ)
        for item in request.env:
            key, _, value = item.partition("=")
            env[key] = value
        proc = subprocess.Popen(
            args,
            cwd=info.program_directory,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        context.add_callback(proc.terminate)
        chunks: queue.Queue[tuple[str, bytes]] = queue.Queue()

        def pump(name: str, stream) -> None:
            for data in iter(lambda: os.read(stream.fileno(), 65536), b""):
                chunks.put((name, data))
            chunks.put((name, b""))

        for name, stream in (("stdout", proc.stdout), ("stderr", proc.stderr)):
            threading.Thread(target=pump, args=(name, stream), daemon=True).start()
        open_streams = 2
        while open_streams:
            name, data = chunks.get()
            if not data:
                open_streams -= 1
                continue
            yield language_pb2.RunPluginResponse(**{name: data})
        yield language_pb2.RunPluginResponse(exitcode=proc.wait())


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("-")]
    engine_address = args[-1] if args else ""
    exec_script = Path(__file__).resolve().parent / EXEC_SCRIPT
    return serve(
        lambda server: language_pb2_grpc.add_LanguageRuntimeServicer_to_server(
            LanguageHost(engine_address, exec_script), server
        ),
        max_workers=16,
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
