"""``costline pack build``: a pack folder that installs with no package index and runs.

The built pack is installed into a fresh virtual environment with ``pip install --no-index``
(from another working directory, so the wheels are found relative to requirements.txt), then
driven over the real gRPC Analyzer protocol with that environment's Python: nothing of this
checkout is importable there.
"""

from __future__ import annotations

import subprocess
import venv
from pathlib import Path

import pytest
from click.testing import CliRunner

from costline.cli.main import main
from costline.core.paths import data_dir
from costline.engine import PolicyPackProcess
from costline.engine.preview import engine_resource
from tests.conftest import seed_stack


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pack") / "costline-pack"
    result = CliRunner().invoke(main, ["pack", "build", str(out)])
    assert result.exit_code == 0, result.output
    assert f"pulumi policy publish {out}" in result.output
    return out


@pytest.fixture(scope="module")
def installed(built, tmp_path_factory) -> Path:
    """The pack installed as the engine installs it (``virtualenv: venv``: a venv in the pack
    folder, then ``pip install -r requirements.txt``), but with no package index."""
    env = built / "venv"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    elsewhere = tmp_path_factory.mktemp("cwd")
    done = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-index",
            "-r",
            str(built / "requirements.txt"),
        ],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return python


def test_the_folder_is_a_python_pack_whose_requirements_need_no_index(built):
    assert sorted(p.name for p in built.iterdir() if p.name != "venv") == [
        "PulumiPolicy.yaml",
        "__main__.py",
        "requirements.txt",
        "wheels",
    ]
    policy_yaml = (built / "PulumiPolicy.yaml").read_text()
    assert policy_yaml.startswith("runtime:\n  name: python\n  options:\n    virtualenv: venv\n")
    assert "version: 0.1.0\n" in policy_yaml
    lines = (built / "requirements.txt").read_text().splitlines()
    pins = [line for line in lines if line and not line.startswith(("#", "--"))]
    assert "--no-index" in lines and "--find-links wheels" in lines
    assert all("==" in pin for pin in pins)
    wheels = {p.name.split("-")[0].lower().replace("_", "-") for p in (built / "wheels").iterdir()}
    assert {pin.split("==")[0] for pin in pins} == wheels
    assert {"costline", "pulumi", "pulumi-policy", "grpcio", "protobuf"} <= wheels
    assert "pulumi-aws" not in wheels  # the pack never imports the AWS SDK
    assert (built / "__main__.py").read_text() == (
        data_dir("policypack") / "__main__.py"
    ).read_text()


def test_the_installed_pack_prices_the_reference_stack_over_grpc(built, installed):
    assert (
        subprocess.run(  # the checkout is not what runs: costline comes from the vendored wheel
            [
                str(installed),
                "-c",
                "import costline, sys; sys.exit('site-packages' not in costline.__file__)",
            ],
            cwd=built,
            check=False,
        ).returncode
        == 0
    )
    config = {"stack-budget": {"enforcementLevel": "mandatory", "monthlyBudgetUsd": 50}}
    with PolicyPackProcess(built) as pack:  # the shim's choice: the pack's venv/bin/python
        assert pack.interpreter == str(installed)
        result = pack.run([engine_resource(r) for r in seed_stack()], config)
    assert result.mandatory
    (violation,) = result.by_policy("stack-budget")
    assert "~$102.29/month is over the budget $50.00 by $52.29" in violation.message


def test_a_folder_that_is_not_empty_is_refused(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    result = CliRunner().invoke(main, ["pack", "build", str(tmp_path)])
    assert result.exit_code == 2
    assert "exists and is not an empty folder" in result.output
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_the_checked_in_pack_names_no_unpublished_package():
    text = (data_dir("policypack") / "requirements.txt").read_text()
    requirements = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert not any(line.lower().startswith("costline") for line in requirements)


def test_the_wheel_option_needs_a_costline_wheel(tmp_path):
    wheel = tmp_path / "other-1.0-py3-none-any.whl"
    wheel.write_bytes(b"")
    result = CliRunner().invoke(
        main, ["pack", "build", str(tmp_path / "out"), "--wheel", str(wheel)]
    )
    assert result.exit_code == 2 and "not a costline wheel file" in result.output
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == [wheel.name]  # no staging folder left behind
