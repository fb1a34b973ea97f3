"""``costline preview``: what ``pulumi preview --policy-pack policypack`` would show, without the
CLI.

Runs a program under Pulumi's mocks, then sends its resources through the real costline policy
pack over the gRPC Analyzer protocol (:mod:`costline.engine`), exactly as the engine would,
and prints the "Policies" section of a preview.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from costline.core.model import Resource
from costline.core.paths import data_dir
from costline.core.type_names import short_type
from costline.core.values import encode
from costline.engine import (
    EngineResource,
    PolicyPackProcess,
    ProviderResource,
    RunResult,
    Violation,
)


def engine_resource(resource: Resource) -> EngineResource:
    """A costline resource re-encoded as the engine sends it (unknowns and secrets restored)."""
    return EngineResource(
        urn=resource.urn,
        type=resource.type,
        name=resource.name,
        properties=encode(resource.properties, "", resource.secret_paths),
        parent=resource.parent or "",
        dependencies=list(resource.dependencies),
        property_dependencies={k: list(v) for k, v in resource.property_dependencies.items()},
        custom=resource.custom,
    )


def engine_resources_from_states(states: Sequence[Mapping[str, Any]]) -> list[EngineResource]:
    """``apitype.ResourceV3`` objects as the engine sends them: ``inputs`` (after the provider's
    Check) to ``Analyze``, ``outputs`` to ``AnalyzeStack``, each with its provider (``provider``
    is ``<urn>::<id>``; the provider resource's inputs go with it), parent, dependencies and
    property dependencies."""
    providers = {
        f"{s['urn']}::{s.get('id', '')}": s
        for s in states
        if str(s.get("type", "")).startswith("pulumi:providers:")
    }
    resources = []
    for state in states:
        reference = state.get("provider") or ""
        provider = None
        if reference:
            inputs = (providers.get(reference) or {}).get("inputs") or {}
            provider = ProviderResource(reference.rsplit("::", 1)[0], properties=inputs)
        resources.append(
            EngineResource(
                urn=state["urn"],
                type=state["type"],
                properties=dict(state.get("inputs") or {}),
                outputs=dict(state.get("outputs") or {}),
                provider=provider,
                parent=state.get("parent") or "",
                dependencies=list(state.get("dependencies") or ()),
                property_dependencies={
                    k: list(v) for k, v in (state.get("propertyDependencies") or {}).items()
                },
                custom=state.get("custom", True) is not False,
            )
        )
    return resources


def run_engine(
    resources: Sequence[EngineResource],
    policy_config: Mapping[str, Any] | None = None,
    *,
    pack_dir: Path | None = None,
    project: str = "costline-reference",
    stack: str = "dev",
    stack_config: Mapping[str, str] | None = None,
) -> RunResult:
    """Send ``resources`` through the policy pack in ``pack_dir`` (default: costline's own) as
    the engine does; ``stack_config`` is the config it passes the pack (``ConfigureStack``)."""
    with PolicyPackProcess(
        pack_dir or data_dir("policypack"), project=project, stack=stack, config=stack_config
    ) as pack:
        return pack.run(resources, policy_config)


def _target(violation: Violation, names: Mapping[str, tuple[str, str]]) -> str:
    if not violation.urn:
        return "stack"
    type_token, name = names.get(violation.urn, ("", violation.urn))
    return f"{short_type(type_token)}: {name}" if type_token else name


def format_policies(result: RunResult, resources: Sequence[Resource | EngineResource]) -> str:
    """The preview's "Policies:" section: mandatory first, then advisory, stack lines last.

    Names come from the stack: each is made one safe line (:mod:`costline.core.text`), so a name
    holding a line break or an ANSI escape cannot forge or recolour a line."""
    from costline.core.text import one_line, strip_control

    names = {r.urn: (r.type, r.name) for r in resources}
    violations = list(result.violations)
    violations.sort(key=lambda v: (v.enforcement_level != "mandatory", not v.urn, v.policy_name))
    pack = result.info
    mark = "❌" if result.mandatory else "⚠️ " if violations else "✅"
    lines = ["Policies:", f"    {mark} {pack.name}@v{pack.version} (local: policypack)"]
    for v in violations:
        lines.append(
            f"        - [{v.enforcement_level}]  {v.policy_name}  ({one_line(_target(v, names))})"
        )
        for text_line in strip_control(v.message).splitlines():
            lines.append(f"          {text_line}")
    return "\n".join(lines) + "\n"
