"""Shared by every reader: Pulumi's ``apitype.ResourceV3`` JSON →
:class:`costline.core.model.Resource`.

``pulumi preview --json`` (each step's ``newState``/``oldState``), ``pulumi stack export``
(``deployment.resources[]``) and costline's own mock runner all describe a resource with the
same object: ``urn``, ``type``, ``custom``, ``inputs``, ``outputs``, ``parent``,
``dependencies``, ``propertyDependencies``, ``provider``... This module validates that shape
(errors name the file and the JSON path), picks the properties (``inputs``, what the engine's
Analyze sees), and turns every secret representation into the engine's own encoding before
:meth:`Resource.from_engine` decodes it:

==========================================================  ==================================
in the file                                                 in the ``Resource``
==========================================================  ==================================
``"[secret]"`` (preview JSON blinds every secret so)        :data:`UNKNOWN`, path in
``secret_paths``
``{"4dabf…": "1b47…", "ciphertext": "…"}`` (stack export)   :data:`UNKNOWN`, path in
``secret_paths``
``{"4dabf…": "1b47…", "plaintext": "<json>"}`` (--show-secrets)  the value, path in ``secret_paths``
``{"4dabf…": "1b47…", "value": v}`` (engine/mocks)          ``v``, path in ``secret_paths``
unknown sentinel ``04da6b54-…`` (preview)                   :data:`UNKNOWN`
==========================================================  ==================================

So "a secret whose value is not in the file" reads as *unknown* to every consumer (pricers,
usage tags) and as *secret* to anything that displays values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from costline.core.limits import LimitError, parse_json, read_input
from costline.core.model import Resource
from costline.core.values import (
    PREVIEW_SECRET_PLACEHOLDER,
    SECRET_SIGNATURE,
    SIGNATURE_KEY,
    UNKNOWN_STRING,
)
from costline.readers.errors import InputFileError
from costline.readers.preview_values import with_tags_all

_URN_PREFIX = "urn:pulumi:"


def load_json(path: str | Path, *, what: str) -> Any:
    """Read a JSON file, turning every failure into an :class:`InputFileError` naming ``path``.

    Accepts UTF-8 (with or without BOM) and UTF-16 with BOM (what PowerShell's ``>`` writes).
    ``what`` names the expected content for messages (e.g. "`pulumi preview --json` output").
    """
    try:
        data = read_input(path)
    except LimitError as exc:
        raise InputFileError(path, str(exc)) from None
    except FileNotFoundError:
        raise InputFileError(path, "no such file") from None
    except IsADirectoryError:
        raise InputFileError(path, f"is a directory; expected a file of {what}") from None
    except OSError as exc:
        raise InputFileError(path, f"cannot be read: {exc.strerror or exc}") from None
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            text = data.decode("utf-16")
        else:
            text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputFileError(path, f"is not UTF-8 text; expected {what}") from None
    if not text.strip():
        raise InputFileError(path, f"is empty; expected {what}")
    try:
        return parse_json(text)
    except LimitError as exc:
        raise InputFileError(path, str(exc)) from None
    except json.JSONDecodeError as exc:
        # The parser reached the end of the text inside a value: the file was cut short.
        if exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string"):
            end = text.rstrip()
            raise InputFileError(
                path,
                f"is not complete JSON: it stops in the middle of a value at line "
                f"{end.count(chr(10)) + 1} (was the file truncated?)",
            ) from None
        raise InputFileError(
            path,
            f"is not valid JSON: {exc.msg} (line {exc.lineno} column {exc.colno}); expected {what}",
        ) from None


def kind(value: Any) -> str:
    """A JSON value's kind, for messages: 'an object', 'a list', 'a string', ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def expect_object(value: Any, path: str | Path, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputFileError(path, f"{where}: expected an object, got {kind(value)}")
    return value


def expect_list(value: Any, path: str | Path, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise InputFileError(path, f"{where}: expected a list, got {kind(value)}")
    return value


def split_urn(urn: str) -> tuple[str, str] | None:
    """``(type, name)`` from a URN, or ``None`` when it is not one.

    ``urn:pulumi:<stack>::<project>::<parent types$>type::<name>``; the name may itself contain
    ``::``, and the type is the last ``$``-separated segment of the qualified type.
    """
    if not urn.startswith(_URN_PREFIX):
        return None
    parts = urn.split("::", 3)
    if len(parts) != 4 or not parts[2] or not parts[3]:
        return None
    return parts[2].split("$")[-1], parts[3]


def resource_from_state(
    state: Any,
    path: str | Path,
    where: str,
    *,
    blinded_secrets: bool = False,
    provider_inputs: Mapping[str, Any] | None = None,
) -> Resource:
    """One ``ResourceV3`` object → :class:`Resource`.

    ``where`` is the object's JSON path for messages (``steps[3].newState``).
    ``blinded_secrets`` turns the string ``"[secret]"`` into an unknown secret (preview JSON
    only: in a stack export that string is an ordinary value).

    Properties are ``inputs``; when a state has no ``inputs`` key at all (Pulumi omits empty
    maps), ``outputs`` are used instead. A ``tagsAll`` output (tags including the provider's
    default tags) is added when the inputs lack one, because the usage-tag contract reads it;
    when it is unknown or missing and ``provider_inputs`` (the inputs of the resource's
    provider) are given, it is worked out from the provider's default tags as pulumi-aws does
    (:func:`costline.readers.preview_values.with_tags_all`), unknown when a default tag is.
    """
    state = expect_object(state, path, where)
    urn = state.get("urn")
    parsed = split_urn(urn) if isinstance(urn, str) else None
    if parsed is None:
        raise InputFileError(
            path,
            f"{where}.urn: expected a Pulumi URN "
            f"(urn:pulumi:<stack>::<project>::<type>::<name>), got {_shown(urn)}",
        )
    urn_type, name = parsed
    type_token = state.get("type", urn_type)
    if not isinstance(type_token, str) or not type_token:
        raise InputFileError(
            path,
            f"{where}.type: expected a type token such as "
            f"aws:lambda/function:Function, got {_shown(type_token)}",
        )

    inputs = _optional_object(state, "inputs", path, where)
    outputs = _optional_object(state, "outputs", path, where)
    properties = dict(inputs if inputs is not None else (outputs or {}))
    if (
        inputs is not None
        and "tagsAll" not in properties
        and isinstance((outputs or {}).get("tagsAll"), dict)
    ):
        properties["tagsAll"] = outputs["tagsAll"]  # type: ignore[index]
    if provider_inputs is not None:
        properties = with_tags_all(
            type_token,
            to_engine_encoding(properties, blinded_secrets=blinded_secrets),
            to_engine_encoding(provider_inputs, blinded_secrets=blinded_secrets),
        )

    parent = state.get("parent")
    if parent is not None and not isinstance(parent, str):
        raise InputFileError(path, f"{where}.parent: expected a URN string, got {kind(parent)}")
    dependencies = _urn_list(state.get("dependencies"), path, f"{where}.dependencies")
    raw_property_deps = state.get("propertyDependencies")
    property_dependencies: dict[str, list[str]] = {}
    if raw_property_deps is not None:
        for key, urns in expect_object(
            raw_property_deps, path, f"{where}.propertyDependencies"
        ).items():
            property_dependencies[key] = _urn_list(
                urns, path, f"{where}.propertyDependencies.{key}"
            )

    try:
        return Resource.from_engine(
            urn=urn,
            type=type_token,
            name=name,
            properties=to_engine_encoding(properties, blinded_secrets=blinded_secrets),
            dependencies=dependencies,
            property_dependencies=property_dependencies,
            parent=parent or None,
            custom=state.get("custom") is not False,
        )
    except RecursionError:
        raise InputFileError(
            path, f"{where}: property values nested too deeply to be read"
        ) from None


def to_engine_encoding(value: Any, *, blinded_secrets: bool) -> Any:
    """Rewrite the file forms of secrets (see the module docstring) as engine secret envelopes."""
    if blinded_secrets and value == PREVIEW_SECRET_PLACEHOLDER:
        return _secret(UNKNOWN_STRING)
    if isinstance(value, Mapping):
        if value.get(SIGNATURE_KEY) == SECRET_SIGNATURE:
            if "value" in value:
                return _secret(to_engine_encoding(value["value"], blinded_secrets=blinded_secrets))
            if isinstance(value.get("plaintext"), str):
                try:
                    return _secret(
                        to_engine_encoding(parse_json(value["plaintext"]), blinded_secrets=False)
                    )
                except ValueError:  # not JSON, or past the parsing limits
                    return _secret(UNKNOWN_STRING)
            return _secret(UNKNOWN_STRING)  # "ciphertext": encrypted, the value is not available
        return {
            key: to_engine_encoding(item, blinded_secrets=blinded_secrets)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [to_engine_encoding(item, blinded_secrets=blinded_secrets) for item in value]
    return value


def _secret(value: Any) -> dict[str, Any]:
    return {SIGNATURE_KEY: SECRET_SIGNATURE, "value": value}


def _optional_object(
    state: dict[str, Any], key: str, path: str | Path, where: str
) -> dict[str, Any] | None:
    value = state.get(key)
    if value is None:
        return None
    return expect_object(value, path, f"{where}.{key}")


def _urn_list(value: Any, path: str | Path, where: str) -> list[str]:
    if value is None:
        return []
    items = expect_list(value, path, where)
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise InputFileError(path, f"{where}[{index}]: expected a URN string, got {kind(item)}")
    return items


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:60] + "…")
    return kind(value)
