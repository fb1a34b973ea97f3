"""The ``costline`` command line: a thin shell over readers, the estimator and the renderers.

Exit codes: 0 ok; 1 a budget or mandatory policy was broken (``preview``); 2 bad usage or
unreadable input, reported as one line that says what to fix (never a traceback).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from costline.cli_options import recommendations_option, what_if_option
from costline.estimator import EstimateOptions
from costline.price_age import DEFAULT_MAX_PRICE_AGE_DAYS
from costline.region import DEFAULT_REGION
from costline.render import FORMATS

EXIT_BAD_INPUT = 2


class InputProblem(click.ClickException):
    """A one-line, exit-2 error about the user's input."""

    exit_code = EXIT_BAD_INPUT

    def show(self, file=None) -> None:  # noqa: ANN001 - click's signature
        click.echo(f"costline: error: {self.format_message()}", err=True, file=file)


def load_resources(program_dir: Path | None, from_preview: Path | None, stack: str):
    """Resources from a preview/stack-export file, or from running a program under mocks."""
    from costline.readers import InputFileError, ProgramError

    try:
        if from_preview is not None:
            from costline.readers import auto_detect

            return auto_detect(from_preview), str(from_preview)
        from costline.readers.mocks import run_program

        return run_program(program_dir, stack=stack), str(program_dir or "the bundled reference stack")
    except (InputFileError, ProgramError) as exc:
        raise InputProblem(str(exc)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="costline")
def main() -> None:
    """costline: monthly AWS cost of a Pulumi stack, before deploy."""


@main.command("estimate")
@click.argument("program_dir", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--from-preview", "from_preview", type=click.Path(dir_okay=False, path_type=Path),
              help="Estimate a `pulumi preview --json` or `pulumi stack export` file instead of running a program.")
@click.option("--stack", default="dev", show_default=True, help="Stack whose Pulumi.<stack>.yaml config the program gets.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="markdown", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here instead of stdout.")
@click.option("--no-free-tier", is_flag=True, help="Do not apply the always-free allowances (Lambda 1M requests + 400,000 GB-s).")
@click.option("--fail-closed", is_flag=True, help="Price missing or invalid usage tags at a documented worst case.")
@click.option("--prices", "price_files", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Price override file (repeatable; later files win).")
@click.option("--region", help=f"AWS region of the price tables (default: the stack's aws:region, else {DEFAULT_REGION}).")
@click.option("--templates", "templates_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder of your own report templates; missing ones fall back to costline's.")
@click.option("--max-price-age-days", type=click.IntRange(min=0), default=DEFAULT_MAX_PRICE_AGE_DAYS, show_default=True,
              help="Warn (prices-stale) when the price tables are older than this many days.")
@click.option("--usage-file", "usage_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Infracost usage file (infracost-usage.yml); resources' own cost:* tags win.")
@what_if_option
@recommendations_option
def estimate_command(program_dir, from_preview, stack, fmt, output, no_free_tier, fail_closed, price_files,
                     region, templates_dir, max_price_age_days, usage_file=None, what_if=None,
                     recommendations=True) -> None:
    """Estimate the monthly cost of PROGRAM_DIR (default: the bundled reference stack)."""
    from costline.cli_review import emit, load_stack, render_report, what_if_scenarios

    loaded = load_stack(program_dir, from_preview, stack, price_files, region, usage_file,
                        EstimateOptions(free_tier=not no_free_tier, fail_closed=fail_closed,
                                        max_price_age_days=max_price_age_days))
    report = loaded.report(scenarios=what_if_scenarios(what_if), recommendations=recommendations)
    emit(render_report(report, fmt, templates_dir), fmt, output)


@main.command("preview")
@click.argument("program_dir", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--stack", default="dev", show_default=True, help="Stack whose Pulumi.<stack>.yaml config the program gets.")
@click.option("--policy-pack-config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Policy config JSON, as for `pulumi preview --policy-pack-config`.")
def preview_command(program_dir, stack, config_file) -> None:
    """Show what `pulumi preview --policy-pack policypack` would print for PROGRAM_DIR.

    Runs the program under Pulumi's mocks and sends its resources through the real costline
    policy pack over the gRPC Analyzer protocol. Exits 1 on a mandatory violation.
    """
    import json

    from costline.preview import format_policies, run_pack
    from costline.testing.engine import HarnessConfigError, HarnessError

    policy_config = None
    if config_file is not None:
        try:
            policy_config = json.loads(config_file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise InputProblem(f"{config_file}: cannot read policy config ({exc.strerror})") from None
        except json.JSONDecodeError as exc:
            raise InputProblem(f"{config_file}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
        if not isinstance(policy_config, dict):
            raise InputProblem(f"{config_file}: policy config must be a JSON object of policy name -> settings")
    resources, _ = load_resources(program_dir, None, stack)
    try:
        result = run_pack(resources, policy_config, stack=stack)
    except HarnessConfigError as exc:
        raise InputProblem(f"{config_file}: {exc}") from None
    except HarnessError as exc:
        raise click.ClickException(f"the policy pack failed: {exc}") from None
    click.echo(format_policies(result, resources), nl=False)
    if result.mandatory:
        raise SystemExit(1)


from costline.cli_pricing import pricing_group  # noqa: E402 - needs InputProblem defined above

main.add_command(pricing_group)

from costline.cli_review import check_command, diff_command  # noqa: E402 - needs InputProblem defined above

main.add_command(diff_command)
main.add_command(check_command)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
