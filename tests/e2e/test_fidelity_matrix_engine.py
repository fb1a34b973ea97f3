"""The fidelity-matrix programs (tests/fixtures/programs/) in the real Pulumi engine.

Each program: a first preview with the pack, `pulumi up` with the test AWS provider, a second
preview. The totals are the hand-worked ones of tests/test_fidelity_matrix.py (``TOTALS``); the
real engine's first preview is compared with them and with what ``costline preview`` assumes
for a first preview (``FIRST_PREVIEW``).
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.pulumi_cli import Workspace
from tests.test_fidelity_matrix import FIRST_PREVIEW, PROGRAMS, TOTALS

pytestmark = pytest.mark.e2e

ENGINE_FIRST_PREVIEW = dict(TOTALS)
"""What the real engine shows on a first preview: every program's full total. It differs from
``FIRST_PREVIEW`` for output-default-tag: the provider's default tag there is the bucket's
``bucket``, an input pulumi-aws auto-names in Check, so it is known on a first preview; the
provider's config and the Lambda's tagsAll are known, and the Lambda's duration tag is read
($21.03, not the $2.70 costline preview assumes)."""


def stack_total(output: str) -> str:
    match = re.search(r"Stack total ~(\$[0-9,.]+)/month", output)
    assert match, output
    return match.group(1)


def test_the_engine_knows_more_than_costline_preview_assumes_only_for_output_default_tag():
    differs = {n for n in TOTALS if ENGINE_FIRST_PREVIEW[n] != FIRST_PREVIEW[n]}
    assert differs == {"output-default-tag"}


@pytest.mark.parametrize("name", sorted(TOTALS))
def test_program_totals_in_the_real_engine(name, pulumi_bin, tmp_path):
    ws = Workspace.create(tmp_path, pulumi_bin, project=PROGRAMS / name, main=None)
    first = ws.preview()
    assert first.returncode == 0, first
    assert stack_total(first.stdout) == ENGINE_FIRST_PREVIEW[name], first
    assert "not known until the update" not in first.stdout
    ws.up(pack=None)
    second = ws.preview()
    assert second.returncode == 0, second
    assert stack_total(second.stdout) == TOTALS[name], second
