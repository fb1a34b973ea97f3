"""Limits on every JSON and YAML input costline reads, in one place.

Policy config, ``pulumi preview --json`` output, stack exports, baselines, AWS offer files and
the price cache are JSON; price tables, override files, usage files and Pulumi project and stack
files are YAML. Whatever their content, reading one must fail fast with a message naming the
file and the place in it, never exhaust memory or the stack, never end in a traceback:

* **nesting** at most :data:`MAX_DEPTH` levels (Python's parsers recurse; a JSON file of 5,000
  ``[`` is 10 KB);
* **numbers** at most :data:`MAX_NUMBER_CHARS` characters (a 5,000-digit integer costs quadratic
  time to convert, and Python refuses one of more than 4,300 digits with a ValueError);
* **no NaN or Infinity** in JSON (not JSON, though Python's parser accepts them);
* **no lone UTF-16 surrogate** in a JSON string (``"\\ud800"``): it is not text, and would fail
  the first time it is printed or encoded;
* **YAML aliases** expand to at most :data:`MAX_VALUES` values: PyYAML shares an aliased node,
  but anything that walks the document (a schema check, a copy) visits it once per reference,
  so ten nested aliases of ten (the "billion laughs") are 10⁹ values.

Each limit is far above what any real file of its kind holds. Violations raise
:class:`LimitError`, whose ``where`` is a JSON path (``$.steps[0].newState.inputs``); each
reader turns it into its own one-line error naming the file.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

MAX_DEPTH = 100
"""Levels of nested lists and objects (a Pulumi state is about 10 deep)."""
MAX_NUMBER_CHARS = 100
"""Characters in one number's text (``1e308`` is 5, a price ``0.0000166667`` 12)."""
MAX_VALUES = 1_000_000
"""Values in a YAML document with every alias expanded (the Bedrock table has about 10,000)."""
MAX_FILE_BYTES = 256 * 1024 * 1024
"""Bytes in one input file (a 10,000-resource stack export is about 16 MB): ``/dev/zero`` or a
mistaken multi-gigabyte file is refused instead of filling memory."""

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_:/-]+$")


class LimitError(ValueError):
    """An input over one of the limits; ``str()`` is ``<where>: <problem>``."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


# --- files ---------------------------------------------------------------------------------------
def read_input(path: str | Path) -> bytes:
    """A whole input file, refused past :data:`MAX_FILE_BYTES` (a regular file by its size,
    before reading; a device or pipe after reading that much). Raises ``OSError`` as
    ``open`` does."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > MAX_FILE_BYTES:
            raise LimitError("$", _too_large(size))
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise LimitError("$", _too_large(None))
    return data


def _too_large(size: int | None) -> str:
    shown = f"{size:,} bytes" if size is not None else "endless or too long"
    return f"the file is {shown}; at most {MAX_FILE_BYTES:,} bytes are read (is it the right file?)"


# --- JSON ---------------------------------------------------------------------------------------
class _Refused:
    """Stands in for a number the parser must not convert, until its path is known."""

    __slots__ = ("problem",)

    def __init__(self, problem: str) -> None:
        self.problem = problem


def _long_number(text: str) -> str:
    return (
        f"a number of {len(text):,} characters ({text[:12]}…); at most {MAX_NUMBER_CHARS} are read"
    )


def parse_json(text: str, *, constants_as_text: bool = False) -> Any:
    """``json.loads`` within the limits of this module.

    Raises ``json.JSONDecodeError`` for text that is not JSON and :class:`LimitError` (naming
    the JSON path) for JSON over a limit. ``constants_as_text``: ``NaN``, ``Infinity`` and
    ``-Infinity`` are read as those strings (for a caller that reports each value it cannot use)
    instead of refusing the whole text."""
    refused: list[_Refused] = []

    def number(convert: Callable[[str], Any]) -> Callable[[str], Any]:
        def parse(number_text: str) -> Any:
            if len(number_text) > MAX_NUMBER_CHARS:
                refused.append(_Refused(_long_number(number_text)))
                return refused[-1]
            return convert(number_text)

        return parse

    def constant(name: str) -> Any:
        if constants_as_text:
            return name
        refused.append(_Refused(f"{name} is not a JSON number"))
        return refused[-1]

    decoder = json.JSONDecoder(
        parse_int=number(int), parse_float=number(float), parse_constant=constant
    )
    try:
        value = decoder.decode(text)
    except RecursionError:
        raise LimitError("$", f"nested more than {MAX_DEPTH} levels deep") from None
    check_tree(value)
    if refused:
        where, first = _find(value, lambda item: isinstance(item, _Refused))
        raise LimitError(where, (first or refused[0]).problem)
    if _SURROGATE_ESCAPE.search(text):
        _check_text(value, "$")
    return value


