"""Fixtures for the end-to-end tests: the real Pulumi CLI, built once per session.

Without a Go toolchain the tests skip, except under CI (``CI=true``), where a missing Go fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.pulumi_cli import GoMissing, build_pulumi


@pytest.fixture(scope="session")
def pulumi_bin() -> Path:
    try:
        return build_pulumi()
    except GoMissing as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and the end-to-end tests cannot run: {exc}")
        pytest.skip(f"end-to-end tests need the Pulumi CLI built from Go modules: {exc}")
