"""The ``costline`` command line: a thin shell over readers, the estimator and the renderers.

Exit codes (:mod:`costline.cli.errors`): 0 passed; 1 a gate failed (a budget, an increase
limit, a mandatory policy); 2 bad usage or unreadable input, as one line that says what to
fix; 3 an internal error, as one line (the traceback with ``costline --debug``).
"""

from __future__ import annotations

import contextlib
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from costline.cli.errors import (
    EXIT_BAD_INPUT,
    EXIT_GATE_FAILED,
    EXIT_INTERNAL_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    InputProblem,
    InternalProblem,
    note,
)
from costline.cli.multi import run_config
from costline.cli.options import (
    REFERENCE_HELP,
    format_option,
    output_option,
    report_view,
    resolve_format,
    stack_name,
    stack_options,
    what_if_scenarios,
)
from costline.cli.output import echo, emit, render_report
from costline.cli.pack import pack_group
from costline.cli.pricing import pricing_group
from costline.cli.review import check_command, diff_command
from costline.cli.stack import load_from_options, load_preview_states, resolve_program
from costline.cli.usage import usage_group
from costline.review.sections import review_report


class _OneLineErrors(click.Group):
    """Every way a command ends, as an exit code (see :mod:`costline.cli.errors`).

    Click's own usage errors (an unknown option, a missing folder) are one exit-2 line, like
    every other bad-input error, instead of click's usage block. An unexpected exception is a
    bug: one line saying so and exit 3 (the traceback with ``costline --debug``), never 1."""

    debug = False

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        self.debug = False
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            _flush_stdout()
        except click.UsageError as exc:
            if (
                type(exc).__name__ == "NoArgsIsHelpError"
            ):  # bare `costline` (click >= 8.2): the help
                note(exc.format_message())
                sys.exit(EXIT_BAD_INPUT)
            command = exc.ctx.command_path if exc.ctx is not None else "costline"
            note(f"costline: error: {exc.format_message()} (see {command} --help)")
            sys.exit(EXIT_BAD_INPUT)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            note("Aborted!")
            sys.exit(EXIT_INTERRUPTED)
        except SystemExit:
            raise
        except Exception as exc:  # a bug: say so in one line, never exit 1 ("over budget")
            if self.debug:
                with contextlib.suppress(OSError, ValueError):
                    traceback.print_exc()
            note(
                f"costline: internal error ({type(exc).__name__}): this is a bug in costline, "
                "not in your input; run `costline --debug ...` for the traceback and report it",
            )
            sys.exit(EXIT_INTERNAL_ERROR)
        sys.exit(result if isinstance(result, int) else EXIT_OK)


def _flush_stdout() -> None:
    """What a command printed reaches stdout now, so a full device or closed pipe is exit 2."""
    try:
        echo("", nl=False)
    except InputProblem as exc:
        exc.show()
        sys.exit(EXIT_BAD_INPUT)


def _set_debug(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    if value and isinstance(ctx.command, _OneLineErrors):
        ctx.command.debug = True
    return value


@click.group(cls=_OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="costline")
@click.option(
    "--debug",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_set_debug,
    help="On an internal error (exit 3), print the full traceback.",
)
def main() -> None:
    """costline: monthly AWS cost of a Pulumi stack, before deploy.

    Exit codes: 0 passed; 1 a gate failed (budget, increase limit, mandatory policy); 2 bad
    input or usage; 3 internal error.
    """


@main.command("estimate")
@format_option
@output_option
@stack_options
def estimate_command(fmt: str | None, output: Path | None, **kw: Any) -> None:
    """Estimate the monthly cost of PROGRAM_DIR (default: the current folder's Pulumi project;
    --reference for the bundled reference stack)."""
    fmt = resolve_format(fmt, output, kw)
    if kw["config"] is not None:
        run_config(kw["config"], kw, outputs=((fmt, output),))
        return
    loaded = load_from_options(kw)
    report = review_report(
        loaded, scenarios=what_if_scenarios(kw["what_if"]), recommendations=kw["recommendations"]
    )
    emit(render_report(report, fmt, kw["templates_dir"], report_view(kw, fmt, output)), fmt, output)


@main.command("preview")
@click.argument(
    "program_dir", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path)
)
@click.option(
    "--stack",
    default="dev",
    show_default=True,
    callback=stack_name,
    help="Stack whose Pulumi.<stack>.yaml config the program gets.",
)
@click.option(
    "--policy-pack-config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Policy config JSON, as for `pulumi preview --policy-pack-config`.",
)
@click.option(
    "--existing-stack",
    is_flag=True,
    help="Preview a stack that is already deployed (every output known) instead of a first "
    "preview (outputs the provider computes unknown).",
)
@click.option("--reference", is_flag=True, help=REFERENCE_HELP)
def preview_command(program_dir, stack, config_file, existing_stack, reference) -> None:
    """Show what `pulumi preview --policy-pack policypack` would print for PROGRAM_DIR.

    Runs the program under Pulumi's mocks and sends its resources through the real costline
    policy pack over the gRPC Analyzer protocol, as the engine sends them on a first preview:
    Analyze gets each resource's checked inputs, AnalyzeStack its outputs, with ids, ARNs and
    every value computed from them unknown (an empty map when its provider's config is not
    known), and its provider, parent and dependencies. Exits 1 on a mandatory violation.

    Where the real engine differs (tests/e2e run it): it attributes stack results to
    (pulumi:pulumi:Stack: PROJECT-STACK), orders results by level, policy and URN, and on a first
    preview knows the names the provider generates in Check (a bucket's `bucket`), which this
    command treats as unknown. Both name types in short form (aws:apigateway:Stage).
    """
    import json

    from costline.core.limits import LimitError, parse_json, read_input
    from costline.engine import HarnessConfigError, HarnessError
    from costline.engine.preview import engine_resources_from_states, format_policies, run_engine

    policy_config = None
    if config_file is not None:
        try:
            policy_config = parse_json(read_input(config_file).decode("utf-8"))
        except LimitError as exc:
            raise InputProblem(f"{config_file}: {exc}") from None
        except UnicodeDecodeError:
            raise InputProblem(f"{config_file}: policy config is not UTF-8 text") from None
        except OSError as exc:
            raise InputProblem(
                f"{config_file}: cannot read policy config ({exc.strerror})"
            ) from None
        except json.JSONDecodeError as exc:
            raise InputProblem(
                f"{config_file}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
            ) from None
        if not isinstance(policy_config, dict):
            raise InputProblem(
                f"{config_file}: policy config must be a JSON object of policy name -> settings"
            )
    states, project, stack_config = load_preview_states(
        resolve_program(program_dir, reference=reference), stack, first_preview=not existing_stack
    )
    resources = engine_resources_from_states(states)
    try:
        result = run_engine(
            resources, policy_config, project=project, stack=stack, stack_config=stack_config
        )
    except HarnessConfigError as exc:
        raise InputProblem(f"{config_file}: {exc}") from None
    except HarnessError as exc:
        raise InternalProblem(f"the policy pack failed: {exc}") from None
    echo(format_policies(result, resources), nl=False)
    if result.mandatory:
        raise SystemExit(EXIT_GATE_FAILED)


main.add_command(pricing_group)
main.add_command(pack_group)
main.add_command(usage_group)
main.add_command(diff_command)
main.add_command(check_command)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
