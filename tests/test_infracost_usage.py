"""Infracost usage files mapped onto the stack as cost:* tags (costline.usage.infracost_file).

Worked example: the usage file gives ``aws_lambda_function.api_handler`` 2,000,000 requests of
200 ms; the seed Lambda is 512 MB, so 2,000,000 × 0.2 s × 0.5 GB = 200,000 GB-s (inside the
400,000 free GB-s → $0) and 2,000,000 − 1,000,000 free = 1,000,000 requests × $0.20/M = $0.20.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from click.testing import CliRunner

from costline.cli.main import main
from costline.estimator.pipeline import estimate
from costline.usage.infracost_file import UsageFileError, apply_usage_file, read_usage_file
from tests.conftest import BUCKET, LAMBDA, REPO, make

USAGE = """
version: 0.1
resource_type_default_usage:
  aws_s3_bucket:
    storage_gb: 10
resource_usage:
  aws_lambda_function.api_handler:
    monthly_requests: 2000000
    request_duration_ms: 200
    ephemeral_storage_gb: 1
  module.data.aws_s3_bucket.artifacts[0]:
    standard:
      storage_gb: 40
      monthly_tier_1_requests: 100
      monthly_tier_2_requests: 30000
  aws_api_gateway_rest_api.api:
    monthly_requests: 5000
  aws_dynamodb_table.sessions:
    monthly_read_request_units: 5
  aws_lambda_function.not_in_stack:
    monthly_requests: 1
"""


def _stack():
    return [
        make(LAMBDA, "api-handler", memorySize=512),
        make(BUCKET, "artifacts"),
        make(BUCKET, "logs", tags={"cost:storage-gb": "3"}),
        make("aws:apigateway/restApi:RestApi", "api", tags={"cost:monthly-requests": "9000"}),
    ]


def _apply():
    document, problems = read_usage_file(USAGE, "infracost-usage.yml")
    assert problems == []
    return apply_usage_file(_stack(), document)


def test_keys_become_tags_by_address_and_type_default():
    resources, _ = _apply()
    tags = {r.name: dict(r.properties.get("tags") or {}) for r in resources}
    assert tags["api-handler"] == {
        "cost:monthly-requests": "2000000",
        "cost:avg-duration-ms": "200",
    }
    assert tags["artifacts"] == {
        "cost:storage-gb": "40",
        "cost:monthly-put-requests": "100",
        "cost:monthly-get-requests": "30000",
    }  # address beats the type default
    assert tags["logs"] == {"cost:storage-gb": "3"}  # its own tag beats the type default


def test_a_resources_own_tags_win():
    resources, _ = _apply()
    api = next(r for r in resources if r.name == "api")
    assert api.properties["tags"]["cost:monthly-requests"] == "9000"


def test_unmapped_keys_and_addresses_are_findings():
    _, findings = _apply()
    by_code = {}
    for finding in findings:
        by_code.setdefault(finding.code, []).append(finding.field)
    assert by_code["usage-file-key-unmapped"] == [
        "resource_usage.aws_lambda_function.api_handler.ephemeral_storage_gb",
        "resource_usage.aws_dynamodb_table.sessions",
    ]
    assert by_code["usage-file-unmatched"] == ["resource_usage.aws_lambda_function.not_in_stack"]


def test_priced_from_the_usage_file(prices):
    resources, _ = _apply()
    result = estimate(resources, prices)
    handler = next(r for r in result.resources if r.name == "api-handler")
    assert {i.price_id: i.monthly_usd for i in handler.line_items} == {
        "lambda.requests": Decimal("0.20"),
        "lambda.duration.x86_64": Decimal("0"),
    }


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("version: 0.2\n", "u.yml: version: 0.2 is not 0.1, the Infracost usage file version"),
        ("resource_usage: {}\n", "u.yml: version: missing is not 0.1"),
        ("[1, 2]", "u.yml: expected a mapping with version: 0.1 and resource_usage, got list"),
        ("", "u.yml: expected a mapping with version: 0.1 and resource_usage, got nothing"),
        ("version: 0.1\nresource_usage: [x]\n", "u.yml: resource_usage must be a mapping"),
        ("{{", "u.yml: not valid YAML (line 2, column 1: did not find expected node content)"),
    ],
)
def test_a_file_that_cannot_be_used_raises_naming_it(text, problem):
    with pytest.raises(UsageFileError) as caught:
        read_usage_file(text, "u.yml")
    assert str(caught.value).startswith(problem), str(caught.value)


@pytest.mark.parametrize(
    "text", ["version: 0.1\nresource_usage: {api_handler: [1\n", "version: 2\nresource_usage: {}\n"]
)
def test_the_cli_refuses_an_unusable_usage_file_with_exit_2(tmp_path, text):
    usage = tmp_path / "usage.yml"
    usage.write_text(text, encoding="utf-8")
    preview = REPO / "tests" / "fixtures" / "preview" / "reference-stack.preview.json"
    out = CliRunner().invoke(
        main, ["estimate", "--from-preview", str(preview), "--usage-file", str(usage)]
    )
    assert out.exit_code == 2, out.output
    assert out.stdout == ""
    assert out.stderr.startswith(f"costline: error: {usage}: "), out.stderr
    assert out.stderr.count("\n") == 1


def test_a_bad_entry_is_a_finding():
    _, findings = apply_usage_file(
        _stack(), {"version": "0.1", "resource_usage": {"api_handler": {"monthly_requests": [1]}}}
    )
    assert [f.code for f in findings] == ["usage-file-invalid"]


def test_plain_name_matches_any_supported_type():
    resources, _ = apply_usage_file(
        _stack(), {"version": "0.1", "resource_usage": {"api_handler": {"monthly_requests": 7}}}
    )
    assert resources[0].properties["tags"] == {"cost:monthly-requests": "7"}


def test_cli_usage_file(tmp_path):
    usage = tmp_path / "infracost-usage.yml"
    usage.write_text(
        "version: 0.1\nresource_usage:\n  aws_dynamodb_table.x:\n    monthly_read_request_units: "
        "1\n"
    )
    preview = REPO / "tests" / "fixtures" / "preview" / "reference-stack.preview.json"
    out = CliRunner().invoke(
        main,
        [
            "estimate",
            "--from-preview",
            str(preview),
            "--usage-file",
            str(usage),
            "--format",
            "json",
        ],
    )
    assert out.exit_code == 0, out.output
    assert any(f["code"] == "usage-file-key-unmapped" for f in json.loads(out.stdout)["findings"])
    missing = CliRunner().invoke(
        main,
        ["estimate", "--from-preview", str(preview), "--usage-file", str(tmp_path / "nope.yml")],
    )
    assert missing.exit_code == 2 and "nope.yml: cannot read usage file" in missing.output
