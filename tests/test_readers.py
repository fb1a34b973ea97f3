"""Readers: preview JSON and stack export fixtures, every malformed-input case, and the mock runner
on tiny programs (which import only ``pulumi``, not ``pulumi_aws``)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from costline.core.values import SECRET_SIGNATURE, SIGNATURE_KEY, UNKNOWN
from costline.readers import (
    InputFileError,
    ProgramError,
    auto_detect,
    read_preview,
    read_stack_export,
)
from costline.readers.mocks import mock_run, run_program
from costline.readers.region import detect_region

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PREVIEW = FIXTURES / "preview" / "reference-stack.preview.json"
EXPORT = FIXTURES / "stack-export" / "reference-stack.export.json"
URN = "urn:pulumi:dev::costline-reference::"
LAMBDA_URN = URN + "aws:lambda/function:Function::api-handler"
PROFILE_URN = URN + "aws:bedrock/inferenceProfile:InferenceProfile::model"
BUCKET_URN = URN + "aws:s3/bucket:Bucket::artifacts"
STACK_URN = URN + "pulumi:pulumi:Stack::costline-reference-dev"
EXPECTED_NAMES = {
    "costline-reference-dev",
    "default_7_51_1",
    "api",
    "proxy",
    "proxy-any",
    "model",
    "api-handler-role",
    "api-handler-basic-execution",
    "artifacts",
    "api-handler-invoke-model",
    "api-handler",
    "proxy-lambda",
    "api-deployment",
    "dev",
    "api-invoke-handler",
    "artifacts-public-access",
    "artifacts-versioning",
}


def by_urn(resources):
    return {r.urn: r for r in resources}


def load(path: Path):
    return json.loads(path.read_text())


def write(tmp_path: Path, data, name: str = "input.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


# --- pulumi preview --json ------------------------------------------------------------------------
def test_preview_fixture_parses_to_the_reference_stack():
    resources = read_preview(PREVIEW)
    assert {r.name for r in resources} == EXPECTED_NAMES
    assert resources[0].type == "pulumi:pulumi:Stack" and resources[0].urn == STACK_URN
    assert detect_region(resources) == "us-east-1"
    fn = by_urn(resources)[LAMBDA_URN]
    assert fn.type == "aws:lambda/function:Function"
    assert (
        fn.properties["memorySize"],
        fn.properties["timeout"],
        fn.properties["architectures"],
    ) == (512, 30, ["x86_64"])
    assert fn.properties["tags"]["cost:daily-requests"] == "1000"
    assert fn.parent == STACK_URN


def test_preview_unknowns_and_secrets():
    fn = by_urn(read_preview(PREVIEW))[LAMBDA_URN]
    variables = fn.properties["environment"]["variables"]
    # an output of another new resource: unknown until the update runs
    assert variables["BEDROCK_MODEL_ID"] is UNKNOWN
    assert fn.properties["role"] is UNKNOWN
    assert "environment.variables.BEDROCK_MODEL_ID" not in fn.secret_paths
    # a secret: the preview prints "[secret]"; costline reads it as a secret whose value is unknown
    assert variables["API_KEY"] is UNKNOWN
    assert fn.secret_paths == frozenset({"environment.variables.API_KEY"})
    assert variables["ARTIFACT_BUCKET"] == "artifacts-6668a20"


def test_preview_dependencies_and_property_dependencies():
    resources = by_urn(read_preview(PREVIEW))
    integration = resources[URN + "aws:apigateway/integration:Integration::proxy-lambda"]
    assert integration.property_dependencies["uri"] == (LAMBDA_URN,)
    fn = resources[LAMBDA_URN]
    assert set(fn.property_dependencies["environment"]) == {PROFILE_URN, BUCKET_URN}
    assert PROFILE_URN in fn.dependencies
    stage = resources[URN + "aws:apigateway/stage:Stage::dev"]
    assert stage.property_dependencies["restApi"] == (URN + "aws:apigateway/restApi:RestApi::api",)


def test_preview_uses_inputs_and_ignores_unknown_outputs():
    profile = by_urn(read_preview(PREVIEW))[PROFILE_URN]
    assert profile.properties["modelSource"]["copyFrom"].endswith(
        ":inference-profile/us.deepseek.r1-v1:0"
    )
    assert "arn" not in profile.properties  # an output, unknown during preview
    # unknown in the outputs; the provider has no default tags, so tagsAll is the tags
    assert profile.properties["tagsAll"] == profile.properties["tags"]


def _preview_with_default_tags(default_tags) -> dict:
    provider_urn = URN + "pulumi:providers:aws::default_7_51_1"
    return {
        "steps": [
            {
                "op": "create",
                "urn": provider_urn,
                "newState": {
                    "urn": provider_urn,
                    "type": "pulumi:providers:aws",
                    "inputs": {"region": "us-east-1", "defaultTags": default_tags},
                },
            },
            {
                "op": "create",
                "urn": LAMBDA_URN,
                "provider": provider_urn + "::04da6b54-80e4-46f7-96ec-b56ff0331ba9",
                "newState": {
                    "urn": LAMBDA_URN,
                    "type": "aws:lambda/function:Function",
                    "provider": provider_urn + "::04da6b54-80e4-46f7-96ec-b56ff0331ba9",
                    "inputs": {"memorySize": 1024, "tags": {"cost:monthly-requests": "3000000"}},
                    "outputs": {"tagsAll": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"},
                },
            },
        ]
    }


def test_a_previews_tags_all_is_worked_out_from_its_providers_default_tags(tmp_path):
    """A first preview's outputs hold tagsAll unknown; the provider's inputs (stack config
    aws:defaultTags, JSON text) say what it will be, as pulumi-aws computes it."""
    path = tmp_path / "preview.json"
    path.write_text(
        json.dumps(_preview_with_default_tags('{"tags": {"cost:avg-duration-ms": "500"}}'))
    )
    fn = by_urn(read_preview(path))[LAMBDA_URN]
    assert fn.properties["tagsAll"] == {
        "cost:avg-duration-ms": "500",
        "cost:monthly-requests": "3000000",
    }


def test_a_previews_tags_all_is_unknown_when_a_default_tag_is(tmp_path):
    path = tmp_path / "preview.json"
    path.write_text(json.dumps(_preview_with_default_tags("04da6b54-80e4-46f7-96ec-b56ff0331ba9")))
    fn = by_urn(read_preview(path))[LAMBDA_URN]
    assert fn.properties["tagsAll"] is UNKNOWN
    assert fn.properties["tags"] == {"cost:monthly-requests": "3000000"}


def _step(op, name, *, new=True, old=False, extra_inputs=None):
    urn = URN + f"aws:s3/bucket:Bucket::{name}"
    state = {
        "urn": urn,
        "custom": True,
        "type": "aws:s3/bucket:Bucket",
        "inputs": {"tags": {"cost:storage-gb": "1"}, **(extra_inputs or {})},
    }
    step = {"op": op, "urn": urn}
    if new:
        step["newState"] = state
    if old:
        step["oldState"] = copy.deepcopy(state)
    return step


def test_preview_ops_decide_what_is_in_the_stack(tmp_path):
    steps = [
        _step("same", "kept", new=True, old=True),
        _step("update", "updated", new=True, old=True),
        _step("create-replacement", "replaced", extra_inputs={"bucket": "new"}),
        _step("replace", "replaced", extra_inputs={"bucket": "new"}, old=True),
        _step("delete-replaced", "replaced", new=False, old=True),
        _step("delete", "deleted", new=False, old=True),
        _step("read", "external"),
        _step("discard", "discarded", new=False, old=True),
        _step("refresh", "refreshed", new=False, old=True),
    ]
    resources = read_preview(write(tmp_path, {"steps": steps}))
    assert [r.name for r in resources] == ["kept", "updated", "replaced", "refreshed"]
    assert resources[2].properties["bucket"] == "new"


def test_an_empty_preview_has_no_resources(tmp_path):
    assert read_preview(write(tmp_path, {"config": {}, "changeSummary": {}})) == []


# --- pulumi stack export --------------------------------------------------------------------------
def test_stack_export_fixture_parses_to_the_reference_stack():
    resources = read_stack_export(EXPORT)
    assert {r.name for r in resources} == EXPECTED_NAMES
    preview = by_urn(read_preview(PREVIEW))
    assert [r.urn for r in resources] == list(preview)  # same resources, same order
    for resource in resources:
        assert resource.type == preview[resource.urn].type
        assert resource.properties.get("tags") == preview[resource.urn].properties.get("tags")
    assert detect_region(resources) == "us-east-1"


def test_stack_export_secrets_known_values_and_tags_all():
    resources = by_urn(read_stack_export(EXPORT))
    fn = resources[LAMBDA_URN]
    variables = fn.properties["environment"]["variables"]
    assert variables["API_KEY"] is UNKNOWN  # ciphertext: encrypted, value unknown
    assert fn.secret_paths == frozenset({"environment.variables.API_KEY"})
    assert variables["BEDROCK_MODEL_ID"].startswith(
        "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/"
    )
    assert (
        fn.properties["tagsAll"] == fn.properties["tags"]
    )  # the output, merged for the usage contract
    assert resources[STACK_URN].properties["apiUrl"].startswith("https://")  # the stack's exports


def test_stack_export_plaintext_secrets_external_and_pending_delete(tmp_path):
    data = load(EXPORT)
    resources = data["deployment"]["resources"]
    fn = next(r for r in resources if r["urn"] == LAMBDA_URN)
    fn["inputs"]["environment"]["variables"]["API_KEY"] = {
        SIGNATURE_KEY: SECRET_SIGNATURE,
        "plaintext": '"s3cret"',
    }
    fn["inputs"]["tags"]["note"] = "[secret]"  # only previews blind secrets so; here it is a value
    external = copy.deepcopy(next(r for r in resources if r["urn"] == BUCKET_URN))
    external.update(urn=BUCKET_URN + "-shared", external=True)
    doomed = copy.deepcopy(external)
    doomed.update(urn=BUCKET_URN + "-old", external=False, delete=True)
    resources += [external, doomed]
    read = by_urn(read_stack_export(write(tmp_path, data)))
    assert read[LAMBDA_URN].properties["environment"]["variables"]["API_KEY"] == "s3cret"
    assert read[LAMBDA_URN].secret_paths == frozenset({"environment.variables.API_KEY"})
    assert read[LAMBDA_URN].properties["tags"]["note"] == "[secret]"
    assert len(read) == 17


def test_local_backend_checkpoint_files_are_read(tmp_path):
    data = load(EXPORT)
    checkpoint = {"version": 3, "checkpoint": {"stack": "dev", "latest": data["deployment"]}}
    assert len(read_stack_export(write(tmp_path, checkpoint))) == 17
    never_deployed = {"version": 3, "checkpoint": {"stack": "dev"}}
    assert read_stack_export(write(tmp_path, never_deployed, "empty.json")) == []


# --- auto-detection -------------------------------------------------------------------------------
def test_auto_detect_tells_preview_from_export():
    assert [r.urn for r in auto_detect(PREVIEW)] == [r.urn for r in read_preview(PREVIEW)]
    exported = auto_detect(EXPORT)
    assert exported[0].urn == STACK_URN and "apiUrl" in exported[0].properties


# --- malformed input: every case names the file and the field -------------------------------------
def _preview_with(mutate):
    data = load(PREVIEW)
    mutate(data)
    return data


def _export_with(mutate):
    data = load(EXPORT)
    mutate(data)
    return data


def _set(path, value):
    def mutate(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _delete(path):
    def mutate(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return mutate


MALFORMED_PREVIEWS = [
    ("top-level list", [1, 2], "top level: expected an object, got a list"),
    (
        "no steps",
        {"resources": []},
        "top level: expected the JSON printed by `pulumi preview --json`",
    ),
    ("steps not a list", {"steps": {}}, "steps: expected a list, got an object"),
    ("step not an object", {"steps": [1]}, "steps[0]: expected an object, got a number"),
    (
        "newState a list",
        _preview_with(_set(["steps", 3, "newState"], [])),
        "steps[3].newState: expected an object, got a list",
    ),
    (
        "create without newState",
        _preview_with(_delete(["steps", 2, "newState"])),
        "steps[2].newState: missing; a 'create' step needs the resource's new state",
    ),
    (
        "op missing",
        _preview_with(_delete(["steps", 1, "op"])),
        "steps[1].op: expected an operation name",
    ),
    (
        "bad urn",
        _preview_with(_set(["steps", 4, "newState", "urn"], "not-a-urn")),
        "steps[4].newState.urn: expected a Pulumi URN "
        "(urn:pulumi:<stack>::<project>::<type>::<name>), got 'not-a-urn'",
    ),
    (
        "urn mismatch",
        _preview_with(_set(["steps", 4, "urn"], URN + "aws:s3/bucket:Bucket::other")),
        "steps[4].newState.urn: ",
    ),
    (
        "inputs a string",
        _preview_with(_set(["steps", 2, "newState", "inputs"], "x")),
        "steps[2].newState.inputs: expected an object, got a string",
    ),
    (
        "type a number",
        _preview_with(_set(["steps", 2, "newState", "type"], 7)),
        "steps[2].newState.type: expected a type token such as aws:lambda/function:Function, got a "
        "number",
    ),
    (
        "dependencies an object",
        _preview_with(_set(["steps", 3, "newState", "dependencies"], {})),
        "steps[3].newState.dependencies: expected a list, got an object",
    ),
    (
        "dependency not a string",
        _preview_with(_set(["steps", 3, "newState", "dependencies"], [None])),
        "steps[3].newState.dependencies[0]: expected a URN string, got null",
    ),
    (
        "property dependency not a list",
        _preview_with(_set(["steps", 3, "newState", "propertyDependencies", "restApi"], "x")),
        "steps[3].newState.propertyDependencies.restApi: expected a list, got a string",
    ),
    (
        "parent not a string",
        _preview_with(_set(["steps", 3, "newState", "parent"], 1)),
        "steps[3].newState.parent: expected a URN string, got a number",
    ),
    ("a stack export", load(EXPORT), "looks like `pulumi stack export` output"),
]


@pytest.mark.parametrize(
    "case, data, expected", MALFORMED_PREVIEWS, ids=[c[0] for c in MALFORMED_PREVIEWS]
)
def test_malformed_previews_name_file_and_field(tmp_path, case, data, expected):
    path = write(tmp_path, data)
    with pytest.raises(InputFileError) as caught:
        read_preview(path)
    assert caught.value.path == str(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert expected in caught.value.message


MALFORMED_EXPORTS = [
    (
        "wrong version",
        _export_with(_set(["version"], 2)),
        "version: deployment schema version 2 is not supported (costline reads versions 3 and 4",
    ),
    (
        "version a string",
        _export_with(_set(["version"], "3")),
        "version: expected the deployment schema version 3, got a string",
    ),
    ("no version", _export_with(_delete(["version"])), "version: missing"),
    ("no deployment", {"version": 3}, "deployment: missing"),
    (
        "deployment a list",
        {"version": 3, "deployment": []},
        "deployment: expected an object, got a list",
    ),
    (
        "resources an object",
        _export_with(_set(["deployment", "resources"], {})),
        "deployment.resources: expected a list, got an object",
    ),
    (
        "resource a string",
        _export_with(_set(["deployment", "resources", 1], "x")),
        "deployment.resources[1]: expected an object, got a string",
    ),
    (
        "resource type missing and bad urn",
        _export_with(_set(["deployment", "resources", 5, "urn"], "urn:pulumi:dev")),
        "deployment.resources[5].urn: expected a Pulumi URN",
    ),
    (
        "outputs a list",
        _export_with(_set(["deployment", "resources", 5, "outputs"], [])),
        "deployment.resources[5].outputs: expected an object, got a list",
    ),
    ("a preview", load(PREVIEW), "looks like `pulumi preview --json` output"),
]


@pytest.mark.parametrize(
    "case, data, expected", MALFORMED_EXPORTS, ids=[c[0] for c in MALFORMED_EXPORTS]
)
def test_malformed_exports_name_file_and_field(tmp_path, case, data, expected):
    path = write(tmp_path, data)
    with pytest.raises(InputFileError) as caught:
        read_stack_export(path)
    assert caught.value.path == str(path)
    assert expected in caught.value.message


MALFORMED_FILES = [
    (
        "not json",
        "{not json",
        "is not valid JSON: Expecting property name enclosed in double quotes (line 1 column 2)",
    ),
    (
        "truncated mid-string",
        PREVIEW.read_text()[:2000],
        "is not complete JSON: it stops in the middle of a value",
    ),
    ("truncated between values", PREVIEW.read_text()[:2006].rstrip() + ",", "is not complete JSON"),
    ("empty", "  \n", "is empty; expected"),
    (
        "neither",
        {"hello": "world"},
        "is neither `pulumi preview --json` nor `pulumi stack export` output",
    ),
    ("latin-1", None, "is not UTF-8 text"),
]


@pytest.mark.parametrize(
    "case, content, expected", MALFORMED_FILES, ids=[c[0] for c in MALFORMED_FILES]
)
def test_unreadable_files(tmp_path, case, content, expected):
    if content is None:
        path = tmp_path / "input.json"
        path.write_bytes('{"steps": [], "x": "caf\xe9"}'.encode("latin-1"))
    else:
        path = write(tmp_path, content)
    with pytest.raises(InputFileError) as caught:
        auto_detect(path)
    assert str(caught.value).startswith(f"{path}: {expected}")


def test_a_missing_file(tmp_path):
    with pytest.raises(InputFileError, match=r"missing\.json: no such file"):
        read_preview(tmp_path / "missing.json")


def test_utf16_from_powershell_is_read(tmp_path):
    path = tmp_path / "preview.json"
    path.write_bytes(PREVIEW.read_text().encode("utf-16"))
    assert len(read_preview(path)) == 17


# --- the mock runner on tiny programs -------------------------------------------------------------
TINY_PROGRAM = """
import pulumi

