"""costline's CrossGuard policy pack: cost warnings in ``pulumi preview`` and budgets that block.

Every policy is a *stack* policy: AWS bills per account, so the free tier, volume tiers and
usage declared on several resources only make sense over the whole stack. Per-resource
findings are still reported against each resource's URN, so ``pulumi preview`` shows them
under the resource. The estimate is computed once per ``AnalyzeStack`` call and shared.

Policies (names are stable; configure them with ``--policy-pack-config``, see
:mod:`costline.policy.config`): ``cost-estimate``, ``stack-budget``, ``resource-budget``,
``usage-tags``, ``lambda-worst-case``. No exception escapes a policy: an internal error
becomes an advisory violation naming the policy and resource.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    PolicyPack,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from costline import __version__
from costline.core.limits import parse_json
from costline.core.model import Estimate, Finding, Resource, ResourceStatus, Severity
from costline.core.money import ZERO, format_usd, plain_number
from costline.core.text import one_line
from costline.policy import bridge
from costline.policy.config import (
    COST_ESTIMATE,
    LAMBDA_WORST_CASE,
    RESOURCE_BUDGET,
    SCHEMAS,
    STACK_BUDGET,
    USAGE_TAGS,
    PackSettings,
    config_problems,
    parse_settings,
)
from costline.readers.preview_values import (
    UNKNOWN_OBJECT,
    is_unknown_value,
    preview_properties,
    with_tags_all,
)
from costline.readers.region import DEFAULT_REGION, stack_region
from costline.render.summary import drivers_text, resource_line, stack_line
from costline.review.budget import (
    budget_text,
    fail_closed_message,
    over_by,
    resource_budget_message,
    stack_budget,
    worst_case_message,
    worst_case_reasons,
)
from costline.usage.stack_config import BUDGET_KEY, apply_stack_usage, stack_budget_usd
from costline.usage.tags import USAGE_FINDING_CODES

if TYPE_CHECKING:
    from costline.estimator.priced import PricedStack

# The estimator and the price tables load on the first AnalyzeStack (in ``analyse``), not at
# start-up: the engine starts every pack before any preview step, and a slow start-up delays all.

PACK_NAME = "costline"
_local = threading.local()


class PackInputError(Exception):
    """A problem with the pack's config or environment (e.g. an unwritable report path): its
    message names what to fix and is shown in the violation, unlike an internal error's."""


def _resources_from_request(
    request: Any, inputs: Mapping[str, Any] | None = None
) -> tuple[list[Resource], list[Finding]]:
    """The stack's resources from the raw ``AnalyzeStackRequest``, each priced on what a
    preview knows of it (:mod:`costline.readers.preview_values`): its outputs, its ``Analyze``
    ``inputs`` (URN -> ``Struct``) where the outputs are unknown or empty, and a ``tagsAll``
    worked out from its provider's default tags. A custom resource the engine sent with empty
    outputs and no inputs gets an ``unknown-at-preview`` finding: its cost is not known."""
    inputs = inputs or {}
    resources: list[Resource] = []
    findings: list[Finding] = []
    providers: dict[str, dict[str, Any]] = {}  # provider URN -> its inputs, converted once
    provider_resources: dict[str, Resource] = {}  # each provider the resources name, once
    for r in request.resources:
        # The engine sends a provider with every custom resource; a component has none
        # (it is never billed itself): only unpriced types tell the two apart.
        custom = r.HasField("provider") and bool(r.provider.urn)
        provider_inputs = None
        if custom:
            provider_inputs = providers.get(r.provider.urn)
            if provider_inputs is None:
                provider_inputs = providers[r.provider.urn] = _struct_to_dict(r.provider.properties)
        outputs = _struct_to_dict(r.properties)
        kept = inputs.get(r.urn)
        if kept is not None and (not outputs or any(map(is_unknown_value, outputs.values()))):
            properties = preview_properties(outputs, _struct_to_dict(kept))
        else:
            properties = outputs
        if not (custom and not properties and kept is None and not r.type.startswith("pulumi:")):
            properties = with_tags_all(r.type, properties, provider_inputs)
        else:
            properties = {"tagsAll": UNKNOWN_OBJECT}  # whatever its tags are, they are unknown
            findings.append(
                Finding(
                    code="unknown-at-preview",
                    severity=Severity.WARNING,
                    message=(
                        f"{r.name}: the engine sent none of its properties (its provider's config "
                        "is not known until the update runs), so its cost is not known"
                    ),
                    resource_urn=r.urn,
                    resource_name=r.name,
                )
            )
        resources.append(
            Resource.from_engine(
                urn=r.urn,
                type=r.type,
                name=r.name,
                properties=properties,
                dependencies=list(r.dependencies),
                property_dependencies={k: list(v.urns) for k, v in r.propertyDependencies.items()},
                parent=r.parent or None,
                custom=custom,
            )
        )
        if (
            custom
            and r.provider.type.startswith("pulumi:providers:")
            and r.provider.urn not in provider_resources
        ):  # every resource names its provider: each provider is added once
            provider_resources[r.provider.urn] = Resource.from_engine(
                urn=r.provider.urn,
                type=r.provider.type,
                name=r.provider.name,
                properties=provider_inputs,
            )
    # Every resource the engine sent is kept: a URN sent twice is priced twice and the estimator
    # reports it (duplicate-urn), never dropped in silence.
    own = {r.urn for r in resources}
    return [
        *resources,
        *(p for urn, p in provider_resources.items() if urn not in own),
    ], findings


