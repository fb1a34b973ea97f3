"""A quiet preview: by default the pack reports one stack-level cost line, and a line per
resource only at or above ``resourceLinesAboveUsd`` — through the gRPC Analyzer protocol.

Reference stack at list prices (README): model $101.25, artifacts $0.9325, dev $0.105,
api-handler $0 (free tier); total $102.2875 → $102.29.
"""

from __future__ import annotations

import pytest

from costline.engine.preview import engine_resource
from tests.conftest import seed_stack


def reference():
    return [engine_resource(r) for r in seed_stack()]


def test_a_healthy_preview_shows_one_line_with_total_and_drivers(pack):
    result = pack.run(reference())
    assert len(result.violations) == 1  # one ⚠️ in pulumi preview, one record in Pulumi Cloud
    (line,) = result.violations
    assert line.policy_name == "cost-estimate" and line.urn == ""
    text = [s.strip() for s in line.message.splitlines()]
    (stack,) = [i for i, s in enumerate(text) if s.startswith("Stack total ~$102.29/month · ")]
    assert text[stack + 1] == "Top cost drivers: model $101.25, artifacts $0.93, dev $0.11"


@pytest.mark.parametrize(
    ("threshold", "lines"),
    [
        (101.25, ["model"]),  # exactly the model's $101.25: shown
        (101.26, []),  # a cent above it: none
        (0.9325, ["model", "artifacts"]),  # the bucket's exact $0.9325, not its shown $0.93
        (0.9326, ["model"]),
        (0, ["model", "artifacts", "dev", "api-handler"]),  # every priced resource, $0 included
    ],
)
def test_resource_lines_start_at_the_threshold(pack, threshold, lines):
    result = pack.run(reference(), {"cost-estimate": {"resourceLinesAboveUsd": threshold}})
    urns = {r.urn: r.name for r in seed_stack()}
    shown = [urns[v.urn] for v in result.by_policy("cost-estimate") if v.urn]
    assert sorted(shown) == sorted(lines)


def test_the_preview_display_and_the_pack_line_name_a_type_alike(pack):
    """As ``pulumi preview`` shows it: ``(aws:bedrock:InferenceProfile: model)`` beside the
    pack's ``model (aws:bedrock:InferenceProfile): ~$101.25/month``; never the full token."""
    from costline.engine.preview import format_policies

    resources = reference()
    result = pack.run(resources, {"cost-estimate": {"resourceLinesAboveUsd": 101.25}})
    shown = format_policies(result, resources)
    assert "- [advisory]  cost-estimate  (aws:bedrock:InferenceProfile: model)\n" in shown
    assert "model (aws:bedrock:InferenceProfile): ~$101.25/month" in shown
    assert "aws:bedrock/inferenceProfile:InferenceProfile" not in shown