config = pulumi.Config()
print("this goes to stderr, not into costline's JSON")
pulumi.log.warn("tiny: careful")
token = config.require_secret("token")
count = config.require_int("count")
parent = pulumi.ComponentResource("tiny:index:Group", "group")
thing = pulumi.CustomResource("tiny:index:Thing", "thing",
                              {"count": count, "nested": {"token": token}},
                              opts=pulumi.ResourceOptions(parent=parent))
other = pulumi.CustomResource("tiny:index:Thing", "other", {"ref": thing.id, "size": 2.0})
pulumi.export("thingId", thing.id)
"""


def _project(tmp_path: Path, program: str, stack_config: str) -> Path:
    (tmp_path / "Pulumi.yaml").write_text(
        "name: tiny\nruntime: python\nmain: src/\n"
        "config:\n  count:\n    type: integer\n    default: 1\n"
    )
    (tmp_path / "Pulumi.dev.yaml").write_text(stack_config)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "__main__.py").write_text(program)
    return tmp_path


def test_a_program_runs_with_secure_config_nested_parents_and_prints(tmp_path):
    project = _project(
        tmp_path, TINY_PROGRAM, "config:\n  tiny:count: 3\n  tiny:token:\n    secure: v1:abc\n"
    )
    run = mock_run(project / "src")  # the main directory: Pulumi.yaml is found in its parent
    resources = by_urn(run.resources)
    group_urn = "urn:pulumi:dev::tiny::tiny:index:Group::group"
    thing = resources[
        "urn:pulumi:dev::tiny::tiny:index:Group$tiny:index:Thing::thing"
    ]  # engine-style URN
    assert thing.parent == group_urn
    # derived from a `secure:` config value costline cannot decrypt: a secret, value unknown
    assert thing.properties == {"count": 3, "nested": {"token": UNKNOWN}}
    assert thing.secret_paths == frozenset({"nested.token"})
    other = resources["urn:pulumi:dev::tiny::tiny:index:Thing::other"]
    assert other.property_dependencies["ref"] == (thing.urn,)
    assert other.properties["size"] == 2
    assert run.outputs["thingId"] == "thing-" + run.outputs["thingId"].split("-")[1]
    assert "this goes to stderr" in run.stderr
    assert {"severity": "warning", "message": "tiny: careful"} in run.diagnostics
    assert run.secret_keys == {"tiny:token"}
    assert next(r.type for r in run.resources) == "pulumi:pulumi:Stack"
    # as the engine does, custom resources without an explicit provider get the package's default
    # one
    # with the package's config (here the project's own namespace) as inputs, secrets kept secret
    provider = resources["urn:pulumi:dev::tiny::pulumi:providers:tiny::default"]
    assert provider.properties == {"count": "3", "token": UNKNOWN}
    assert provider.secret_paths == frozenset({"token"})


STACK_WALKS = """
import traceback
import pulumi

