"""``costline pricing import`` never damages the tables it writes into.

It writes into a staging folder inside ``--out``, validates the whole region there and only
then swaps it in; ``--region`` must be a region code; offers for some services merge into the
existing tables instead of rewriting them without the entries the offers do not hold.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from costline.cli.errors import EXIT_BAD_INPUT, EXIT_OK
from costline.pricing import load_price_book
from tests.hostile import REPO, assert_one_line_error, cli

OFFERS = REPO / "tests" / "fixtures" / "price-list"
BUNDLED = REPO / "pricing" / "eu-central-1"


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too) and its bytes."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def entry_ids(path: Path) -> set[str]:
    document = yaml.safe_load(path.read_text())
    return set(document.get("entries") or {}) | set(document.get("free_tiers") or {})


def import_(out: Path, *offers: str, region: str = "eu-central-1"):
    args = ["pricing", "import", "--region", region, "--out", out]
    for offer in offers:
        args += ["--offer", OFFERS / offer]
    return cli(*args)


@pytest.fixture
def tables(tmp_path) -> Path:
    """A copy of the bundled eu-central-1 tables, as the README's example imports into."""
    out = tmp_path / "pricing"
    shutil.copytree(BUNDLED, out / "eu-central-1")
    return out


# --- the region code ---------------------------------
@pytest.mark.parametrize("region", ["../escaped", "eu-central-1/../../x", "/tmp/abs", "EU-1", ""])
def test_a_region_that_is_not_a_region_code_is_exit_2_and_writes_nothing(tmp_path, region):
    out = tmp_path / "a" / "out"
    result = import_(out, "lambda-euc1.json", region=region)
    assert result.exit_code == EXIT_BAD_INPUT
    assert_one_line_error(
        result.stderr, f"--region {region!r}: not an AWS region code such as eu-central-1"
    )
    assert snapshot(tmp_path) == {}  # nothing under --out, nothing beside it


# --- a partial set of offers merges ---------------------------------
def test_importing_one_offer_keeps_the_entries_it_does_not_hold(tables):
    lambda_before = entry_ids(tables / "eu-central-1" / "lambda.yaml")
    others_before = {
        name: entry_ids(tables / "eu-central-1" / name)
        for name in ("apigateway.yaml", "s3.yaml", "bedrock.yaml")
    }
    # lost before (issue 15): arm64, ephemeral storage, provisioned concurrency, free tier
    assert {
        "lambda.duration.arm64",
        "lambda.ephemeral_storage",
        "lambda.provisioned_concurrency.x86_64",
        "lambda.free.requests",
    } <= lambda_before
    requests_before = load_price_book("eu-central-1", tables_dir=tables).get("lambda.requests")
    result = import_(tables, "lambda-euc1.json")
    assert result.exit_code == EXIT_OK, result.stderr
    assert entry_ids(tables / "eu-central-1" / "lambda.yaml") >= lambda_before
    for name, before in others_before.items():
        assert entry_ids(tables / "eu-central-1" / name) == before
    book = load_price_book("eu-central-1", tables_dir=tables)
    # what the offer holds replaced the bundled entry: its date is the offer's publicationDate
    assert requests_before.as_of != "2026-10-01"
    assert book.get("lambda.requests").as_of == "2026-10-01"
    assert book.get("lambda.requests").usagetype == "EUC1-Request"
    assert "kept" in result.stdout
    assert [p.name for p in tables.iterdir()] == ["eu-central-1"]  # no staging folder left


# --- a failure changes nothing ---------------------------------
def test_tables_that_do_not_validate_after_the_merge_are_not_swapped_in(tables):
    s3 = tables / "eu-central-1" / "s3.yaml"
    s3.write_text(s3.read_text().replace("usd: 0.0245", "usd: -1", 1))
    assert "usd: -1" in s3.read_text()
    before = snapshot(tables)
    result = import_(tables, "lambda-euc1.json")
    assert result.exit_code == EXIT_BAD_INPUT
    assert_one_line_error(
        result.stderr, "the imported tables do not validate, nothing was changed:", "s3.yaml"
    )
    assert snapshot(tables) == before


def test_an_existing_table_that_is_not_yaml_stops_the_import(tables):
    broken = tables / "eu-central-1" / "lambda.yaml"
    broken.write_text("entries: [unclosed\n")
    before = snapshot(tables)
    result = import_(tables, "lambda-euc1.json")
    assert result.exit_code == EXIT_BAD_INPUT
    assert_one_line_error(result.stderr, "lambda.yaml", "an existing table")
    assert snapshot(tables) == before


def test_bad_offers_leave_nothing_behind(tmp_path):
    out = tmp_path / "out"
    result = import_(out, "bad-gap.json")
    assert result.exit_code == EXIT_BAD_INPUT
    assert snapshot(tmp_path) == {}


def test_an_out_that_is_a_file_is_exit_2(tmp_path):
    out = tmp_path / "out"
    out.write_text("not a folder")
    result = import_(out, "lambda-euc1.json")
    assert result.exit_code == EXIT_BAD_INPUT
    assert out.read_text() == "not a folder"
