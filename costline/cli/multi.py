"""Many stacks in one run: ``costline estimate|diff|check --config costline.yml``.

The config file lists a repository's Pulumi projects and stacks, like Infracost's config file::

    version: 1
    projects:
      - path: services/api          # the folder holding Pulumi.yaml, relative to this file
        stack: dev                  # Pulumi.<stack>.yaml gives the program its config
        name: api-dev               # optional; default "<path>:<stack>"
        budget_usd: 150             # optional; check: this stack's mandatory budget
        warn_at_percent: 80         # optional
        usage_file: usage/dev.yml   # optional; an Infracost usage file, relative to this file
        region: eu-west-1           # optional; default: the stack's aws:region
        baseline: baselines/api-dev.json   # optional; diff and check compare with it

Each stack runs in its own process (as many at once as there are CPUs), so one slow program
does not hold up the others, and the programs run under mocks in children of one mock server
(:mod:`costline.readers.mock_server`: the Pulumi SDK and its provider modules are imported once
for all of them, not once per stack); the result is one combined report — a table of the stacks and
their total, then each stack's own report — and the exit code is the worst stack's (a stack
whose input is bad counts as 2, an internal error as 3). Command-line options other than the
stack's own (``--what-if``, ``--prices``, ``--fail-closed``, ...) apply to every stack. A
stack's budget is its entry's ``budget_usd``, else ``--budget``, else ``costline:budget`` in its
stack config.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import functools
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click
import jsonschema
import yaml

from costline.cli.errors import EXIT_BAD_INPUT, EXIT_GATE_FAILED, InputProblem, note
from costline.cli.errors import EXIT_INTERNAL_ERROR as EXIT_INTERNAL
from costline.cli.errors import EXIT_OK as EXIT_PASSED
from costline.cli.options import STACK_NAME, STACK_NAME_TAKES
from costline.core.limits import (
    LimitError,
    check_number_text,
    load_yaml,
    strict_safe_loader,
    yaml_problem,
)
from costline.core.text import one_line
from costline.render.combined import (
    StackResult,
    combined_json,
    combined_markdown,
    plain_heading,
    worst_exit_code,
)
from costline.render.view import ReportView

CONFIG_VERSION = 1
MAX_CONFIG_BYTES = 1_000_000
MAX_STACKS = 500
MAX_BUDGET_USD = Decimal("1e15")

_ONE_LINE = {"not": {"pattern": r"[\x00-\x1f\x7f]"}}
"""Text with no control character: no line break to split a report's line, no escape sequence."""
_PATH = {"type": "string", "minLength": 1, "maxLength": 4096, **_ONE_LINE}

CONFIG_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "required": ["version", "projects"],
    "additionalProperties": False,
    "properties": {
        "version": {"const": CONFIG_VERSION},
        "projects": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_STACKS,
            "items": {
                "type": "object",
                "required": ["path"],
                "additionalProperties": False,
                "properties": {
                    "path": _PATH,
                    "stack": {"type": "string", "pattern": STACK_NAME, **_ONE_LINE},
                    "name": {"type": "string", "minLength": 1, "maxLength": 200},
                    "budget_usd": {
                        "type": "number",
                        "minimum": 0,
                        "maximum": float(MAX_BUDGET_USD),
                    },
                    "warn_at_percent": {"type": "number", "minimum": 0, "maximum": 100},
                    "usage_file": _PATH,
                    "region": {
                        "type": "string",
                        "pattern": r"^[a-z]{2}(-[a-z]+)+-\d$",
                        **_ONE_LINE,
                    },
                    "baseline": _PATH,
                },
            },
        },
    },
}

_TAKES = {
    "path": "a path (one line of text)",
    "usage_file": "a path (one line of text)",
    "baseline": "a path (one line of text)",
    "stack": STACK_NAME_TAKES,
    "name": "a stack's display name (text, at most 200 characters)",
    "budget_usd": f"a non-negative number of USD (at most {MAX_BUDGET_USD:,.0f})",
    "warn_at_percent": "a number from 0 to 100",
    "region": "an AWS region such as eu-west-1",
}
"""What each key of a stack's entry takes, as its error message says it."""


