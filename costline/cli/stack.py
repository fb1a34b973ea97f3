"""Reading the stack a command works on: resources, their region's prices, and the estimate.

One record, :class:`~costline.estimator.priced.PricedStack`, is what ``estimate``, ``diff`` and
``check`` start from (the policy pack and the recommendations start from it too).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from costline.cli.errors import InputProblem
from costline.core.model import Resource
from costline.estimator.pipeline import EstimateOptions, estimate
from costline.estimator.priced import PricedStack
from costline.pricing import PricingError, load_price_book
from costline.readers.region import DEFAULT_REGION, stack_region
from costline.usage.stack_config import apply_stack_usage, encrypted_config, stack_budget_usd

PROJECT_FILES = ("Pulumi.yaml", "Pulumi.yml")


def resolve_program(
    program_dir: Path | None, from_preview: Path | None = None, *, reference: bool = False
) -> Path | None:
    """The program a command runs: PROGRAM_DIR when given; else the current folder when it holds
    a ``Pulumi.yaml``; the bundled reference stack (``None``) only when asked for with
    ``--reference`` (or when the current folder *is* it: a source checkout's root)."""
    if reference:
        if program_dir is not None or from_preview is not None:
            raise InputProblem("give --reference alone, without PROGRAM_DIR or --from-preview")
        return None
    if program_dir is not None or from_preview is not None:
        return program_dir
    here = Path.cwd()
    if not any((here / name).is_file() for name in PROJECT_FILES):
        raise InputProblem(
            f"no Pulumi.yaml in the current folder ({here}): give PROGRAM_DIR, "
            "--from-preview FILE, or --reference for the bundled reference stack"
        )
    from costline.readers import ProgramError
    from costline.readers.mocks import bundled_project_dir

    try:
        bundled = bundled_project_dir().resolve()
    except ProgramError:
        bundled = None
    return None if here.resolve() == bundled else here


def load_resources(
    program_dir: Path | None, from_preview: Path | None, stack: str
) -> tuple[list[Resource], str, Mapping[str, str], frozenset[str]]:
    """Resources from a preview/stack-export file, or from running a program under mocks, with
    what was read, the stack config the program got (empty for a file) and the config keys
    that are encrypted (``secure:``: only the Pulumi CLI can decrypt them, so they are left out
    of the config)."""
    from costline.readers import InputFileError, ProgramError

    try:
        if from_preview is not None:
            from costline.readers import auto_detect

            return list(auto_detect(from_preview)), str(from_preview), {}, frozenset()
        from costline.readers.mocks import mock_run

        run = mock_run(program_dir, stack=stack)
        source = str(program_dir or "the bundled reference stack")
        public = {k: v for k, v in run.config.items() if k not in run.secret_keys}
        return list(run.resources), source, public, run.secret_keys
    except (InputFileError, ProgramError) as exc:
        raise InputProblem(str(exc)) from None


def load_preview_states(
    program_dir: Path | None, stack: str, *, first_preview: bool
) -> tuple[list[dict[str, Any]], str, Mapping[str, str]]:
    """A program run under mocks as the engine would send it to a policy pack in ``pulumi
    preview`` (:func:`costline.readers.mocks.preview_states`): the resources, the project name
    and the stack config the pack gets (secrets left out: costline cannot decrypt them, and says
    so on stderr for its own keys, whose figures or budget the pack then does not get)."""
    import click

    from costline.readers import InputFileError, ProgramError
    from costline.readers.mocks import mock_run, preview_states

    try:
        run = mock_run(program_dir, stack=stack, first_preview=first_preview)
    except (InputFileError, ProgramError) as exc:
        raise InputProblem(str(exc)) from None
    for finding in encrypted_config(run.secret_keys, f"Pulumi.{stack}.yaml"):
        click.echo(
            f"costline: warning: {finding.message}; the pack gets it only under `pulumi "
            "preview`, which decrypts it",
            err=True,
        )
    public = {k: v for k, v in run.config.items() if k not in run.secret_keys}
    return preview_states(run), run.project, public


def load_stack(
    program_dir: Path | None,
    from_preview: Path | None,
    stack: str,
    price_files: Sequence[Path],
    region: str | None,
    usage_file: Path | None,
    options: EstimateOptions,
    tables_dir: Path | None = None,
    *,
    reference: bool = False,
) -> PricedStack:
    """Read the stack (a program under mocks, or a preview/stack-export file), apply a usage
    file, load the region's prices and estimate; every input problem is an exit-2 one-liner."""
    if program_dir is not None and from_preview is not None:
        raise InputProblem("give either PROGRAM_DIR or --from-preview, not both")
    program_dir = resolve_program(program_dir, from_preview, reference=reference)
    if from_preview is not None and not from_preview.is_file():
        raise InputProblem(f"{from_preview}: no such file")
    for price_file in price_files:
        if not price_file.is_file():
            raise InputProblem(f"{price_file}: no such price override file")
    resources, source, config, encrypted = load_resources(program_dir, from_preview, stack)
    where = f"Pulumi.{stack}.yaml"
    resources, usage_findings = apply_stack_usage(resources, config, where)
    usage_findings += encrypted_config(encrypted, where)
    budget, budget_finding = stack_budget_usd(config, where)
    if budget_finding is not None:
        usage_findings.append(budget_finding)
    if usage_file is not None:
        from costline.cli.usage import apply_usage_option

        resources, file_findings = apply_usage_option(resources, usage_file)
        usage_findings += file_findings
    detected = stack_region(resources) if region is None else None
    try:
        prices = load_price_book(
            region or (detected.name if detected else DEFAULT_REGION),
            overrides=[str(p) for p in price_files],
            tables_dir=tables_dir,
            region_secret=detected is not None and detected.secret,
        )
    except PricingError as exc:
        raise InputProblem(str(exc)) from None
    result = estimate(resources, prices, options)
    if usage_findings:
        result = dataclasses.replace(result, findings=(*result.findings, *usage_findings))
    return PricedStack(tuple(resources), prices, options, result, source, budget)


def load_from_options(kw: dict[str, Any]) -> PricedStack:
    """The stack and its estimate from the options of :func:`costline.cli.options.stack_options`."""
    options = EstimateOptions(
        free_tier=not kw["no_free_tier"],
        fail_closed=kw["fail_closed"],
        max_price_age_days=kw["max_price_age_days"],
    )
    return load_stack(
        kw["program_dir"],
        kw["from_preview"],
        kw["stack"],
        kw["price_files"],
        kw["region"],
        kw["usage_file"],
        options,
        kw.get("pricing_dir"),
        reference=kw.get("reference", False),
    )
