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
from costline.core.values import encode
from costline.engine import EngineResource, PolicyPackProcess, RunResult, Violation


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


def run_pack(
    resources: Sequence[Resource],
    policy_config: Mapping[str, Any] | None = None,
    *,
    pack_dir: Path | None = None,
    project: str = "costline-reference",
    stack: str = "dev",
    stack_config: Mapping[str, str] | None = None,
) -> RunResult:
    """Analyze ``resources`` with the policy pack in ``pack_dir`` (default: costline's own);
    ``stack_config`` is the config the engine passes the pack (``PULUMI_CONFIG``)."""
    with PolicyPackProcess(
        pack_dir or data_dir("policypack"), project=project, stack=stack, config=stack_config
    ) as pack:
        return pack.run([engine_resource(r) for r in resources], policy_config)


def _target(violation: Violation, names: Mapping[str, tuple[str, str]]) -> str:
    if not violation.urn:
        return "stack"
    type_token, name = names.get(violation.urn, ("", violation.urn))
    return f"{type_token}: {name}" if type_token else name


def format_policies(result: RunResult, resources: Sequence[Resource]) -> str:
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
