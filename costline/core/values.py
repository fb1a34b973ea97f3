"""How the Pulumi engine encodes property values, and how costline decodes them.

The engine (and ``pulumi preview --json``, ``pulumi stack export`` and the gRPC Analyzer
protocol) sends resource properties as JSON-like values in which two kinds of value are
special (see pulumi ``sdk/go/common/resource/properties.go`` and pulumi-policy ``proxy.py``):

* unknown values during preview: one of seven sentinel strings, one per value kind;
* secrets: ``{"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
  "value": <v>}``.

:func:`decode` turns such a value into plain Python data, replacing each unknown with the
:data:`UNKNOWN` marker and recording the dotted path of every secret so that reports can
use a secret's value without ever printing it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SIGNATURE_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270"

UNKNOWN_SENTINELS: frozenset[str] = frozenset(
    {
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # boolean
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",  # string
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
        "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
        "e48ece36-62e2-4504-bad9-02848725956a",  # archive
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
    }
)
UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
UNKNOWN_NUMBER = "3eeb2bf0-c639-47a8-9e75-3b44932eb421"

# What `pulumi preview --json` prints in place of a secret value.
PREVIEW_SECRET_PLACEHOLDER = "[secret]"
SECRET_DISPLAY = "[secret]"
"""What every costline output shows in place of a value that came from a secret."""


class _Unknown:
    """The one value that stands for "not known until the update runs"."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unknown>"

    def __reduce__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()


def is_unknown(value: Any) -> bool:
    """True for the :data:`UNKNOWN` marker or a raw engine sentinel string."""
    return value is UNKNOWN or (isinstance(value, str) and value in UNKNOWN_SENTINELS)


def is_secret_envelope(value: Any) -> bool:
    return (
        isinstance(value, Mapping)
        and value.get(SIGNATURE_KEY) == SECRET_SIGNATURE
        and "value" in value
    )


def decode(raw: Any, path: str = "", secret_paths: set[str] | None = None) -> Any:
    """Decode an engine-encoded value.

    Returns plain data (dicts, lists, str, numbers, bools, None and :data:`UNKNOWN`).
    Every path whose value was a secret is added to ``secret_paths`` (dotted; list indexes
    as numbers), e.g. ``tags.cost:input-tokens``. Other signature-keyed objects (assets,
    archives) are kept as opaque dicts: costline never prices their contents.
    """
    if secret_paths is None:
        secret_paths = set()
    if isinstance(raw, str) and raw in UNKNOWN_SENTINELS:
        return UNKNOWN
    if is_secret_envelope(raw):
        secret_paths.add(path)
        return decode(raw["value"], path, secret_paths)
    if isinstance(raw, Mapping):
        return {
            str(key): decode(value, _join(path, str(key)), secret_paths)
            for key, value in raw.items()
        }
    if isinstance(raw, (list, tuple)):
        return [decode(item, _join(path, str(i)), secret_paths) for i, item in enumerate(raw)]
    return raw


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def is_secret_path(path: str, secret_paths: frozenset[str] | set[str]) -> bool:
    """True when ``path`` or any of its ancestors was a secret."""
    if not secret_paths:
        return False
    while True:
        if path in secret_paths:
            return True
        if "." not in path:
            return False
        path = path.rsplit(".", 1)[0]


def touches_secret(path: str, secret_paths: frozenset[str] | set[str]) -> bool:
    """True when the value at ``path`` came from a secret or holds one: ``path`` itself, one of
    its ancestors (a secret map) or one of its descendants (a list or map holding a secret
    item) is a secret path. Anything that *shows* the value at ``path`` must ask this, not
    :func:`is_secret_path`: ``[<secret 987654321>]`` is printed whole."""
    if not secret_paths:
        return False
    if is_secret_path(path, secret_paths):
        return True
    prefix = f"{path}." if path else ""
    return any(p.startswith(prefix) for p in secret_paths)


def encode(
    value: Any, path: str = "", secret_paths: frozenset[str] | set[str] = frozenset()
) -> Any:
    """The inverse of :func:`decode`: :data:`UNKNOWN` becomes the engine's unknown sentinel and
    every value at a path in ``secret_paths`` is wrapped in a secret envelope."""
    if path and path in secret_paths:
        return {SIGNATURE_KEY: SECRET_SIGNATURE, "value": _encode_plain(value, path, secret_paths)}
    return _encode_plain(value, path, secret_paths)


def _encode_plain(value: Any, path: str, secret_paths: frozenset[str] | set[str]) -> Any:
    if value is UNKNOWN:
        return UNKNOWN_STRING
    if isinstance(value, Mapping):
        return {str(k): encode(v, _join(path, str(k)), secret_paths) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v, _join(path, str(i)), secret_paths) for i, v in enumerate(value)]
    return value
