"""What a run of the policy pack returns: violations, remediations, the analyzer's info."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pulumi.runtime.proto import analyzer_pb2

from costline.engine.resources import EngineResource

ENFORCEMENT_LEVELS = ("advisory", "mandatory", "remediate", "disabled")
LEVEL_TO_PROTO = {
    "advisory": analyzer_pb2.ADVISORY,
    "mandatory": analyzer_pb2.MANDATORY,
    "remediate": analyzer_pb2.REMEDIATE,
    "disabled": analyzer_pb2.DISABLED,
}
PROTO_TO_LEVEL = {v: k for k, v in LEVEL_TO_PROTO.items()}
SEVERITIES = {
    analyzer_pb2.POLICY_SEVERITY_UNSPECIFIED: "",
    analyzer_pb2.POLICY_SEVERITY_LOW: "low",
    analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium",
    analyzer_pb2.POLICY_SEVERITY_HIGH: "high",
    analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical",
}
POLICY_TYPES = {
    analyzer_pb2.POLICY_TYPE_UNKNOWN: "unknown",
    analyzer_pb2.POLICY_TYPE_RESOURCE: "resource",
    analyzer_pb2.POLICY_TYPE_STACK: "stack",
}


# --------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class Violation:
    """A policy diagnostic as the engine records it."""

    policy_name: str
    policy_pack_name: str
    message: str
    urn: str
    description: str
    enforcement_level: str  # "advisory" | "mandatory" | "disabled"; "remediate" reads "mandatory"
    severity: str  # "" | "low" | "medium" | "high" | "critical"
    policy_pack_version: str = ""


@dataclass(frozen=True)
class NotApplicable:
    policy_name: str
    reason: str
    urn: str = ""  # "" for stack policies


@dataclass(frozen=True)
class Remediation:
    policy_name: str
    policy_pack_name: str
    description: str
    properties: dict[str, Any] | None  # the new inputs (engine-encoded), when it changed them
    diagnostic: str


@dataclass(frozen=True)
class RemediateResult:
    properties: dict[str, Any]  # the inputs Analyze gets next (the last remediation wins)
    remediations: list[Remediation]
    violations: list[Violation]  # remediation diagnostics, reported as advisory
    not_applicable: list[NotApplicable]


@dataclass(frozen=True)
class PolicyInfo:
    name: str
    description: str
    enforcement_level: str
    config_schema: dict[str, Any]  # {"properties": {...}, "required": [...]} as declared
    policy_type: str  # "resource" | "stack" | "unknown"
    severity: str = ""
    display_name: str = ""


@dataclass(frozen=True)
class AnalyzerInfo:
    name: str
    version: str
    policies: list[PolicyInfo]  # sorted by name, like the engine
    initial_config: dict[str, dict[str, Any]]  # name -> {"enforcementLevel": ..., **properties}
    supports_config: bool = True
    display_name: str = ""
    description: str = ""

    def policy(self, name: str) -> PolicyInfo:
        for p in self.policies:
            if p.name == name:
                return p
        raise KeyError(name)


@dataclass
class RunResult:
    """What one engine run (preview or update) reported."""

    info: AnalyzerInfo
    config: dict[str, dict[str, Any]]  # the reconciled config sent in Configure
    resource_violations: dict[str, list[Violation]]  # urn -> violations (remediation + Analyze)
    stack_violations: list[Violation]
    not_applicable: list[NotApplicable]
    remediations: dict[str, list[Remediation]]  # urn -> remediations that ran
    analyzed: list[EngineResource]  # the resources as Analyze saw them (after remediation)

    @property
    def violations(self) -> list[Violation]:
        return [v for vs in self.resource_violations.values() for v in vs] + self.stack_violations

    @property
    def mandatory(self) -> bool:
        """True when the engine would fail the preview/update (a mandatory violation)."""
        return any(v.enforcement_level == "mandatory" for v in self.violations)

    def by_policy(self, policy_name: str) -> list[Violation]:
        return [v for v in self.violations if v.policy_name == policy_name]