def _struct_to_dict(struct: Any) -> dict[str, Any]:
    """A ``google.protobuf.Struct`` as plain data (numbers stay floats, as the engine sends them).

    A property nested too deeply to convert (hundreds of levels) is left out: none that costline
    prices is more than three levels deep, and the rest of the resource must still be priced."""
    properties = {}
    for key, value in struct.fields.items():
        try:
            properties[key] = _value(value)
        except RecursionError:
            continue
    return properties


def _value(value: Any) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    if kind == "struct_value":
        return {k: _value(v) for k, v in value.struct_value.fields.items()}
    if kind == "list_value":
        return [_value(v) for v in value.list_value.values]
    if kind == "number_value":
        return value.number_value
    if kind == "bool_value":
        return value.bool_value
    return None


def _resources_from_args(args: StackValidationArgs) -> list[Resource]:
    """Fallback without the bridge: the SDK has unwrapped secrets, so treat tags as secret."""
    from pulumi_policy.deserialize import serialize_properties

    return [
        Resource(
            urn=r.urn,
            type=r.resource_type,
            name=r.name,
            properties=Resource.from_engine(
                urn=r.urn,
                type=r.resource_type,
                name=r.name,
                properties=dict(serialize_properties(r.props)),
            ).properties,
            secret_paths=frozenset({"tags", "tagsAll"}),
            dependencies=tuple(d.urn for d in r.dependencies),
            property_dependencies={
                k: tuple(d.urn for d in v) for k, v in r.property_dependencies.items()
            },
        )
        for r in args.resources
    ]


