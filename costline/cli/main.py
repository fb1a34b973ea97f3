"""The ``costline`` command line: a thin shell over readers, the estimator and the renderers.

Exit codes: 0 ok; 1 a budget or mandatory policy was broken (``preview``); 2 bad usage or
unreadable input, reported as one line that says what to fix (never a traceback).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from costline.cli.errors import EXIT_BAD_INPUT, InputProblem
from costline.cli.multi import run_config
from costline.cli.options import stack_options, what_if_scenarios
from costline.cli.output import emit, render_report
from costline.cli.pack import pack_group
from costline.cli.pricing import pricing_group
from costline.cli.review import check_command, diff_command
from costline.cli.stack import load_from_options, load_resources
from costline.cli.usage import usage_group
from costline.render.templates import FORMATS


class _OneLineErrors(click.Group):
    """Click's own usage errors (an unknown option, a missing folder) as one exit-2 line too,
    like every other bad-input error, instead of click's usage block."""

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
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            if (
                type(exc).__name__ == "NoArgsIsHelpError"
            ):  # bare `costline` (click >= 8.2): the help
                click.echo(exc.format_message(), err=True)
                sys.exit(EXIT_BAD_INPUT)
            command = exc.ctx.command_path if exc.ctx is not None else "costline"
            click.echo(f"costline: error: {exc.format_message()} (see {command} --help)", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)


@click.group(cls=_OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="costline")
def main() -> None:
    """costline: monthly AWS cost of a Pulumi stack, before deploy."""


@main.command("estimate")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="markdown", show_default=True)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report here instead of stdout.",
)
@stack_options
def estimate_command(fmt: str, output: Path | None, **kw: Any) -> None:
    """Estimate the monthly cost of PROGRAM_DIR (default: the bundled reference stack)."""
    if kw["config"] is not None:
        run_config(kw["config"], kw, outputs=((fmt, output),))
        return
    loaded = load_from_options(kw)
    report = loaded.report(
        scenarios=what_if_scenarios(kw["what_if"]), recommendations=kw["recommendations"]
    )
    emit(render_report(report, fmt, kw["templates_dir"]), fmt, output)


@main.command("preview")
@click.argument(
    "program_dir", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path)
)
@click.option(
    "--stack",
    default="dev",
    show_default=True,
    help="Stack whose Pulumi.<stack>.yaml config the program gets.",
)
@click.option(
    "--policy-pack-config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Policy config JSON, as for `pulumi preview --policy-pack-config`.",
)
def preview_command(program_dir, stack, config_file) -> None:
    """Show what `pulumi preview --policy-pack policypack` would print for PROGRAM_DIR.

    Runs the program under Pulumi's mocks and sends its resources through the real costline
    policy pack over the gRPC Analyzer protocol. Exits 1 on a mandatory violation.
    """
    import json

    from costline.engine import HarnessConfigError, HarnessError
    from costline.engine.preview import format_policies, run_pack

    policy_config = None
    if config_file is not None:
        try:
            policy_config = json.loads(config_file.read_text(encoding="utf-8"))
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
    resources, _, stack_config = load_resources(program_dir, None, stack)
    try:
        result = run_pack(resources, policy_config, stack=stack, stack_config=stack_config)
    except HarnessConfigError as exc:
        raise InputProblem(f"{config_file}: {exc}") from None
    except HarnessError as exc:
        raise click.ClickException(f"the policy pack failed: {exc}") from None
    click.echo(format_policies(result, resources), nl=False)
    if result.mandatory:
        raise SystemExit(1)


main.add_command(pricing_group)
main.add_command(pack_group)
main.add_command(usage_group)
main.add_command(diff_command)
main.add_command(check_command)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
