"""A cache of parsed and schema-validated price files, so a warm load skips YAML and jsonschema.

Importing ``jsonschema`` costs ~130 ms and parsing the Bedrock table with PyYAML ~15 ms, more
than everything else a load does. A file whose exact bytes were already parsed and validated
is read back from ``<cache dir>/validated/<key>.json`` instead: the key hashes the file's
bytes, its kind, ``schema.json`` and the source of the modules that parse and coerce it, so
any change to one of them is a miss. Decimals are stored as ``{"$decimal": "0.20"}`` and
come back exact. Semantic checks run on every load, cached or not.

**A cache file is checked before it is used.** Its first line is a header naming the format,
the key it was stored under and the SHA-256 of the key and the document that follows; a file
whose header, key or digest does not match (a wrong-shaped file, one cut short, prices edited
to 0), or whose document is not a mapping, is ignored with one warning on stderr, and the price
file is parsed and validated again (and the cache file rewritten). The digest is not a
signature: like Python's own ``__pycache__``, the cache folder must be writable only by those
who may change costline itself.

Cache dir: ``$COSTLINE_CACHE_DIR``, else ``$XDG_CACHE_HOME/costline``, else
``~/.cache/costline``; ``COSTLINE_CACHE_DIR=""`` turns the cache off. A cache that cannot be
written or read is ignored.
"""

from __future__ import annotations

import contextlib
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
_FORMAT = "costline-price-cache/2"


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
    """The parsed document of ``raw`` if it was validated before (and its cache file is
    intact), else None."""
    path = _path(kind, raw)
    if path is None:
        return None
    try:
        stored = path.read_bytes()
    except OSError:
        return None
    document, problem = _verified(stored, path.stem)
    if problem is not None:
        _warn(f"ignoring the price cache file {path} ({problem}); reading the price file again")
    return document


def _verified(stored: bytes, key: str) -> tuple[dict[str, Any] | None, str | None]:
    """(document, None) for an intact cache file, else (None, what is wrong with it)."""
    header_line, newline, body = stored.partition(b"\n")
    try:
        header = json.loads(header_line) if newline else None
    except (ValueError, RecursionError):
        header = None
    if not isinstance(header, dict) or header.get("format") != _FORMAT:
        return None, "not a costline price cache file"
    if header.get("key") != key:
        return None, "stored under another key"
    if header.get("sha256") != _digest(key, body):
        return None, "its content does not match its checksum: edited or damaged"
    try:
        document = json.loads(body, object_hook=_decode)
    except (ValueError, RecursionError):
        return None, "not valid JSON"
    if not isinstance(document, dict):
        return None, "not a price document"
    return document, None


def _digest(key: str, body: bytes) -> str:
    return hashlib.sha256(key.encode() + b"\0" + body).hexdigest()


def _warn(message: str) -> None:
    import sys

    if sys.stderr is not None:
        with contextlib.suppress(OSError, ValueError):
            print(f"costline: warning: {message}", file=sys.stderr, flush=True)


def store(kind: str, raw: bytes, document: dict[str, Any]) -> None:
    """Remember that ``raw`` parsed to ``document`` and passed the schema."""
    path = _path(kind, raw)
    if path is None:
        return
    import tempfile  # only on a miss: ~5 ms of imports

    try:
        body = json.dumps(document, default=_encode, separators=(",", ":")).encode()
        header = {"format": _FORMAT, "key": path.stem, "sha256": _digest(path.stem, body)}
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=path.parent, suffix=".tmp", delete=False) as tmp:
            tmp.write(json.dumps(header).encode() + b"\n" + body)
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
