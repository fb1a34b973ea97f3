"""Parsing limits (``costline.core.limits``) on every JSON and YAML input.

Each input over a limit fails fast with one line naming the file and the JSON path (or the
YAML line) in it: exit 2 in the CLI, an advisory violation in the pack. Both sides of every
limit are tested: at the limit the input is read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from costline.cli.errors import EXIT_BAD_INPUT, EXIT_OK
from costline.core.limits import (
    MAX_DEPTH,
    MAX_NUMBER_CHARS,
    MAX_VALUES,
    LimitError,
    load_yaml,
    parse_json,
)
from costline.engine import EngineResource, make_urn
from costline.usage.infracost_file import UsageFileError, read_usage_file
from tests.hostile import PREVIEW, REPO, assert_one_line_error, cli

LAMBDA = "aws:lambda/function:Function"
STEP_URN = make_urn(LAMBDA, "fn")

# Ten nested aliases of nine: 9^9 = 387,420,489 strings once expanded.
BILLION_LAUGHS = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [
        f"{name}: &{name} [{', '.join(['*' + previous] * 9)}]"
        for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
    ]
)


def nest(depth: int) -> Any:
    """``depth`` levels of objects: ``nest(1)`` is ``{"a": 1}``."""
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


def preview_with(**inputs: Any) -> str:
    state = {"urn": STEP_URN, "type": LAMBDA, "custom": True, "inputs": inputs}
    return json.dumps({"steps": [{"op": "create", "urn": STEP_URN, "newState": state}]})


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# --- the limits themselves, both sides -------------------------------------------------------
def test_the_limits_are_the_documented_ones():
    assert (MAX_DEPTH, MAX_NUMBER_CHARS, MAX_VALUES) == (100, 100, 1_000_000)


def test_json_nested_100_levels_is_read_101_is_not():
    assert parse_json(json.dumps(nest(100))) == nest(100)
    with pytest.raises(LimitError) as refused:
        parse_json(json.dumps(nest(101)))
    assert refused.value.problem == "nested more than 100 levels deep"
    # the path to the 101st level, cut after 100 characters: it says where, not every step
    assert refused.value.where == "$" + ".a" * 49 + ".…"


def test_lists_count_as_levels_too():
    assert parse_json("[" * 100 + "]" * 100) is not None
    with pytest.raises(LimitError, match=r"^\$\[0\]\[0\].*: nested more than 100 levels deep$"):
        parse_json("[" * 101 + "]" * 101)


def test_a_number_of_100_characters_is_read_101_is_not():
    assert parse_json('{"n": ' + "9" * 100 + "}") == {"n": int("9" * 100)}
    assert parse_json('{"n": 0.' + "5" * 98 + "}")["n"] == 0.5555555555555556
    with pytest.raises(LimitError) as refused:
        parse_json('{"x": [1, {"n": ' + "9" * 101 + "}]}")
    assert str(refused.value) == (
        "$.x[1].n: a number of 101 characters (999999999999…); at most 100 are read"
    )


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(constant):
    with pytest.raises(LimitError) as refused:
        parse_json('{"budget": {"usd": ' + constant + "}}")
    assert str(refused.value) == f"$.budget.usd: {constant} is not a JSON number"


def test_a_lone_surrogate_is_refused_a_pair_is_text():
    assert parse_json('["\\ud83d\\ude00"]') == ["\U0001f600"]
    with pytest.raises(LimitError) as refused:
        parse_json('{"steps": [{"urn": "x\\udc00y"}]}')
    assert str(refused.value) == (
        "$.steps[0].urn: a lone UTF-16 surrogate (\\ud800-\\udfff) in a string is not text"
    )


def test_yaml_aliases_within_the_cap_are_read():
    document = load_yaml("base: &b {source: s, as_of: '2026-01-01'}\none: *b\ntwo: *b\n")
    assert document["two"] == {"source": "s", "as_of": "2026-01-01"}


def test_a_billion_laughs_is_refused_naming_where_it_explodes():
    with pytest.raises(LimitError) as refused:
        load_yaml(BILLION_LAUGHS)
    # h expands to 9^8 = 43,046,721 strings (over the cap); every list inside it to at most
    # 9^7 = 4,782,969 - also over; g's 9^7 is over, f's 9^6 = 531,441 + lists is under.
    assert refused.value.where == "$.g"
    assert refused.value.problem.startswith("expands to more than 1,000,000 values")


def test_yaml_numbers_over_the_limit_name_their_line():
    with pytest.raises(yaml.YAMLError) as refused:
        load_yaml("a: 1\nb: " + "7" * 101 + "\n")
    assert "line 2, column 4" in str(refused.value)
    assert "a number of 101 characters" in str(refused.value)
    assert load_yaml("b: " + "7" * 100)["b"] == int("7" * 100)


# --- through the CLI: exit 2, one line naming the file and the path ---------------------------
@pytest.mark.parametrize(
    "content, expected",
    [
        ("[" * 5000 + "]" * 5000, "$: nested more than 100 levels deep"),
        (
            None,  # json.dumps cannot write a 5,000-digit integer: spliced in below
            "$.steps[0].newState.inputs.memorySize: a number of 5,000 characters",
        ),
        (
            preview_with(memorySize=1).replace('"memorySize": 1', '"memorySize": NaN'),
            "$.steps[0].newState.inputs.memorySize: NaN is not a JSON number",
        ),
        (
            PREVIEW.read_text().replace("::api-handler", "::api-\\ud800handler", 1),
            ".urn: a lone UTF-16 surrogate",
        ),
    ],
    ids=["5,000 levels", "5,000-digit integer", "NaN", "lone surrogate in a resource name"],
)
def test_a_preview_over_a_limit_is_exit_2(tmp_path, content, expected):
    if content is None:
        content = preview_with(memorySize=1).replace(
            '"memorySize": 1', '"memorySize": ' + "9" * 5000
        )
    preview = write(tmp_path / "preview.json", content)
    result = cli("estimate", "--from-preview", preview)
    assert result.exit_code == EXIT_BAD_INPUT
    assert_one_line_error(result.stderr, f"{preview}: ", expected)


def test_a_stack_export_with_a_5000_digit_integer_is_exit_2(tmp_path):
    export = REPO / "tests" / "fixtures" / "stack-export" / "reference-stack.export.json"
    text = export.read_text().replace('"version": 3', '"version": ' + "3" * 5000, 1)
    assert text != export.read_text()
    result = cli("estimate", "--from-preview", write(tmp_path / "export.json", text))
    assert result.exit_code == EXIT_BAD_INPUT
    assert_one_line_error(result.stderr, "$.version: a number of 5,000 characters")


def test_a_baseline_holding_nan_is_exit_2(tmp_path):
    baseline = write(tmp_path / "base.json", '{"schema": "costline-report/1", "total": NaN}')
    result = cli("diff", "--from-preview", PREVIEW, "--baseline", baseline)
    assert result.exit_code == EXIT_BAD_INPUT
    assert_one_line_error(result.stderr, f"{baseline}: $.total: NaN is not a JSON number")


@pytest.mark.parametrize(
    "content, expected",
    [
        (b'{"stack-budget": {"monthlyBudgetUsd": 5\xff}}', "policy config is not UTF-8 text"),
        ('{"stack-budget": {"monthlyBudgetUsd": NaN}}', "$.stack-budget.monthlyBudgetUsd: NaN"),
        ("[" * 5000 + "]" * 5000, "$: nested more than 100 levels deep"),
        (
            '{"stack-budget": {"monthlyBudgetUsd": ' + "9" * 5000 + "}}",
            "$.stack-budget.monthlyBudgetUsd: a number of 5,000 characters (999999999999…)",
        ),
    ],
    ids=["not UTF-8", "NaN", "5,000 levels", "5,000-digit number"],
)
def test_policy_config_over_a_limit_is_exit_2(tmp_path, content, expected):
    config = write(tmp_path / "cfg.json", content)
    result = cli("preview", "--policy-pack-config", config)
    assert result.exit_code == EXIT_BAD_INPUT
    assert_one_line_error(result.stderr, f"{config}: ", expected)


def test_a_billion_laughs_as_prices_is_exit_2(tmp_path):
    prices = write(tmp_path / "lol.yaml", BILLION_LAUGHS)
    result = cli("estimate", "--from-preview", PREVIEW, "--prices", prices)
    assert result.exit_code == EXIT_BAD_INPUT
    assert_one_line_error(
        result.stderr, "lol.yaml: $.g: expands to more than 1,000,000 values (YAML aliases"
    )


def test_a_long_number_in_a_price_override_names_its_line(tmp_path):
    prices = write(
        tmp_path / "long.yaml",
        "schema: costline-price-overrides/1\nentries:\n  lambda.requests:\n    price_per: "
        + "1" * 101
        + "\n",
    )
    result = cli("estimate", "--from-preview", PREVIEW, "--prices", prices)
    assert result.exit_code == EXIT_BAD_INPUT
    assert_one_line_error(
        result.stderr,
        "long.yaml: malformed YAML: line 4, column 16: a number of 101 characters",
    )


def test_an_offer_file_with_a_5000_digit_integer_is_exit_2(tmp_path):
    offer = REPO / "tests" / "fixtures" / "price-list" / "lambda-euc1.json"
    text = offer.read_text().replace('"formatVersion": "v1.0"', '"formatVersion": ' + "1" * 5000)
    bad = write(tmp_path / "offer.json", text)
    out = tmp_path / "tables"
    result = cli("pricing", "import", "--offer", bad, "--region", "eu-central-1", "--out", out)
    assert result.exit_code == EXIT_BAD_INPUT
    assert_one_line_error(result.stderr, f"{bad}: $.formatVersion: a number of 5,000 characters")
    assert not out.exists()


def test_a_usage_file_over_a_limit_is_refused_not_a_crash():
    """A usage file that cannot be read is refused as a whole (exit 2 in the CLI), never
    dropped with exit 0."""
    with pytest.raises(UsageFileError) as caught:
        read_usage_file("version: 0.1\nresource_usage: " + "9" * 5000, "u.yml")
    assert str(caught.value).startswith(
        "u.yml: not valid YAML (line 2, column 17: a number of 5,000"
    )
    with pytest.raises(UsageFileError) as caught:
        read_usage_file(BILLION_LAUGHS, "lol.yml")
    assert str(caught.value) == (
        "lol.yml: $.g: expands to more than 1,000,000 values (YAML aliases repeat what they "
        "point to); write the values out or use fewer aliases"
    )


def test_the_estimate_at_the_limits_still_works(tmp_path):
    """100 digits of memory is read (and is out of AWS's range, a finding), not refused."""
    preview = write(
        tmp_path / "p.json",
        preview_with(memorySize=1).replace('"memorySize": 1', '"memorySize": ' + "9" * 100),
    )
    result = cli("estimate", "--from-preview", preview, "--format", "json")
    assert result.exit_code == EXIT_OK
    codes = {f["code"] for r in json.loads(result.stdout)["resources"] for f in r["findings"]}
    assert "property-out-of-range" in codes


# --- the pack: a violation, never an exception ---------------------------------------------------
def test_a_billion_laughs_override_in_the_pack_is_an_advisory_violation(pack, tmp_path):
    prices = write(tmp_path / "lol.yaml", BILLION_LAUGHS)
    fn = EngineResource(
        urn=STEP_URN,
        properties={"tags": {"cost:monthly-requests": "1000", "cost:avg-duration-ms": "100"}},
    )
    config = {
        "cost-estimate": {"priceOverrides": [str(prices)]},
        "stack-budget": {"enforcementLevel": "mandatory", "monthlyBudgetUsd": 1},
    }
    result = pack.run([fn], config)
    assert pack.returncode is None and not result.mandatory
    errors = [v for v in result.violations if "could not run policy" in v.message]
    assert len(errors) == 5
    assert all(
        "lol.yaml: $.g: expands to more than 1,000,000 values" in v.message
        and v.enforcement_level == "advisory"
        for v in errors
    ), errors[0].message


def test_a_billion_laughs_as_the_pulumi_project_file_is_exit_2(tmp_path):
    program = tmp_path / "program"
    program.mkdir()
    write(program / "Pulumi.yaml", "name: p\nruntime: python\n" + BILLION_LAUGHS)
    result = cli("estimate", program)
    assert result.exit_code == EXIT_BAD_INPUT
    assert_one_line_error(result.stderr, "Pulumi.yaml: $.g: expands to more than 1,000,000 values")


# --- file size ---------------------------------------------------------------------------------
def sparse(path: Path, size: int) -> Path:
    with open(path, "wb") as handle:
        handle.truncate(size)  # no disk used
    return path


@pytest.mark.parametrize("option", ["--from-preview", "--prices", "--usage-file"])
def test_a_file_over_256_mib_is_refused_unread(tmp_path, option):
    big = sparse(tmp_path / "big.json", 256 * 1024 * 1024 + 1)
    args = [option, big] if option == "--from-preview" else ["--from-preview", PREVIEW, option, big]
    result = cli("estimate", *args)
    assert result.exit_code == EXIT_BAD_INPUT
    assert_one_line_error(
        result.stderr,
        "big.json",
        "the file is 268,435,457 bytes; at most 268,435,456 bytes are read (is it the right file?)",
    )


def test_an_endless_device_is_refused_after_the_limit(monkeypatch):
    import costline.core.limits as limits

    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 4096)
    with pytest.raises(LimitError) as refused:
        limits.read_input("/dev/zero")
    assert refused.value.problem.startswith("the file is endless or too long; at most 4,096 bytes")
    assert limits.read_input("/dev/null") == b""
