"""``--format infracost-json``: costline's estimate in Infracost's JSON output format.

The Infracost CLI cannot be built here (its module is not served by the Go module proxy), so
the output is checked against the shape of Infracost's published output schema (version 0.2,
``schema/infracost.schema.json`` in infracost/infracost), restated below from its documented
fields, and every figure against the reference stack worked out by hand.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import jsonschema
from click.testing import CliRunner

from costline.cli.main import main

ROOT = Path(__file__).resolve().parents[1]

MONEY = {"type": ["string", "null"]}
COUNTS = {"type": "object", "additionalProperties": {"type": "integer"}}
COMPONENT = {
    "type": "object",
    "required": [
        "name",
        "unit",
        "hourlyQuantity",
        "monthlyQuantity",
        "price",
        "hourlyCost",
        "monthlyCost",
    ],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"},
        "unit": {"type": "string"},
        **dict.fromkeys(
            ("hourlyQuantity", "monthlyQuantity", "price", "hourlyCost", "monthlyCost"), MONEY
        ),
    },
}
RESOURCE = {
    "type": "object",
    "required": ["name", "metadata", "hourlyCost", "monthlyCost"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"},
        "tags": {"type": "object", "additionalProperties": {"type": "string"}},
        "metadata": {"type": "object"},
        "hourlyCost": MONEY,
        "monthlyCost": MONEY,
        "costComponents": {"type": "array", "items": COMPONENT},
        "subresources": {"type": "array"},
    },
}
BREAKDOWN = {
    "type": "object",
    "required": ["resources", "totalHourlyCost", "totalMonthlyCost"],
    "additionalProperties": False,
    "properties": {
        "resources": {"type": "array", "items": RESOURCE},
        "totalHourlyCost": MONEY,
        "totalMonthlyCost": MONEY,
    },
}
SUMMARY = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        **{
            k: {"type": "integer"}
            for k in (
                "totalResources",
                "totalDetectedResources",
                "totalSupportedResources",
                "totalUnsupportedResources",
                "totalUsageBasedResources",
                "totalNoPriceResources",
            )
        },
        **dict.fromkeys(
            ("supportedResourceCounts", "unsupportedResourceCounts", "noPriceResourceCounts"),
            COUNTS,
        ),
    },
}
PROJECT = {
    "type": "object",
    "required": ["name", "metadata", "pastBreakdown", "breakdown", "diff", "summary"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"},
        "metadata": {
            "type": "object",
            "required": ["path", "type"],
            "additionalProperties": False,
            "properties": {
                k: {"type": "string"}
                for k in (
                    "path",
                    "type",
                    "vcsRepoUrl",
                    "vcsSubPath",
                    "vcsPullRequestUrl",
                    "terraformWorkspace",
                )
            },
        },
        "pastBreakdown": BREAKDOWN,
        "breakdown": BREAKDOWN,
        "diff": BREAKDOWN,
        "summary": SUMMARY,
    },
}
ROOT_SCHEMA = {
    "type": "object",
    "required": [
        "version",
        "currency",
        "projects",
        "totalHourlyCost",
        "totalMonthlyCost",
        "pastTotalHourlyCost",
        "pastTotalMonthlyCost",
        "diffTotalHourlyCost",
        "diffTotalMonthlyCost",
        "timeGenerated",
        "summary",
    ],
    "additionalProperties": False,
    "properties": {
        "version": {"const": "0.2"},
        "currency": {"type": "string"},
        "runId": {"type": "string"},
        "shareUrl": {"type": "string"},
        "projects": {"type": "array", "items": PROJECT},
        **dict.fromkeys(
            (
                "totalHourlyCost",
                "totalMonthlyCost",
                "pastTotalHourlyCost",
                "pastTotalMonthlyCost",
                "diffTotalHourlyCost",
                "diffTotalMonthlyCost",
            ),
            MONEY,
        ),
        "timeGenerated": {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"},
        "summary": SUMMARY,
    },
}


def infracost(*args: str) -> dict:
    result = CliRunner().invoke(main, ["estimate", str(ROOT), "--format", "infracost-json", *args])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    jsonschema.validate(document, ROOT_SCHEMA)
    return document


def test_the_reference_stack_in_infracost_json():
    doc = infracost()
    assert doc["currency"] == "USD"
    # 30,000 calls: Bedrock 15M in × $1.35/1M + 15M out × $5.40/1M = $20.25 + $81.00;
    # S3 40 GB × $0.023 + 30,000 GET × $0.0004/1k + 100 PUT × $0.005/1k = $0.92 + $0.012 + $0.0005;
    # REST API 30,000 × $3.50/1M = $0.105; Lambda inside the free tier = $0.
    assert doc["totalMonthlyCost"] == "102.2875"
    assert doc["pastTotalMonthlyCost"] == "0" and doc["diffTotalMonthlyCost"] == "102.2875"
    assert doc["totalHourlyCost"] == "0.1401198630136986"  # 102.2875 / 730, 16 places
    (project,) = doc["projects"]
    resources = {r["name"]: r for r in project["breakdown"]["resources"]}
    assert {n: r["monthlyCost"] for n, r in resources.items()} == {
        "model": "101.25",
        "artifacts": "0.9325",
        "dev": "0.105",
        "api-handler": "0",
    }
    tokens = {
        c["name"]: (c["monthlyQuantity"], c["price"], c["monthlyCost"])
        for c in resources["model"]["costComponents"]
    }
    assert tokens == {
        "Input tokens (deepseek.r1-v1:0)": ("15000000", "0.00000135", "20.25"),
        "Output tokens (deepseek.r1-v1:0)": ("15000000", "0.0000054", "81"),
    }
    assert resources["model"]["metadata"]["type"] == "aws:bedrock/inferenceProfile:InferenceProfile"
    summary = project["summary"]
    assert summary["totalDetectedResources"] == 17
    assert summary["totalSupportedResources"] == 4
    assert summary["totalNoPriceResources"] == 13
    assert summary["totalUnsupportedResources"] == 0
    assert doc["summary"] == summary  # one project: the document's summary is its own


def test_components_add_up_to_their_resource_and_the_breakdown_to_the_total():
    doc = infracost()
    (project,) = doc["projects"]
    resources = project["breakdown"]["resources"]
    for resource in resources:
        parts = sum(Decimal(c["monthlyCost"]) for c in resource["costComponents"])
        assert parts == Decimal(resource["monthlyCost"]), resource["name"]
    assert sum(Decimal(r["monthlyCost"]) for r in resources) == Decimal(doc["totalMonthlyCost"])


def test_with_a_baseline_the_past_and_the_diff_are_filled(tmp_path):
    baseline = tmp_path / "baseline.json"
    result = CliRunner().invoke(
        main, ["estimate", str(ROOT), "--format", "json", "-o", str(baseline), "--what-if", "none"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(baseline.read_text())
    # a cheaper past: the model cost $98.9625 instead of $101.25, so the total was $100 and the
    # change adds $2.2875 (a baseline's total must be the sum of its resources)
    data["total_monthly_usd"] = "100"
    model = next(r for r in data["resources"] if r["name"] == "model")
    assert model["monthly_usd"] == "101.25"
    model["monthly_usd"] = "98.9625"
    baseline.write_text(json.dumps(data))
    result = CliRunner().invoke(
        main, ["diff", str(ROOT), "--baseline", str(baseline), "--format", "infracost-json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, ROOT_SCHEMA)
    assert doc["pastTotalMonthlyCost"] == "100"
    assert doc["diffTotalMonthlyCost"] == "2.2875"
    assert doc["projects"][0]["diff"]["totalMonthlyCost"] == "2.2875"
