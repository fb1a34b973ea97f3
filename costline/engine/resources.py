"""The resources the engine sends: URNs, options, providers, and one resource's payloads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pulumi.runtime.proto import analyzer_pb2

from costline.engine.protobuf import to_struct

# --------------------------------------------------------------------------------------------
# Resources


def parse_urn(urn: str) -> tuple[str, str]:
    """``(type, name)`` of ``urn:pulumi:<stack>::<project>::<[parent$]type>::<name>``."""
    parts = urn.split("::", 3)
    if len(parts) != 4 or not parts[0].startswith("urn:pulumi:"):
        raise ValueError(f"not a Pulumi URN: {urn!r}")
    return parts[2].rsplit("$", 1)[-1], parts[3]


def make_urn(
    type_: str,
    name: str,
    *,
    project: str = "costline-reference",
    stack: str = "dev",
    parent_type: str | None = None,
) -> str:
    """A URN as the engine builds it; ``parent_type`` is the ``$``-joined parent type chain."""
    qualified = f"{parent_type}${type_}" if parent_type else type_
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


@dataclass(frozen=True)
class CustomTimeouts:
    create: float = 0.0
    update: float = 0.0
    delete: float = 0.0


@dataclass(frozen=True)
class ResourceOptions:
    """``AnalyzerResourceOptions``; ``parent=None`` means "the resource's parent"."""

    protect: bool = False
    ignore_changes: tuple[str, ...] = ()
    delete_before_replace: bool | None = None
    additional_secret_outputs: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    custom_timeouts: CustomTimeouts = CustomTimeouts()
    parent: str | None = None


@dataclass(frozen=True)
class ProviderResource:
    """The resource's provider as the engine sends it (its *inputs* as properties)."""

    urn: str
    type: str = ""
    name: str = ""
    properties: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.type or not self.name:
            type_, name = parse_urn(self.urn)
            object.__setattr__(self, "type", self.type or type_)
            object.__setattr__(self, "name", self.name or name)


def with_default_providers(resources: Sequence[EngineResource]) -> list[EngineResource]:
    """The resources with a provider on every custom resource, as the engine sends them: the
    stack's own ``pulumi:providers:<package>`` resource when there is one, else the package's
    default provider. Components (``custom=False``), providers and resources that name their
    provider are left as they are."""
    own: dict[str, EngineResource] = {}
    for r in resources:
        if r.type.startswith("pulumi:providers:"):
            own.setdefault(r.type.split(":", 2)[2], r)
    completed = []
    for r in resources:
        if (
            r.provider is None
            and r.custom
            and not r.type.startswith(("pulumi:providers:", "pulumi:pulumi:"))
        ):
            package = r.type.split(":", 1)[0]
            provider = own.get(package)
            if provider is not None:
                chosen = ProviderResource(
                    provider.urn, provider.type, provider.name, provider.properties
                )
            else:
                stack_project = r.urn.split("::")[:2]  # urn:pulumi:<stack>, <project>
                chosen = ProviderResource(
                    "::".join([*stack_project, f"pulumi:providers:{package}", "default"])
                )
            completed.append(replace(r, provider=chosen))
        else:
            completed.append(r)
    return completed


@dataclass
class EngineResource:
    """One resource as the engine sends it to an analyzer.

    ``properties`` are engine-encoded (unknown sentinels, :func:`secret` envelopes): the
    resource's inputs (after the provider's Check) for ``Remediate``/``Analyze``. ``outputs``
    are what ``AnalyzeStack`` gets; ``None`` means "same as properties" (a preview of a create).
    ``type`` and ``name`` default to the URN's.
    """

    urn: str
    type: str = ""
    name: str = ""
    properties: dict[str, Any] = field(default_factory=dict)
    options: ResourceOptions = field(default_factory=ResourceOptions)
    provider: ProviderResource | None = None
    parent: str = ""
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    outputs: dict[str, Any] | None = None
    custom: bool = True
    """False for a component resource: the engine sends it with no provider (see
    :func:`with_default_providers`)."""

    def __post_init__(self) -> None:
        if not self.type or not self.name:
            type_, name = parse_urn(self.urn)
            self.type = self.type or type_
            self.name = self.name or name

    def _options_proto(self) -> analyzer_pb2.AnalyzerResourceOptions:
        o = self.options
        return analyzer_pb2.AnalyzerResourceOptions(
            protect=o.protect,
            ignoreChanges=list(o.ignore_changes),
            deleteBeforeReplace=bool(o.delete_before_replace),
            deleteBeforeReplaceDefined=o.delete_before_replace is not None,
            additionalSecretOutputs=list(o.additional_secret_outputs),
            aliases=list(o.aliases),
            customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(
                create=o.custom_timeouts.create,
                update=o.custom_timeouts.update,
                delete=o.custom_timeouts.delete,
            ),
            parent=self.parent if o.parent is None else o.parent,
        )

    def _provider_proto(self) -> analyzer_pb2.AnalyzerProviderResource | None:
        p = self.provider
        if p is None:
            return None
        return analyzer_pb2.AnalyzerProviderResource(
            urn=p.urn,
            type=p.type,
            name=p.name,
            properties=to_struct(p.properties, skip_internal_keys=True),
        )

    def analyze_request(self, *, for_remediate: bool = False) -> analyzer_pb2.AnalyzeRequest:
        """The ``AnalyzeRequest`` for ``Analyze`` (or ``Remediate``, which keeps ``__`` keys)."""
        return analyzer_pb2.AnalyzeRequest(
            type=self.type,
            properties=to_struct(self.properties, skip_internal_keys=not for_remediate),
            urn=self.urn,
            name=self.name,
            options=self._options_proto(),
            provider=self._provider_proto(),
        )

    def stack_resource(self) -> analyzer_pb2.AnalyzerResource:
        """The ``AnalyzerResource`` for ``AnalyzeStack`` (outputs, graph edges)."""
        props = self.properties if self.outputs is None else self.outputs
        return analyzer_pb2.AnalyzerResource(
            type=self.type,
            properties=to_struct(props, skip_internal_keys=True),
            urn=self.urn,
            name=self.name,
            options=self._options_proto(),
            provider=self._provider_proto(),
            parent=self.parent,
            dependencies=list(self.dependencies),
            propertyDependencies={
                key: analyzer_pb2.AnalyzerPropertyDependencies(urns=list(urns))
                for key, urns in self.property_dependencies.items()
                if urns  # the engine skips properties with no dependencies
            },
        )
