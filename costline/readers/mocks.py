"""Run a Pulumi Python program under Pulumi's mocks and read the resources it declares.

No Pulumi CLI and no cloud account are needed: the program runs in a subprocess
(:mod:`costline.readers._mock_runner`) against a mock resource monitor, exactly as
``pulumi preview`` would run it against the engine — same config, same working directory,
dry run — and the resources it registers come back as :class:`~costline.core.model.Resource`
objects with their inputs (camelCase wire names), parent, dependencies and property
dependencies. The subprocess keeps the program (and the ``pulumi`` SDK, ~1 s to import with a
provider SDK) out of the caller. When the caller runs many programs (``--config``), it opens a
mock server (:mod:`costline.readers.mock_server`): each program then runs in a forked child of
a process that imported the SDK once, with the same isolation, timeout and result.

Project and config are read as the Pulumi CLI reads them:

* ``Pulumi.yaml`` — found in ``program_dir`` or the nearest parent; ``name``, ``runtime``
  (must be python), ``main`` (the program, relative to ``Pulumi.yaml``), ``stackConfigDir``, and
  project-level ``config`` defaults (``key: value`` or ``key: {default: value}``);
* ``Pulumi.<stack>.yaml`` — ``config:`` with namespaced keys (``aws:region``,
  ``<project>:key``; a bare ``key`` means ``<project>:key``). Scalars are passed as strings,
  structured values as JSON, as the engine does. ``secure:`` values cannot be decrypted here:
  they are passed as the text ``[secret]`` and marked secret, so whatever the program derives
  from them is a secret in the captured inputs, read back (like a preview's ``"[secret]"``) as
  :data:`~costline.core.values.UNKNOWN` with its path in ``secret_paths``;
* ``config`` overrides from the caller win over both.

The configuration reaches the program through ``PULUMI_CONFIG`` and
``PULUMI_CONFIG_SECRET_KEYS``, the environment variables the language host uses; the runner
installs them with ``pulumi.runtime.set_all_config`` (reading ``PULUMI_CONFIG`` lazily alone also
works under mocks, but ``set_all_config`` is what ``pulumi-language-python-exec`` does).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from costline.core.limits import LimitError, load_yaml, read_input, strict_safe_loader
from costline.core.model import Resource
from costline.core.values import UNKNOWN_SENTINELS
from costline.readers.errors import InputFileError, ProgramError
from costline.readers.mock_server import run_on_server, runner_env
from costline.readers.preview_values import TAGGABLE_TYPES, with_tags_all
from costline.readers.state import resource_from_state

RUNNER = Path(__file__).resolve().with_name("_mock_runner.py")
SECRET_PLACEHOLDER = "[secret]"
DEFAULT_TIMEOUT_S = 300.0
_STDERR_TAIL_LINES = 25
_PROJECT_FILES = ("Pulumi.yaml", "Pulumi.yml")
_SCHEMA_KEYS = frozenset({"type", "default", "description", "secret", "items", "value"})


def bundled_project_dir() -> Path:
    """The reference stack shipped with costline: ``costline/_data/`` in an installed package
    (the wheel copies ``Pulumi.yaml``, ``Pulumi.dev.yaml`` and ``program/`` there), else the
    repository root of a source checkout."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "_data", package.parent):
        if (candidate / "Pulumi.yaml").is_file():
            return candidate
    raise ProgramError(
        f"the bundled reference stack is missing: no Pulumi.yaml in {package / '_data'} "
        f"or {package.parent}; reinstall costline"
    )


@dataclass(frozen=True)
class Project:
    """A Pulumi project as the CLI sees it."""

    root: Path  # the directory holding Pulumi.yaml
    name: str
    program: Path  # the `main` directory (with __main__.py) or .py file
    stack_config_dir: Path
    config_defaults: Mapping[str, Any] = field(default_factory=dict)  # namespaced key → YAML value
    virtualenv: Path | None = None  # runtime.options.virtualenv (uv: .venv by default)

    @property
    def python(self) -> str | None:
        """The project's own interpreter, as the Pulumi CLI would pick it, if it exists."""
        if self.virtualenv is None:
            return None
        for candidate in (
            self.virtualenv / "bin" / "python",
            self.virtualenv / "Scripts" / "python.exe",
        ):
            if candidate.is_file():
                return str(candidate)
        return None

    @property
    def program_dir(self) -> Path:
        return self.program if self.program.is_dir() else self.program.parent

    def stack_file(self, stack: str) -> Path:
        for suffix in (".yaml", ".yml"):
            path = self.stack_config_dir / f"Pulumi.{stack}{suffix}"
            if path.is_file():
                return path
        return self.stack_config_dir / f"Pulumi.{stack}.yaml"

    def stacks(self) -> list[str]:
        names = {
            p.name[len("Pulumi.") :].rsplit(".", 1)[0]
            for p in self.stack_config_dir.glob("Pulumi.*.y*ml")
        }
        return sorted(names)


