"""A resource's properties at preview time, from what the engine sends (engine-encoded values).

On a first ``pulumi preview`` the engine sends a policy pack each resource twice (pulumi
``pkg/resource/deploy/step_generator.go``):

* ``Analyze``: its *inputs* after the provider's Check — cross-resource values unknown, every
  plain value the program set known;
* ``AnalyzeStack``: its *outputs* — the checked inputs plus every computed field as unknown
  (``arn``, ``invokeArn``, and Optional+Computed fields the program left unset such as a
  Lambda's ``architectures``), or an **empty map** when the provider's own config is not fully
  known (``sdk/go/common/resource/plugin/provider_plugin.go``: no Check, no Create preview).

:func:`preview_properties` joins the two: the outputs, with the inputs' known values where an
output is unknown or missing; a computed field that is unknown and was never an input is left
out, as unset (the AWS default applies, as it will on the update) — so is an object of
unknowns only (pulumi-aws's ``ephemeralStorage: {"size": <unknown>}`` for a Lambda that sets
none).

``tagsAll`` (the resource's tags over its provider's ``defaultTags``) is computed by pulumi-aws
in Check, and is unknown whenever Check did not run or any tag or default tag is unknown.
:func:`with_tags_all` works it out from the provider's inputs, which the engine sends with every
resource, the way pulumi-aws does; it stays unknown (never absent) when a default tag is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from costline.core.limits import parse_json
from costline.core.values import (
    SECRET_SIGNATURE,
    SIGNATURE_KEY,
    UNKNOWN_SENTINELS,
    is_secret_envelope,
)

UNKNOWN_OBJECT = "dd056dcd-154b-4c76-9bd3-c8f88648b5ff"
"""The engine's sentinel for an unknown object (a map such as ``tagsAll``)."""

TAGGABLE_TYPES = frozenset(
    {
        "aws:lambda/function:Function",
        "aws:apigateway/restApi:RestApi",
        "aws:apigateway/stage:Stage",
        "aws:bedrock/inferenceProfile:InferenceProfile",
        "aws:s3/bucket:Bucket",
        "aws:s3/bucketV2:BucketV2",
        "aws:apigatewayv2/api:Api",
        "aws:apigatewayv2/stage:Stage",
        "aws:iam/role:Role",
    }
)
"""Types that get their provider's default tags even when they declare no ``tags`` themselves
(the offline mock runner is given the same list)."""

_KEPT_UNKNOWN = frozenset({"tags", "tagsAll"})
"""Unknown outputs that stay unknown even when no input set them: an unknown tag map may hold
usage tags (the provider's default tags), so it must never read as "no tags"."""


def is_unknown_value(value: Any) -> bool:
    """An unknown sentinel, or a secret whose value is one."""
    if isinstance(value, str):
        return value in UNKNOWN_SENTINELS
    return is_secret_envelope(value) and is_unknown_value(value["value"])


