"""Read ``pulumi stack export`` output: the resources a deployed stack has now.

``{"version": 3, "deployment": {"manifest": ..., "secrets_providers": ..., "resources": [ResourceV3,
...]}}`` (version 4 has the same resource shape and adds ``features``). A local-backend state
file (``{"version": 3, "checkpoint": {"latest": <deployment>}}``) is read the same way.

Secrets are encrypted (``ciphertext``: value unknown) unless exported with ``--show-secrets``
(``plaintext``: value known); either way their paths are in ``Resource.secret_paths``.
Resources pending deletion (``delete: true``) and external resources the stack only reads
(``external: true``) are left out: they are not part of what the stack runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from costline.core.model import Resource
from costline.readers.errors import InputFileError
from costline.readers.state import expect_list, expect_object, kind, load_json, resource_from_state

WHAT = "the JSON printed by `pulumi stack export`"
SUPPORTED_VERSIONS = (3, 4)


def read_stack_export(path: str | Path) -> list[Resource]:
    """The resources of a ``pulumi stack export`` file, in the file's order."""
    return resources_from_export(load_json(path, what=WHAT), path)


def resources_from_export(data: Any, path: str | Path) -> list[Resource]:
    """:func:`read_stack_export` over already-parsed JSON (``path`` is only used in messages)."""
    top = expect_object(data, path, "top level")
    if "steps" in top:
        raise InputFileError(
            path,
            "looks like `pulumi preview --json` output (it has steps[]), "
            "not `pulumi stack export` output",
        )
    version = top.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise InputFileError(
            path,
            f"version: expected the deployment schema version 3, got {kind(version)}"
            if "version" in top
            else f"version: missing; expected {WHAT}, "
            'which starts with {"version": 3, "deployment": ...}',
        )
    if version not in SUPPORTED_VERSIONS:
        raise InputFileError(
            path,
            f"version: deployment schema version {version} is not supported "
            f"(costline reads versions 3 and 4, what current Pulumi CLIs export)",
        )
    if "checkpoint" in top and "deployment" not in top:
        checkpoint = expect_object(top["checkpoint"], path, "checkpoint")
        deployment_where, deployment = "checkpoint.latest", checkpoint.get("latest")
        if deployment is None:
            return []  # a stack that was never deployed
    else:
        if "deployment" not in top:
            raise InputFileError(path, f"deployment: missing; expected {WHAT}")
        deployment_where, deployment = "deployment", top["deployment"]
    deployment = expect_object(deployment, path, deployment_where)
    raw_resources = deployment.get("resources")
    resources = (
        []
        if raw_resources is None
        else expect_list(raw_resources, path, f"{deployment_where}.resources")
    )
    result = []
    first_at: dict[str, int] = {}  # URN -> index of the resource that has it
    for index, raw in enumerate(resources):
        where = f"{deployment_where}.resources[{index}]"
        state = expect_object(raw, path, where)
        if state.get("delete") is True or state.get("external") is True:
            continue
        resource = resource_from_state(state, path, where)
        if resource.urn in first_at:  # neither copy may be dropped in silence
            raise InputFileError(
                path,
                f"{where}.urn: {resource.urn!r} is also the URN of "
                f"{deployment_where}.resources[{first_at[resource.urn]}]; a stack's URNs are "
                "unique",
            )
        first_at[resource.urn] = index
        result.append(resource)
    return result
