"""The test AWS provider and the policy shim, driven as the engine drives them (gRPC / argv).

These need no Go toolchain and no Pulumi CLI; the end-to-end tests rely on what they pin.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import grpc
import pytest
from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from tests.e2e.plugin_env import PLUGINS, aws_plugin_version, start_plugin

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SECRET_SIG = "4dabf18193072939515e22adb298388d"
LAMBDA = "aws:lambda/function:Function"
URN = f"urn:pulumi:dev::proj::{LAMBDA}::fn"


def _struct(value: dict) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update(value)
    return out


def _dict(struct: struct_pb2.Struct) -> dict:
    return json_format.MessageToDict(struct)


@pytest.fixture(scope="module")
def provider_process():
    proc, port = start_plugin(PLUGINS / "pulumi-resource-aws", "127.0.0.1:0")
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    grpc.channel_ready_future(channel).result(timeout=30)
    yield provider_pb2_grpc.ResourceProviderStub(channel)
    channel.close()
    proc.kill()
    proc.communicate(timeout=10)


def configure(stub, **args) -> provider_pb2.ConfigureResponse:
    return stub.Configure(
        provider_pb2.ConfigureRequest(
            args=_struct({"region": "eu-west-1", **args}), acceptSecrets=True, acceptResources=True
        )
    )


def check(
    stub, news: dict, olds: dict | None = None, type_token: str = LAMBDA, name: str = "fn"
) -> dict:
    urn = f"urn:pulumi:dev::proj::{type_token}::{name}"
    response = stub.Check(
        provider_pb2.CheckRequest(
            urn=urn,
            name=name,
            type=type_token,
            news=_struct(news),
            olds=_struct(olds or {}),
            randomSeed=b"seed",
        )
    )
    assert not response.failures
    return _dict(response.inputs)


def test_configure_announces_preview_support_and_secrets(provider_process):
    response = configure(provider_process)
    assert response.supportsPreview and response.acceptSecrets and response.acceptResources


def test_plugin_info_is_the_version_pulumi_aws_asks_for(provider_process):
    from google.protobuf import empty_pb2

    assert provider_process.GetPluginInfo(empty_pb2.Empty()).version == aws_plugin_version()


def test_check_fills_lambda_defaults_and_keeps_given_values(provider_process):
    configure(provider_process)
    filled = check(provider_process, {"runtime": "python3.12"})
    assert (filled["memorySize"], filled["timeout"], filled["packageType"]) == (128, 3, "Zip")
    given = check(provider_process, {"memorySize": 512, "timeout": 30})
    assert (given["memorySize"], given["timeout"]) == (512, 30)


def test_check_autonames_and_keeps_the_old_name(provider_process):
    configure(provider_process)
    first = check(provider_process, {})
    assert first["name"].startswith("fn-") and len(first["name"]) == len("fn-") + 7
    again = check(provider_process, {}, olds={"name": "fn-abcdef0"})
    assert again["name"] == "fn-abcdef0"
    assert check(provider_process, {"name": "mine"})["name"] == "mine"


def test_tags_all_is_default_tags_under_resource_tags(provider_process):
    configure(provider_process, defaultTags={"tags": {"team": "core", "owner": "ops"}})
    inputs = check(provider_process, {"tags": {"owner": "me", "cost:monthly-requests": "1000"}})
    assert inputs["tagsAll"] == {"team": "core", "owner": "me", "cost:monthly-requests": "1000"}
    assert inputs["tags"] == {"owner": "me", "cost:monthly-requests": "1000"}


def test_default_tags_from_stack_config_arrive_as_json_text(provider_process):
    configure(provider_process, defaultTags='{"tags": {"team": "core"}}')
    assert check(provider_process, {"tags": {"b": "3"}})["tagsAll"] == {"team": "core", "b": "3"}


def test_tags_all_without_any_tag_is_empty(provider_process):
    configure(provider_process)
    assert check(provider_process, {})["tagsAll"] == {}


def test_tags_all_leaves_out_ignored_tags(provider_process):
    configure(
        provider_process,
        defaultTags={"tags": {"a": "1", "sys:x": "2"}},
        ignoreTags={"keys": ["a"], "keyPrefixes": ["sys:"]},
    )
    assert check(provider_process, {"tags": {"b": "3"}})["tagsAll"] == {"b": "3"}


def test_tags_all_is_unknown_when_a_tag_or_a_default_tag_is(provider_process):
    configure(provider_process, defaultTags={"tags": {"team": "core"}})
    assert check(provider_process, {"tags": {"owner": UNKNOWN}})["tagsAll"] == UNKNOWN
    configure(provider_process, defaultTags={"tags": {"team": UNKNOWN}})
    assert check(provider_process, {"tags": {"owner": "me"}})["tagsAll"] == UNKNOWN


def test_tags_all_is_secret_when_tags_are(provider_process):
    configure(provider_process, defaultTags={"tags": {"team": "core"}})
    secret_tags = {SECRET_SIG: "1b47061264138c4ac30d75fd1eb44270", "value": {"owner": "me"}}
    tags_all = check(provider_process, {"tags": secret_tags})["tagsAll"]
    assert tags_all[SECRET_SIG] == "1b47061264138c4ac30d75fd1eb44270"
    assert tags_all["value"] == {"team": "core", "owner": "me"}


def test_types_without_tags_get_no_tags_all(provider_process):
    configure(provider_process, defaultTags={"tags": {"team": "core"}})
    assert "tagsAll" not in check(
        provider_process,
        {"action": "lambda:InvokeFunction"},
        type_token="aws:lambda/permission:Permission",
        name="perm",
    )


def test_create_preview_returns_inputs_and_unknown_computed_outputs(provider_process):
    configure(provider_process)
    inputs = {"memorySize": 512, "timeout": 3, "tags": {"a": "1"}, "tagsAll": {"a": "1"}}
    response = provider_process.Create(
        provider_pb2.CreateRequest(
            urn=URN, type=LAMBDA, name="fn", properties=_struct(inputs), preview=True
        )
    )
    outputs = _dict(response.properties)
    assert response.id == ""
    assert outputs["memorySize"] == 512 and outputs["tagsAll"] == {"a": "1"}
    for computed in (
        "arn",
        "invokeArn",
        "qualifiedArn",
        "version",
        "architectures",
        "ephemeralStorage",
    ):
        assert outputs[computed] == UNKNOWN, computed


def test_create_preview_keeps_optional_computed_inputs_that_are_set(provider_process):
    configure(provider_process)
    response = provider_process.Create(
        provider_pb2.CreateRequest(
            urn=URN,
            type=LAMBDA,
            name="fn",
            preview=True,
            properties=_struct({"architectures": ["arm64"], "ephemeralStorage": {"size": 1024}}),
        )
    )
    outputs = _dict(response.properties)
    assert outputs["architectures"] == ["arm64"] and outputs["ephemeralStorage"] == {"size": 1024}


def test_create_fills_aws_defaults_and_identifiers(provider_process):
    configure(provider_process)
    response = provider_process.Create(
        provider_pb2.CreateRequest(
            urn=URN, type=LAMBDA, name="fn", properties=_struct({"name": "fn-1234567"})
        )
    )
    outputs = _dict(response.properties)
    assert response.id == "fn-1234567"
    assert outputs["architectures"] == ["x86_64"] and outputs["ephemeralStorage"] == {"size": 512}
    assert outputs["arn"].startswith("arn:aws:lambda:eu-west-1:123456789012:")
    assert outputs["invokeArn"].endswith(f"{outputs['arn']}/invocations")
    assert UNKNOWN not in str(outputs)


def _diff(stub, olds: dict, news: dict) -> provider_pb2.DiffResponse:
    return stub.Diff(
        provider_pb2.DiffRequest(
            id="fn-1",
            urn=URN,
            type=LAMBDA,
            name="fn",
            olds=_struct(olds),
            old_inputs=_struct(olds),
            news=_struct(news),
        )
    )


def test_diff_of_unchanged_inputs_is_none(provider_process):
    same = {"name": "fn-1", "memorySize": 128, "tags": {"a": "1"}, "tagsAll": {"a": "1"}}
    assert _diff(provider_process, same, dict(same)).changes == provider_pb2.DiffResponse.DIFF_NONE


def test_diff_reports_changed_and_unknown_inputs(provider_process):
    olds = {"name": "fn-1", "memorySize": 128, "timeout": 3}
    response = _diff(
        provider_process, olds, {"name": "fn-1", "memorySize": 256, "timeout": UNKNOWN}
    )
    assert response.changes == provider_pb2.DiffResponse.DIFF_SOME
    assert list(response.diffs) == ["memorySize", "timeout"] and not response.replaces


def test_diff_of_a_new_name_replaces(provider_process):
    response = _diff(provider_process, {"name": "fn-1"}, {"name": "fn-2"})
    assert list(response.replaces) == ["name"]


def test_invoke_answers_region_partition_and_account(provider_process):
    configure(provider_process)
    region = provider_process.Invoke(
        provider_pb2.InvokeRequest(tok="aws:index/getRegion:getRegion", args=_struct({}))
    )
    assert _dict(getattr(region, "return"))["region"] == "eu-west-1"
    who = provider_process.Invoke(
        provider_pb2.InvokeRequest(
            tok="aws:index/getCallerIdentity:getCallerIdentity", args=_struct({})
        )
    )
    assert _dict(getattr(who, "return"))["accountId"] == "123456789012"
    other = provider_process.Invoke(
        provider_pb2.InvokeRequest(tok="aws:ec2/getAmi:getAmi", args=_struct({}))
    )
    assert other.failures and "aws:ec2/getAmi:getAmi" in other.failures[0].reason


# --- the policy shim -------------------------------------------------------------------------


def _shim(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(PLUGINS / "pulumi-analyzer-policy-python"), *args],
        cwd=tmp_path,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_shim_runs_pulumi_policy_with_the_engine_arguments(tmp_path):
    done = _shim(tmp_path, "127.0.0.1:1234", ".", PULUMI_PYTHON_CMD="echo")
    assert done.returncode == 0 and done.stdout.split() == [
        "-u",
        "-m",
        "pulumi.policy",
        "127.0.0.1:1234",
        ".",
    ]


def test_shim_uses_the_pack_virtualenv(tmp_path):
    python = tmp_path / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text('#!/bin/sh\necho "venv python $*"\n')
    python.chmod(0o755)
    done = _shim(tmp_path, "127.0.0.1:1234", ".", "-virtualenv=venv")
    assert done.stdout.strip() == "venv python -u -m pulumi.policy 127.0.0.1:1234 ."


def test_shim_explains_a_missing_virtualenv(tmp_path):
    done = _shim(tmp_path, "127.0.0.1:1234", ".", "-virtualenv=nowhere")
    assert done.returncode == 1 and "nowhere" in done.stderr and "python3 -m venv" in done.stderr