def analyse(args: StackValidationArgs, own_name: str) -> tuple[PricedStack, PackSettings]:
    """The priced stack and the pack's settings for this ``AnalyzeStack`` call, shared by every
    policy (computed by the first)."""
    request = bridge.current_request()
    cached = getattr(_local, "analysis", None)
    if request is not None and cached is not None and cached[0] is request:
        return cached[1]
    from costline.estimator.pipeline import estimate
    from costline.estimator.priced import PricedStack
    from costline.pricing import load_price_book

    config = bridge.pack_config() or {own_name: dict(args.get_config() or {})}
    settings = parse_settings(config)
    findings: list[Finding] = []
    if request is not None:
        inputs, dropped = bridge.analyzed_inputs()
        resources, findings = _resources_from_request(request, inputs)
        if dropped:
            findings.append(
                Finding(
                    code="preview-inputs-not-kept",
                    severity=Severity.WARNING,
                    message=(
                        f"the inputs of {dropped:,} resources were over the pack's limits and not "
                        "kept: where their outputs are unknown, so is their cost"
                    ),
                )
            )
    else:
        resources = _resources_from_args(args)
    stack_config = _stack_config()
    secret_keys = _stack_secret_keys()
    resources, stack_findings = apply_stack_usage(
        resources, stack_config, STACK_CONFIG, secret_keys
    )
    stack_findings = [*findings, *stack_findings]
    secret_budget = BUDGET_KEY in secret_keys
    budget, budget_finding = stack_budget_usd(stack_config, STACK_CONFIG, secret=secret_budget)
    if budget is not None:  # costline:budget: one policy group, a budget per stack
        settings = dataclasses.replace(
            settings, monthly_budget_usd=budget, budget_secret=secret_budget
        )
    stack_findings += [budget_finding] if budget_finding is not None else []
    detected = stack_region(resources) if settings.region is None else None
    region = settings.region or (detected.name if detected else DEFAULT_REGION)
    overrides = [str(_pack_path(p)) for p in settings.price_overrides]
    prices = load_price_book(
        region, overrides=overrides, region_secret=detected is not None and detected.secret
    )
    options = settings.estimate_options()
    priced = estimate(resources, prices, options)
    if stack_findings:
        priced = dataclasses.replace(priced, findings=(*priced.findings, *stack_findings))
    stack = PricedStack(tuple(resources), prices, options, priced, "pulumi preview", budget)
    result = (stack, settings)
    if request is not None:
        _local.analysis = (request, result)
    return result


STACK_CONFIG = "stack config"


def _stack_config() -> dict[str, Any]:
    """The stack's config as the engine gives it to the pack: ``ConfigureStack``'s (see
    :mod:`costline.policy.bridge`), else ``PULUMI_CONFIG`` (JSON of ``"namespace:key" ->
    string``, older engines); anything unreadable is no config."""
    received = bridge.stack_config()
    if received is not None and received.values:
        return dict(received.values)
    try:
        config = parse_json(os.environ.get("PULUMI_CONFIG") or "{}")
    except (ValueError, RecursionError):
        return {}
    return config if isinstance(config, dict) else {}


def _stack_secret_keys() -> frozenset[str]:
    """The stack config keys that are secrets, from ``ConfigureStack`` (no engine passes them
    any other way)."""
    received = bridge.stack_config()
    return received.secret_keys if received is not None else frozenset()


def _pack_path(path: str) -> Path:
    candidate = Path(path)
    return candidate if candidate.is_absolute() else Path.cwd() / candidate


# --- the policies --------------------------------------------------------------------------
def validate_cost_estimate(
    stack: PricedStack, settings: PackSettings, report: ReportViolation
) -> None:
    """Informational: always advisory, even under ``{"all": "mandatory"}`` (which is meant for
    budgets), so reporting an estimate can never block a preview. One stack-level line (total,
    budget status, top drivers, findings) by default: every violation a pack reports is kept
    by Pulumi Cloud, so a line per resource would be a standing advisory violation per
    resource. ``resourceLinesAboveUsd`` adds a line for each resource at or above it."""
    est = stack.estimate

    def inform(message: str, urn: str | None = None) -> None:
        if not bridge.advisory(COST_ESTIMATE, DESCRIPTIONS[COST_ESTIMATE], message, urn):
            report(message, urn)

    threshold = settings.resource_lines_above_usd
    if threshold is not None:  # per-resource lines only when asked: each is a standing violation
        for r in est.resources:
            if r.status is not ResourceStatus.FREE and r.monthly_usd >= threshold:
                inform(resource_line(r), r.urn)
    inform(
        "\n".join(
            [
                one_line(
                    stack_line(
                        est, settings.monthly_budget_usd, budget_secret=settings.budget_secret
                    )
                ),
                f"  Top cost drivers: {drivers_text(est)}",
                *(f"  - {one_line(f.message)}" for f in est.findings),
            ]
        )
    )
    if settings.report_path:
        _write_report(est, settings.report_path)