def preview_properties(
    outputs: Mapping[str, Any] | None, inputs: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The properties to price: ``outputs`` (AnalyzeStack), with ``inputs`` (Analyze) filling
    what the outputs leave unknown or out; all of ``inputs`` when the outputs are empty."""
    if inputs is None:
        return dict(outputs or {})
    if not outputs:
        return dict(inputs)
    return _merge(outputs, inputs, top=True)


def _merge(outputs: Mapping[str, Any], inputs: Mapping[str, Any], *, top: bool) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for key, value in outputs.items():
        given = inputs.get(key, _MISSING)
        if given is _MISSING and not (top and key in _KEPT_UNKNOWN) and _wholly_unknown(value):
            continue  # computed and never set (e.g. {"size": <unknown>}): unset on the update too
        if is_unknown_value(value):
            if given is not _MISSING and not is_unknown_value(given):
                merged[key] = given  # known when the program set it: the inputs say so
            elif given is not _MISSING or (top and key in _KEPT_UNKNOWN):
                merged[key] = value
            # else: computed and never set: unset on the update too (the AWS default applies)
        elif (
            isinstance(value, Mapping)
            and isinstance(given, Mapping)
            and not is_secret_envelope(value)
            and not is_secret_envelope(given)
        ):
            merged[key] = _merge(value, given, top=False)
        else:
            merged[key] = value
    for key, given in inputs.items():
        if key not in merged and key not in outputs:
            merged[key] = given
    return merged


_MISSING = object()


def _wholly_unknown(value: Any) -> bool:
    """An unknown, or an object or list every leaf of which is unknown (an empty one is known)."""
    if isinstance(value, Mapping) and not is_secret_envelope(value):
        return bool(value) and all(_wholly_unknown(v) for v in value.values())
    if isinstance(value, list):
        return bool(value) and all(_wholly_unknown(v) for v in value)
    return is_unknown_value(value)


def provider_default_tags(provider_inputs: Mapping[str, Any]) -> tuple[Any, bool]:
    """The provider's default tags as ``(tags, secret)``: a mapping, ``{}`` when it has none, or
    an unknown sentinel. ``defaultTags`` is JSON text (``{"tags": {...}}``) both in stack config
    and in an explicit ``aws.Provider``'s inputs; a mapping is accepted too."""
    raw: Any = provider_inputs.get("defaultTags")
    secret = False
    if is_secret_envelope(raw):
        raw, secret = raw["value"], True
    if raw is None or raw == "":
        return {}, secret
    if is_unknown_value(raw):
        return UNKNOWN_OBJECT, secret
    if isinstance(raw, str):
        try:
            raw = parse_json(raw)  # ValueError past the parsing limits too
        except ValueError:
            return {}, secret  # pulumi-aws rejects it in CheckConfig; nothing to add
    tags: Any = raw.get("tags") if isinstance(raw, Mapping) else None
    if is_secret_envelope(tags):
        tags, secret = tags["value"], True
    if is_unknown_value(tags):
        return UNKNOWN_OBJECT, secret
    if not isinstance(tags, Mapping):
        return {}, secret
    if any(is_unknown_value(v) for v in tags.values()):
        return UNKNOWN_OBJECT, secret
    return dict(tags), secret


def with_tags_all(
    type_: str, properties: dict[str, Any], provider_inputs: Mapping[str, Any] | None
) -> dict[str, Any]:
    """``properties`` with ``tagsAll`` worked out from the provider's default tags when it is
    unknown or missing (as pulumi-aws's Check does): known when every tag and default tag is,
    else the unknown sentinel. Unchanged for a known ``tagsAll``, a non-AWS resource, one with
    no provider, and an untagged resource of a type that takes no tags."""
    current = properties.get("tagsAll")
    if current is not None and not is_unknown_value(current):
        return properties
    if provider_inputs is None or not type_.startswith("aws:"):
        return properties
    tags: Any = properties.get("tags")
    if current is None and tags is None and type_ not in TAGGABLE_TYPES:
        return properties
    defaults, secret = provider_default_tags(provider_inputs)
    own_secret = is_secret_envelope(tags)
    own = tags["value"] if own_secret else tags
    if own is not None and not isinstance(own, Mapping) and not is_unknown_value(own):
        return properties  # malformed tags: the usage-tag reader says so
    if defaults == UNKNOWN_OBJECT or (own is not None and not isinstance(own, Mapping)):
        all_tags: Any = UNKNOWN_OBJECT
    else:
        if not defaults and current is None and own is None:
            return properties  # no tags at all: nothing to add
        all_tags = {**defaults, **(own or {})}
        if any(is_unknown_value(v) for v in all_tags.values()):
            all_tags = UNKNOWN_OBJECT  # pulumi-aws: one unknown tag makes the whole map unknown
    if secret or own_secret:
        all_tags = {SIGNATURE_KEY: SECRET_SIGNATURE, "value": all_tags}
    return {**properties, "tagsAll": all_tags}
