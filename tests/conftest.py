"""Shared fixtures: the shipped price tables, the seed override, and resource builders."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from costline.core.model import Resource
from costline.pricing import load_price_book
from costline.readers._mock_server import RUNNER_MODULE

REPO = Path(__file__).resolve().parents[1]
SEED_OVERRIDE = REPO / "pricing" / "overrides" / "seed-template.yaml"

SERVED_PROBE = f"""
import os, sys
with open(os.environ["PROBE_FILE"], "w") as out:
    out.write(str({RUNNER_MODULE!r} in sys.modules))
"""
"""A program that writes to ``$PROBE_FILE`` whether it ran in a mock server's child (where the
runner is loaded as a module) rather than in the runner's own subprocess (where it is
``__main__``)."""


def run_python(code: str, **kwargs: Any) -> str:
    """What ``code`` prints in a fresh interpreter (this one's), which must exit 0."""
    return subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
        **kwargs,
    ).stdout


@pytest.fixture(autouse=True)
def _json_reports_match_the_schema(monkeypatch):
    """Every JSON report a test renders (``render(..., "json")``, ``--format json``) is validated
    against costline/review/report.schema.json."""
    import json

    import costline.render.templates
    from costline.review.sections import schema_problems

    original = costline.render.templates.to_json

    def checked(report):
        text = original(report)
        problems = schema_problems(json.loads(text))
        assert not problems, (
            f"JSON report breaks costline/review/report.schema.json: {problems[:3]}"
        )
        return text

    monkeypatch.setattr(costline.render.templates, "to_json", checked)


@pytest.fixture(scope="session")
def prices():
    return load_price_book("us-east-1")


@pytest.fixture(scope="session")
def seed_prices():
    return load_price_book("us-east-1", overrides=[SEED_OVERRIDE])


def make(type_token: str, name: str, urn: str | None = None, **properties) -> Resource:
    """A resource as the engine would send it (engine-encoded properties allowed)."""
    return Resource.from_engine(
        urn=urn or f"urn:pulumi:dev::costline-reference::{type_token}::{name}",
        type=type_token,
        name=name,
        properties=properties,
    )


LAMBDA = "aws:lambda/function:Function"
REST_API = "aws:apigateway/restApi:RestApi"
STAGE = "aws:apigateway/stage:Stage"
PROFILE = "aws:bedrock/inferenceProfile:InferenceProfile"
BUCKET = "aws:s3/bucket:Bucket"
DEEPSEEK_PROFILE_ARN = "arn:aws:bedrock:us-east-1::inference-profile/us.deepseek.r1-v1:0"


def seed_stack() -> list[Resource]:
    """The seed's scenario (10 developers × 100 calls/day): what the reference program declares."""
    daily = {"cost:daily-requests": "1000"}
    tokens = {
        "cost:input-tokens": "500",
        "cost:output-tokens": "500",
        "cost:bedrock-model": "deepseek.r1-v1:0",
    }
    api_urn = f"urn:pulumi:dev::costline-reference::{REST_API}::api"
    return [
        make(REST_API, "api", urn=api_urn, tags=daily),
        Resource.from_engine(
            urn=f"urn:pulumi:dev::costline-reference::{STAGE}::dev",
            type=STAGE,
            name="dev",
            properties={"stageName": "dev", "tags": daily},
            property_dependencies={"restApi": [api_urn]},
        ),
        make(
            LAMBDA,
            "api-handler",
            memorySize=512,
            timeout=30,
            runtime="python3.12",
            tags={**daily, "cost:avg-duration-ms": "1000", **tokens},
        ),
        make(
            PROFILE,
            "model",
            modelSource={"copyFrom": DEEPSEEK_PROFILE_ARN},
            tags={**daily, **tokens},
        ),
        make(
            BUCKET,
            "artifacts",
            tags={
                "cost:storage-gb": "40",
                "cost:monthly-get-requests": "30000",
                "cost:monthly-put-requests": "100",
            },
        ),
        make("aws:iam/role:Role", "api-handler-role"),
    ]


RESOURCE_LINES = {"resourceLinesAboveUsd": 0}


def with_resource_lines(config: dict | None = None) -> dict:
    """``config`` that also asks the pack for every priced resource's cost line (by default it
    reports only the stack's line), for tests that read a resource's line."""
    config = dict(config or {})
    own = config.get("cost-estimate", {})
    if isinstance(own, str):  # an enforcement level alone
        own = {"enforcementLevel": own}
    config["cost-estimate"] = {**RESOURCE_LINES, **own}
    return config


class ResourceLines:
    """A pack process whose every run asks for the resources' cost lines too."""

    def __init__(self, process) -> None:
        self.process = process

    def run(self, resources, config=None, *args, **kwargs):
        return self.process.run(resources, with_resource_lines(config), *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.process, name)


@pytest.fixture(scope="module")
def pack():
    """costline's policy pack in its own process, played over gRPC as the engine does (one
    process per test module; each ``run`` configures it anew, as a new preview would)."""
    from costline.core.paths import data_dir
    from costline.engine import PolicyPackProcess

    with PolicyPackProcess(data_dir("policypack")) as process:
        yield process


def preview_file(tmp_path: Path, resources, project: str = "tests") -> Path:
    """A ``pulumi preview --json`` file that creates ``resources``, (type, name, inputs) each."""
    import json

    steps = []
    for type_, name, inputs in resources:
        urn = f"urn:pulumi:dev::{project}::{type_}::{name}"
        state = {"urn": urn, "type": type_, "custom": True, "inputs": inputs}
        steps.append({"op": "create", "urn": urn, "newState": state})
    path = tmp_path / "preview.json"
    path.write_text(json.dumps({"steps": steps}))
    return path


def costline_on(command: str, preview: Path | str, *args: str):
    """``costline COMMAND --from-preview PREVIEW ARGS`` without what-if rows or recommendations
    (the figures and the gate alone)."""
    from click.testing import CliRunner

    from costline.cli.main import main

    return CliRunner().invoke(
        main,
        [
            command,
            "--from-preview",
            str(preview),
            "--what-if",
            "none",
            "--no-recommendations",
            *args,
        ],
    )


def program_with_config(program: Path, tmp_path: Path, dev_yaml: str) -> Path:
    """A copy of the fixture ``program`` (``Pulumi.yaml``, ``__main__.py``) under ``tmp_path``
    whose only stack, ``dev``, has ``dev_yaml`` as its ``Pulumi.dev.yaml``."""
    copy = tmp_path / "program"
    copy.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        (copy / name).write_text((program / name).read_text())
    (copy / "Pulumi.dev.yaml").write_text(dev_yaml)
    return copy