@dataclass(frozen=True)
class MockRun:
    """Everything one mock run produced."""

    resources: tuple[Resource, ...]
    outputs: Mapping[str, Any]  # the stack's exports (engine-encoded values)
    project: str
    stack: str
    program_dir: Path
    config: Mapping[str, str]  # what the program was given (namespaced keys)
    python: str  # the interpreter that ran it
    secret_keys: frozenset[str]
    diagnostics: tuple[Mapping[str, str], ...]  # pulumi.log warnings/errors
    stderr: str
    seconds: float
    states: tuple[Mapping[str, Any], ...] = ()
    """The resources as ``apitype.ResourceV3`` objects (``inputs``, ``outputs``, ``provider``
    as ``<urn>::<id>``...), in the order the engine would register them."""
    first_preview: bool = False
    """Run as on a first preview: every output the provider computes was unknown to the
    program (see :func:`preview_states`)."""


def run_program(
    program_dir: Path | str | None = None,
    *,
    stack: str = "dev",
    config: Mapping[str, Any] | None = None,
    project: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    python: str | None = None,
) -> list[Resource]:
    """Run the Pulumi Python program in ``program_dir`` under mocks; return its resources.

    ``program_dir=None`` runs the bundled reference stack. ``program_dir`` may be the project
    directory (holding ``Pulumi.yaml``) or a directory below it (e.g. the ``main`` directory).
    ``stack`` selects ``Pulumi.<stack>.yaml``; ``config`` overrides config values (bare keys are
    put in the project's namespace); ``project`` overrides the project name (which also
    namespaces bare keys). ``python`` is the interpreter to run the program with; by default
    the project's virtualenv (``runtime.options.virtualenv`` in ``Pulumi.yaml``) when it exists,
    as the Pulumi CLI picks it, else (and always for the bundled stack) this interpreter. It needs
    the program's dependencies
    (``pulumi``, ``pulumi_aws``...), not costline: the runner imports nothing from costline.

    Resources come in dependency order (stack, providers, then the rest), including the
    ``pulumi:pulumi:Stack`` resource and the default ``pulumi:providers:aws`` provider, as the
    engine would register them. Raises :class:`ProgramError` when the program cannot run and
    :class:`InputFileError` when ``Pulumi.yaml`` or the stack file cannot be read.
    """
    return list(
        mock_run(
            program_dir, stack=stack, config=config, project=project, timeout=timeout, python=python
        ).resources
    )


