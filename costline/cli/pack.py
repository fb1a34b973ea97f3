"""``costline pack build OUT_DIR``: a self-contained policy pack for ``pulumi policy publish``."""

from __future__ import annotations

from pathlib import Path

import click

from costline.cli.bundle import BundleError, build_pack
from costline.cli.errors import InputProblem, note


@click.group("pack")
def pack_group() -> None:
    """The CrossGuard policy pack: build a publishable copy."""


@pack_group.command("build")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--wheel",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The costline wheel to vendor (default: build one from this source checkout).",
)
@click.option("--platform", help="Fetch binary wheels for this pip platform tag instead.")
@click.option("--python-version", help="Fetch wheels for this Python version (e.g. 3.12).")
def build_command(
    out_dir: Path, wheel: Path | None, platform: str | None, python_version: str | None
) -> None:
    """Write OUT_DIR: PulumiPolicy.yaml, the entry point, and every wheel the pack needs,
    pinned in a requirements.txt that pip installs with no package index."""
    try:
        built = build_pack(out_dir, wheel=wheel, platform=platform, python_version=python_version)
    except BundleError as exc:
        raise InputProblem(str(exc)) from None
    note(
        f"costline: wrote the policy pack to {built.folder} ({len(built.wheels)} wheels); "
        f"publish it with: pulumi policy publish {built.folder}",
    )
