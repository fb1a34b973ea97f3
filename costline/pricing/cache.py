"""A cache of parsed and schema-validated price files, so a warm load skips YAML and jsonschema.

Importing ``jsonschema`` costs ~130 ms and parsing the Bedrock table with PyYAML ~15 ms, more
than everything else a load does. A file whose exact bytes were already parsed and validated
is read back from ``<cache dir>/validated/<sha256>.json`` instead: the key hashes the file's
bytes, its kind, ``schema.json`` and the source of the modules that parse and coerce it, so
any change to one of them is a miss. Decimals are stored as ``{"$decimal": "0.20"}`` and
come back exact. Semantic checks run on every load, cached or not.

Cache dir: ``$COSTLINE_CACHE_DIR``, else ``$XDG_CACHE_HOME/costline``, else
``~/.cache/costline``; ``COSTLINE_CACHE_DIR=""`` turns the cache off. A cache that cannot be
written or read is ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

_PACKAGE = Path(__file__).resolve().parent
_KEY_SOURCES = ("schema.json", "checks.py", "decimal_text.py", "yaml_decimal.py", "cache.py")
_DECIMAL = "$decimal"


def cache_dir() -> Path | None:
    """Where validated files are remembered, or None when the cache is off."""
    configured = os.environ.get("COSTLINE_CACHE_DIR")
    if configured is not None:
        return Path(configured) / "validated" if configured else None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "costline" / "validated"


@lru_cache(maxsize=1)
def _code_digest() -> bytes:
    digest = hashlib.sha256()
    for name in _KEY_SOURCES:
        digest.update(name.encode() + b"\0" + (_PACKAGE / name).read_bytes() + b"\0")
    return digest.digest()


def _path(kind: str, raw: bytes) -> Path | None:
    directory = cache_dir()
    if directory is None:
        return None
    key = hashlib.sha256(_code_digest() + kind.encode() + b"\0" + raw).hexdigest()
    return directory / f"{key}.json"


def load(kind: str, raw: bytes) -> dict[str, Any] | None:
    """The parsed document of ``raw`` if it was validated before, else None."""
    path = _path(kind, raw)
    if path is None:
        return None
    try:
        return json.loads(path.read_bytes(), object_hook=_decode)
    except (OSError, ValueError):
        return None


def store(kind: str, raw: bytes, document: dict[str, Any]) -> None:
    """Remember that ``raw`` parsed to ``document`` and passed the schema."""
    path = _path(kind, raw)
    if path is None:
        return
    import tempfile  # only on a miss: ~5 ms of imports

    try:
        text = json.dumps(document, default=_encode, separators=(",", ":"))
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as tmp:
            tmp.write(text)
        os.replace(tmp.name, path)
    except (OSError, TypeError, ValueError):
        pass  # not cacheable (a non-string key) or not writable: the next load validates again


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {_DECIMAL: str(value)}
    raise TypeError(f"{type(value).__name__} is not cacheable")


def _decode(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and _DECIMAL in obj:
        return Decimal(obj[_DECIMAL])
    return obj