def _find(value: Any, wanted: Callable[[Any], bool]) -> tuple[str, Any]:
    """The path of the first item (in document order) for which ``wanted`` is true, and it."""
    stack: list[tuple[Any, str]] = [(value, "$")]
    while stack:
        item, at = stack.pop()
        if wanted(item):
            return at, item
        stack.extend((child, _child(at, key)) for key, child in reversed(_items(item)))
    return "$", None


def _check_text(value: Any, where: str) -> None:
    """Every string (keys too) encodes as UTF-8: no lone surrogate from a ``\\udXXX`` escape."""
    stack = [(value, where)]
    while stack:
        item, at = stack.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    raise LimitError(
                        at, "a lone UTF-16 surrogate (\\ud800-\\udfff) in a string is not text"
                    ) from None
        elif isinstance(item, dict):
            for key, child in item.items():
                stack.append((key, at))
                stack.append((child, _child(at, key)))
        elif isinstance(item, list):
            stack.extend((child, f"{at}[{index}]") for index, child in enumerate(item))


# --- the shape of parsed data (JSON and YAML) ---------------------------------------------------
def check_tree(value: Any, *, max_values: int | None = None) -> None:
    """Raise :class:`LimitError` when ``value`` nests deeper than :data:`MAX_DEPTH` or, with
    ``max_values``, holds more values than that once every shared (aliased) list or mapping is
    counted each time it appears.

    One pass over each distinct container per level, however often it is shared, so a billion
    laughs is refused after a few hundred steps."""
    if not _is_container(value):
        return
    if max_values is None:
        _check_depth(value)
        return
    level: dict[int, tuple[Any, int]] = {id(value): (value, 1)}
    depth, total = 1, 1  # the top-level container is level 1
    while level:
        following: dict[int, tuple[Any, int]] = {}
        for node, times in level.values():
            for child in node.values() if isinstance(node, dict) else node:
                total += times
                if isinstance(child, (dict, list)):
                    seen = following.get(id(child))
                    following[id(child)] = (child, times + seen[1]) if seen else (child, times)
        if max_values is not None and total > max_values:
            raise LimitError(
                _where_too_many(value, max_values),
                f"expands to more than {max_values:,} values (YAML aliases repeat what they "
                "point to); write the values out or use fewer aliases",
            )
        if following and depth == MAX_DEPTH:
            raise LimitError(_where_too_deep(value), f"nested more than {MAX_DEPTH} levels deep")
        depth += 1
        level = following


def _check_depth(value: Any) -> None:
    """Depth only, for data without shared parts (parsed JSON): one comprehension per level."""
    level = [value]
    for _ in range(MAX_DEPTH):
        level = [
            child
            for node in level
            for child in (node.values() if type(node) is dict else node)
            if type(child) is dict or type(child) is list
        ]
        if not level:
            return
    raise LimitError(_where_too_deep(value), f"nested more than {MAX_DEPTH} levels deep")


def _is_container(value: Any) -> bool:
    return isinstance(value, (dict, list))


def _child(where: str, key: Any) -> str:
    if isinstance(key, int) and not isinstance(key, bool):
        return f"{where}[{key}]"
    text = str(key)
    if _PLAIN_KEY.match(text):
        return f"{where}.{text}"
    shown = text if len(text) <= 40 else text[:40] + "…"
    return f"{where}[{json.dumps(shown)}]"


def _items(node: Any) -> list[tuple[Any, Any]]:
    if isinstance(node, dict):
        return list(node.items())
    if isinstance(node, list):
        return list(enumerate(node))
    return []


