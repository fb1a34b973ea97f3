"""The costline policy pack, driven over the real gRPC Analyzer protocol as the engine drives it.

One pack process serves the module (each ``run`` reconfigures it, as a new preview would);
tests that need a different environment start their own.
"""

from __future__ import annotations

import json

import pytest

from costline.core.paths import data_dir
from costline.core.values import UNKNOWN_NUMBER, UNKNOWN_STRING
from costline.engine import EngineResource, PolicyPackProcess, make_urn, secret
from costline.engine.preview import engine_resource, format_policies
from tests.conftest import BUCKET, LAMBDA, ResourceLines, run_python, seed_stack

PACK = data_dir("policypack")
POLICIES = {"cost-estimate", "stack-budget", "resource-budget", "usage-tags", "lambda-worst-case"}


@pytest.fixture(scope="module")
def pack():
    with PolicyPackProcess(PACK) as process:
        yield ResourceLines(process)  # tests read resources' cost lines


def reference() -> list[EngineResource]:
    return [engine_resource(r) for r in seed_stack()]


def lambda_resource(name="fn", **props) -> EngineResource:
    return EngineResource(urn=make_urn(LAMBDA, name), properties=props)


def messages(result, policy=None):
    return [v.message for v in result.violations if policy is None or v.policy_name == policy]


def test_pack_describes_its_policies_and_schemas(pack):
    info = pack.get_analyzer_info()
    assert info.name == "costline"
    assert {p.name for p in info.policies} == POLICIES
    assert all(p.enforcement_level == "advisory" for p in info.policies)
    budget = info.policy("stack-budget").config_schema["properties"]
    assert budget["monthlyBudgetUsd"]["type"] == "number"


def test_every_priced_resource_gets_an_advisory_estimate(pack):
    result = pack.run(reference())
    assert not result.mandatory
    by_urn = {v.urn: v.message for v in result.by_policy("cost-estimate")}
    stack = {r.name: r.urn for r in seed_stack()}
    assert (
        "api-handler (aws:lambda:Function): ~$0.00/month — 30,000 req × 1,000 ms × 512 MB, inside "
        "free tier" in by_urn[stack["api-handler"]]
    )
    assert "model (aws:bedrock:InferenceProfile): ~$101.25/month" in by_urn[stack["model"]]
    assert "dev (aws:apigateway:Stage): ~$0.11/month" in by_urn[stack["dev"]]
    assert "artifacts (aws:s3:Bucket): ~$0.93/month — 40 GB stored" in by_urn[stack["artifacts"]]
    summary = by_urn[""]
    assert "Stack total ~$102.29/month" in summary
    # staleness is judged by the prices the estimate used, never by the tables' oldest entry
    # (2025-02-28, in the footer only): any warning names a price this stack uses
    assert "price tables (version" not in summary
    assert "older than" not in summary or "the oldest price this estimate used" in summary
    assert all(v.enforcement_level == "advisory" for v in result.violations)


def test_mandatory_stack_budget_blocks_and_names_total_budget_and_drivers(pack):
    result = pack.run(
        reference(), {"stack-budget": {"enforcementLevel": "mandatory", "monthlyBudgetUsd": 50}}
    )
    assert result.mandatory
    (violation,) = result.by_policy("stack-budget")
    assert violation.enforcement_level == "mandatory"
    assert "~$102.29/month is over the budget $50.00 by $52.29" in violation.message
    assert "Top cost drivers: model $101.25, artifacts $0.93, dev $0.11" in violation.message


def test_budget_warning_stays_advisory_when_the_budget_is_mandatory(pack):
    result = pack.run(
        reference(),
        {
            "stack-budget": {
                "enforcementLevel": "mandatory",
                "monthlyBudgetUsd": 110,
                "warnAtPercent": 90,
            }
        },
    )
    assert not result.mandatory
    (warning,) = result.by_policy("stack-budget")
    assert warning.enforcement_level == "advisory"
    assert "92.9% of the budget $110.00" in warning.message  # $102.29 / $110, rounded down
    assert "headroom $7.71" in messages(result, "cost-estimate")[-1]


