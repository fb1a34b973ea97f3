"""The engine harness, tested against real policy-pack processes over gRPC.

Packs: ``bench/noop_pack`` plus small throwaway packs written into a temporary directory. Each
long-lived pack is started once per module; the start-up failure packs once per test.
"""

from __future__ import annotations

import ast
import os
import socket
import textwrap
import time
from pathlib import Path

import grpc
import pytest

from costline.core.values import SECRET_SIGNATURE, SIGNATURE_KEY
from costline.engine import (
    UNKNOWN_NUMBER,
    UNKNOWN_STRING,
    UNUSED_ENGINE_ADDRESS,
    ConfigProblem,
    EngineResource,
    HarnessConfigError,
    HarnessError,
    HarnessRpcError,
    HarnessStartupError,
    NotApplicable,
    PolicyPackProcess,
    ProviderResource,
    ResourceOptions,
    from_struct,
    make_urn,
    parse_urn,
    secret,
    to_struct,
)

ROOT = Path(__file__).resolve().parents[1]
NOOP_PACK = ROOT / "bench" / "noop_pack"


def write_pack(directory: Path, main: str, *, version: str | None = "1.2.3") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    manifest = "runtime: python\n" + (f"version: {version}\n" if version else "")
    (directory / "PulumiPolicy.yaml").write_text(manifest)
    (directory / "__main__.py").write_text(textwrap.dedent(main))
    return directory


def detail(violation) -> str:
    """The policy's own message: the SDK prefixes it with the description and a newline."""
    assert violation.message.startswith(violation.description + "\n"), violation.message
    return violation.message[len(violation.description) + 1 :]


