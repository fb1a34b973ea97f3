"""Six things the pulumi-policy Python SDK does not give a policy, and how costline gets them.

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

5. **Each resource's inputs.** A stack policy sees only the outputs, and on a first preview
   those are partly unknown, or an empty map when the provider's config is not known yet. The
   engine sends every resource's checked inputs to ``Analyze`` first, so the bridge keeps them
   (the raw ``Struct``, by URN, at most :data:`MAX_KEPT_INPUTS` resources and
   :data:`MAX_KEPT_INPUT_BYTES` bytes; dropped once ``AnalyzeStack`` has read them and on every
   ``Configure``) for :func:`analyzed_inputs`.

6. **The stack's config.** The engine gives a pack the stack's config (decrypted) and the names
   of its secret keys in ``ConfigureStack`` (``config``, ``configSecretKeys``); the SDK keeps
   only the stack's tags from it. Engines up to about v3.260 also set ``PULUMI_CONFIG`` in the
   pack's environment, but not the secret keys; v3.274 sets no environment at all
   (``pkg/resource/plugin/analyzer_plugin.go``: ``NewPolicyAnalyzer``; its test plugin
   ``host/testdata/analyzer-language`` fails when ``PULUMI_CONFIG`` is set). So the bridge keeps
   what ``ConfigureStack`` sent (:func:`stack_config`), and ``PULUMI_CONFIG`` is read only when no
   ``ConfigureStack`` with config arrived.

All six wrap methods of the SDK's gRPC servicer (``_PolicyAnalyzerServicer.AnalyzeStack``,
``.Analyze``, ``.Configure``, ``.ConfigureStack`` and ``.Remediate``, pulumi-policy
``policy.py``). If a future SDK
renames them, :func:`install` returns False and the pack falls back to the SDK's own view
(treating every value as possibly secret) — the harness tests fail loudly first.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class StackConfig:
    """The stack config ``ConfigureStack`` carried: ``"namespace:key" -> string`` (secrets
    decrypted) and the keys whose values are secrets."""

    values: Mapping[str, str]
    secret_keys: frozenset[str]


_stack_config: list[StackConfig] = []  # at most one: the last ConfigureStack's


def stack_config() -> StackConfig | None:
    """The stack config the engine sent in ``ConfigureStack``; None when none arrived (an engine
    without it, or the bridge inactive)."""
    with _lock:
        return _stack_config[-1] if _stack_config else None


MAX_KEPT_INPUTS = 200_000
MAX_KEPT_INPUT_BYTES = 512 * 1024 * 1024


@dataclass
class _KeptInputs:
    """The Analyze inputs of this preview's resources (URN -> ``Struct``), within the limits."""

    by_urn: dict[str, Any] = field(default_factory=dict)
    size_bytes: int = 0
    dropped: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def keep(self, urn: str, properties: Any) -> None:
        size = properties.ByteSize()
        with self.lock:
            old = self.by_urn.pop(urn, None)
            if old is not None:
                self.size_bytes -= old.ByteSize()
            if len(self.by_urn) >= MAX_KEPT_INPUTS or self.size_bytes + size > MAX_KEPT_INPUT_BYTES:
                self.dropped += 1  # counted, so the estimate can say what it could not use
                return
            self.by_urn[urn] = properties
            self.size_bytes += size

    def forget(self) -> None:
        with self.lock:
            self.by_urn.clear()
            self.size_bytes = self.dropped = 0


_kept_inputs = _KeptInputs()


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
            original_analyze = servicer.Analyze
            original_configure_stack = getattr(servicer, "ConfigureStack", None)
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

        def analyze(self, request, context):
            _kept_inputs.keep(request.urn, request.properties)
            return original_analyze(self, request, context)

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
                _kept_inputs.forget()

        def configure(self, request, context):
            from google.protobuf import json_format

            merged = {
                name: json_format.MessageToDict(cfg.properties)
                for name, cfg in request.policyConfig.items()
            }
            with _lock:
                _pack_config.clear()
                _pack_config.update(merged)
            _kept_inputs.forget()  # a new preview starts
            return original_configure(self, request, context)

        def configure_stack(self, request, context):
            received = StackConfig(
                {str(k): str(v) for k, v in request.config.items()},
                frozenset(str(k) for k in request.config_secret_keys),
            )
            with _lock:
                _stack_config[:] = [received]
            if original_configure_stack is None:
                from pulumi.runtime.proto import analyzer_pb2

                return analyzer_pb2.AnalyzerStackConfigureResponse()
            return original_configure_stack(self, request, context)

        # patching the SDK's servicer class is the point of this module
        servicer.AnalyzeStack = analyze_stack  # type: ignore[method-assign]
        servicer.Configure = configure  # type: ignore[method-assign]
        servicer.Analyze = analyze  # type: ignore[method-assign]
        servicer.ConfigureStack = configure_stack  # type: ignore[method-assign]
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


def analyzed_inputs() -> tuple[dict[str, Any], int]:
    """The inputs ``Analyze`` got for each resource of this preview (URN -> ``Struct``) and how
    many resources' inputs were over the limits and not kept."""
    with _kept_inputs.lock:
        return dict(_kept_inputs.by_urn), _kept_inputs.dropped


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