def test_within_budget_and_below_warning_reports_nothing(pack):
    result = pack.run(
        reference(), {"stack-budget": {"enforcementLevel": "mandatory", "monthlyBudgetUsd": 1000}}
    )
    assert result.by_policy("stack-budget") == []


def test_disabled_policy_reports_nothing(pack):
    result = pack.run(reference(), {"cost-estimate": "disabled"})
    assert result.by_policy("cost-estimate") == []


def test_all_mandatory_blocks_on_usage_problems(pack):
    broken = lambda_resource(memorySize=512, tags={"cost:daily-requests": "abc"})
    result = pack.run([*reference(), broken], {"all": "mandatory"})
    usage = [v for v in result.by_policy("usage-tags") if v.urn == broken.urn]
    assert usage and usage[0].enforcement_level == "mandatory"
    assert "cost:daily-requests='abc' is not a plain decimal number" in usage[0].message
    estimates = result.by_policy("cost-estimate")
    assert estimates and all(v.enforcement_level == "advisory" for v in estimates)


def test_all_mandatory_does_not_turn_estimates_into_blockers(pack):
    result = pack.run(reference(), {"all": "mandatory"})
    assert not result.mandatory
    assert len(result.by_policy("cost-estimate")) == 5


def test_resource_budget_by_name_and_by_type(pack):
    config = {
        "resource-budget": {
            "enforcementLevel": "mandatory",
            "maxMonthlyUsdByType": {BUCKET: 0.5},
            "maxMonthlyUsdByName": {"model": 100},
        }
    }
    result = pack.run(reference(), config)
    found = {v.urn.rsplit("::", 1)[-1]: v.message for v in result.by_policy("resource-budget")}
    assert set(found) == {"model", "artifacts"}
    assert "over its budget $100.00 by $1.25" in found["model"]
    assert "over its budget $0.50 by $0.43" in found["artifacts"]


@pytest.mark.parametrize(
    "tags, expected",
    [
        ({}, "no cost:monthly-requests or cost:daily-requests tag"),
        ({"cost:monthly-requests": "-5"}, "cost:monthly-requests='-5' is negative"),
        ({"cost:monthly-requests": "1e400"}, "cost:monthly-requests='1e400' uses an exponent"),
        ({"cost:monthly-requests": ""}, "cost:monthly-requests='' is empty"),
        (
            {"cost:monthly-requests": "100", "cost:avg-duration-ms": "fast"},
            "cost:avg-duration-ms='fast' is not a plain",
        ),
    ],
)
def test_missing_and_malformed_tags_name_the_tag_and_the_fix(pack, tags, expected):
    """A missing tag gets an example; a malformed one how to write it, with no figure of
    another size (the contract's example read as the fix of the value)."""
    fn = lambda_resource(tags=tags)
    result = pack.run([fn])
    usage = [v.message for v in result.by_policy("usage-tags") if v.urn == fn.urn]
    assert any(expected in m for m in usage), usage
    fix = (
        "add the tag cost:monthly-requests=30000" if not tags else " as a plain decimal number in "
    )
    assert any(fix in m for m in usage), usage


def test_fail_closed_prices_untagged_lambda_at_worst_case_so_budget_still_blocks(pack):
    fn = lambda_resource(memorySize=1024, timeout=900, tags={})
    config = {
        "usage-tags": {"failClosed": True},
        "stack-budget": {"enforcementLevel": "mandatory", "monthlyBudgetUsd": 100},
    }
    result = pack.run([fn], config)
    assert result.mandatory
    (estimate,) = [v.message for v in result.by_policy("cost-estimate") if v.urn == fn.urn]
    # Worked by hand: the worst case is 10M requests, each running to the 900 s timeout.
    # Requests: 10,000,000 - 1,000,000 free = 9,000,000 × $0.20/M = $1.80.
    # Duration: 10M × 900 s × 1 GB = 9,000,000,000 GB-s - 400,000 free = 8,999,600,000 GB-s:
    # the first 6,000,000,000 × $0.0000166667 = $100,000.20, the other 2,999,600,000 ×
    # $0.000015 = $44,994.00. Total $1.80 + $100,000.20 + $44,994.00 = $144,996.00.
    assert "\nfn (aws:lambda:Function): ~$144,996.00/month " in estimate, estimate
    assert any("fail-closed worst case" in m for m in messages(result, "usage-tags"))


