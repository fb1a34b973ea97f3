"""A damaged or poisoned price cache is ignored with a warning, never trusted, never a crash.

The cache (``costline.pricing.cache``) holds parsed price files under a key of their bytes; each
cache file starts with a header holding that key and a SHA-256 of the document. Whatever is
written into the cache folder, the estimate is the one the price tables give.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from costline.cli.errors import EXIT_OK
from costline.pricing.loader import clear_cache
from tests.hostile import PREVIEW, cli

REFERENCE_TOTAL = "## 💰 costline: $102.29/month"  # the README's figure for the reference stack


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("COSTLINE_CACHE_DIR", str(folder))
    return folder / "validated"


def estimate():
    clear_cache()  # the per-process cache of books would hide the files on disk
    return cli("estimate", "--from-preview", PREVIEW)


def warm(cache: Path) -> list[Path]:
    first = estimate()
    assert first.exit_code == EXIT_OK and first.stderr == ""
    files = sorted(cache.glob("*.json"))
    assert len(files) == 5  # region.yaml and the four service tables of us-east-1
    return files


def assert_ignored(result, files: list[Path], reason: str) -> None:
    assert result.exit_code == EXIT_OK
    assert result.stdout.startswith(REFERENCE_TOTAL)
    assert sorted(result.stderr.splitlines()) == sorted(
        f"costline: warning: ignoring the price cache file {path} ({reason}); reading the "
        "price file again"
        for path in files
    )


def test_a_warm_cache_gives_the_same_estimate(cache):
    warm(cache)
    again = estimate()
    assert again.exit_code == EXIT_OK and again.stderr == ""
    assert again.stdout.startswith(REFERENCE_TOTAL)


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"[1, 2]", "not a costline price cache file"),
        (b'{"entries": []}\n{}', "not a costline price cache file"),
        (b"", "not a costline price cache file"),
        (b"\xff\xfe binary", "not a costline price cache file"),
    ],
    ids=["a JSON list", "valid JSON of the wrong shape", "empty", "binary"],
)
def test_a_wrong_shaped_cache_is_ignored_with_a_warning(cache, content, reason):
    files = warm(cache)
    for path in files:
        path.write_bytes(content)
    assert_ignored(estimate(), files, reason)
    # each file was written again: the next run is quiet
    again = estimate()
    assert again.stderr == "" and again.stdout.startswith(REFERENCE_TOTAL)


def test_a_poisoned_cache_with_prices_set_to_0_is_ignored(cache):
    files = warm(cache)
    poisoned = []
    for path in files:
        header, body = path.read_bytes().split(b"\n", 1)
        document = json.loads(body)
        for entry in (document.get("entries") or {}).values():
            for tier in entry["tiers"]:
                tier["usd"] = {"$decimal": "0"}
        new_body = json.dumps(document, separators=(",", ":")).encode()
        if new_body != body:
            path.write_bytes(header + b"\n" + new_body)
            poisoned.append(path)
    assert len(poisoned) == 4  # every service table; region.yaml holds no price
    assert_ignored(
        estimate(), poisoned, "its content does not match its checksum: edited or damaged"
    )


def test_a_cache_file_cut_short_is_ignored(cache):
    files = warm(cache)
    for path in files:
        path.write_bytes(path.read_bytes()[:-20])
    assert_ignored(estimate(), files, "its content does not match its checksum: edited or damaged")


def test_a_cache_file_moved_to_another_key_is_ignored(cache):
    files = warm(cache)
    contents = [path.read_bytes() for path in files]
    for path, content in zip(files, contents[1:] + contents[:1], strict=True):
        path.write_bytes(content)
    assert_ignored(estimate(), files, "stored under another key")
