"""Read ``pulumi preview --json`` output: the resources the stack will have after the update.

The file is one object (pulumi ``pkg/display/json.go`` ``PreviewDigest``): ``config``,
``steps[]``, ``diagnostics[]``, ``duration``, ``changeSummary``. Each step has ``op``, ``urn``,
``provider``, ``oldState``, ``newState`` (``apitype.ResourceV3``), ``diffReasons``,
``detailedDiff``. Secrets are printed as the string ``"[secret]"``; values not known until the
update runs are the engine's unknown sentinels (see :mod:`costline.readers.state`).

Steps that leave a resource in the stack (create, update, same, replace, create-replacement,
import, import-replacement, refresh) contribute its ``newState`` (or ``oldState`` when the step
has no new state); steps that remove one (delete, delete-replaced, discard, discard-replaced,
remove-pending-replace) and reads of external resources (read, read-replacement) contribute
nothing. A replacement's several steps for one URN give one resource.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from costline.core.model import Resource
from costline.readers.errors import InputFileError
from costline.readers.state import expect_list, expect_object, kind, load_json, resource_from_state

WHAT = "the JSON printed by `pulumi preview --json`"

KEEP_OPS = frozenset(
    {
        "create",
        "update",
        "same",
        "replace",
        "create-replacement",
        "import",
        "import-replacement",
        "refresh",
    }
)
DROP_OPS = frozenset(
    {
        "delete",
        "delete-replaced",
        "discard",
        "discard-replaced",
        "remove-pending-replace",
        "read",
        "read-replacement",
        "read-discard",
    }
)


def read_preview(path: str | Path) -> list[Resource]:
    """The resources a ``pulumi preview --json`` file says the stack will have, in step order."""
    return resources_from_preview(load_json(path, what=WHAT), path)


def resources_from_preview(data: Any, path: str | Path) -> list[Resource]:
    """:func:`read_preview` over already-parsed JSON (``path`` is only used in messages)."""
    digest = expect_object(data, path, "top level")
    if "deployment" in digest or "checkpoint" in digest:
        raise InputFileError(
            path,
            "looks like `pulumi stack export` output (it has 'deployment'), "
            "not `pulumi preview --json` output",
        )
    if "steps" not in digest and not (
        {"changeSummary", "config", "diagnostics", "duration"} & digest.keys()
    ):
        raise InputFileError(
            path,
            f"top level: expected {WHAT}, an object with steps[]; "
            f"found keys {', '.join(sorted(digest)) or '(none)'}",
        )
    steps = expect_list(digest.get("steps", []), path, "steps")
    providers = _provider_inputs(steps)
    by_urn: dict[str, Resource] = {}
    step_of: dict[str, int] = {}  # URN -> the step its resource came from
    for index, raw_step in enumerate(steps):
        where = f"steps[{index}]"
        step = expect_object(raw_step, path, where)
        op = step.get("op")
        if not isinstance(op, str):
            raise InputFileError(
                path, f"{where}.op: expected an operation name such as 'create', got {kind(op)}"
            )
        if op in DROP_OPS:
            continue
        state_key = "newState" if step.get("newState") is not None else "oldState"
        state = step.get(state_key)
        if state is None:
            if op in KEEP_OPS:
                raise InputFileError(
                    path, f"{where}.newState: missing; a '{op}' step needs the resource's new state"
                )
            continue  # an operation this reader does not know, without a state: nothing to add
        reference = state.get("provider") if isinstance(state, dict) else None
        resource = resource_from_state(
            state,
            path,
            f"{where}.{state_key}",
            blinded_secrets=True,
            # by the provider's URN: on a first preview a new provider's id is unknown
            provider_inputs=providers.get(reference.rsplit("::", 1)[0])
            if isinstance(reference, str)
            else None,
        )
        step_urn = step.get("urn")
        if isinstance(step_urn, str) and step_urn != resource.urn:
            raise InputFileError(
                path,
                f"{where}.{state_key}.urn: {resource.urn!r} does not match the step's "
                f"urn {step_urn!r}",
            )
        earlier = by_urn.get(resource.urn)
        if earlier is not None and earlier != resource:  # not a replacement's repeated state
            raise InputFileError(
                path,
                f"{where}.{state_key}.urn: {resource.urn!r} is also the URN of steps"
                f"[{step_of[resource.urn]}], with another state; a stack's URNs are unique",
            )
        by_urn[resource.urn] = resource  # later steps of a replacement carry the same new state
        step_of.setdefault(resource.urn, index)
    return list(by_urn.values())


def _provider_inputs(steps: list[Any]) -> dict[str, dict[str, Any]]:
    """Provider URN -> the provider's inputs, for every provider the preview keeps: a
    resource's ``tagsAll`` is worked out from its provider's default tags."""
    providers: dict[str, dict[str, Any]] = {}
    for step in steps:
        if not isinstance(step, dict) or step.get("op") in DROP_OPS:
            continue
        state = step.get("newState") or step.get("oldState")
        if not isinstance(state, dict):
            continue
        urn, inputs = state.get("urn"), state.get("inputs")
        if (
            isinstance(urn, str)
            and str(state.get("type", "")).startswith("pulumi:providers:")
            and isinstance(inputs, dict)
        ):
            providers[urn] = inputs
    return providers