def test_unknown_values_are_priced_with_stated_assumptions_not_the_sdk_message(pack):
    fn = lambda_resource(
        memorySize=UNKNOWN_NUMBER,
        role=UNKNOWN_STRING,
        tags={
            "cost:monthly-requests": "2000000",
            "cost:avg-duration-ms": "100",
            "cost:input-tokens": UNKNOWN_STRING,
        },
    )
    result = pack.run([fn])
    text = "\n".join(messages(result))
    assert "can't run policy" not in text
    assert (
        "fn (aws:lambda:Function): ~$0.20/month" in text
    )  # 1M billable requests; GB-s inside free tier
    profile = EngineResource(
        urn=make_urn("aws:bedrock/inferenceProfile:InferenceProfile", "p"),
        properties={
            "modelSource": {"copyFrom": UNKNOWN_STRING},
            "tags": {"cost:monthly-requests": "10"},
        },
    )
    result = pack.run([profile])
    (line,) = [
        m for m in messages(result, "cost-estimate") if "p (aws:bedrock:InferenceProfile)" in m
    ]
    assert (
        "is not a price" in line
        and "modelSource.copyFrom is not known until the update runs" in line
    )


def test_secrets_are_used_but_never_printed_or_reported(pack, tmp_path):
    report = tmp_path / "report.md"
    fn = lambda_resource(
        memorySize=512,
        tags={
            "cost:monthly-requests": secret("987654321"),
            "cost:avg-duration-ms": secret("31337.5"),
            "cost:input-tokens": secret("not-a-number-s3cr3t"),
        },
    )
    result = pack.run([fn], {"cost-estimate": {"reportPath": str(report)}})
    everything = "\n".join(messages(result)) + report.read_text() + format_policies(result, [])
    for value in ("987654321", "987,654,321", "31337", "31,337", "s3cr3t"):
        assert value not in everything
    assert "[secret]" in report.read_text()
    (estimate,) = [
        m
        for v in result.violations
        if v.urn == fn.urn and v.policy_name == "cost-estimate"
        for m in [v.message]
    ]
    assert "~$0.00/month" not in estimate  # the secret traffic was priced


def test_unpriced_type_is_counted_not_priced_without_crashing(pack):
    vm = EngineResource(
        urn=make_urn("aws:ec2/instance:Instance", "vm"), properties={"instanceType": "t3.micro"}
    )
    result = pack.run([*reference(), vm])
    assert "1 not priced" in messages(result, "cost-estimate")[-1]
    assert any(
        "vm (aws:ec2:Instance): not priced by costline" in m
        for m in messages(result, "cost-estimate")
    )


def test_a_component_is_free_but_an_unknown_custom_type_is_not_priced(pack):
    """The engine sends a provider with every custom resource and none with a component: a
    component type costline has never heard of groups resources and is never billed itself."""
    component = EngineResource(urn=make_urn("acme:index:Service", "orders"), custom=False)
    widget = EngineResource(
        urn=make_urn("acme:index:Widget", "w")
    )  # custom: gets acme's default provider
    result = pack.run([*reference(), component, widget])
    summary = messages(result, "cost-estimate")[-1]
    assert "1 not priced" in summary
    every = "\n".join(messages(result, "cost-estimate"))
    assert "w (acme:index:Widget): not priced by costline" in every
    assert "orders" not in every  # free by itself: not listed


def test_lambda_worst_case_flags_long_timeouts(pack):
    fn = lambda_resource(
        memorySize=1024,
        timeout=900,
        tags={"cost:monthly-requests": "5000000", "cost:avg-duration-ms": "200"},
    )
    result = pack.run([fn], {"lambda-worst-case": {"maxMultipleOfExpected": 10}})
    (violation,) = result.by_policy("lambda-worst-case")
    assert "if every request ran to the 900 s timeout" in violation.message
    assert violation.urn == fn.urn