walks = []
walk = traceback.extract_stack
traceback.extract_stack = lambda *args, **kwargs: walks.append(1) or walk(*args, **kwargs)
traceback.extract_stack()  # the program's own walk is counted: the probe works
things = [pulumi.CustomResource("tiny:index:Thing", f"thing-{i}", {"size": i}) for i in range(3)]
pulumi.export("walks", len(walks))
"""


def test_resources_are_registered_without_walking_the_programs_stack(tmp_path):
    """The SDK walks and formats the whole Python stack for each resource to send its source
    position, which costline never reads (a tenth of a run under mocks): the runner registers
    the three resources without it, and still registers them."""
    run = mock_run(_project(tmp_path, STACK_WALKS, "config: {}\n"))
    assert run.outputs["walks"] == 1  # the program's own; the SDK's would make it 4
    things = [r for r in run.resources if r.type == "tiny:index:Thing"]
    assert [t.properties for t in things] == [{"size": 0}, {"size": 1}, {"size": 2}]


def test_a_failing_program_is_a_one_line_program_error(tmp_path):
    project = _project(
        tmp_path,
        "import pulumi\n\nraise ValueError('boom:\\n  details')\n",
        "config:\n  tiny:count: 3\n",
    )
    with pytest.raises(ProgramError) as caught:
        run_program(project)
    assert str(caught.value).endswith(
        "failed under mocks (__main__.py:3): ValueError: boom: details"
    )
    assert "Traceback" in caught.value.stderr_tail


def test_missing_required_config_is_reported_as_pulumi_says(tmp_path):
    project = _project(tmp_path, TINY_PROGRAM, "config:\n  tiny:count: 3\n")
    with pytest.raises(ProgramError, match=r"Missing required configuration variable 'tiny:token'"):
        run_program(project, config={"count": "4"})


def test_only_python_projects_run(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: ts\nruntime: nodejs\n")
    with pytest.raises(
        ProgramError, match="runtime is 'nodejs'; costline runs Python programs only"
    ):
        run_program(tmp_path)


def test_a_broken_stack_file_is_an_input_file_error(tmp_path):
    project = _project(tmp_path, TINY_PROGRAM, "config: [unclosed\n")
    with pytest.raises(InputFileError, match=r"Pulumi.dev.yaml: is not valid YAML"):
        run_program(project)


PROGRAMS = Path(__file__).resolve().parent / "fixtures" / "programs"


def test_an_explicit_providers_default_tags_make_tags_all_and_stack_config_only_the_defaults():
    """pulumi-aws configures each provider from its own inputs: an explicit aws.Provider's
    default_tags reach the resources created with it; the stack config's aws:defaultTags are the
    default provider's inputs and reach only the resources on it."""
    resources = {r.name: r for r in run_program(PROGRAMS / "provider-default-tags")}
    assert resources["on-explicit"].properties["tagsAll"] == {
        "cost:avg-duration-ms": "500",
        "cost:monthly-requests": "3000000",
    }
    assert resources["on-default"].properties["tagsAll"] == {
        "cost:avg-duration-ms": "100",
        "cost:monthly-requests": "1000000",
    }
