"""Hypothesis fuzz of the preview-JSON reader and the usage-tag parser, through the CLI entry
point: whatever the file holds, ``costline estimate --from-preview`` ends with exit 0 and a
report, or exit 2 and one line naming the file; never a traceback, an internal error (3) or a
failed gate (1).

Bounded (a few dozen examples each, no deadline) so the suite stays fast.
"""

from __future__ import annotations

import json
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from costline.cli.errors import EXIT_BAD_INPUT, EXIT_OK
from tests.hostile import cli

LAMBDA = "aws:lambda/function:Function"
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "[secret]",
            "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
            "1e400",
            "NaN",
            "\ud800",
            "\x1b[2J",
        ]
    ),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
tag_keys = st.sampled_from(
    [
        "cost:monthly-requests",
        "cost:daily-requests",
        "cost:avg-duration-ms",
        "cost:storage-gb",
        "cost:bedrock-model",
        "cost:input-tokens",
        "cost:output-tokens",
        "cost:days-per-month",
        "cost:unknown-key",
    ]
)


def _is_text(value: Any) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def urn(name: str) -> str:
    return f"urn:pulumi:dev::p::{LAMBDA}::{name}"


def state(name: str, inputs: Any, **extra: Any) -> dict[str, Any]:
    return {"urn": urn(name), "type": LAMBDA, "custom": True, "inputs": inputs, **extra}


def run_preview(document: Any) -> Any:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "preview.json"
        text = document if isinstance(document, str) else json.dumps(document)
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        result = cli("estimate", "--from-preview", path, "--format", "json")
        assert result.exit_code in (EXIT_OK, EXIT_BAD_INPUT), (result.exit_code, result.stderr)
        assert "Traceback" not in result.stderr
        if result.exit_code == EXIT_BAD_INPUT:
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith(f"costline: error: {path}"), lines
        else:
            json.loads(result.stdout)
        return result


@FUZZ
@given(
    names=st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=3),
    inputs=st.dictionaries(
        st.sampled_from(["memorySize", "timeout", "architectures", "tags", "x"]),
        json_values,
        max_size=4,
    ),
    extra=st.dictionaries(
        st.sampled_from(["parent", "dependencies", "outputs", "custom"]), json_values, max_size=2
    ),
)
def test_any_preview_shape_is_a_report_or_one_line(names, inputs, extra):
    steps = [
        {"op": "create", "urn": urn(name), "newState": state(name, inputs, **extra)}
        for name in names
    ]
    run_preview({"steps": steps})


@FUZZ
@given(document=json_values)
def test_any_json_document_is_a_report_or_one_line(document):
    run_preview(document)


@FUZZ
@given(text=st.text(max_size=200))
def test_any_text_is_a_report_or_one_line(text):
    run_preview(text)


@FUZZ
@given(tags=st.dictionaries(tag_keys, json_values, max_size=5))
def test_any_usage_tags_give_a_report(tags):
    """Tag values of any kind are findings, never a refusal: the estimate is made (a lone
    surrogate is not text: the file is refused, as the other tests cover)."""
    assume(_is_text(tags))
    result = run_preview(
        {"steps": [{"op": "create", "urn": urn("fn"), "newState": state("fn", {"tags": tags})}]}
    )
    assert result.exit_code == EXIT_OK, result.stderr


def test_an_error_quoting_the_input_stays_one_safe_line():
    """Found by the fuzz above: keys holding U+0085 (a line break to ``splitlines``) split the
    one-line error; an escape sequence would have reached the terminal."""
    result = run_preview({"\x1b[31mred\nline": 1, "\x85": None})
    assert result.exit_code == EXIT_BAD_INPUT
    assert "\x1b" not in result.stderr and "\x85" not in result.stderr
    assert "got an object with keys" in result.stderr


@pytest.mark.parametrize(
    ("requests", "factor_exponent"),
    # the 1M-calls row's factor, by hand: 10^6 / 5.5e-235 = (2/11) × 10^241 ≈ 1.8 × 10^240;
    # 10^6 / 1e-200 = 10^206
    [("0." + "0" * 234 + "55", 240), ("0." + "0" * 199 + "1", 206)],  # 5.5e-235, 1e-200
)
def test_a_vanishing_edge_volume_still_gives_the_what_if_rows(requests, factor_exponent):
    """Found by the fuzz above: a Lambda declaring 5.5e-235 calls a month made the 1M-calls row a
    factor of about 1.8e240; rounding it to 10 places for the report needed more digits than the
    money context holds, and the CLI exited 3. The row's factor is written out in full."""
    result = run_preview(
        {
            "steps": [
                {
                    "op": "create",
                    "urn": urn("fn"),
                    "newState": state("fn", {"tags": {"cost:monthly-requests": requests}}),
                }
            ]
        }
    )
    assert result.exit_code == EXIT_OK, result.stderr
    rows = json.loads(result.stdout)["what_if"]["rows"]
    assert [row["volume"] for row in rows[1:]] == ["30000", "100000", "500000", "1000000"]
    assert Decimal(rows[-1]["factor"]).adjusted() == factor_exponent
