"""Drive a Python policy pack over the real gRPC Analyzer protocol, the way the Pulumi engine does.

There is no Pulumi CLI in costline's test environment, so this module plays the engine's part.
Everything below was checked against the pulumi/pulumi Go sources (paths are in that repository)
and against the installed Python SDKs (pulumi 3.272, pulumi-policy 1.21).

Launch (``sdk/go/common/resource/plugin/analyzer_plugin.go``: ``NewPolicyAnalyzer``,
``constructEnv``, ``constructConfig``; ``sdk/python/dist/pulumi-analyzer-policy-python``)
    For ``runtime: python`` the engine runs the shim ``pulumi-analyzer-policy-python`` with
    arguments ``[<engine address>, "."]`` plus one ``-<key>=<value>`` per runtime option of
    ``PulumiPolicy.yaml``, working directory = the pack directory. The shim runs
    ``python3 -u -m pulumi.policy "$1" "$2"`` (the ``-virtualenv`` option only picks the
    interpreter). The environment is the engine's own: v3.274 adds nothing (``NewPolicyAnalyzer``
    in ``pkg/resource/plugin/analyzer_plugin.go``; the stack config goes in ``ConfigureStack``
    only). Engines up to about v3.260 (``constructEnv``) also set ``PULUMI_CONFIG`` (JSON object
    of ``"namespace:key" -> string``, the decrypted stack config, no secret keys),
    ``PULUMI_ORGANIZATION``, ``PULUMI_PROJECT``, ``PULUMI_STACK`` and ``PULUMI_DRY_RUN``
    (``true``/``false``; empty values left out): ``legacy_env=True`` plays such an engine. The
    harness runs ``python`` in place of the shim's python3.

Engine address
    ``pulumi.policy.__main__`` parses the address and never uses it: the policy runtime is
    configured with ``pulumi.runtime.Settings(project, stack, dry_run, organization)`` and no
    ``engine=``, so ``pulumi.log.*`` inside a policy prints ``info: ...``/``warning: ...`` to
    stderr instead of calling ``Engine.Log`` (``pulumi/log.py``). The real engine shows plugin
    stderr lines as diagnostics. So the harness runs no Engine servicer; it passes an unused
    address (:data:`UNUSED_ENGINE_ADDRESS`) and keeps the pack's stderr for tests
    (:attr:`PolicyPackProcess.stderr_text`).

Start-up (``sdk/go/common/resource/plugin/plugin.go``: ``newPlugin``)
    The first stdout line must be the numeric port (anything else is an error); the rest of
    stdout and all of stderr are drained for the life of the plugin. The engine dials
    ``127.0.0.1:<port>`` and waits for the channel to be ready.

Call sequence
    1. ``Handshake(engine_address, root_directory=program_directory=<pack dir>)``; UNIMPLEMENTED
       (what the Python SDK answers) is accepted, any other error fails.
    2. ``ConfigureStack(stack, project, organization, dry_run, config, configSecretKeys, tags)``:
       the decrypted stack config and the names of its secret keys.
    3. ``GetAnalyzerInfo``; the engine injects an ``enforcementLevel`` property into every
       schema and prefers ``PulumiPolicy.yaml``'s ``version`` over the pack's (always "0.0.1"
       from the Python SDK), also in every diagnostic.
    4. ``Configure`` with the reconciled config (``pkg/resource/analyzer/config.go``:
       ``ReconcilePolicyPackConfig``; ``pkg/engine/plugins.go``: ``installAndLoadPolicyPlugins``):
       every policy's level and schema defaults, then the pack's ``initialConfig``, then the
       user's ``--policy-pack-config``; ``"all"`` sets every level; the result is validated per
       policy against ``{"type": "object", "properties": ..., "required": ...}``.
    5. Per resource (``pkg/resource/deploy/step_generator.go``): a ``Remediate`` pass over all
       analyzers, *then* an ``Analyze`` pass on the possibly remediated inputs. Properties are
       marshalled with unknowns and secrets kept, and ``__``-prefixed keys dropped for
       ``Analyze`` (not for ``Remediate``). Each diagnostic is re-attributed to the resource's
       URN; ``remediate`` is reported as ``mandatory``; remediation diagnostics are advisory.
    6. ``AnalyzeStack`` once with every resource's outputs, parent, dependencies and property
       dependencies; diagnostics keep their own URN (``""`` = the stack).
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import grpc
import yaml
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from costline.engine.config import (
    apply_config,
    config_problems,
    normalize_user_config,
    policy_properties,
)
from costline.engine.errors import (
    ConfigProblem,
    HarnessConfigError,
    HarnessError,
    HarnessRpcError,
    HarnessStartupError,
)
from costline.engine.protobuf import from_struct, to_struct
from costline.engine.resources import EngineResource, with_default_providers
from costline.engine.results import (
    LEVEL_TO_PROTO,
    POLICY_TYPES,
    PROTO_TO_LEVEL,
    SEVERITIES,
    AnalyzerInfo,
    NotApplicable,
    PolicyInfo,
    RemediateResult,
    Remediation,
    RunResult,
    Violation,
)

#: Passed where the engine passes its own gRPC address; the Python SDK never dials it.
UNUSED_ENGINE_ADDRESS = "127.0.0.1:0"

#: The engine's gRPC message size limit (``rpcutil.GrpcChannelOptions``), as the SDK's server.
_MAX_MESSAGE_BYTES = 400 * 1024 * 1024
_CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", _MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", _MAX_MESSAGE_BYTES),
]
_STDERR_LINES_KEPT = 10_000


# --------------------------------------------------------------------------------------------
# The process


class PolicyPackProcess:
    """A Python policy pack started exactly as the engine starts it, driven over gRPC.

    Use as a context manager (or :meth:`start`/:meth:`close`); the process is always killed
    on exit. Every RPC has a deadline of :attr:`rpc_timeout_s` seconds (settable).

    ``config`` is the stack config (``ConfigureStack.config``, and ``PULUMI_CONFIG`` with
    ``legacy_env``): keys without a namespace get ``<project>:``, non-string values are
    JSON-encoded (the engine passes every value as a string); ``secret_keys`` names the keys set
    with ``--secret`` (``ConfigureStack.configSecretKeys``), namespaced the same way. ``env``
    entries override the inherited environment; ``None`` removes a variable. ``python``, when
    given, is the interpreter to run; by default
    the harness picks it as the shim does: the ``virtualenv`` runtime option's
    ``<venv>/bin/python`` (relative to the pack folder), else this interpreter in place of the
    shim's ``python3``. ``engine_address`` is passed as the engine passes its own.
    """

    def __init__(
        self,
        pack_dir: Path | str,
        *,
        project: str = "costline-reference",
        stack: str = "dev",
        organization: str = "organization",
        dry_run: bool = True,
        config: Mapping[str, Any] | None = None,
        secret_keys: Sequence[str] = (),
        legacy_env: bool = False,
        stack_tags: Mapping[str, str] | None = None,
        env: Mapping[str, str | None] | None = None,
        python: str | None = None,
        startup_timeout_s: float = 30.0,
        rpc_timeout_s: float = 60.0,
        engine_address: str = UNUSED_ENGINE_ADDRESS,
    ) -> None:
        self.pack_dir = Path(pack_dir).resolve()
        self.project = project
        self.stack = stack
        self.organization = organization
        self.dry_run = dry_run
        self.config = {
            (k if ":" in k else f"{project}:{k}"): (v if isinstance(v, str) else json.dumps(v))
            for k, v in (config or {}).items()
        }
        self.secret_keys = [k if ":" in k else f"{project}:{k}" for k in secret_keys]
        self.legacy_env = legacy_env
        self.stack_tags = dict(stack_tags or {})
        self.extra_env = dict(env or {})
        self.python = python
        self.startup_timeout_s = startup_timeout_s
        self.rpc_timeout_s = rpc_timeout_s
        self.engine_address = engine_address

        self.manifest = self._load_manifest()
        self.process: subprocess.Popen[bytes] | None = None
        self.port: int | None = None
        self.startup_s: float | None = None  # spawn -> gRPC channel ready
        self._channel: grpc.Channel | None = None
        self._stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self._stderr: deque[str] = deque(maxlen=_STDERR_LINES_KEPT)
        self._stdout: deque[str] = deque(maxlen=_STDERR_LINES_KEPT)
        self._port_line: queue.Queue[str | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._info: AnalyzerInfo | None = None

    # -- launch ------------------------------------------------------------------------------

    def _load_manifest(self) -> dict[str, Any]:
        path = self.pack_dir / "PulumiPolicy.yaml"
        try:
            manifest = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as e:
            raise HarnessStartupError(f"cannot read {path}: {e}") from e
        if not isinstance(manifest, dict):
            raise HarnessStartupError(f"{path}: not a YAML mapping")
        runtime = manifest.get("runtime")
        name = runtime.get("name") if isinstance(runtime, Mapping) else runtime
        if name != "python":
            raise HarnessStartupError(
                f"{path}: runtime is {name!r}; this harness runs python packs"
            )
        return manifest

    @property
    def command(self) -> list[str]:
        """What the shim runs. The engine passes the shim one ``-<key>=<value>`` argument per
        runtime option; the shim reads only ``-virtualenv`` (to choose the interpreter) and
        passes pulumi.policy just the engine address and the pack folder."""
        return [self.interpreter, "-u", "-m", "pulumi.policy", self.engine_address, "."]

    @property
    def interpreter(self) -> str:
        if self.python is not None:
            return self.python
        runtime = self.manifest.get("runtime")
        options = runtime.get("options") if isinstance(runtime, Mapping) else None
        virtualenv = str((options or {}).get("virtualenv") or "").rstrip("/")
        if not virtualenv:
            return sys.executable
        python = self.pack_dir / virtualenv / "bin" / "python"  # an absolute path stays absolute
        if not python.is_file():
            raise HarnessStartupError(
                f'"{self.pack_dir / virtualenv}" doesn\'t appear to be a virtual environment'
            )
        return str(python)

    @property
    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.legacy_env:
            env["PULUMI_CONFIG"] = json.dumps(self.config)
            for key, setting in (
                ("PULUMI_ORGANIZATION", self.organization),
                ("PULUMI_PROJECT", self.project),
                ("PULUMI_STACK", self.stack),
                ("PULUMI_DRY_RUN", "true" if self.dry_run else "false"),
            ):
                if setting:
                    env[key] = setting
        for key, value in self.extra_env.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    def __enter__(self) -> PolicyPackProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Spawn the pack, read its port, connect and wait for the channel to be ready."""
        if self.process is not None:
            raise HarnessError("already started")
        t0 = time.perf_counter()
        deadline = t0 + self.startup_timeout_s
        try:
            self.process = subprocess.Popen(
                self.command,
                cwd=self.pack_dir,
                env=self.environment,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        except OSError as e:
            raise HarnessStartupError(f"cannot run {self.command[0]}: {e}") from e
        try:
            self._spawn_reader(self.process.stderr, self._stderr, port_line=False)
            self._spawn_reader(self.process.stdout, self._stdout, port_line=True)
            try:
                line = self._port_line.get(timeout=max(0.0, deadline - time.perf_counter()))
            except queue.Empty:
                raise HarnessStartupError(
                    self._startup_message(f"printed no port within {self.startup_timeout_s:g} s")
                ) from None
            if line is None:
                self.process.wait(timeout=5)
                self._join_readers(timeout=2)
                raise HarnessStartupError(
                    self._startup_message(
                        f"exited with code {self.process.returncode} before printing a port"
                    )
                )
            if not line.isdigit():
                raise HarnessStartupError(
                    self._startup_message(f"wrote a non-numeric port to stdout ({line!r})")
                )
            self.port = int(line)
            self._channel = grpc.insecure_channel(
                f"127.0.0.1:{self.port}", options=_CHANNEL_OPTIONS
            )
            ready = grpc.channel_ready_future(self._channel)
            while True:
                try:
                    ready.result(timeout=min(0.1, max(0.0, deadline - time.perf_counter())))
                    break
                except grpc.FutureTimeoutError:
                    if self.process.poll() is not None:
                        ready.cancel()
                        raise HarnessStartupError(
                            self._startup_message(
                                f"exited with code {self.process.returncode} after printing "
                                f"port {self.port}"
                            )
                        ) from None
                    if time.perf_counter() >= deadline:
                        ready.cancel()
                        raise HarnessStartupError(
                            self._startup_message(f"port {self.port} did not accept gRPC in time")
                        ) from None
            self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
            self.startup_s = time.perf_counter() - t0
        except BaseException:
            self.close()
            raise

    def _startup_message(self, what: str) -> str:
        message = f"policy pack {self.pack_dir} {what}"
        stderr = self.stderr_text.strip()
        if stderr:
            message += f"\n--- policy pack stderr ---\n{stderr}"
        return message

    def _spawn_reader(self, stream: Any, sink: deque[str], *, port_line: bool) -> None:
        def drain() -> None:
            first = port_line
            for raw in iter(stream.readline, b""):
                text = raw.decode("utf-8", "replace").rstrip("\n")
                if first:
                    self._port_line.put(text)
                    first = False
                else:
                    sink.append(text)
            if first:
                self._port_line.put(None)  # EOF before a port line

        thread = threading.Thread(target=drain, name=f"policy-pack-{stream.fileno()}", daemon=True)
        thread.start()
        self._threads.append(thread)

    def _join_readers(self, timeout: float) -> None:
        end = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(timeout=max(0.0, end - time.monotonic()))

    def close(self) -> None:
        """Close the channel and kill the process (idempotent)."""
        if self._channel is not None:
            self._channel.close()
            self._channel = None
            self._stub = None
        proc = self.process
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._join_readers(timeout=5)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None and not any(t.is_alive() for t in self._threads):
                stream.close()

    @property
    def returncode(self) -> int | None:
        return None if self.process is None else self.process.poll()

    @property
    def stderr_text(self) -> str:
        """Everything the pack wrote to stderr so far (``pulumi.log`` output lands here)."""
        return "\n".join(list(self._stderr))

    @property
    def stdout_text(self) -> str:
        """What the pack wrote to stdout after the port line."""
        return "\n".join(list(self._stdout))

    # -- RPCs --------------------------------------------------------------------------------

    @property
    def stub(self) -> analyzer_pb2_grpc.AnalyzerStub:
        if self._stub is None:
            raise HarnessError("policy pack is not running (use it as a context manager)")
        return self._stub

    def _call(self, method: str, request: Any) -> Any:
        try:
            return getattr(self.stub, method)(request, timeout=self.rpc_timeout_s)
        except grpc.RpcError as e:
            code = e.code()
            if code != grpc.StatusCode.UNIMPLEMENTED:
                time.sleep(0.1)  # let the drain thread catch what the pack printed last
            tail = "\n".join(list(self._stderr)[-40:])
            raise HarnessRpcError(method, code, e.details() or "", tail) from None

    def handshake(self) -> analyzer_pb2.AnalyzerHandshakeResponse | None:
        """``Handshake``; ``None`` when the pack answers UNIMPLEMENTED (the Python SDK does)."""
        request = analyzer_pb2.AnalyzerHandshakeRequest(
            engine_address=self.engine_address,
            root_directory=str(self.pack_dir),
            program_directory=str(self.pack_dir),
        )
        try:
            return self._call("Handshake", request)
        except HarnessRpcError as e:
            if e.code == grpc.StatusCode.UNIMPLEMENTED:
                return None
            raise

    def configure_stack(self, *, tags: Mapping[str, str] | None = None) -> None:
        """``ConfigureStack`` with the identity and stack config the process was started with."""
        self._call(
            "ConfigureStack",
            analyzer_pb2.AnalyzerStackConfigureRequest(
                stack=self.stack,
                project=self.project,
                organization=self.organization,
                dry_run=self.dry_run,
                config=self.config,
                config_secret_keys=self.secret_keys,
                tags=dict(self.stack_tags if tags is None else tags),
            ),
        )

    def get_analyzer_info(self) -> AnalyzerInfo:
        """``GetAnalyzerInfo``, converted as the engine converts it (and cached, as it does)."""
        resp = self._call("GetAnalyzerInfo", empty_pb2.Empty())
        policies = []
        for p in resp.policies:
            schema: dict[str, Any] = {"properties": {}, "required": []}
            if p.HasField("configSchema"):
                schema = {
                    "properties": from_struct(p.configSchema.properties),
                    "required": list(p.configSchema.required),
                }
            policies.append(
                PolicyInfo(
                    name=p.name,
                    description=p.description,
                    enforcement_level=PROTO_TO_LEVEL[p.enforcementLevel],
                    config_schema=schema,
                    policy_type=POLICY_TYPES.get(p.policy_type, "unknown"),
                    severity=SEVERITIES.get(p.severity, ""),
                    display_name=p.displayName,
                )
            )
        policies.sort(key=lambda p: p.name)
        initial = {
            name: {
                "enforcementLevel": PROTO_TO_LEVEL[cfg.enforcementLevel],
                **from_struct(cfg.properties),
            }
            for name, cfg in resp.initialConfig.items()
        }
        version = str(self.manifest.get("version") or "") or resp.version
        self._info = AnalyzerInfo(
            name=resp.name,
            version=version,
            policies=policies,
            initial_config=initial,
            supports_config=resp.supportsConfig,
            display_name=resp.displayName,
            description=resp.description or str(self.manifest.get("description") or ""),
        )
        return self._info

    @property
    def info(self) -> AnalyzerInfo:
        return self._info if self._info is not None else self.get_analyzer_info()

    def reconcile_config(self, user_config: Mapping[str, Any] | None = None) -> dict[str, dict]:
        """The config the engine would send, without sending it (raises HarnessConfigError)."""
        info = self.info
        result: dict[str, tuple[str, dict | None]] = {}
        for p in info.policies:
            defaults = {
                k: v["default"]
                for k, v in p.config_schema.get("properties", {}).items()
                if isinstance(v, Mapping) and "default" in v
            }
            result[p.name] = (p.enforcement_level, defaults or None)
        initial = {
            name: (cfg["enforcementLevel"], policy_properties(cfg))
            for name, cfg in info.initial_config.items()
        }
        apply_config(result, initial)
        apply_config(result, normalize_user_config(user_config))
        problems = [
            problem
            for p in info.policies
            for problem in config_problems(p, (result.get(p.name, ("", None))[1] or {}))
        ]
        # A name that is no policy of the pack keeps an empty enforcement level, which the
        # engine cannot marshal (analyzer_plugin.go marshalEnforcementLevel: contract.Failf).
        known = {p.name for p in info.policies}
        problems += [
            ConfigProblem(
                name,
                "",
                f"no policy of this name in the pack (policies: {', '.join(sorted(known))})",
            )
            for name, (level, _) in result.items()
            if name not in known and not level
        ]
        if problems:
            raise HarnessConfigError(problems)
        return {
            name: {"enforcementLevel": level, **(props or {})}
            for name, (level, props) in result.items()
        }

    def configure(self, user_config: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
        """Reconcile ``user_config`` like the engine, validate it, send ``Configure``.

        ``user_config`` is the ``--policy-pack-config`` JSON: ``{"all": "mandatory"}``,
        ``{"policy": "disabled"}``, ``{"policy": {"enforcementLevel": ..., "prop": ...}}``.
        Returns the merged config sent (name -> ``{"enforcementLevel": ..., **properties}``).
        """
        merged = self.reconcile_config(user_config)
        if not self.info.supports_config or not merged:
            return merged
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, cfg in merged.items():
            request.policyConfig[name].CopyFrom(
                analyzer_pb2.PolicyConfig(
                    enforcementLevel=LEVEL_TO_PROTO[cfg["enforcementLevel"]],
                    properties=to_struct(policy_properties(cfg)),
                )
            )
        self._call("Configure", request)
        return merged

    def _violation(self, d: analyzer_pb2.AnalyzeDiagnostic, urn: str) -> Violation:
        level = PROTO_TO_LEVEL[d.enforcementLevel]
        severity = SEVERITIES.get(d.severity, "")
        if not severity and self._info is not None:
            severity = next((p.severity for p in self._info.policies if p.name == d.policyName), "")
        return Violation(
            policy_name=d.policyName,
            policy_pack_name=d.policyPackName,
            message=d.message,
            urn=urn,
            description=d.description,
            enforcement_level="mandatory" if level == "remediate" else level,
            severity=severity,
            policy_pack_version=str(self.manifest.get("version") or "") or d.policyPackVersion,
        )

    def analyze(self, resource: EngineResource) -> list[Violation]:
        """``Analyze`` one resource; diagnostics attributed to its URN like the engine does."""
        return self._analyze(resource)[0]

    def _analyze(self, resource: EngineResource) -> tuple[list[Violation], list[NotApplicable]]:
        resp = self._call("Analyze", resource.analyze_request())
        return (
            [self._violation(d, resource.urn) for d in resp.diagnostics],
            [NotApplicable(n.policy_name, n.reason, resource.urn) for n in resp.not_applicable],
        )

    def remediate(self, resource: EngineResource) -> RemediateResult:
        """``Remediate`` one resource (engine-side handling of the response included)."""
        resp = self._call("Remediate", resource.analyze_request(for_remediate=True))
        props = resource.properties
        remediations, violations = [], []
        for r in resp.remediations:
            new_props = from_struct(r.properties) if r.HasField("properties") else None
            remediations.append(
                Remediation(r.policyName, r.policyPackName, r.description, new_props, r.diagnostic)
            )
            if r.diagnostic:
                violations.append(
                    Violation(
                        policy_name=r.policyName,
                        policy_pack_name=r.policyPackName,
                        message=r.diagnostic,
                        urn=resource.urn,
                        description=r.description,
                        enforcement_level="advisory",
                        severity="",
                        policy_pack_version=str(self.manifest.get("version") or "")
                        or r.policyPackVersion,
                    )
                )
            elif new_props is not None:
                props = new_props
        return RemediateResult(
            properties=props,
            remediations=remediations,
            violations=violations,
            not_applicable=[
                NotApplicable(n.policy_name, n.reason, resource.urn) for n in resp.not_applicable
            ],
        )

    def analyze_stack(self, resources: Sequence[EngineResource]) -> list[Violation]:
        """``AnalyzeStack`` once; diagnostics keep their own URN (``""`` = the stack)."""
        return self._analyze_stack(resources)[0]

    def _analyze_stack(
        self, resources: Sequence[EngineResource]
    ) -> tuple[list[Violation], list[NotApplicable]]:
        request = analyzer_pb2.AnalyzeStackRequest(
            resources=[r.stack_resource() for r in resources]
        )
        resp = self._call("AnalyzeStack", request)
        return (
            [self._violation(d, d.urn) for d in resp.diagnostics],
            [NotApplicable(n.policy_name, n.reason) for n in resp.not_applicable],
        )

    def run(
        self, resources: Sequence[EngineResource], user_config: Mapping[str, Any] | None = None
    ) -> RunResult:
        """The engine's whole sequence for one preview/update; see the module docstring."""
        resources = with_default_providers(resources)
        self.handshake()
        self.configure_stack()
        info = self.get_analyzer_info()
        merged = self.configure(user_config)
        resource_violations: dict[str, list[Violation]] = {}
        remediations: dict[str, list[Remediation]] = {}
        not_applicable: list[NotApplicable] = []
        analyzed: list[EngineResource] = []
        for original in resources:
            rem = self.remediate(original)
            resource = (
                original
                if rem.properties is original.properties
                else replace(original, properties=rem.properties)
            )
            violations, na = self._analyze(resource)
            resource_violations.setdefault(resource.urn, []).extend(rem.violations + violations)
            if rem.remediations:
                remediations.setdefault(resource.urn, []).extend(rem.remediations)
            not_applicable.extend(rem.not_applicable + na)
            analyzed.append(resource)
        stack_violations, stack_na = self._analyze_stack(analyzed)
        return RunResult(
            info=info,
            config=merged,
            resource_violations=resource_violations,
            stack_violations=stack_violations,
            not_applicable=not_applicable + stack_na,
            remediations=remediations,
            analyzed=analyzed,
        )