def validate_stack_budget(
    stack: PricedStack, settings: PackSettings, report: ReportViolation
) -> None:
    budget = settings.monthly_budget_usd
    if budget is None:
        return
    total = stack.estimate.total_monthly_usd
    verdict = stack_budget(total, budget, settings.warn_at_percent)
    drivers = drivers_text(stack.estimate)
    known = stack.estimate.completeness
    bounded = known.bounded_summary()
    # the total, saying which of its figures are fail-closed bounds when any is
    stack_cost = f"Stack cost ~{format_usd(total)}/month" + (
        f", including {bounded}," if bounded else ""
    )
    secret = settings.budget_secret  # then nothing computed from the budget is shown either
    shown = budget_text(budget, secret)
    if settings.fail_closed and not known.complete:
        report(
            one_line(
                f"Stack cost ~{format_usd(total)}/month + {known.summary()}: failClosed cannot "
                f"check the budget {shown}, as no worst-case bound exists for what is missing."
            ),
            None,
        )
    elif verdict.over_usd is not None:
        by = "" if secret else f" by {format_usd(verdict.over_usd)}"
        report(
            one_line(f"{stack_cost} is over the budget {shown}{by}. Top cost drivers: {drivers}."),
            None,
        )
    elif verdict.status == "warning":
        share = (
            f"at or above {plain_number(settings.warn_at_percent)}%"
            if secret
            else f"{plain_number(verdict.used_percent or ZERO)}%"
        )
        message = (
            f"{stack_cost} is {share} of the budget {shown} (warning at "
            f"{plain_number(settings.warn_at_percent)}%). Top cost drivers: {drivers}."
        )
        bridge.advisory(STACK_BUDGET, DESCRIPTIONS[STACK_BUDGET], one_line(message))


def validate_resource_budget(
    stack: PricedStack, settings: PackSettings, report: ReportViolation
) -> None:
    missing = stack.estimate.completeness.missing_by_resource() if settings.fail_closed else {}
    for r in stack.estimate.resources:
        budget = settings.resource_budget(r.name, r.type)
        if budget is not None and r.name in missing:
            report(one_line(fail_closed_message(r.name, missing[r.name])), r.urn)
        elif budget is not None and (over := over_by(r.monthly_usd, budget)) is not None:
            message = resource_budget_message(f"{r.name} ({r.type})", r.monthly_usd, budget, over)
            report(one_line(f"{message}."), r.urn)


def validate_usage_tags(
    stack: PricedStack, settings: PackSettings, report: ReportViolation
) -> None:
    """Usage findings; under ``failClosed`` also every other gap with no worst-case bound (a
    type costline does not price, a missing price entry), which fails closed here too."""
    for r in stack.estimate.resources:
        for f in r.findings:
            if f.code in USAGE_FINDING_CODES:
                report(one_line(f.message + (f" — {f.suggestion}" if f.suggestion else "")), r.urn)
    if settings.fail_closed:
        for gap in stack.estimate.completeness.missing:
            if gap.code not in USAGE_FINDING_CODES:
                report(
                    one_line(fail_closed_message(gap.resource_name or "the stack", [gap.what])),
                    gap.resource_urn,
                )


def validate_lambda_worst_case(
    stack: PricedStack, settings: PackSettings, report: ReportViolation
) -> None:
    from costline.scenarios.worst_case import lambda_worst_cases

    for case in lambda_worst_cases(stack):
        reasons = worst_case_reasons(
            case.expected_usd,
            case.worst_usd,
            settings.max_multiple_of_expected,
            settings.monthly_budget_usd,
            settings.max_percent_of_budget,
            budget_secret=settings.budget_secret,
        )
        if reasons:
            message = worst_case_message(case.name, case.shown_timeout_s, case.worst_usd, reasons)
            report(
                one_line(f"{message}. Lower the timeout or check cost:avg-duration-ms."), case.urn
            )


