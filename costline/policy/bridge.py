"""Four things the pulumi-policy Python SDK does not give a policy, and how costline gets them.

1. **Secrets.** The SDK unwraps secret envelopes before a policy sees properties
   (``deserialize_properties`` without ``proxy_secrets`` in ``AnalyzeStack``), so a policy
   cannot tell a secret tag value from a plain one. costline must use secrets but never print
   them, so it reads the raw ``AnalyzeStackRequest`` (envelopes and unknown sentinels intact).
   The SDK's own pass gets the request without its resources: it would otherwise deserialise
   the whole stack once per stack policy, five times, for nothing costline reads.
2. **The whole pack's config.** A policy sees only its own config; costline's policies share
   estimate settings (free tier, fail-closed, price overrides) and the budget, so it keeps the
   merged config the engine sent in ``Configure``.
3. **Remediate for a pack without resource policies.** The SDK deserialises every resource's
   properties on ``Remediate`` before it looks for a remediation policy; costline has none (every
   policy is a stack policy), so the bridge answers with an empty response at once. That is one
   conversion less per resource in every preview, and properties nested deeper than the SDK's
   recursive conversion can follow no longer fail the preview.
4. **Advisory notes from a mandatory policy.** Every violation a policy reports takes the
   policy's enforcement level; a budget *warning* (and any internal error) must stay advisory
   even when the budget itself is mandatory. Notes queued with :func:`advisory` are appended to
   the ``AnalyzeStack`` response as advisory diagnostics.

All four wrap methods of the SDK's gRPC servicer (``_PolicyAnalyzerServicer.AnalyzeStack``,
``.Configure`` and ``.Remediate``, pulumi-policy ``policy.py``). If a future SDK renames them,
:func:`install` returns False and the pack falls back to the SDK's own view (treating every
value as possibly secret) — the harness tests fail loudly first.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_local = threading.local()
_lock = threading.Lock()
_pack_config: dict[str, dict[str, Any]] = {}


@dataclass(frozen=True)
class PackIdentity:
    name: str
    version: str


@dataclass
class _Installation:
    """Whether the SDK servicer is wrapped (once per process) and the pack it reports as."""

    installed: bool = False
    identity: PackIdentity = PackIdentity("costline", "0.0.0")


_installation = _Installation()


def install(identity: PackIdentity) -> bool:
    """Wrap the SDK servicer once per process; True when the bridge is active."""
    _installation.identity = identity
    with _lock:
        if _installation.installed:
            return True
        try:
            from pulumi_policy import policy as sdk

            servicer = sdk._PolicyAnalyzerServicer
            original_stack, original_configure = servicer.AnalyzeStack, servicer.Configure
            original_remediate = getattr(servicer, "Remediate", None)  # older SDKs have none
        except (ImportError, AttributeError):
            return False

        def remediate(self, request, context):
            policies = getattr(self, "_PolicyAnalyzerServicer__policies", None)
            if policies is not None and not any(
                isinstance(p, sdk.ResourceValidationPolicy) for p in policies
            ):
                from pulumi.runtime.proto import analyzer_pb2

                # nothing to remediate: skip the SDK's deserialisation
                return analyzer_pb2.RemediateResponse()
            return original_remediate(self, request, context)

        def analyze_stack(self, request, context):
            _local.request = request
            _local.advisories = []
            try:
                # costline reads the resources from the raw request (above); the SDK would
                # deserialise every resource again for each of the pack's stack policies.
                response = original_stack(self, _without_resources(request), context)
                _append_advisories(response, _local.advisories)
                return response
            finally:
                _local.request = None
                _local.advisories = []

        def configure(self, request, context):
            from google.protobuf import json_format

            merged = {
                name: json_format.MessageToDict(cfg.properties)
                for name, cfg in request.policyConfig.items()
            }
            with _lock:
                _pack_config.clear()
                _pack_config.update(merged)
            return original_configure(self, request, context)

        # patching the SDK's servicer class is the point of this module
        servicer.AnalyzeStack = analyze_stack  # type: ignore[method-assign]
        servicer.Configure = configure  # type: ignore[method-assign]
        if original_remediate is not None:
            servicer.Remediate = remediate  # type: ignore[method-assign]
        _installation.installed = True
        return True


def _without_resources(request: Any) -> Any:
    """A copy of an ``AnalyzeStackRequest`` with no resources (every other field kept)."""
    stripped = type(request)()
    stripped.CopyFrom(request)
    stripped.ClearField("resources")
    return stripped


def current_request() -> Any | None:
    """The raw ``AnalyzeStackRequest`` being analysed on this thread, if the bridge is active."""
    return getattr(_local, "request", None)


def pack_config() -> Mapping[str, Mapping[str, Any]]:
    """Every policy's merged config (policy name → properties), as the engine sent it."""
    with _lock:
        return {name: dict(cfg) for name, cfg in _pack_config.items()}


def advisory(policy_name: str, description: str, message: str, urn: str | None = None) -> bool:
    """Queue an advisory diagnostic for the current ``AnalyzeStack`` call; False if inactive."""
    queue = getattr(_local, "advisories", None)
    if queue is None or current_request() is None:
        return False
    queue.append((policy_name, description, message, urn or ""))
    return True


def _append_advisories(response: Any, advisories: list[tuple[str, str, str, str]]) -> None:
    from pulumi.runtime.proto import analyzer_pb2

    for policy_name, description, message, urn in advisories:
        response.diagnostics.append(
            analyzer_pb2.AnalyzeDiagnostic(
                policyName=policy_name,
                policyPackName=_installation.identity.name,
                policyPackVersion=_installation.identity.version,
                message=f"{description}\n{message}",
                urn=urn,
                description=description,
                enforcementLevel=analyzer_pb2.ADVISORY,
            )
        )
