"""What a first ``pulumi preview`` really sends the pack, over the real gRPC protocol.

On a first preview ``AnalyzeStack`` gets each resource's *outputs*: computed fields unknown,
and an empty map when the provider's config is not known yet; ``Analyze`` got its checked
*inputs* before. ``tagsAll`` (tags over the provider's default tags) is unknown when Check did
not run or a default tag is unknown. The pack prices what is known and says what is not.

Every figure below is a 1,024 MB x86_64 Lambda in us-east-1 at 3,000,000 requests a month of
500 ms, unless a test says otherwise (lambda.yaml, 2026-09-06):
requests 3M - 1M free = 2M × $0.20/M = $0.40; duration 3M × 0.5 s × 1 GB = 1,500,000 GB-s
- 400,000 free = 1,100,000 × $0.0000166667 = $18.33337; total $18.73337 → "$18.73".
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from costline.core.paths import data_dir
from costline.core.values import UNKNOWN_STRING
from costline.engine import (
    UNKNOWN_ARRAY,
    UNKNOWN_NUMBER,
    UNKNOWN_OBJECT,
    EngineResource,
    PolicyPackProcess,
    ProviderResource,
    make_urn,
)
from tests.conftest import ResourceLines

LAMBDA = "aws:lambda/function:Function"
USAGE = {"cost:monthly-requests": "3000000", "cost:avg-duration-ms": "500"}


@pytest.fixture(scope="module")
def pack():
    with PolicyPackProcess(data_dir("policypack")) as process:
        yield ResourceLines(process)  # tests read resources' cost lines


def provider(name="default_7_0_0", **inputs) -> ProviderResource:
    return ProviderResource(
        f"urn:pulumi:dev::costline-reference::pulumi:providers:aws::{name}", properties=inputs
    )


def lambda_line(result, name="fn") -> str:
    (line,) = [v.message for v in result.by_policy("cost-estimate") if v.urn.endswith(f"::{name}")]
    return line


def summary(result) -> str:
    return [v.message for v in result.by_policy("cost-estimate") if not v.urn][-1]


def test_empty_outputs_are_priced_from_the_analyze_inputs(pack):
    """The provider's config is not known: the engine sends the outputs as an empty map; the
    inputs Analyze got are what the resource will be."""
    fn = EngineResource(
        urn=make_urn(LAMBDA, "fn"),
        properties={"memorySize": 1024, "timeout": 10, "tags": USAGE},
        outputs={},
        provider=provider("assumed", assumeRoles=UNKNOWN_STRING),
    )
    result = pack.run([fn])
    assert "fn (aws:lambda:Function): ~$18.73/month" in lambda_line(result)
    assert "Stack total ~$18.73/month" in summary(result)


def test_tags_all_is_worked_out_from_the_providers_default_tags(pack):
    """Check did not run (config unknown), so the inputs have no tagsAll; the provider's own
    inputs carry its default tags (JSON text, as the AWS SDK sends them)."""
    fn = EngineResource(
        urn=make_urn(LAMBDA, "fn"),
        properties={"memorySize": 1024, "tags": {"cost:monthly-requests": "3000000"}},
        outputs={},
        provider=provider(
            "assumed",
            assumeRoles=UNKNOWN_STRING,
            defaultTags=json.dumps({"tags": {"cost:avg-duration-ms": "500"}}),
        ),
    )
    result = pack.run([fn])
    assert "fn (aws:lambda:Function): ~$18.73/month" in lambda_line(result)


def test_first_preview_outputs_unknown_computed_fields_and_tags_all(pack):
    """Outputs of a create on a first preview: inputs plus every computed field unknown,
    including the Optional+Computed ones the program left unset (architectures,
    ephemeralStorage), and tagsAll unknown. Unset means the AWS default (x86_64, 512 MB); the
    usage in the stack config's default tags (the default provider's inputs) counts."""
    inputs = {"memorySize": 1024, "timeout": 10, "tags": {"cost:monthly-requests": "3000000"}}
    fn = EngineResource(
        urn=make_urn(LAMBDA, "fn"),
        properties=inputs,
        outputs={
            **inputs,
            "arn": UNKNOWN_STRING,
            "invokeArn": UNKNOWN_STRING,
            "architectures": UNKNOWN_ARRAY,
            "ephemeralStorage": {"size": UNKNOWN_NUMBER},  # as the real engine sends it
            "tagsAll": UNKNOWN_OBJECT,
        },
        provider=provider(
            region="us-east-1", defaultTags=json.dumps({"tags": {"cost:avg-duration-ms": "500"}})
        ),
    )
    result = pack.run([fn])
    assert "fn (aws:lambda:Function): ~$18.73/month" in lambda_line(result)
    every = "\n".join(v.message for v in result.violations)
    assert "not known" not in every and "partly priced" not in every


def test_outputs_win_where_they_are_known(pack):
    """A second preview: the outputs are known and are what is priced (here 2,048 MB, so the
    duration is 3,000,000 GB-s - 400,000 free = 2,600,000 × $0.0000166667 = $43.33342, plus
    $0.40 of requests: $43.73342)."""
    fn = EngineResource(
        urn=make_urn(LAMBDA, "fn"),
        properties={"memorySize": UNKNOWN_NUMBER, "tags": USAGE},
        outputs={"memorySize": 2048, "tags": USAGE, "tagsAll": USAGE},
        provider=provider(),
    )
    result = pack.run([fn])
    assert "fn (aws:lambda:Function): ~$43.73/month" in lambda_line(result)


def test_an_unknown_default_tag_leaves_the_usage_unknown_not_missing(pack):
    """A default tag whose value is another resource's output: the provider's defaultTags is
    unknown, so is tagsAll; the duration is not known until the update, the requests are."""
    fn = EngineResource(
        urn=make_urn(LAMBDA, "fn"),
        properties={"memorySize": 1024, "tags": {"cost:monthly-requests": "3000000"}},
        outputs={},
        provider=provider("tagged", defaultTags=UNKNOWN_STRING),
    )
    result = pack.run([fn])
    usage = [v.message for v in result.by_policy("usage-tags") if v.urn == fn.urn]
    assert any("cost:avg-duration-ms could not be read" in m for m in usage), usage
    assert "add the tag" not in "\n".join(v.message for v in result.violations)
    # requests only: 3M - 1M free = 2M × $0.20/M
    assert "fn (aws:lambda:Function): ~$0.40/month" in lambda_line(result)


def test_a_resource_sent_with_no_properties_at_all_is_unknown_not_free(pack):
    """AnalyzeStack alone (no Analyze before it), empty outputs: nothing is known of the
    resource, and the stack diagnostic says its cost is not known."""
    fn = EngineResource(
        urn=make_urn(LAMBDA, "fn"),
        outputs={},
        provider=provider("assumed", assumeRoles=UNKNOWN_STRING),
    )
    pack.configure()
    violations = pack.analyze_stack([fn])
    stack_line = [v.message for v in violations if v.policy_name == "cost-estimate" and not v.urn]
    assert any(
        "fn: the engine sent none of its properties" in m and "its cost is not known" in m
        for m in stack_line
    ), stack_line
    assert "add the tag" not in "\n".join(v.message for v in violations)


def test_fail_closed_blocks_on_a_resource_whose_properties_are_not_known(pack):
    """Nothing is known of the Lambda, and there is no worst-case bound for "everything":
    a mandatory budget under failClosed fails, naming it (without failClosed the estimate is
    marked incomplete; a $0 resource would have passed)."""
    fn = EngineResource(
        urn=make_urn(LAMBDA, "fn"),
        outputs={},
        provider=provider("assumed", assumeRoles=UNKNOWN_STRING),
    )
    pack.configure(
        {
            "stack-budget": {"enforcementLevel": "mandatory", "monthlyBudgetUsd": 50},
            "usage-tags": {"failClosed": True},
        }
    )
    (budget,) = [v for v in pack.analyze_stack([fn]) if v.policy_name == "stack-budget"]
    assert budget.enforcement_level == "mandatory"
    assert "1 resource not fully priced: fn (not known until the update)" in budget.message


# --- what `costline preview` sends (the mock run as a first preview) ----------------------------
PROGRAMS = Path(__file__).resolve().parent / "fixtures" / "programs"


def _sent(program: str, *, first_preview: bool = True) -> dict[str, EngineResource]:
    from costline.engine.preview import engine_resources_from_states
    from costline.readers.mocks import mock_run, preview_states

    states = preview_states(mock_run(PROGRAMS / program, first_preview=first_preview))
    return {r.name: r for r in engine_resources_from_states(states)}


def test_a_first_preview_sends_cross_resource_values_unknown_and_the_edge_in_property_deps():
    sent = _sent("edge-traffic")
    integration, fn = sent["lambda"], sent["handler"]
    assert integration.properties["uri"] == UNKNOWN_STRING  # the Lambda's invokeArn
    assert integration.property_dependencies["uri"] == [fn.urn]
    assert fn.outputs is not None
    assert fn.outputs["arn"] == fn.outputs["invokeArn"] == UNKNOWN_STRING
    assert fn.outputs["architectures"] == UNKNOWN_ARRAY  # Optional+Computed, left unset
    assert fn.outputs["memorySize"] == 1024 and fn.properties["memorySize"] == 1024
    assert fn.provider is not None and fn.provider.type == "pulumi:providers:aws"
    assert fn.provider.properties["region"] == "us-east-1"


def test_an_existing_stack_sends_known_outputs():
    sent = _sent("edge-traffic", first_preview=False)
    fn = sent["handler"]
    assert fn.outputs is not None and fn.outputs["invokeArn"].startswith("arn:aws:apigateway:")
    assert sent["lambda"].properties["uri"] == fn.outputs["invokeArn"]


def test_a_provider_with_an_unknown_input_gets_empty_outputs_and_unchecked_inputs():
    fn = _sent("provider-config-unknown")["handler"]
    assert fn.outputs == {}
    assert "tagsAll" not in fn.properties  # Check did not run
    assert fn.provider is not None and fn.provider.properties["assumeRoles"] == UNKNOWN_STRING
    assert json.loads(fn.provider.properties["defaultTags"]) == {
        "tags": {"cost:avg-duration-ms": "500"}
    }


def test_the_kept_inputs_are_bounded_and_counted_when_dropped(monkeypatch):
    """The pack keeps each resource's Analyze inputs until AnalyzeStack, within a count and a
    byte limit; what is over them is counted (the stack diagnostic says so), never kept."""
    from google.protobuf import struct_pb2

    from costline.policy import bridge

    monkeypatch.setattr(bridge, "MAX_KEPT_INPUTS", 2)
    kept = bridge._KeptInputs()
    small = struct_pb2.Struct()
    small.update({"memorySize": 128})
    for urn in ("a", "b", "c"):
        kept.keep(urn, small)
    kept.keep("a", small)  # the same resource again replaces its inputs: not a drop
    assert sorted(kept.by_urn) == ["a", "b"] and kept.dropped == 1
    monkeypatch.setattr(bridge, "MAX_KEPT_INPUT_BYTES", small.ByteSize() * 2)
    big = struct_pb2.Struct()
    big.update({"code": "x" * 100})
    kept.forget()
    kept.keep("a", small)
    kept.keep("b", big)
    assert list(kept.by_urn) == ["a"] and kept.dropped == 1
    assert kept.size_bytes == small.ByteSize()


def test_traffic_follows_property_dependencies_when_the_reference_is_unknown(pack):
    """On a first preview the Lambda's environment variable holding the profile's ARN is
    unknown: the edge is in propertyDependencies, not in the value. The profile declares no
    traffic; the Lambda's 30,000 requests × 500 input and 500 output tokens flow to it:
    DeepSeek-R1 (bedrock.yaml) 15M input tokens × $1.35/M = $20.25 and 15M output tokens ×
    $5.40/M = $81.00, $101.25."""
    profile = EngineResource(
        urn=make_urn("aws:bedrock/inferenceProfile:InferenceProfile", "model"),
        properties={
            "modelSource": {
                "copyFrom": "arn:aws:bedrock:us-east-1::inference-profile/us.deepseek.r1-v1:0"
            }
        },
        provider=provider(),
    )
    fn = EngineResource(
        urn=make_urn(LAMBDA, "fn"),
        properties={
            "environment": {"variables": {"MODEL": UNKNOWN_STRING}},
            "tags": {
                "cost:monthly-requests": "30000",
                "cost:avg-duration-ms": "100",
                "cost:input-tokens": "500",
                "cost:output-tokens": "500",
            },
        },
        property_dependencies={"environment": [profile.urn]},
        dependencies=[profile.urn],
        provider=provider(),
    )
    result = pack.run([profile, fn])
    assert "model (aws:bedrock:InferenceProfile): ~$101.25/month" in lambda_line(result, "model")
    assert "Stack total ~$101.25/month" in summary(result)