def _where_too_deep(value: Any) -> str:
    """The path to the first container below level :data:`MAX_DEPTH` (recursion stays bounded)."""

    def find(node: Any, where: str, depth: int) -> str | None:
        if depth > MAX_DEPTH:
            return where
        for key, child in _items(node):
            if _is_container(child):
                found = find(child, _child(where, key), depth + 1)
                if found is not None:
                    return found
        return None

    found = find(value, "$", 1)
    if found is None:  # pragma: no cover - only called when there is such a container
        return "$"
    if len(found) > 120:  # a hundred levels of path: its start says where
        return found[: found.rfind(".", 0, 100) + 1 or 100] + "…"
    return found


def _where_too_many(value: Any, max_values: int) -> str:
    """The deepest path whose own expansion is over ``max_values`` (usually the first alias)."""
    sizes: dict[int, int] = {}

    def size(node: Any, depth: int) -> int:
        known = sizes.get(id(node))
        if known is not None:
            return known
        total = 1
        if depth < MAX_DEPTH:
            for _, child in _items(node):
                total += size(child, depth + 1) if _is_container(child) else 1
                if total > max_values:
                    break
        sizes[id(node)] = total
        return total

    where, node, depth = "$", value, 0
    while depth < MAX_DEPTH:
        heavy = next(
            (
                (key, child)
                for key, child in _items(node)
                if _is_container(child) and size(child, depth + 1) > max_values
            ),
            None,
        )
        if heavy is None:
            return where
        where, node, depth = _child(where, heavy[0]), heavy[1], depth + 1
    return where


# --- YAML (PyYAML imported on first use: a warm price load reads the cache and needs none) -----
def check_number_text(loader: Any, node: Any) -> str:
    """A YAML number's text, refused (with its line) past :data:`MAX_NUMBER_CHARS`."""
    import yaml

    text = str(loader.construct_scalar(node))
    if len(text) > MAX_NUMBER_CHARS:
        raise yaml.constructor.ConstructorError(None, None, _long_number(text), node.start_mark)
    return text


@functools.cache
def limited_safe_loader() -> Any:
    """PyYAML's safe loader (libyaml's when there) whose numbers are refused past the limit."""
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    def limited_int(loader: Any, node: Any) -> Any:
        check_number_text(loader, node)
        return yaml.SafeLoader.construct_yaml_int(loader, node)

    def limited_float(loader: Any, node: Any) -> Any:
        check_number_text(loader, node)
        return yaml.SafeLoader.construct_yaml_float(loader, node)

    loader: Any = type("LimitedSafeLoader", (base,), {})
    loader.add_constructor("tag:yaml.org,2002:int", limited_int)
    loader.add_constructor("tag:yaml.org,2002:float", limited_float)
    return loader


@functools.cache
def strict_safe_loader() -> Any:
    """:func:`limited_safe_loader` that also refuses a mapping key given twice (PyYAML keeps the
    last one without a word; the Pulumi CLI and Infracost refuse such a file). Keys merged in
    with ``<<`` may still be overridden, as YAML means them to be."""
    import yaml

    class StrictSafeLoader(limited_safe_loader()):  # type: ignore[misc]
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            if isinstance(node, yaml.MappingNode):
                seen: set[Any] = set()
                for key_node, _ in node.value:
                    if key_node.tag == "tag:yaml.org,2002:merge":
                        continue
                    key = self.construct_object(key_node, deep=deep)
                    try:
                        repeated = key in seen
                        seen.add(key)
                    except TypeError:  # an unhashable key: the base class says so
                        continue
                    if repeated:
                        raise yaml.constructor.ConstructorError(
                            None,
                            None,
                            f"the key {str(key)[:60]!r} is given twice (only one value can count)",
                            key_node.start_mark,
                        )
            return super().construct_mapping(node, deep=deep)

    return StrictSafeLoader


def load_yaml(text: str | bytes, loader: type | None = None) -> Any:
    """One YAML document within the limits of this module (``loader``: default
    :func:`limited_safe_loader`).

    Raises ``yaml.YAMLError`` (with a line mark) for text that is not YAML or a number over the
    limit, and :class:`LimitError` for nesting or alias expansion over the limits."""
    import yaml

    try:
        value = yaml.load(text, Loader=loader or limited_safe_loader())
    except RecursionError:
        raise LimitError("$", f"nested more than {MAX_DEPTH} levels deep") from None
    check_tree(value, max_values=MAX_VALUES)
    return value


def yaml_problem(exc: Exception) -> str:
    """``line 3, column 7: <problem>`` for a PyYAML error (one line)."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None)
    if problem:
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        return f"{where}{problem}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
