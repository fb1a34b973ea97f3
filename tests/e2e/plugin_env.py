"""Installing and starting the test plugins (tests/e2e/plugins/) the way the engine does."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

PLUGINS = Path(__file__).resolve().parent / "plugins"


def aws_plugin_version() -> str:
    """The provider version pulumi_aws asks the engine for (its pulumi-plugin.json)."""
    meta = json.loads(resources.files("pulumi_aws").joinpath("pulumi-plugin.json").read_text())
    return str(meta["version"])


def install_aws_plugin(pulumi_home: Path) -> Path:
    """Install the test provider in the plugin cache, where the engine looks for
    ``resource-aws-v<version>/pulumi-resource-aws`` (sdk/go/common/workspace/plugins.go)."""
    version = aws_plugin_version()
    target = pulumi_home / "plugins" / f"resource-aws-v{version}"
    target.mkdir(parents=True, exist_ok=True)
    for name in ("plugin_server.py", "aws_provider.py", "pulumi-resource-aws"):
        shutil.copy2(PLUGINS / name, target / name)
    return target


def plugin_env(**extra: str) -> dict[str, str]:
    """Environment for the plugins: the interpreter running the tests serves them."""
    env = dict(os.environ)
    env["COSTLINE_E2E_PYTHON"] = sys.executable
    env["COSTLINE_E2E_AWS_VERSION"] = aws_plugin_version()
    env.update(extra)
    return env


def start_plugin(
    executable: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen, int]:
    """Start a plugin as the engine does and read the port it prints on its first line."""
    proc = subprocess.Popen(
        [str(executable), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env or plugin_env(),
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.strip().isdigit():
        proc.kill()
        _, err = proc.communicate(timeout=10)
        raise RuntimeError(f"{executable.name} printed {line!r} instead of a port: {err}")
    return proc, int(line)
