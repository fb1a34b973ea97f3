"""A self-contained, publishable policy pack: ``costline pack build OUT_DIR``.

The folder it writes is what ``pulumi policy publish OUT_DIR`` uploads and what the engine
installs on every machine that runs the pack, so it must install with **no package index**:

* ``PulumiPolicy.yaml`` — ``runtime: python`` with the ``virtualenv: venv`` option, so the engine
  creates ``venv/`` and runs ``pip install -r requirements.txt`` into it when it installs the pack;
* ``__main__.py`` — the same entry point as ``policypack/`` (all logic stays in costline);
* ``wheels/`` — the costline wheel and every wheel it needs at run time (the ``policy`` extra:
  the Pulumi SDK, pulumi-policy, gRPC, protobuf — not pulumi-aws, which the pack never imports),
  at exactly the versions installed where the pack was built, so what was tested is what runs;
* ``requirements.txt`` — ``--no-index``, ``--find-links wheels`` (pip reads a relative
  find-links path in a requirements file relative to that file) and one ``name==version`` per
  wheel.

Binary wheels (gRPC) are per platform and Python version: by default those of the building
interpreter; ``platform``/``python_version`` fetch another target's (as ``pip download`` does).
Nothing here imports pulumi: building a pack needs pip and, for a source checkout, the build
backend pip fetches for it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from costline.core.paths import data_dir

#: The extra whose requirements the pack needs at run time (see pyproject.toml).
POLICY_EXTRA = "policy"
_WHEEL_NAME = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+)(-\d[^-]*)?-[^-]+-[^-]+-[^-]+\.whl$")
_PIP_TIMEOUT_S = 900


class BundleError(Exception):
    """The pack could not be built; the message says what to fix (exit 2 in the CLI)."""


@dataclass(frozen=True)
class BuiltPack:
    """What ``build_pack`` wrote: the folder, and each wheel's (name, version)."""

    folder: Path
    wheels: tuple[tuple[str, str], ...]


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_pins(extra: str = POLICY_EXTRA) -> list[str]:
    """``name==version`` for everything costline and its ``extra`` need at run time, as
    installed here (the versions the tests ran with): the closure of their requirements, with
    markers evaluated for this interpreter. costline itself is not in the list."""
    from packaging.requirements import Requirement

    pins: dict[str, str] = {}
    todo = [(r, {extra}) for r in metadata.distribution("costline").requires or []]
    if not any(f'extra == "{extra}"' in r.replace("'", '"') for r, _ in todo):
        raise BundleError(f"the installed costline declares no [{extra}] extra; reinstall costline")
    while todo:
        text, extras = todo.pop()
        requirement = Requirement(text)
        environments = [{"extra": e} for e in extras] or [{"extra": ""}]
        if requirement.marker is not None and not any(
            requirement.marker.evaluate(env) for env in environments
        ):
            continue
        name = _normalise(requirement.name)
        if name in pins or name == "costline":
            continue
        try:
            dist = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            raise BundleError(
                f"{requirement.name} (needed by the pack) is not installed here; "
                f"install costline[{extra}] first so the pack pins what was tested"
            ) from None
        pins[name] = dist.version
        todo += [(r, set(requirement.extras)) for r in dist.requires or []]
    return [f"{name}=={version}" for name, version in sorted(pins.items())]


def _pip(python: str, args: Sequence[str]) -> None:
    command = [python, "-m", "pip", "--disable-pip-version-check", *args]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=_PIP_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BundleError(f"pip {args[0]} failed: {exc}") from None
    if done.returncode != 0:
        tail = " ".join(done.stderr.strip().splitlines()[-3:])[:800]
        raise BundleError(f"pip {args[0]} failed (exit {done.returncode}): {tail}")


def _source_checkout() -> Path | None:
    """The repository root when costline runs from a source checkout (editable install)."""
    root = Path(__file__).resolve().parents[2]
    pyproject = root / "pyproject.toml"
    if pyproject.is_file() and 'name = "costline"' in pyproject.read_text(encoding="utf-8"):
        return root
    return None


def _costline_wheel(wheel: Path | None, into: Path, python: str) -> Path:
    if wheel is not None:
        if not wheel.is_file() or not wheel.name.startswith("costline-"):
            raise BundleError(f"{wheel}: not a costline wheel file")
        shutil.copy2(wheel, into / wheel.name)
        return into / wheel.name
    root = _source_checkout()
    if root is None:
        raise BundleError(
            "costline is not installed from a source checkout; give --wheel PATH to its wheel"
        )
    _pip(python, ["wheel", "--no-deps", "--quiet", "--wheel-dir", str(into), str(root)])
    built = sorted(into.glob("costline-*.whl"))
    if len(built) != 1:
        raise BundleError(f"building the costline wheel gave {len(built)} wheels in {into}")
    return built[0]


def _wheel_pins(folder: Path) -> tuple[tuple[str, str], ...]:
    pins = []
    for path in sorted(folder.glob("*.whl")):
        match = _WHEEL_NAME.match(path.name)
        if match is None:
            raise BundleError(f"{path.name}: not a wheel file name pip can install")
        pins.append((_normalise(match["name"]), match["version"]))
    return tuple(pins)


