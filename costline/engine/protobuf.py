"""Property values as the engine sends them: protobuf ``Struct`` values, unknown sentinels,
secrets."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from google.protobuf import json_format, struct_pb2

from costline.core.values import (
    SECRET_SIGNATURE,
    SIGNATURE_KEY,
    UNKNOWN_SENTINELS,
)

UNKNOWN_BOOL = "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7"
UNKNOWN_ARRAY = "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2"
UNKNOWN_OBJECT = "dd056dcd-154b-4c76-9bd3-c8f88648b5ff"
UNKNOWN_ASSET = "030794c1-ac77-496b-92df-f27374a8bd58"
UNKNOWN_ARCHIVE = "e48ece36-62e2-4504-bad9-02848725956a"
assert {UNKNOWN_BOOL, UNKNOWN_ARRAY, UNKNOWN_OBJECT, UNKNOWN_ASSET, UNKNOWN_ARCHIVE} <= (
    UNKNOWN_SENTINELS
)


# --------------------------------------------------------------------------------------------
# Property values


def secret(value: Any) -> dict[str, Any]:
    """The engine's wire form of a secret value."""
    return {SIGNATURE_KEY: SECRET_SIGNATURE, "value": value}


def to_value(value: Any, *, skip_internal_keys: bool = False, path: str = "") -> struct_pb2.Value:
    """Convert plain Python data to a ``google.protobuf.Value`` the way the engine marshals it.

    Numbers become doubles (ints included, as in Go's ``float64``); ``skip_internal_keys``
    drops ``__``-prefixed object keys at every depth (``MarshalOptions.SkipInternalKeys``).
    """
    out = struct_pb2.Value()
    if value is None:
        out.null_value = struct_pb2.NULL_VALUE
    elif isinstance(value, bool):
        out.bool_value = value
    elif isinstance(value, (int, float)):
        number = float(value)
        if not math.isfinite(number):
            raise TypeError(f"{path or '<root>'}: non-finite number {value!r} has no wire form")
        out.number_value = number
    elif isinstance(value, str):
        out.string_value = value
    elif isinstance(value, Mapping):
        struct = to_struct(value, skip_internal_keys=skip_internal_keys, path=path)
        out.struct_value.CopyFrom(struct)
    elif isinstance(value, (list, tuple)):
        items = out.list_value
        items.SetInParent()
        for i, item in enumerate(value):
            items.values.append(
                to_value(item, skip_internal_keys=skip_internal_keys, path=f"{path}[{i}]")
            )
    else:
        raise TypeError(f"{path or '<root>'}: {type(value).__name__} has no engine wire form")
    return out


def to_struct(
    data: Mapping[str, Any] | None, *, skip_internal_keys: bool = False, path: str = ""
) -> struct_pb2.Struct:
    """Convert a Python mapping to ``google.protobuf.Struct`` (numbers become doubles)."""
    out = struct_pb2.Struct()
    for key, value in (data or {}).items():
        if not isinstance(key, str):
            raise TypeError(f"{path or '<root>'}: object key {key!r} is not a string")
        if skip_internal_keys and key.startswith("__"):
            continue
        child = f"{path}.{key}" if path else key
        out.fields[key].CopyFrom(to_value(value, skip_internal_keys=skip_internal_keys, path=child))
    return out


def from_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    """The inverse of :func:`to_struct` (every number comes back as a float)."""
    return json_format.MessageToDict(struct)
