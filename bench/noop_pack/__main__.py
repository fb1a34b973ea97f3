"""The no-op policy pack: one resource policy and one stack policy that do nothing.

It is the baseline for benchmarks (costline's pack vs this one, same harness): whatever it
costs is the SDK's and the protocol's share, not costline's.
"""

from pulumi_policy import (
    EnforcementLevel,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)


def _noop_resource(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    return None


def _noop_stack(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    return None


PolicyPack(
    name="noop",
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=[
        ResourceValidationPolicy(
            name="noop-resource",
            description="Does nothing for each resource.",
            validate=_noop_resource,
        ),
        StackValidationPolicy(
            name="noop-stack",
            description="Does nothing for the stack.",
            validate=_noop_stack,
        ),
    ],
)
