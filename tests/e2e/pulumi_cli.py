"""The real Pulumi CLI (built by tests/e2e/build-pulumi) on a local file backend, offline.

A ``Workspace`` is a copy of a Pulumi project in a temporary folder with its own PULUMI_HOME (the
test AWS provider installed in its plugin cache), a ``file://`` backend, an empty passphrase and
no network: plugin downloads and update checks are turned off.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.e2e.plugin_env import install_aws_plugin, plugin_env

REPO = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = Path(__file__).resolve().parent / "build-pulumi"
PACK = Path("policypack")  # as the README writes it: the workspace links the repo's pack here


class GoMissing(Exception):
    pass


def go_toolchain() -> str | None:
    found = shutil.which("go")
    if found:
        return found
    return "/usr/local/go/bin/go" if os.access("/usr/local/go/bin/go", os.X_OK) else None


def build_pulumi() -> Path:
    """Build (or reuse) the CLI; returns its bin folder. Raises GoMissing without Go."""
    go = go_toolchain()
    if go is None:
        raise GoMissing("no Go toolchain (go on PATH or /usr/local/go/bin/go)")
    env = dict(os.environ)
    env["PATH"] = f"{Path(go).parent}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(
        [str(BUILD_SCRIPT)], env=env, capture_output=True, text=True, check=False, timeout=3600
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"tests/e2e/build-pulumi failed ({done.returncode}):\n{done.stderr[-4000:]}"
        )
    return Path(done.stdout.strip().splitlines()[-1])


@dataclass
class Result:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def __str__(self) -> str:
        return f"$ pulumi {' '.join(self.args)} → {self.returncode}\n{self.stdout}\n{self.stderr}"


@dataclass
class Workspace:
    root: Path
    bin_dir: Path
    stack: str = "dev"
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(
        cls,
        tmp: Path,
        bin_dir: Path,
        project: Path = REPO,
        main: str | None = "program",
        stack: str = "dev",
    ) -> Workspace:
        """Copy ``project``'s Pulumi.yaml, stack file and program folder ``main`` (``None``: the
        project folder is the program, copied whole) into ``tmp``."""
        root = tmp / "project"
        skip = shutil.ignore_patterns("__pycache__")
        if main is None:
            shutil.copytree(project, root, ignore=skip)
        else:
            root.mkdir(parents=True)
            for name in ("Pulumi.yaml", f"Pulumi.{stack}.yaml"):
                if (project / name).exists():
                    shutil.copy2(project / name, root / name)
            shutil.copytree(project / main, root / main, ignore=skip)
        # Pulumi.yaml names the virtualenv `.venv` beside it: make it the one running the tests.
        (root / ".venv").symlink_to(Path(sys.prefix))
        (root / "policypack").symlink_to(REPO / "policypack")
        home, state = tmp / "pulumi-home", tmp / "state"
        state.mkdir()
        install_aws_plugin(home)
        env = plugin_env(
            PATH=os.pathsep.join(
                [str(bin_dir), str(Path(sys.executable).parent), os.environ.get("PATH", "")]
            ),
            PULUMI_HOME=str(home),
            PULUMI_BACKEND_URL=f"file://{state}",
            PULUMI_CONFIG_PASSPHRASE="",
            PULUMI_SKIP_UPDATE_CHECK="true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
            PULUMI_SKIP_CONFIRMATIONS="true",
            PULUMI_DIY_BACKEND_NO_LEGACY_WARNING="true",
        )
        for key in (
            "PULUMI_ACCESS_TOKEN",
            "AWS_PROFILE",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
        ):
            env.pop(key, None)
        ws = cls(root=root, bin_dir=bin_dir, stack=stack, env=env)
        ws.run("stack", "init", stack, "--secrets-provider", "passphrase", check=True)
        return ws

    def run(self, *args: str, check: bool = False, timeout: float = 600) -> Result:
        start = time.perf_counter()
        done = subprocess.run(
            [str(self.bin_dir / "pulumi"), *args, "--non-interactive"],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        result = Result(
            list(args), done.returncode, done.stdout, done.stderr, time.perf_counter() - start
        )
        if check and done.returncode != 0:
            raise AssertionError(str(result))
        return result

    def preview(self, *extra: str, pack: Path | None = PACK, config: Path | None = None) -> Result:
        args = ["preview", "--stack", self.stack, "--color", "never"]
        if pack is not None:
            args += ["--policy-pack", str(pack)]
        if config is not None:
            args += ["--policy-pack-config", str(config)]
        return self.run(*args, *extra)

    def up(self, *extra: str, pack: Path | None = PACK) -> Result:
        args = ["up", "--stack", self.stack, "--yes", "--skip-preview", "--color", "never"]
        if pack is not None:
            args += ["--policy-pack", str(pack)]
        return self.run(*args, *extra, check=True)