@dataclass(frozen=True)
class StackEntry:
    """One stack of the config file, paths resolved against the file's folder."""

    name: str
    program_dir: Path
    stack: str
    budget_usd: Decimal | None = None
    warn_at_percent: Decimal | None = None
    usage_file: Path | None = None
    region: str | None = None
    baseline: Path | None = None


@dataclass(frozen=True)
class StackOutcome:
    """What one stack's run gave: its report, or the one-line error that stopped it."""

    entry: StackEntry
    exit_code: int
    report: dict[str, Any] | None = None
    error: str | None = None


class _NotFinite:
    """A YAML ``.nan`` or ``.inf``: kept as written, so the error can quote it."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _decimal_float(loader: Any, node: Any) -> Decimal | _NotFinite:
    """A YAML float as the exact Decimal its text says (within the number-length limit)."""
    text = check_number_text(loader, node)
    plain = text.replace("_", "")
    try:
        value = Decimal(plain)
    except InvalidOperation:  # .nan, .inf, 1:30 (YAML 1.1's base 60)
        value = None
    return value if value is not None and value.is_finite() else _NotFinite(text)


@functools.cache
def _config_loader() -> Any:
    """The safe loader within costline's limits, refusing a key given twice, with floats as
    exact Decimals."""
    loader: Any = type("ConfigLoader", (strict_safe_loader(),), {})
    loader.add_constructor("tag:yaml.org,2002:float", _decimal_float)
    return loader


def _shown(path: Path) -> Path:
    """``path`` relative to the current folder when it is below it, as reports show it (a PR
    comment should not carry the CI runner's absolute paths)."""
    cwd = Path.cwd()
    return path.relative_to(cwd) if path.is_relative_to(cwd) else path


def _read_config(path: Path) -> str:
    """The config file's text: at most :data:`MAX_CONFIG_BYTES` are read (``/dev/zero`` or a
    pipe that never ends is refused, not read into memory)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise InputProblem(f"{path}: cannot read the config file ({exc.strerror})") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise InputProblem(f"{path}: larger than {MAX_CONFIG_BYTES:,} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputProblem(f"{path}: the config file is not UTF-8 text") from None


def load_config(path: Path) -> list[StackEntry]:
    """The stacks listed in ``path``; any problem is an exit-2 one-liner naming the file."""
    text = _read_config(path)
    try:
        if any(isinstance(event, yaml.AliasEvent) for event in yaml.parse(text)):
            raise InputProblem(f"{path}: YAML aliases are not allowed in the config file")
        document = load_yaml(text, _config_loader())
    except yaml.YAMLError as exc:
        raise InputProblem(f"{path}: not valid YAML ({yaml_problem(exc)})") from None
    except LimitError as exc:
        raise InputProblem(f"{path}: {exc}") from None
    errors = sorted(
        jsonschema.Draft202012Validator(CONFIG_SCHEMA).iter_errors(_json_numbers(document)),
        key=lambda e: [(0, p) if isinstance(p, int) else (1, str(p)) for p in e.absolute_path],
    )
    if errors:
        raise InputProblem(f"{path}: {_schema_problem(errors[0], document)}")
    base = path.resolve().parent
    entries = []
    seen: dict[tuple[Path, str], int] = {}
    for index, item in enumerate(document["projects"]):
        program = _shown((base / item["path"]).resolve())
        if not (program / "Pulumi.yaml").is_file() and not (program / "Pulumi.yml").is_file():
            raise InputProblem(f"{path}: {item['path']}: no Pulumi.yaml there")
        stack = item.get("stack", "dev")
        first = seen.setdefault((program.resolve(), stack), index)
        if first != index:
            raise InputProblem(
                f"{path}: projects/{index}: the same program and stack as projects/{first} "
                f"({item['path']}, stack {stack}); list each stack once (its cost would count "
                "twice in the total)"
            )
        entries.append(
            StackEntry(
                name=item.get("name") or f"{item['path']}:{stack}",
                program_dir=program,
                stack=stack,
                budget_usd=_decimal(item.get("budget_usd")),
                warn_at_percent=_decimal(item.get("warn_at_percent")),
                usage_file=base / item["usage_file"] if "usage_file" in item else None,
                region=item.get("region"),
                baseline=base / item["baseline"] if "baseline" in item else None,
            )
        )
    names = [e.name for e in entries]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InputProblem(f"{path}: stack names must differ; repeated: {', '.join(duplicates)}")
    return entries


def _schema_problem(error: jsonschema.ValidationError, document: Any) -> str:
    """``<where>: <problem>`` for the first schema error; a stack's key says what it takes."""
    where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
    key = error.absolute_path[-1] if error.absolute_path else None
    if list(error.absolute_path) == ["projects"] and error.validator == "maxItems":
        return f"projects: at most {MAX_STACKS} stacks in one config file"
    if len(error.absolute_path) == 3 and key in _TAKES:
        value: Any = document
        for part in error.absolute_path:
            value = value[part]
        if isinstance(value, Mapping) and set(value) == {"secure"}:
            return (
                f"{where}: an encrypted value (secure:) cannot be read here; give "
                f"{_TAKES[key]} in plain text"
            )
        if isinstance(value, _NotFinite):
            return f"{where}: {value.text} is not a finite number; give {_TAKES[key]}"
        shown = repr(value) if isinstance(value, str) else str(value)
        if len(shown) > 60:
            shown = shown[:60] + "…"
        return f"{where}: {shown} is not {_TAKES[key]}"
    return f"{where}: {error.message}"


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def _json_numbers(value: Any) -> Any:
    """Decimals as floats for the schema check only (the values used stay Decimal)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _json_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_numbers(v) for v in value]
    return value


StackRunner = Callable[[StackEntry, Mapping[str, Any]], tuple[int, dict[str, Any]]]


def review_stack(entry: StackEntry, options: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
    """One stack as ``estimate`` (no limits), ``diff`` (a baseline) or ``check`` (limits) runs
    it: ``options`` holds the command's own options (``kw``), its ``limits`` (check) and
    whether a ``baseline`` is required (diff). Runs in a worker process."""
    from costline.cli.options import what_if_scenarios
    from costline.cli.review import load_baseline_option, with_stack_budget
    from costline.cli.stack import load_from_options
    from costline.review.sections import review_report

    shared = options["kw"]
    kw = {
        **shared,
        "program_dir": entry.program_dir,
        "from_preview": None,
        "stack": entry.stack,
        "region": entry.region or shared["region"],
        "usage_file": entry.usage_file or shared["usage_file"],
    }
    limits = options.get("limits")
    if limits is not None:
        limits = dataclasses.replace(
            limits,
            monthly_budget_usd=(
                entry.budget_usd if entry.budget_usd is not None else limits.monthly_budget_usd
            ),
            warn_at_percent=(
                entry.warn_at_percent
                if entry.warn_at_percent is not None
                else limits.warn_at_percent
            ),
        )
        if limits.needs_baseline and entry.baseline is None:
            raise InputProblem("the increase limits need a baseline: set `baseline` for this stack")
    if options.get("baseline_required") and entry.baseline is None:
        raise InputProblem("diff needs a baseline: set `baseline` for this stack")
    loaded = load_from_options(kw)
    if limits is not None:  # costline:budget in the stack when neither entry nor --budget gives one
        limits = with_stack_budget(
            limits, loaded, "give the budget as budget_usd in the config file, or --budget"
        )
    report = review_report(
        loaded,
        scenarios=what_if_scenarios(kw["what_if"]),
        recommendations=kw["recommendations"],
        baseline=load_baseline_option(entry.baseline, loaded),
        limits=limits,
    )
    failed = limits is not None and bool(report["budget"]["violations"])
    return (EXIT_GATE_FAILED if failed else EXIT_PASSED), report


def _run_one(runner: StackRunner, entry: StackEntry, options: Mapping[str, Any]) -> StackOutcome:
    try:
        code, report = runner(entry, options)
    except click.ClickException as exc:
        return StackOutcome(entry, EXIT_BAD_INPUT, error=exc.format_message())
    except Exception as exc:  # a bug in one stack's run must not lose the others' results
        return StackOutcome(entry, EXIT_INTERNAL, error=f"internal error: {type(exc).__name__}")
    return StackOutcome(entry, code, report=report)


def run_stacks(
    entries: Sequence[StackEntry], runner: StackRunner, options: Mapping[str, Any]
) -> list[StackOutcome]:
    """Every stack through ``runner`` in parallel processes, in the config file's order.

    As many worker processes as CPUs; the programs run under mocks in children of one mock
    server per interpreter (:mod:`costline.readers.mock_server`), which imports the Pulumi SDK
    once for all of them instead of once per stack."""
    from costline.readers import mock_server

    workers = max(1, min(len(entries), os.cpu_count() or 1))
    if workers == 1:
        mock_server.discard_prestarted()  # no server for one program at a time
        return [_run_one(runner, entry, options) for entry in entries]
    from costline.readers.mocks import use_servers

    interpreters = _shared_interpreters(entries)
    with (
        mock_server.mock_servers(interpreters, workers, mock_server.runner_env()) as servers,
        concurrent.futures.ProcessPoolExecutor(
            workers,
            mp_context=_worker_context(),
            initializer=use_servers,
            initargs=(servers,),
        ) as pool,
    ):
        futures = [pool.submit(_run_one, runner, entry, options) for entry in entries]
        return [_outcome(entry, future) for entry, future in zip(entries, futures, strict=True)]


def _outcome(entry: StackEntry, future: concurrent.futures.Future[StackOutcome]) -> StackOutcome:
    """A worker's outcome; a worker that died (killed, out of memory) loses its stack's result
    (and those it had not begun: the pool stops), each an internal error, never the run's."""
    try:
        return future.result()
    except (Exception, SystemExit) as exc:
        return StackOutcome(
            entry, EXIT_INTERNAL, error=f"internal error: its worker process stopped ({exc})"
        )


def _shared_interpreters(entries: Sequence[StackEntry]) -> list[str]:
    """The interpreters that run more than one of the stacks' programs (a server gains
    nothing for a single program); a project that cannot be read is left to its stack's run,
    which reports it."""
    from costline.readers import InputFileError, ProgramError
    from costline.readers.mocks import program_python

    counts: dict[str, int] = {}
    for entry in entries:
        try:
            interpreter = program_python(entry.program_dir)
        except (InputFileError, ProgramError):
            continue
        counts[interpreter] = counts.get(interpreter, 0) + 1
    return [interpreter for interpreter, count in counts.items() if count > 1]


def _worker_context() -> multiprocessing.context.BaseContext:
    """Fork where it is safe (Linux, and no thread in this process: nothing inherited
    mid-state), so the workers start with costline imported; else spawn."""
    if sys.platform == "linux" and threading.active_count() == 1 and _native_threads() == 1:
        _import_stack_review()
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _native_threads() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


def _import_stack_review() -> None:
    """What :func:`review_stack` imports, imported once here before the workers fork."""
    import costline.cli.options
    import costline.cli.review
    import costline.cli.stack
    import costline.readers.mocks
    import costline.review.sections  # noqa: F401


def results(outcomes: Sequence[StackOutcome]) -> list[StackResult]:
    """The outcomes as the combined report reads them."""
    return [
        StackResult(o.entry.name, o.entry.stack, o.exit_code, o.report, o.error) for o in outcomes
    ]


MULTI_FORMATS = ("markdown", "json", "infracost-json")


def render_combined(
    outcomes: Sequence[StackOutcome],
    fmt: str,
    templates_dir: Path | None,
    view: ReportView | None = None,
) -> str:
    from costline.cli.output import render_report
    from costline.render.infracost import infracost_json
    from costline.review.report import to_json

    if fmt == "markdown":
        sections = [
            render_report(o.report, "markdown", templates_dir, view) if o.report else ""
            for o in outcomes
        ]
        return combined_markdown(results(outcomes), sections)
    if fmt == "json":
        return to_json(combined_json(results(outcomes)))
    if fmt == "infracost-json":
        return infracost_json([(o.entry.name, o.report) for o in outcomes if o.report is not None])
    raise InputProblem(f"--config writes {', '.join(MULTI_FORMATS)}; not {fmt}")


def _check_targets(
    config: Path, entries: Sequence[StackEntry], targets: Sequence[Path | None]
) -> None:
    """Refuse, before any stack runs, a report file that is one of the run's inputs (the config
    file, a stack's usage file or baseline, a stack's ``Pulumi.<stack>.yaml``: writing the
    report would replace it) or that two reports would both write."""
    inputs = [(config, "the config file")]
    for entry in entries:
        inputs += [(entry.usage_file, f"{entry.name}'s usage_file")] if entry.usage_file else []
        inputs += [(entry.baseline, f"{entry.name}'s baseline")] if entry.baseline else []
        for suffix in (".yaml", ".yml"):
            stack_file = entry.program_dir / f"Pulumi.{entry.stack}{suffix}"
            inputs.append((stack_file, f"{entry.name}'s stack config"))
    written: list[Path] = []
    for target in targets:
        if target is None or str(target) == "-":
            continue
        for path, what in inputs:
            if _same_file(target, path):
                raise InputProblem(
                    f"{target}: is {what}; writing the report there would replace it"
                )
        if any(_same_file(target, other) or target == other for other in written):
            raise InputProblem(f"{target}: given for two reports; give each its own file")
        written.append(target)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # either does not exist (yet): not the same file
        return False


def run_config(
    config: Path,
    kw: Mapping[str, Any],
    *,
    limits: Any = None,
    baseline_required: bool = False,
    outputs: Sequence[tuple[str, Path | None]] = (("markdown", None),),
    verdicts: bool = False,
) -> None:
    """Run every stack of ``config`` and write the combined report in each (format, target)
    of ``outputs`` (``None``: stdout); exit with the worst stack's code."""
    from costline.cli.options import report_view
    from costline.cli.output import echo, emit

    if kw.get("program_dir") is not None or kw.get("from_preview") is not None:
        raise InputProblem("give either --config or PROGRAM_DIR / --from-preview, not both")
    for fmt, _ in outputs:
        if fmt not in MULTI_FORMATS:
            raise InputProblem(f"--config writes {', '.join(MULTI_FORMATS)}; not {fmt}")
    entries = load_config(config)
    _check_targets(config, entries, [target for _, target in outputs])
    shared = {k: v for k, v in kw.items() if k != "config"}
    options = {"kw": shared, "limits": limits, "baseline_required": baseline_required}
    outcomes = run_stacks(entries, review_stack, options)
    for fmt, target in outputs:
        emit(render_combined(outcomes, fmt, kw.get("templates_dir"), report_view(kw)), fmt, target)
    if verdicts:
        from costline.cli.review import check_lines

        for outcome in outcomes:  # a name or an error quoting input is one inert line
            name = one_line(outcome.entry.name)
            if outcome.report is None:
                echo(f"{name}: costline check could not run: {one_line(outcome.error or '')}")
                continue
            verdict, *broken = check_lines(outcome.report)
            echo("\n".join([f"{name}: {verdict}", *broken]))
        combined = results(outcomes)
        echo(f"costline check: {plain_heading(combined)}, exit {worst_exit_code(combined)}")
    else:
        for outcome in outcomes:
            if outcome.report is None:
                note(f"costline: error: {one_line(f'{outcome.entry.name}: {outcome.error}')}")
    code = worst_exit_code(results(outcomes))
    if code:
        raise SystemExit(code)