def _write_report(est: Estimate, path: str) -> None:
    from costline.core.files import OutputRefused, write_atomically
    from costline.render.templates import render
    from costline.review.report import build_report

    text = render(build_report(est, source="pulumi preview"), "markdown")
    try:
        write_atomically(Path(path), text)
    except OutputRefused as exc:
        raise PackInputError(f"cannot write the report: {exc}") from None
    except OSError as exc:
        raise PackInputError(
            f"cannot write the report to {path}: {exc.strerror or type(exc).__name__}"
        ) from None


DESCRIPTIONS = {
    COST_ESTIMATE: "Estimated monthly AWS cost of each resource and of the stack (costline).",
    STACK_BUDGET: "The stack's estimated monthly cost must stay within its budget.",
    RESOURCE_BUDGET: "Each resource's estimated monthly cost must stay within its budget.",
    USAGE_TAGS: "Resources whose cost depends on usage must declare it with valid cost:* tags.",
    LAMBDA_WORST_CASE: "A Lambda function's cost if every request ran to its timeout must stay "
    "reasonable.",
}

VALIDATORS: dict[str, Callable[[PricedStack, PackSettings, ReportViolation], None]] = {
    COST_ESTIMATE: validate_cost_estimate,
    STACK_BUDGET: validate_stack_budget,
    RESOURCE_BUDGET: validate_resource_budget,
    USAGE_TAGS: validate_usage_tags,
    LAMBDA_WORST_CASE: validate_lambda_worst_case,
}


GATES = frozenset({STACK_BUDGET, RESOURCE_BUDGET, USAGE_TAGS, LAMBDA_WORST_CASE})
"""The policies that gate (every one but the informational cost-estimate): under failClosed, an
estimate that could not be made (no price tables for the region, a broken override file) fails
them at their enforcement level instead of becoming an advisory note."""


def _fail_closed(args: StackValidationArgs, own_name: str) -> bool:
    try:
        config = bridge.pack_config() or {own_name: dict(args.get_config() or {})}
        return parse_settings(config).fail_closed
    except Exception:
        return False


def _guarded(name: str, validator: Callable[[PricedStack, PackSettings, ReportViolation], None]):
    """Run a policy so that nothing escapes: errors become an advisory violation."""

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        try:
            config = bridge.pack_config() or {name: dict(args.get_config() or {})}
            for problem in config_problems(name, config.get(name)):
                report(one_line(problem), None)
        except Exception:  # a config that cannot be read is analyse's to report below
            pass
        try:
            validator(*analyse(args, name), report)
        except Exception as exc:
            from costline.pricing import PricingError

            detail = (
                str(exc) if isinstance(exc, (PricingError, PackInputError)) else type(exc).__name__
            )
            message = one_line(
                f"costline could not run policy {name}: {detail}. The estimate is incomplete."
            )
            if name in GATES and _fail_closed(args, name):
                report(f"{message} failClosed: the gate fails.", None)
            elif not bridge.advisory(name, DESCRIPTIONS[name], message):
                report(message, None)

    return validate


def policies() -> list[Policy]:
    return [
        StackValidationPolicy(
            name=name,
            description=DESCRIPTIONS[name],
            validate=_guarded(name, validator),
            enforcement_level=EnforcementLevel.ADVISORY,
            config_schema=PolicyConfigSchema(properties=SCHEMAS[name]),
        )
        for name, validator in VALIDATORS.items()
    ]


def serve() -> None:
    """Start the pack (blocks): what ``policypack/__main__.py`` calls."""
    bridge.install(bridge.PackIdentity(PACK_NAME, __version__))
    PolicyPack(
        name=PACK_NAME,
        policies=policies(),
        enforcement_level=EnforcementLevel.ADVISORY,
        description="costline: monthly AWS cost estimates and budgets for Lambda, API Gateway, S3 "
        "and Bedrock.",
    )
