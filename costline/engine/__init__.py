"""Playing the Pulumi engine: drive a Python policy pack over the real gRPC Analyzer protocol.

Used by ``costline preview`` and by the tests. Importing it imports ``grpc`` and the Pulumi
protobuf stubs; the core never imports it.

Modules, each one concern: ``protobuf`` (property values on the wire), ``resources`` (URNs,
options, providers, one resource's payloads), ``config`` (policy config reconciliation),
``results`` (what a run returns), ``errors``, ``process`` (starting the pack and the call
sequence), ``preview`` (``costline preview``: a stack's resources through the pack).
"""

from __future__ import annotations

from costline.core.values import UNKNOWN_NUMBER, UNKNOWN_STRING
from costline.engine.errors import (
    ConfigProblem,
    HarnessConfigError,
    HarnessError,
    HarnessRpcError,
    HarnessStartupError,
)
from costline.engine.process import UNUSED_ENGINE_ADDRESS, PolicyPackProcess
from costline.engine.protobuf import (
    UNKNOWN_ARCHIVE,
    UNKNOWN_ARRAY,
    UNKNOWN_ASSET,
    UNKNOWN_BOOL,
    UNKNOWN_OBJECT,
    from_struct,
    secret,
    to_struct,
    to_value,
)
from costline.engine.resources import (
    CustomTimeouts,
    EngineResource,
    ProviderResource,
    ResourceOptions,
    make_urn,
    parse_urn,
    with_default_providers,
)
from costline.engine.results import (
    AnalyzerInfo,
    NotApplicable,
    PolicyInfo,
    RemediateResult,
    Remediation,
    RunResult,
    Violation,
)

__all__ = [
    "UNKNOWN_ARCHIVE",
    "UNKNOWN_ARRAY",
    "UNKNOWN_ASSET",
    "UNKNOWN_BOOL",
    "UNKNOWN_NUMBER",
    "UNKNOWN_OBJECT",
    "UNKNOWN_STRING",
    "UNUSED_ENGINE_ADDRESS",
    "AnalyzerInfo",
    "ConfigProblem",
    "CustomTimeouts",
    "EngineResource",
    "HarnessConfigError",
    "HarnessError",
    "HarnessRpcError",
    "HarnessStartupError",
    "NotApplicable",
    "PolicyInfo",
    "PolicyPackProcess",
    "ProviderResource",
    "RemediateResult",
    "Remediation",
    "ResourceOptions",
    "RunResult",
    "Violation",
    "from_struct",
    "make_urn",
    "parse_urn",
    "secret",
    "to_struct",
    "to_value",
    "with_default_providers",
]
