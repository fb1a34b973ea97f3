"""The usage-tag contract: every malformed value is a finding naming resource and tag, never an
exception."""

from decimal import Decimal

import pytest

from costline.core.model import Resource, Severity, UsageSource
from costline.core.values import UNKNOWN
from costline.usage.tags import (
    AVG_DURATION_MS,
    INPUT_TOKENS,
    MONTHLY_REQUESTS,
    STORAGE_GB,
    UsageReader,
    parse_plain_decimal,
    tag_problems,
)

SECRET = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}


def reader(tags, **props):
    return UsageReader(
        Resource.from_engine(
            urn="urn:pulumi:dev::p::aws:lambda/function:Function::fn",
            type="aws:lambda/function:Function",
            name="fn",
            properties={"tags": tags, **props},
        )
    )


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("0", Decimal(0)),
        ("1000", Decimal(1000)),
        ("0.5", Decimal("0.5")),
        ("007", Decimal(7)),
        (12, Decimal(12)),
        (2.5, Decimal("2.5")),
    ],
)
def test_plain_decimals_parse_exactly(raw, expected):
    assert parse_plain_decimal(raw) == (expected, None)


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("", "is empty"),
        ("abc", "is not a plain decimal number"),
        ("-5", "is negative"),
        ("1e400", "uses an exponent"),
        ("NaN", "is not a finite number"),
        ("Infinity", "is not a finite number"),
        ("1,000", "contains a thousands separator"),
        ("1_000", "contains a thousands separator"),
        ("١٠٠", "contains non-ASCII digits"),
        (" 5", "has leading or trailing whitespace"),
        ("5\n", "has leading or trailing whitespace"),
        ("+5", "is not a plain decimal number"),
        (".5", "is not a plain decimal number"),
        (True, "is a boolean, not a number"),
        (-1, "is negative"),
        (float("nan"), "is not a finite number"),
        ([1], "is a list, not a plain decimal string"),
    ],
)
def test_malformed_values_are_rejected_with_a_reason(raw, reason):
    assert parse_plain_decimal(raw) == (None, reason)


@pytest.mark.parametrize(
    "value, code",
    [
        ("abc", "usage-tag-malformed"),
        ("-5", "usage-tag-malformed"),
        ("1e400", "usage-tag-malformed"),
        ("", "usage-tag-malformed"),
        ("1" * 30, "usage-tag-out-of-range"),
    ],
)
def test_malformed_tag_gives_error_finding_naming_resource_and_tag(value, code):
    usage = reader({"cost:avg-duration-ms": value})
    assert usage.number(AVG_DURATION_MS) is None
    (finding,) = usage.findings
    assert finding.code == code
    assert finding.severity is Severity.ERROR
    assert finding.resource_name == "fn"
    assert finding.field == "tags.cost:avg-duration-ms"
    assert finding.message.startswith("fn: cost:avg-duration-ms=")
    # no rewritten figure: the contract's example (1000) would read as the fix of the value
    assert finding.suggestion == (
        "check the figure: cost:avg-duration-ms is in ms, at most 900,000"
        if code == "usage-tag-out-of-range"
        else "write cost:avg-duration-ms as a plain decimal number in ms: digits and at most one "
        "decimal point, no separators, sign, exponent or spaces"
    )


@pytest.mark.parametrize(
    ("value", "suggestion"),
    [
        ("300,000", "set cost:monthly-requests=300000"),  # was cost:monthly-requests=30000
        ("1,234,567.5", "set cost:monthly-requests=1234567.5"),
        ("10_000", "set cost:monthly-requests=10000"),
        # ambiguous: a decimal comma, groups not of three, mixed separators: no figure offered
        ("1,5", None),
        ("30,00", None),
        ("1,000_000", None),
        ("1.000,5", None),
    ],
)
def test_a_fix_never_changes_the_size_of_the_figure(value, suggestion):
    usage = reader({"cost:monthly-requests": value})
    assert usage.number(MONTHLY_REQUESTS) is None
    (finding,) = usage.findings
    assert finding.suggestion == (
        suggestion
        or "write cost:monthly-requests as a plain decimal number in requests/month: digits and "
        "at most one decimal point, no separators, sign, exponent or spaces"
    )


def test_the_fix_of_a_secret_value_does_not_repeat_it():
    usage = reader({"cost:monthly-requests": {**SECRET, "value": "300,000"}})
    assert usage.number(MONTHLY_REQUESTS) is None
    (finding,) = usage.findings
    assert finding.suggestion == "write cost:monthly-requests without thousands separators"
    assert "300" not in finding.message + finding.suggestion


def test_a_secret_inside_a_tag_value_masks_the_whole_value():
    usage = reader({"cost:monthly-requests": [{**SECRET, "value": 987654321.0}]})
    assert usage.number(MONTHLY_REQUESTS) is None
    (finding,) = usage.findings
    assert finding.message == (
        "fn: cost:monthly-requests=[secret] is a list, not a plain decimal string; expected a "
        "plain decimal number in requests/month"
    )