def test_internal_error_is_an_advisory_violation_not_a_broken_preview(pack, tmp_path):
    config = {
        "cost-estimate": {"priceOverrides": [str(tmp_path / "missing.yaml")]},
        "stack-budget": {"enforcementLevel": "mandatory", "monthlyBudgetUsd": 1},
    }
    result = pack.run(reference(), config)
    errors = [v for v in result.violations if "could not run policy" in v.message]
    assert errors and all(v.enforcement_level == "advisory" for v in errors)
    assert "missing.yaml" in errors[0].message


def test_five_hundred_resources(pack):
    resources = [
        lambda_resource(
            f"fn-{i}",
            memorySize=256,
            tags={"cost:monthly-requests": "100000", "cost:avg-duration-ms": "120"},
        )
        for i in range(500)
    ]
    result = pack.run(resources)
    assert len(result.by_policy("cost-estimate")) == 501
    summary = messages(result, "cost-estimate")[-1]
    # 50M requests: 49M billable × $0.20/M = $9.80; 1,500,000 GB-s - 400,000 free = 1.1M ×
    # $0.0000166667.
    assert "Stack total ~$28.13/month" in summary
    assert (
        "501 resources: 500 priced, 1 free" in summary
    )  # and the default AWS provider the engine sends


def test_report_path_from_environment(tmp_path):
    report = tmp_path / "env-report.md"
    with PolicyPackProcess(PACK, env={"COSTLINE_REPORT_PATH": str(report)}) as process:
        process.run(reference())
    text = report.read_text()
    assert text.startswith("## 💰 costline: $102.29/month")


def test_invalid_config_is_rejected_like_the_engine_does(pack):
    from costline.engine import HarnessConfigError

    with pytest.raises(HarnessConfigError) as excinfo:
        pack.configure({"stack-budget": {"monthlyBudgetUsd": "fifty"}})
    assert "monthlyBudgetUsd" in str(excinfo.value)
    json.dumps([p.policy for p in excinfo.value.problems])


def test_an_unknown_tags_all_is_unknown_not_absent(pack):
    """On a first preview pulumi-aws makes a resource's whole tagsAll unknown when any tag or
    provider default tag is: a usage tag the resource does not declare itself may be a default
    tag, so the pack says it is not known until the update, never "add the tag"."""
    from costline.engine import UNKNOWN_OBJECT, ProviderResource

    provider = ProviderResource(
        "urn:pulumi:dev::costline-reference::pulumi:providers:aws::tagged",
        properties={"defaultTags": UNKNOWN_STRING},
    )
    fn = EngineResource(
        urn=make_urn(LAMBDA, "fn"),
        properties={
            "memorySize": 1024,
            "tags": {"cost:monthly-requests": "3000000"},
            "tagsAll": UNKNOWN_OBJECT,
        },
        provider=provider,
    )
    result = pack.run([fn])
    usage = [v.message for v in result.by_policy("usage-tags") if v.urn == fn.urn]
    assert any(
        "tags are not known until the update runs, so cost:avg-duration-ms could not be read" in m
        for m in usage
    ), usage
    every = "\n".join(messages(result))
    assert "add the tag" not in every
    # the requests are known: 3M - 1M free = 2M × $0.20/M = $0.40; the duration is not priced
    (estimate,) = [m for m in messages(result, "cost-estimate") if "fn (aws:lambda" in m]
    assert "~$0.40/month" in estimate


def test_the_pack_starts_without_the_estimator_or_the_price_tables():
    """The engine starts every pack before any preview step, so what the pack imports at start-up
    delays every preview: the estimator, pricers and price tables load on the first
    AnalyzeStack. Loading the pack's module must not load them (it did, through a type the
    validators name)."""
    probe = (
        "import sys\n"
        "import costline.policy.pack\n"
        "heavy = ('costline.estimator', 'costline.pricers', 'costline.pricing', 'jinja2')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    assert run_python(probe).strip() == "[]"