def mock_run(
    program_dir: Path | str | None = None,
    *,
    stack: str = "dev",
    config: Mapping[str, Any] | None = None,
    project: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    python: str | None = None,
    first_preview: bool = False,
) -> MockRun:
    """:func:`run_program` with everything else the run produced (exports, config, diagnostics)."""
    started = time.perf_counter()
    proj = load_project(Path(program_dir) if program_dir is not None else bundled_project_dir())
    name = project or proj.name
    values, secret_keys = stack_config(proj, stack, project_name=name)
    for key, value in (config or {}).items():
        qualified = _qualify(str(key), name)
        values[qualified] = _config_string(value)
        secret_keys.discard(qualified)

    env = runner_env()
    env["PULUMI_CONFIG"] = json.dumps(values)
    env["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(sorted(secret_keys))
    interpreter = python or _project_python(proj, program_dir)
    argv = [
        str(proj.program),
        "--project",
        name,
        "--stack",
        stack,
        "--root-directory",
        str(proj.root),
        "--taggable",
        json.dumps(sorted(TAGGABLE_TYPES)),
        *(["--first-preview"] if first_preview else []),
    ]
    completed = _run_runner(interpreter, argv, proj, env, timeout)
    tail = _tail(completed.stderr)
    payload = _payload(completed.stdout)
    if payload is None:
        last = tail.strip().splitlines()[-1] if tail.strip() else "no output"
        raise ProgramError(
            f"the mock run of {_where(proj)} crashed (exit code {completed.returncode}): {last}",
            stderr_tail=tail,
            program_dir=proj.program,
        )
    if not payload.get("ok"):
        raise ProgramError(
            _error_line(proj, payload.get("error") or {}, payload.get("diagnostics") or []),
            stderr_tail=tail,
            program_dir=proj.program,
        )

    where = f"<mock run of {proj.program}>"
    # blinded_secrets: "[secret]" is the stand-in for `secure:` config costline cannot decrypt, so
    # it reads as a secret whose value is unknown, exactly as a preview's "[secret]" does.
    resources = tuple(
        resource_from_state(state, where, f"resources[{i}]", blinded_secrets=True)
        for i, state in enumerate(payload.get("resources") or [])
    )
    return MockRun(
        resources=resources,
        outputs=payload.get("outputs") or {},
        project=name,
        stack=stack,
        program_dir=proj.program,
        config=values,
        python=interpreter,
        secret_keys=frozenset(secret_keys),
        diagnostics=tuple(payload.get("diagnostics") or ()),
        stderr=completed.stderr,
        seconds=time.perf_counter() - started,
        states=tuple(payload.get("resources") or ()),
        first_preview=first_preview,
    )


_servers: dict[str, str] = {}


def use_servers(addresses: Mapping[str, str]) -> None:
    """Run programs in this process on the mock servers at ``addresses`` (``{interpreter:
    address}``, from :func:`costline.readers.mock_server.mock_servers`; a worker's initializer);
    ``{}``: each in a subprocess of its own again."""
    _servers.clear()
    _servers.update(addresses)


def program_python(program_dir: Path | str | None) -> str:
    """The interpreter :func:`mock_run` runs the program in ``program_dir`` with."""
    if program_dir is None:
        return sys.executable
    return _project_python(load_project(Path(program_dir)), program_dir)


def _project_python(project: Project, program_dir: Path | str | None) -> str:
    # The bundled stack runs with costline's own interpreter (its `pulumi` extra); a user's
    # project with its own virtualenv, as the Pulumi CLI would run it.
    return (project.python if program_dir is not None else None) or sys.executable


@dataclass(frozen=True)
class _Completed:
    returncode: int
    stdout: str
    stderr: str


def _run_runner(
    interpreter: str, argv: list[str], proj: Project, env: dict[str, str], timeout: float
) -> _Completed:
    """The runner on ``argv``: in a child of this interpreter's mock server when the caller
    opened one (:mod:`costline.readers.mock_server`), else in a subprocess of its own."""
    address = _servers.get(interpreter)
    served = None
    if address is not None:
        served = run_on_server(address, argv, proj.program_dir, env, timeout)
    if served is not None:
        if served.timed_out:
            raise _timeout(proj, timeout, served.stderr)
        return _Completed(served.returncode, served.stdout, served.stderr)
    try:
        completed = subprocess.run(
            [interpreter, str(RUNNER), *argv],
            cwd=proj.program_dir,
            env=env,
            capture_output=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise _timeout(
            proj,
            timeout,
            exc.stderr.decode(errors="replace")
            if isinstance(exc.stderr, bytes)
            else (exc.stderr or ""),
        ) from None
    except OSError as exc:
        raise ProgramError(
            f"cannot start {interpreter}: {exc.strerror or exc}", program_dir=proj.program
        ) from None
    return _Completed(completed.returncode, completed.stdout, completed.stderr)


def _timeout(proj: Project, timeout: float, stderr: str) -> ProgramError:
    return ProgramError(
        f"the Pulumi program in {_where(proj)} did not finish within {timeout:g} s under mocks",
        stderr_tail=_tail(stderr),
        program_dir=proj.program,
    )


# --- what the engine would send a policy pack ----------------------------------------------------
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
_UNKNOWN_ARRAY = "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2"
_UNKNOWN_NUMBER = "3eeb2bf0-c639-47a8-9e75-3b44932eb421"
_OPTIONAL_COMPUTED: Mapping[str, Mapping[str, Any]] = {
    "aws:lambda/function:Function": {
        "architectures": _UNKNOWN_ARRAY,
        "ephemeralStorage": {"size": _UNKNOWN_NUMBER},
    },
}
"""Optional+Computed fields pulumi-aws leaves unknown in a first preview's outputs when the
program does not set them (the real engine sends ``ephemeralStorage: {"size": <unknown>}``)."""


def preview_states(run: MockRun) -> list[dict[str, Any]]:
    """The run's resources as ``ResourceV3`` objects holding what the engine sends a policy
    pack in ``pulumi preview``: ``inputs`` after the provider's Check (pulumi-aws adds
    ``tagsAll``, its default tags under the resource's own) for ``Analyze``, and ``outputs`` for
    ``AnalyzeStack``.

    After a :func:`mock_run` with ``first_preview=True`` the outputs are those of a create on a
    first preview: the checked inputs (auto-names included: pulumi-aws picks them in Check) with
    every computed field unknown (``id``, ``arn``, ``invokeArn``..., and the Optional+Computed
    fields left unset), or an empty map, with the
    inputs left unchecked, when the resource's provider has an unknown input (the engine then
    neither checks nor previews it: ``provider_plugin.go``). Otherwise (a stack that already
    exists, every output known) they are the mocks' outputs."""
    states = [dict(state) for state in run.states]
    providers = {
        f"{s['urn']}::{s.get('id', '')}": s
        for s in states
        if s["type"].startswith("pulumi:providers:")
    }
    result = []
    for state in states:
        inputs = dict(state.get("inputs") or {})
        provider = providers.get(state.get("provider") or "")
        provider_inputs = None if provider is None else provider.get("inputs") or {}
        config_known = provider_inputs is None or not _has_unknown(provider_inputs)
        if config_known:
            inputs = with_tags_all(state["type"], inputs, provider_inputs)
        outputs = state.get("outputs") or {}
        if run.first_preview and "computed" in state:
            if not state.get("custom", True):
                outputs = inputs  # a component: no provider, its inputs are all there is
            elif not config_known:
                outputs = {}
            else:
                outputs = {**dict.fromkeys(state["computed"], _UNKNOWN), **inputs}
                for key, unknown in _OPTIONAL_COMPUTED.get(state["type"], {}).items():
                    outputs.setdefault(key, unknown)
        result.append({**state, "inputs": inputs, "outputs": outputs})
    return result


def _has_unknown(value: Any) -> bool:
    if isinstance(value, str):
        return value in UNKNOWN_SENTINELS
    if isinstance(value, Mapping):
        return any(_has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_unknown(v) for v in value)
    return False


# --- project and stack files ---------------------------------------------------------------------
def load_project(start: Path) -> Project:
    """The project holding ``start``: ``start/Pulumi.yaml`` or the nearest parent's."""
    start = start.resolve()
    if not start.exists():
        raise ProgramError(f"{start}: no such directory")
    if start.is_file():
        start = start.parent
    for directory in (start, *start.parents):
        for file_name in _PROJECT_FILES:
            if (directory / file_name).is_file():
                return _parse_project(directory / file_name)
    raise ProgramError(
        f"{start}: not a Pulumi project (no Pulumi.yaml here or in a parent directory)"
    )


def _parse_project(path: Path) -> Project:
    data = _read_yaml(path)
    if not isinstance(data, dict):
        raise InputFileError(path, "expected a mapping with name, runtime and (optionally) main")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise InputFileError(path, "name: expected the project name")
    runtime = data.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if runtime_name != "python":
        raise ProgramError(
            f"{path}: runtime is {runtime_name!r}; costline runs Python programs only. For other "
            "languages, estimate `pulumi preview --json` output instead (--from-preview)"
        )
    root = path.parent
    main = data.get("main", ".")
    if not isinstance(main, str):
        raise InputFileError(path, f"main: expected a path relative to {path.name}")
    program = (root / main).resolve()
    if program.is_dir() and not (program / "__main__.py").is_file():
        raise ProgramError(
            f"{program}: no __main__.py (Pulumi.yaml `main` must name the program's directory or "
            "file)"
        )
    if not program.exists():
        raise ProgramError(f"{path}: main {main!r} does not exist")
    options = runtime.get("options") if isinstance(runtime, dict) else None
    options = options if isinstance(options, dict) else {}
    venv = options.get("virtualenv")
    if not isinstance(venv, str) and options.get("toolchain") == "uv":
        venv = ".venv"
    config_dir = data.get("stackConfigDir", ".")
    if not isinstance(config_dir, str):
        raise InputFileError(path, "stackConfigDir: expected a path")
    defaults: dict[str, Any] = {}
    raw_config = data.get("config") or {}
    if not isinstance(raw_config, dict):
        raise InputFileError(path, "config: expected a mapping of config keys")
    for key, spec in raw_config.items():
        if isinstance(spec, dict) and _SCHEMA_KEYS & spec.keys():
            if "default" in spec:
                defaults[_qualify(str(key), name)] = spec["default"]
            elif "value" in spec:
                defaults[_qualify(str(key), name)] = spec["value"]
        else:
            defaults[_qualify(str(key), name)] = spec
    return Project(
        root=root,
        name=name,
        program=program,
        stack_config_dir=(root / config_dir).resolve(),
        config_defaults=defaults,
        virtualenv=(root / venv) if isinstance(venv, str) and venv else None,
    )


def stack_config(
    project: Project, stack: str, *, project_name: str | None = None
) -> tuple[dict[str, str], set[str]]:
    """The config the engine would give the program: project defaults, then ``Pulumi.<stack>.yaml``.

    Returns ``(values, secret_keys)``, values as the engine passes them (strings; structured
    values as JSON). A missing stack file is an error when other stacks exist (a typo in
    ``--stack`` must not silently drop the config); with no stack files at all only the project
    defaults apply.
    """
    name = project_name or project.name
    values: dict[str, str] = {}
    secret_keys: set[str] = set()
    for key, value in project.config_defaults.items():
        values[key if project_name is None else _requalify(key, project.name, name)] = (
            _config_string(value)
        )
    path = project.stack_file(stack)
    if not path.is_file():
        others = project.stacks()
        if others:
            raise ProgramError(
                f"no {path.name} in {path.parent}: stack {stack!r} has no config "
                f"(stacks found: {', '.join(others)}; pick one with --stack)"
            )
        return values, secret_keys
    data = _read_yaml(path) or {}
    if not isinstance(data, dict):
        raise InputFileError(path, "expected a mapping with a config: section")
    raw = data.get("config") or {}
    if not isinstance(raw, dict):
        raise InputFileError(
            path, "config: expected a mapping of namespaced keys (e.g. aws:region: us-east-1)"
        )
    for key, value in raw.items():
        qualified = _qualify(str(key), name)
        has_secret, plain = _strip_secure(value)
        values[qualified] = _config_string(plain)
        if has_secret:
            secret_keys.add(qualified)
    return values, secret_keys


def _read_yaml(path: Path) -> Any:
    try:
        return load_yaml(read_input(path).decode("utf-8"), strict_safe_loader())
    except OSError as exc:
        raise InputFileError(path, f"cannot be read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InputFileError(path, "is not UTF-8 text") from None
    except LimitError as exc:
        raise InputFileError(path, str(exc)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise InputFileError(path, f"is not valid YAML: {problem}{where}") from None


def _qualify(key: str, project: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def _requalify(key: str, old: str, new: str) -> str:
    return f"{new}:{key[len(old) + 1 :]}" if key.startswith(old + ":") else key


def _strip_secure(value: Any) -> tuple[bool, Any]:
    """Replace every ``{secure: ...}`` (which only the Pulumi CLI can decrypt) by ``[secret]``."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return True, SECRET_PLACEHOLDER
        found, out = False, {}
        for key, item in value.items():
            secret, out[key] = _strip_secure(item)
            found = found or secret
        return found, out
    if isinstance(value, list):
        pairs = [_strip_secure(item) for item in value]
        return any(secret for secret, _ in pairs), [item for _, item in pairs]
    return False, value


def _config_string(value: Any) -> str:
    """A config value as the engine hands it to a program: a string (JSON for structures)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str)  # a date or !!binary inside: as text, not a crash
    return str(value)


# --- subprocess results ---------------------------------------------------------------------------
def _payload(stdout: str) -> dict[str, Any] | None:
    for line in reversed(stdout.strip().splitlines()):
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(data, dict) and "ok" in data:
            return data
    return None


def _tail(stderr: str) -> str:
    return "\n".join(stderr.rstrip().splitlines()[-_STDERR_TAIL_LINES:])


def _where(project: Project) -> str:
    """The program's path for messages: relative to the working directory when below it."""
    try:
        shown = str(project.program.relative_to(Path.cwd())) or "."
    except ValueError:
        shown = str(project.program)
    return shown + "/" if project.program.is_dir() and not shown.endswith("/") else shown


def _error_line(
    project: Project, error: Mapping[str, Any], diagnostics: list[Mapping[str, str]]
) -> str:
    kind = str(error.get("type") or "Error")
    message = " ".join(str(error.get("message") or "").split())
    if error.get("setup"):
        return message
    if not message:
        errors = [d.get("message", "") for d in diagnostics if d.get("severity") == "error"]
        message = " ".join(errors[-1].split()) if errors else "failed without a message"
    if len(message) > 400:
        message = message[:400] + "…"
    location = f" ({error['file']}:{error['line']})" if error.get("file") else ""
    prefix = "" if kind in ("RunError", "ConfigMissingError", "SystemExit") else f"{kind}: "
    return (
        f"the Pulumi program in {_where(project)} failed under mocks{location}: {prefix}{message}"
    )