def wait_for(predicate, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def res(type_: str, name: str = "fn", **kwargs) -> EngineResource:
    return EngineResource(urn=make_urn(type_, name), **kwargs)


# ---------------------------------------------------------------------------------------------
# Packs

PROBE_PACK = """
import os
import sys
import time
from collections.abc import Mapping, Sequence

import pulumi
from pulumi_policy import PolicyPack, ResourceValidationPolicy, StackValidationPolicy


def plain(value):
    if isinstance(value, Mapping):
        return {k: plain(value[k]) for k in value}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [plain(v) for v in value]
    return value


def probe(args, report_violation):
    kind = args.resource_type.rsplit(":", 1)[-1]
    if kind == "Echo":
        report_violation(repr(plain(args.props)))
    elif kind == "Env":
        report_violation(repr({
            "project": pulumi.get_project(),
            "stack": pulumi.get_stack(),
            "organization": pulumi.get_organization(),
            "dry_run": pulumi.runtime.is_dry_run(),
            "budget": pulumi.Config().get("budget"),
            "region": pulumi.Config("aws").get("region"),
            "cwd": os.getcwd(),
            "argv": sys.argv[1:],
            "stack_tags": dict(args.stack_tags),
            "name": args.name,
            "parent": args.opts.parent,
            "protect": args.opts.protect,
            "provider": (
                args.provider.resource_type, args.provider.name, plain(args.provider.props)
            ),
        }))
    elif kind == "Contains":
        if "memorySize" in args.props:
            report_violation("has memorySize")
    elif kind == "Log":
        pulumi.log.warn("hello-from-policy " + args.name)
    elif kind == "Chatty":
        sys.stdout.write("o" * 200_000 + "\\n")
        sys.stderr.write("e" * 200_000 + "\\n")
        sys.stdout.flush()
        sys.stderr.flush()
    elif kind == "Boom":
        raise ValueError("boom at " + args.name)
    elif kind == "Sleep":
        time.sleep(args.props["seconds"])
    elif kind == "NotMine":
        args.not_applicable("only probes")


def graph(args, report_violation):
    for r in args.resources:
        if r.resource_type != "test:index:Graph":
            continue
        report_violation(repr({
            "name": r.name,
            "parent": r.parent.name if r.parent else None,
            "deps": sorted(d.name for d in r.dependencies),
            "propdeps": {k: [d.name for d in v] for k, v in r.property_dependencies.items()},
            "props": plain(r.props),
        }), r.urn)


PolicyPack(
    name="probe",
    policies=[
        ResourceValidationPolicy(name="probe", description="Probe.", validate=probe),
        StackValidationPolicy(name="graph", description="Graph.", validate=graph),
    ],
)
"""

CONFIG_PACK = """
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ResourceValidationPolicy,
    StackValidationPolicy,
)


def on_thing(validate):
    def wrapper(args, report_violation):
        if args.resource_type == "test:index:Thing":
            validate(args, report_violation)
    return wrapper


def always(args, report_violation):
    report_violation("reported")


def show_config(args, report_violation):
    report_violation(repr(dict(args.get_config())))


def reads_memory(args, report_violation):
    if args.resource_type == "test:index:Lambda" and args.props["memorySize"] > 1024:
        report_violation("memorySize over 1024")


def add_owner_tag(args):
    if args.resource_type != "test:index:Tagged":
        return None
    tags = args.props["tags"]
    if "owner" in tags:
        return None
    tags["owner"] = "platform"
    return args.props


def needs_owner_tag(args, report_violation):
    if args.resource_type == "test:index:Tagged" and "owner" not in args.props["tags"]:
        report_violation("no owner tag")


def stack_check(args, report_violation):
    if any(r.resource_type == "test:index:Thing" for r in args.resources):
        report_violation("a thing exists")


PolicyPack(
    name="config-probe",
    enforcement_level=EnforcementLevel.ADVISORY,
    initial_config={"initially-tuned": {"limit": 7}},
    policies=[
        ResourceValidationPolicy(name="soft-check", description="Soft.", validate=on_thing(always)),
        ResourceValidationPolicy(
            name="hard-check", description="Hard.", validate=on_thing(always),
            enforcement_level=EnforcementLevel.MANDATORY,
        ),
        ResourceValidationPolicy(
            name="tuned-check", description="Tuned.", validate=on_thing(show_config),
            enforcement_level=EnforcementLevel.MANDATORY,
            config_schema=PolicyConfigSchema(properties={
                "threshold": {"type": "integer", "default": 5, "minimum": 0},
                "label": {"type": "string", "enum": ["a", "b"]},
            }),
        ),
        ResourceValidationPolicy(
            name="initially-tuned", description="Initially tuned.", validate=on_thing(show_config),
            enforcement_level=EnforcementLevel.MANDATORY,
            config_schema=PolicyConfigSchema(properties={"limit": {"type": "number"}}),
        ),
        ResourceValidationPolicy(
            name="reads-memory", description="Reads memory.", validate=reads_memory,
            enforcement_level=EnforcementLevel.MANDATORY,
        ),
        ResourceValidationPolicy(
            name="add-owner-tag", description="Adds an owner tag.", remediate=add_owner_tag,
            enforcement_level=EnforcementLevel.REMEDIATE,
        ),
        ResourceValidationPolicy(
            name="needs-owner-tag", description="Needs an owner tag.", validate=needs_owner_tag,
            enforcement_level=EnforcementLevel.MANDATORY,
        ),
        StackValidationPolicy(
            name="stack-check", description="Stack.", validate=stack_check,
            enforcement_level=EnforcementLevel.MANDATORY,
        ),
    ],
)
"""

REQUIRED_PACK = """
from pulumi_policy import PolicyConfigSchema, PolicyPack, ResourceValidationPolicy


def show_owner(args, report_violation):
    report_violation("owner=" + repr(args.get_config()["owner"]))


PolicyPack(
    name="required-probe",
    policies=[
        ResourceValidationPolicy(
            name="owner-required", description="Owner required.", validate=show_owner,
            config_schema=PolicyConfigSchema(
                properties={"owner": {"type": "string"}}, required=["owner"]
            ),
        ),
    ],
)
"""


@pytest.fixture(scope="module")
def packs_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("packs")


@pytest.fixture(scope="module")
def engine_listener():
    """A socket standing in for the engine's gRPC server: nothing should ever dial it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    yield sock
    sock.close()


@pytest.fixture(scope="module")
def probe(packs_dir, engine_listener):
    host, port = engine_listener.getsockname()
    pack = write_pack(packs_dir / "probe", PROBE_PACK)
    with PolicyPackProcess(
        pack,
        config={"budget": 250, "aws:region": "eu-west-1"},
        legacy_env=True,  # an engine up to about v3.260: stack config in the environment too
        stack_tags={"team": "cost"},
        engine_address=f"{host}:{port}",
    ) as pp:
        pp.handshake()
        pp.configure_stack()
        yield pp


@pytest.fixture(scope="module")
def configured(packs_dir):
    pack = write_pack(packs_dir / "config", CONFIG_PACK, version="2.0.0")
    with PolicyPackProcess(pack) as pp:
        pp.handshake()
        pp.configure_stack()
        yield pp


@pytest.fixture(scope="module")
def noop():
    with PolicyPackProcess(NOOP_PACK) as pp:
        yield pp


# ---------------------------------------------------------------------------------------------
# Wire values (no process)


def test_to_struct_sends_numbers_as_doubles_and_keeps_envelopes():
    data = {"n": 128, "f": 0.5, "b": True, "none": None, "l": [1, "x"], "s": secret("pw")}
    struct = to_struct(data)
    assert struct.fields["n"].number_value == 128.0
    assert struct.fields["b"].bool_value is True
    assert struct.fields["none"].WhichOneof("kind") == "null_value"
    assert from_struct(struct) == {
        "n": 128.0,
        "f": 0.5,
        "b": True,
        "none": None,
        "l": [1.0, "x"],
        "s": {SIGNATURE_KEY: SECRET_SIGNATURE, "value": "pw"},
    }
    assert secret(1) == {SIGNATURE_KEY: SECRET_SIGNATURE, "value": 1}
    empties = {"l": [], "d": {}, "n": {"x": []}}
    assert from_struct(to_struct(empties)) == empties


def test_to_struct_skips_internal_keys_at_every_depth_only_when_asked():
    data = {"__defaults": [], "a": {"__meta": 1, "b": [{"__x": 1, "c": 2}]}}
    assert from_struct(to_struct(data, skip_internal_keys=True)) == {"a": {"b": [{"c": 2.0}]}}
    assert "__defaults" in from_struct(to_struct(data))


def test_to_struct_rejects_values_without_a_wire_form():
    with pytest.raises(TypeError, match=r"tags\.cost"):
        to_struct({"tags": {"cost": object()}})
    with pytest.raises(TypeError, match="x"):
        to_struct({"x": float("nan")})


def test_urns_round_trip_and_fill_type_and_name():
    urn = make_urn("aws:lambda/function:Function", "fn", parent_type="pulumi:pulumi:Stack")
    assert urn == (
        "urn:pulumi:dev::costline-reference::pulumi:pulumi:Stack$aws:lambda/function:Function::fn"
    )
    assert parse_urn(urn) == ("aws:lambda/function:Function", "fn")
    r = EngineResource(urn=urn)
    assert (r.type, r.name) == ("aws:lambda/function:Function", "fn")
    with pytest.raises(ValueError):
        parse_urn("not-a-urn")


# ---------------------------------------------------------------------------------------------
# The no-op pack (benchmark baseline)


def test_noop_pack_info_and_a_clean_run(noop):
    assert noop.startup_s is not None and noop.startup_s < 10
    assert noop.handshake() is None  # UNIMPLEMENTED in the Python SDK, tolerated like the engine
    resources = [
        res("aws:lambda/function:Function", f"fn{i}", properties={"memorySize": 128})
        for i in range(20)
    ]
    result = noop.run(resources, {"all": "mandatory"})
    assert result.info.name == "noop"
    assert result.info.version == "0.1.0"  # PulumiPolicy.yaml wins over the SDK's "0.0.1"
    assert [(p.name, p.policy_type, p.enforcement_level) for p in result.info.policies] == [
        ("noop-resource", "resource", "advisory"),
        ("noop-stack", "stack", "advisory"),
    ]
    assert result.config == {
        "noop-resource": {"enforcementLevel": "mandatory"},
        "noop-stack": {"enforcementLevel": "mandatory"},
        "all": {"enforcementLevel": "mandatory"},  # the engine sends "all" along too
    }
    assert result.violations == [] and not result.mandatory
    assert list(result.resource_violations) == [r.urn for r in resources]
    assert result.not_applicable == []


def test_process_is_killed_when_the_block_raises():
    pp = PolicyPackProcess(NOOP_PACK)
    with pytest.raises(KeyError), pp:
        assert pp.returncode is None
        raise KeyError("test")
    assert pp.returncode is not None
    with pytest.raises(HarnessError, match="not running"):
        pp.get_analyzer_info()


# ---------------------------------------------------------------------------------------------
# Launch environment


def test_pack_sees_the_engine_launch_environment(probe):
    provider = ProviderResource(
        urn=make_urn("pulumi:providers:aws", "default_7_0_0"), properties={"region": "eu-west-1"}
    )
    parent = make_urn("costline:index:Component", "svc")
    (v,) = probe.analyze(
        res(
            "test:index:Env",
            "env",
            parent=parent,
            provider=provider,
            options=ResourceOptions(protect=True),
        )
    )
    seen = ast.literal_eval(detail(v))
    assert seen == {
        "project": "costline-reference",
        "stack": "dev",
        "organization": "organization",
        "dry_run": True,
        "budget": "250",  # stack config values are strings on the wire
        "region": "eu-west-1",
        "cwd": str(probe.pack_dir),
        "argv": [probe.engine_address, "."],  # the engine passes "." with cwd = the pack
        "stack_tags": {"team": "cost"},
        "name": "env",
        "parent": parent,
        "protect": True,
        "provider": ("pulumi:providers:aws", "default_7_0_0", {"region": "eu-west-1"}),
    }
    assert probe.environment["PULUMI_DRY_RUN"] == "true"
    assert probe.environment["PULUMI_CONFIG"] == (
        '{"costline-reference:budget": "250", "aws:region": "eu-west-1"}'
    )


def test_like_v3_274_the_stack_config_is_only_in_configure_stack():
    """v3.274 starts a pack with the engine's own environment; the config and its secret keys
    travel in ConfigureStack only (pkg/resource/plugin/analyzer_plugin.go)."""
    pp = PolicyPackProcess(NOOP_PACK, config={"budget": 250}, secret_keys=["budget"])
    for key in ("PULUMI_CONFIG", "PULUMI_PROJECT", "PULUMI_STACK", "PULUMI_DRY_RUN"):
        assert pp.environment.get(key) == os.environ.get(key)
    assert pp.config == {"costline-reference:budget": "250"}
    assert pp.secret_keys == ["costline-reference:budget"]


def test_sdk_logs_to_stderr_and_never_dials_the_engine(probe, engine_listener):
    assert probe.analyze(res("test:index:Log", "logger")) == []
    assert wait_for(lambda: "warning: hello-from-policy logger" in probe.stderr_text)
    with pytest.raises(BlockingIOError):
        engine_listener.accept()  # no connection was ever attempted


# ---------------------------------------------------------------------------------------------
# Property encoding as the SDK sees it


def test_properties_arrive_as_the_sdk_decodes_them(probe):
    props = {
        "memorySize": 128,
        "name": "fn",
        "tags": {"owner": secret("alice"), "cost:input-tokens": secret(1000)},
        "list": [1, "a", None, True],
        "nested": {"__internal": 1, "ok": 2},
        "__defaults": ["name"],
    }
    (v,) = probe.analyze(res("test:index:Echo", properties=props))
    assert v.enforcement_level == "advisory"
    assert ast.literal_eval(detail(v)) == {
        "memorySize": 128.0,  # every number is a double on the wire
        "name": "fn",
        "tags": {"owner": "alice", "cost:input-tokens": 1000.0},  # secrets arrive unwrapped
        "list": [1.0, "a", None, True],
        "nested": {"ok": 2.0},  # "__" keys are dropped for Analyze
    }
    assert "1000.0" in v.message  # nothing marks the secret: a policy can print it


def test_reading_an_unknown_becomes_an_advisory_preview_diagnostic(probe):
    r = res("test:index:Echo", properties={"memorySize": UNKNOWN_NUMBER, "name": "fn"})
    (v,) = probe.analyze(r)
    assert v.policy_name == "probe"
    assert v.enforcement_level == "advisory"
    assert v.urn == r.urn  # the SDK sends "", the engine attributes it to the resource
    assert v.policy_pack_version == "1.2.3"
    assert v.message == (
        "can't run policy 'probe' from policy pack 'probe@v0.0.1' during preview: "
        "number value at .memorySize can't be known during preview"
    )
    (v,) = probe.analyze(res("test:index:Echo", properties={"l": ["a", UNKNOWN_STRING]}))
    assert v.message.endswith("string value at .l.1 can't be known during preview")


def test_even_a_membership_test_on_an_unknown_aborts_the_policy(probe):
    (v,) = probe.analyze(res("test:index:Contains", properties={"memorySize": UNKNOWN_NUMBER}))
    assert "can't run policy 'probe'" in v.message
    (v,) = probe.analyze(res("test:index:Contains", properties={"memorySize": 512}))
    assert detail(v) == "has memorySize"


def test_stack_policy_gets_outputs_and_the_resource_graph(probe):
    comp = res("test:index:Graph", "svc")
    fn = res(
        "test:index:Graph",
        "fn",
        parent=comp.urn,
        dependencies=[comp.urn],
        property_dependencies={"role": [comp.urn], "empty": []},
        properties={"memorySize": 128},
        outputs={"memorySize": 256, "arn": secret("arn:aws:lambda:fn")},
    )
    other = res("test:index:Other", "x")
    violations = probe.analyze_stack([comp, fn, other])
    by_urn = {v.urn: ast.literal_eval(detail(v)) for v in violations}
    assert by_urn[fn.urn] == {
        "name": "fn",
        "parent": "svc",
        "deps": ["svc"],
        "propdeps": {"role": ["svc"]},  # properties without dependencies are not sent
        "props": {"memorySize": 256.0, "arn": "arn:aws:lambda:fn"},
    }
    assert by_urn[comp.urn]["parent"] is None
    assert len(violations) == 2


def test_not_applicable_is_collected_by_run(probe):
    result = probe.run([res("test:index:NotMine", "nm")])
    assert result.violations == []
    assert NotApplicable("probe", "only probes", make_urn("test:index:NotMine", "nm")) in (
        result.not_applicable
    )


# ---------------------------------------------------------------------------------------------
# Robustness


def test_a_raising_policy_fails_the_rpc_like_the_engine_sees_it(probe):
    with pytest.raises(HarnessRpcError) as e:
        probe.analyze(res("test:index:Boom", "kaboom"))
    assert e.value.code == grpc.StatusCode.UNKNOWN
    assert e.value.method == "Analyze"
    # All the engine gets is the message: no traceback, not even on the pack's stderr.
    assert e.value.details == "Exception calling application: boom at kaboom"
    assert "Traceback" not in probe.stderr_text
    with pytest.raises(HarnessRpcError, match="boom at kaboom"):
        probe.run([res("test:index:Boom", "kaboom")])
    assert probe.analyze(res("test:index:Log", "after")) == []  # the pack keeps serving


def test_a_chatty_pack_cannot_deadlock_the_harness(probe):
    for i in range(5):
        assert probe.analyze(res("test:index:Chatty", f"c{i}")) == []
    assert wait_for(lambda: probe.stdout_text.count("o") >= 1_000_000)
    assert wait_for(lambda: probe.stderr_text.count("e" * 200_000) >= 5)


def test_a_hung_policy_hits_the_rpc_deadline(probe):
    saved, probe.rpc_timeout_s = probe.rpc_timeout_s, 0.3
    try:
        t0 = time.monotonic()
        with pytest.raises(HarnessRpcError) as e:
            probe.analyze(res("test:index:Sleep", properties={"seconds": 3}))
        assert e.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
        assert time.monotonic() - t0 < 2
    finally:
        probe.rpc_timeout_s = saved


def test_startup_timeout_kills_a_pack_that_prints_no_port(tmp_path):
    pack = write_pack(
        tmp_path,
        "import sys, time\nprint('warming up', file=sys.stderr, flush=True)\ntime.sleep(60)\n",
    )
    # 4 s, not 1: on a loaded machine Python alone can take over a second to print its first line
    pp = PolicyPackProcess(pack, startup_timeout_s=4.0)
    t0 = time.monotonic()
    with pytest.raises(HarnessStartupError, match="printed no port within 4 s") as e:
        pp.start()
    assert time.monotonic() - t0 < 30  # killed at the deadline, not after the pack's 60 s sleep
    assert "warming up" in str(e.value)
    assert pp.returncode is not None


def test_a_crashing_pack_reports_its_exit_code_and_stderr(tmp_path):
    pack = write_pack(tmp_path, "raise RuntimeError('pack is broken')\n")
    with pytest.raises(HarnessStartupError, match="exited with code 1") as e:
        PolicyPackProcess(pack).start()
    assert "RuntimeError: pack is broken" in str(e.value)
    assert "Program failed with an unhandled exception" in str(e.value)  # pulumi.log.error


def test_stdout_noise_before_the_port_is_fatal_as_in_the_engine(tmp_path):
    pack = write_pack(tmp_path, "import time\nprint('hello', flush=True)\ntime.sleep(60)\n")
    pp = PolicyPackProcess(pack)
    with pytest.raises(HarnessStartupError, match=r"non-numeric port to stdout \('hello'\)"):
        pp.start()
    assert pp.returncode is not None


def test_a_pack_that_exits_after_printing_its_port_fails_fast(tmp_path):
    pack = write_pack(tmp_path, "import sys\nprint(1, flush=True)\nsys.exit(3)\n")
    t0 = time.monotonic()
    with pytest.raises(HarnessStartupError, match="exited with code 3 after printing port 1"):
        PolicyPackProcess(pack).start()
    assert time.monotonic() - t0 < 5


def test_only_python_packs_are_accepted(tmp_path):
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: nodejs\n")
    with pytest.raises(HarnessStartupError, match="runtime is 'nodejs'"):
        PolicyPackProcess(tmp_path)


# ---------------------------------------------------------------------------------------------
# Config: reconciliation, enforcement levels, validation


def thing() -> EngineResource:
    return res("test:index:Thing", "thing")


def levels(violations) -> dict[str, str]:
    return {v.policy_name: v.enforcement_level for v in violations}


def test_analyzer_info_as_the_engine_reads_it(configured):
    info = configured.get_analyzer_info()
    assert info.name == "config-probe" and info.version == "2.0.0"
    assert [p.name for p in info.policies] == sorted(p.name for p in info.policies)
    tuned = info.policy("tuned-check")
    assert tuned.enforcement_level == "mandatory"
    assert tuned.config_schema == {
        "properties": {
            "threshold": {"type": "integer", "default": 5, "minimum": 0},
            "label": {"type": "string", "enum": ["a", "b"]},
        },
        "required": [],
    }
    assert info.policy("add-owner-tag").enforcement_level == "remediate"
    assert info.policy("stack-check").policy_type == "stack"
    # An initial_config entry without a level goes over the wire as level 0 = ADVISORY.
    assert info.initial_config == {"initially-tuned": {"enforcementLevel": "advisory", "limit": 7}}


def test_default_config_merges_schema_defaults_then_initial_config(configured):
    merged = configured.configure()
    assert merged["tuned-check"] == {"enforcementLevel": "mandatory", "threshold": 5}
    assert merged["soft-check"] == {"enforcementLevel": "advisory"}
    # ... so the pack's own initial_config silently downgrades a mandatory policy:
    assert merged["initially-tuned"] == {"enforcementLevel": "advisory", "limit": 7}
    violations = configured.analyze(thing())
    assert levels(violations) == {
        "soft-check": "advisory",
        "hard-check": "mandatory",
        "tuned-check": "mandatory",
        "initially-tuned": "advisory",
    }
    shown = {v.policy_name: detail(v) for v in violations}
    assert shown["tuned-check"] == "{'threshold': 5.0}"  # config numbers arrive as doubles too
    assert shown["initially-tuned"] == "{'limit': 7.0}"


def test_all_sets_every_level_and_a_policy_entry_overrides_it(configured):
    merged = configured.configure({"all": "mandatory", "soft-check": "disabled"})
    assert merged["all"] == {"enforcementLevel": "mandatory"}
    assert merged["soft-check"] == {"enforcementLevel": "disabled"}
    assert merged["initially-tuned"] == {"enforcementLevel": "mandatory", "limit": 7}
    assert levels(configured.analyze(thing())) == {
        "hard-check": "mandatory",
        "tuned-check": "mandatory",
        "initially-tuned": "mandatory",
    }


def test_policy_object_sets_level_and_properties(configured):
    merged = configured.configure(
        {"tuned-check": {"enforcementLevel": "advisory", "threshold": 3, "label": "b"}}
    )
    assert merged["tuned-check"] == {"enforcementLevel": "advisory", "threshold": 3, "label": "b"}
    (v,) = [v for v in configured.analyze(thing()) if v.policy_name == "tuned-check"]
    assert v.enforcement_level == "advisory"
    assert ast.literal_eval(detail(v)) == {"threshold": 3.0, "label": "b"}


def test_unknown_policy_names_are_accepted_silently_like_the_engine(configured):
    merged = configured.configure({"no-such-policy": "mandatory"})
    assert merged["no-such-policy"] == {"enforcementLevel": "mandatory"}


@pytest.mark.parametrize(
    ("user_config", "problem"),
    [
        (
            {"tuned-check": {"threshold": "lots"}},
            ("tuned-check", "threshold", "not of type 'integer'"),
        ),
        ({"tuned-check": {"threshold": -1}}, ("tuned-check", "threshold", "less than the minimum")),
        ({"tuned-check": {"label": "c"}}, ("tuned-check", "label", "is not one of ['a', 'b']")),
        ({"initially-tuned": {"limit": "7"}}, ("initially-tuned", "limit", "not of type 'number'")),
        ({"soft-check": "strict"}, ("soft-check", "", "not a valid enforcement level")),
        ({"soft-check": 5}, ("soft-check", "", "must be a string or object")),
        (
            {"soft-check": {"enforcementLevel": "loud"}},
            ("soft-check", "enforcementLevel", "not a valid enforcement level"),
        ),
    ],
)
def test_invalid_config_is_rejected_naming_policy_and_field(configured, user_config, problem):
    with pytest.raises(HarnessConfigError) as e:
        configured.configure(user_config)
    (p,) = e.value.problems
    assert (p.policy, p.field) == problem[:2]
    assert problem[2] in p.message
    assert problem[0] in str(e.value)


def test_integral_doubles_satisfy_integer_schemas(configured):
    merged = configured.configure({"tuned-check": {"threshold": 3.0}})
    assert merged["tuned-check"]["threshold"] == 3.0


def test_required_property_without_default(packs_dir):
    with PolicyPackProcess(write_pack(packs_dir / "required", REQUIRED_PACK)) as pp:
        with pytest.raises(HarnessConfigError) as e:
            pp.configure()
        assert e.value.problems == [
            ConfigProblem("owner-required", "owner", "'owner' is a required property")
        ]
        pp.configure({"owner-required": {"owner": "me"}})
        (v,) = pp.analyze(thing())
        assert detail(v) == "owner='me'"


# ---------------------------------------------------------------------------------------------
# The engine sequence: remediation before analysis, unknowns, mandatory


def test_run_remediates_before_analyzing(configured):
    tagged = res(
        "test:index:Tagged",
        "bucket",
        properties={"tags": {"cc": secret("4711")}, "__defaults": ["tags"]},
    )
    configured.configure()
    assert levels(configured.analyze(tagged)) == {"needs-owner-tag": "mandatory"}

    result = configured.run([tagged])
    assert result.resource_violations[tagged.urn] == []
    (rem,) = result.remediations[tagged.urn]
    assert rem.policy_name == "add-owner-tag" and rem.diagnostic == ""
    # Remediate keeps "__" keys and secret envelopes (the SDK proxies secrets there only).
    assert rem.properties == {
        "tags": {"cc": secret("4711"), "owner": "platform"},
        "__defaults": ["tags"],
    }
    assert result.analyzed[0].properties["tags"] == {"cc": secret("4711"), "owner": "platform"}
    assert NotApplicable("add-owner-tag", "Policy does not implement validate", tagged.urn) in (
        result.not_applicable
    )
    assert not result.mandatory


def test_run_reports_mandatory_and_downgrades_unknowns(configured):
    big = res("test:index:Lambda", "big", properties={"memorySize": 2048})
    unknown = res("test:index:Lambda", "preview", properties={"memorySize": UNKNOWN_NUMBER})
    result = configured.run([big, unknown, thing()])
    assert levels(result.resource_violations[big.urn]) == {"reads-memory": "mandatory"}
    (v,) = result.resource_violations[unknown.urn]
    assert v.enforcement_level == "advisory"  # a mandatory policy, muted by one unknown
    assert "can't run policy 'reads-memory'" in v.message
    (s,) = result.stack_violations
    assert (s.policy_name, s.urn, s.enforcement_level) == ("stack-check", "", "mandatory")
    assert result.mandatory

    only_unknown = configured.run([unknown])
    assert only_unknown.violations and not only_unknown.mandatory


def test_default_engine_address_is_unused_constant(noop):
    assert noop.engine_address == UNUSED_ENGINE_ADDRESS
    assert noop.command[-2:] == [UNUSED_ENGINE_ADDRESS, "."]