def _requirements(pins: Sequence[tuple[str, str]]) -> str:
    lines = [
        "# Written by `costline pack build`: every requirement is a wheel in wheels/, installed",
        "# with no package index (pip reads the find-links path relative to this file).",
        "--no-index",
        "--find-links wheels",
        *(f"{name}=={version}" for name, version in pins),
    ]
    return "\n".join(lines) + "\n"


def _policy_yaml(version: str) -> str:
    return (
        "runtime:\n"
        "  name: python\n"
        "  options:\n"
        "    virtualenv: venv\n"
        f"version: {version}\n"
        "description: costline — monthly AWS cost estimates and budgets (Lambda, API Gateway, S3,"
        " Bedrock) in pulumi preview.\n"
    )


def build_pack(
    out_dir: Path,
    *,
    wheel: Path | None = None,
    python: str = sys.executable,
    platform: str | None = None,
    python_version: str | None = None,
) -> BuiltPack:
    """Write the self-contained pack into ``out_dir``, a new folder or an empty one (a symbolic
    link, a file or a folder holding anything is refused, its contents untouched).

    The pack is assembled in a staging folder and moved into place only when complete: beside
    ``out_dir`` and renamed to it when it does not exist; inside the empty ``out_dir`` (the same
    folder stays, e.g. the shell's current one) and its entries moved up, ``PulumiPolicy.yaml``
    last, when it does. A failed build removes the staging folder, so ``out_dir`` is left as it
    was, never half-written."""
    if out_dir.is_symlink():
        raise BundleError(
            f"{out_dir}: is a symbolic link; give the folder itself (new or empty), not a link"
        )
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise BundleError(f"{out_dir}: exists and is not an empty folder; give a new folder")
    target = out_dir.resolve()  # "." is the current folder, by its name
    existing = target.is_dir()
    if not target.parent.is_dir():
        raise BundleError(f"{target.parent}: no such folder")
    pins = installed_pins()
    source = data_dir("policypack")
    if not (source / "__main__.py").is_file():
        raise BundleError(f"{source}: the bundled policy pack is missing; reinstall costline")
    try:
        staging = Path(
            tempfile.mkdtemp(prefix=f".{target.name}.", dir=target if existing else target.parent)
        )
    except OSError as exc:
        raise BundleError(f"{out_dir}: cannot write the pack there ({exc.strerror})") from None
    try:
        built = _assemble(staging, source, pins, wheel, python, platform, python_version)
        if existing:
            _move_entries(staging, target)
            staging.rmdir()
        else:
            os.replace(staging, target)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, OSError):
            raise BundleError(
                f"{out_dir}: cannot write the pack ({exc.strerror or exc}); nothing was left there"
            ) from None
        raise
    return BuiltPack(out_dir, built)


def _assemble(
    staging: Path,
    source: Path,
    pins: Sequence[str],
    wheel: Path | None,
    python: str,
    platform: str | None,
    python_version: str | None,
) -> tuple[tuple[str, str], ...]:
    """The pack's files in ``staging``; each wheel's (name, version)."""
    wheels = staging / "wheels"
    wheels.mkdir()
    _costline_wheel(wheel, wheels, python)
    target = []
    if platform is not None or python_version is not None:
        target = ["--only-binary", ":all:"]
        target += ["--platform", platform] if platform else []
        target += ["--python-version", python_version] if python_version else []
    _pip(python, ["download", "--quiet", "--no-deps", "--dest", str(wheels), *target, *pins])
    stray = [p.name for p in wheels.iterdir() if p.suffix != ".whl"]
    if stray:
        raise BundleError(
            f"pip fetched source distributions ({', '.join(sorted(stray))}); "
            "a pack must install from wheels alone"
        )
    shutil.copy2(source / "__main__.py", staging / "__main__.py")
    version = metadata.version("costline")
    (staging / "PulumiPolicy.yaml").write_text(_policy_yaml(version), encoding="utf-8")
    built = _wheel_pins(wheels)
    (staging / "requirements.txt").write_text(_requirements(built), encoding="utf-8")
    os.chmod(staging, 0o755)
    return built


def _move_entries(staging: Path, target: Path) -> None:
    """Move the finished pack from ``staging`` (inside ``target``) up into ``target``,
    ``PulumiPolicy.yaml`` last (what makes the folder a pack); on any failure, or a name that
    appeared in ``target`` meanwhile, the moved entries go back and ``target`` is as it was."""
    entries = sorted(staging.iterdir(), key=lambda p: (p.name == "PulumiPolicy.yaml", p.name))
    moved: list[Path] = []
    try:
        for entry in entries:
            destination = target / entry.name
            if os.path.lexists(destination):
                raise BundleError(f"{destination}: appeared during the build; nothing was written")
            os.rename(entry, destination)
            moved.append(destination)
    except BaseException:
        for destination in reversed(moved):
            with contextlib.suppress(OSError):
                os.rename(destination, staging / destination.name)
        raise