def test_missing_tag_is_a_warning_with_an_example():
    usage = reader({})
    assert usage.number(STORAGE_GB) is None
    (finding,) = usage.findings
    assert finding.code == "usage-tag-missing"
    assert finding.suggestion == "add the tag cost:storage-gb=40"


def test_daily_requests_times_default_thirty_days():
    usage = reader({"cost:daily-requests": "1000"})
    assert usage.monthly_requests() == Decimal(30000)
    assert not usage.findings
    sources = {(a.key, a.source) for a in usage.assumptions}
    assert ("cost:days-per-month", UsageSource.DEFAULT) in sources
    assert ("monthly requests", UsageSource.DERIVED) in sources


def test_days_per_month_tag_is_honoured():
    assert reader(
        {"cost:daily-requests": "1000", "cost:days-per-month": "22"}
    ).monthly_requests() == Decimal(22000)


def test_inconsistent_daily_and_monthly_is_a_finding_and_monthly_wins():
    usage = reader({"cost:daily-requests": "1000", "cost:monthly-requests": "50000"})
    assert usage.monthly_requests() == Decimal(50000)
    (finding,) = usage.findings
    assert finding.code == "usage-tags-inconsistent"
    assert "50000" in finding.message and "30000" in finding.message


def test_consistent_daily_and_monthly_is_silent():
    usage = reader({"cost:daily-requests": "1000", "cost:monthly-requests": "30000"})
    assert usage.monthly_requests() == Decimal(30000)
    assert usage.findings == []


def test_no_traffic_tags_is_one_finding():
    usage = reader({})
    assert usage.monthly_requests() is None
    assert [f.code for f in usage.findings] == ["usage-tag-missing"]
    assert "cost:monthly-requests" in usage.findings[0].suggestion


def test_secret_tag_value_is_used_but_never_shown():
    usage = reader({"cost:input-tokens": {**SECRET, "value": "777"}})
    assert usage.number(INPUT_TOKENS) == Decimal(777)
    assert [a.value for a in usage.assumptions] == ["[secret]"]


def test_malformed_secret_tag_value_is_not_shown_in_the_finding():
    usage = reader({"cost:input-tokens": {**SECRET, "value": "hunter2"}})
    assert usage.number(INPUT_TOKENS) is None
    assert "hunter2" not in usage.findings[0].message
    assert "[secret]" in usage.findings[0].message


def test_unknown_tag_value_is_a_warning():
    usage = reader({"cost:input-tokens": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"})
    assert usage.number(INPUT_TOKENS) is None
    assert usage.findings[0].code == "usage-tag-unknown"


def test_unknown_tag_map_is_a_warning_per_tag():
    usage = reader("dd056dcd-154b-4c76-9bd3-c8f88648b5ff")
    assert usage.monthly_requests() is None
    assert usage.findings[0].code == "usage-tag-unknown"


def test_fail_closed_prices_missing_tag_at_worst_case():
    usage = UsageReader(
        Resource(urn="u", type="t", name="fn", properties={"tags": {}}),
        worst_case={"cost:monthly-requests": Decimal(10_000_000)},
    )
    assert usage.monthly_requests() == Decimal(10_000_000)
    assert [f.code for f in usage.findings] == ["usage-tag-missing", "usage-priced-worst-case"]


def test_fail_closed_prices_malformed_tag_at_worst_case():
    usage = UsageReader(
        Resource(
            urn="u", type="t", name="fn", properties={"tags": {"cost:monthly-requests": "lots"}}
        ),
        worst_case={"cost:monthly-requests": Decimal(5)},
    )
    assert usage.monthly_requests() == Decimal(5)
    assert [f.code for f in usage.findings] == ["usage-tag-malformed", "usage-priced-worst-case"]


def test_tags_all_provides_default_tags_and_tags_win():
    usage = UsageReader(
        Resource(
            urn="u",
            type="t",
            name="fn",
            properties={
                "tagsAll": {"cost:storage-gb": "10", "cost:monthly-get-requests": "5"},
                "tags": {"cost:storage-gb": "20"},
            },
        )
    )
    assert usage.number(STORAGE_GB) == Decimal(20)


def test_misspelled_cost_tag_is_flagged_with_a_suggestion():
    (finding,) = tag_problems(
        Resource(urn="u", type="t", name="fn", properties={"tags": {"cost:daily-request": "5"}})
    )
    assert finding.code == "usage-tag-unrecognized"
    assert finding.suggestion == "did you mean cost:daily-requests?"


def test_secret_whose_value_is_not_in_the_file_says_so():
    usage = UsageReader(
        Resource(
            urn="u",
            type="t",
            name="fn",
            properties={"tags": {"cost:input-tokens": UNKNOWN}},
            secret_paths=frozenset({"tags.cost:input-tokens"}),
        )
    )
    assert usage.number(INPUT_TOKENS) is None
    assert "is a secret whose value is not in the preview" in usage.findings[0].message
