"""``costline pricing import`` and ``update``: price tables from AWS Price List offer files.

``import`` reads each ``--offer`` JSON file (AWSLambda, AmazonApiGateway, AmazonS3 and the
Bedrock offers AmazonBedrock, AmazonBedrockFoundationModels, AmazonBedrockService); ``update``
downloads the region's current files first (:mod:`costline.pricing.offer_download`). Both
convert them with :mod:`costline.pricing.aws_offers` and merge them into the region's existing
tables (an imported entry replaces the one with its id; entries and free tiers the offers do not
cover stay), write the ``*.yaml`` files into a staging folder inside ``OUT``, load the whole
region from there with the normal loader, and only then swap it in for ``OUT/<region>``: a
failure at any step leaves the tables as they were and nothing behind. ``--region`` must be a
region code (it names a folder). Free tiers are not in offer files: those of costline's bundled
tables whose targets were imported are copied over with their own source. Bad input exits 2
with one line naming the file and the JSON path.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, NoReturn

import click

from costline.cli.errors import InputProblem, note
from costline.cli.output import echo
from costline.core.files import write_atomically
from costline.core.limits import LimitError, parse_json, read_input
from costline.core.paths import data_dir
from costline.pricing import PricingError, load_price_book
from costline.pricing.aws_offers import OfferFile, PriceListError, convert
from costline.pricing.offer_download import (
    DEFAULT_ENDPOINT,
    DEFAULT_OFFERS,
    DownloadError,
    OfferMissing,
    download_offer,
)
from costline.pricing.writer import dump_document
from costline.readers.region import REGION_CODE_PATTERN

VERSION_PATTERN = r"^[0-9]{4}\.[0-9]{1,2}\.[0-9]+$"

region_option = click.option(
    "--region", required=True, help="Region code of the tables, e.g. eu-central-1."
)
out_option = click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Tables folder to write into (OUT/<region>/*.yaml); use it with --pricing-dir.",
)
version_option = click.option(
    "--version",
    "version",
    default=None,
    help="Table version (YYYY.M.N; default: from the newest publicationDate).",
)


@click.group("pricing")
def pricing_group() -> None:
    """Price tables: build them from AWS Price List files (import) or AWS's endpoint (update)."""


@pricing_group.command("import")
@click.option(
    "--offer",
    "offer_files",
    multiple=True,
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="An AWS Price List offer file (index.json); repeatable.",
)
@region_option
@out_option
@version_option
def import_command(
    offer_files: tuple[Path, ...], region: str, out_dir: Path, version: str | None
) -> None:
    """Build costline price tables for REGION from AWS Price List offer files."""
    _check_region(region)
    offers = [OfferFile(str(path), _read_json(path)) for path in offer_files]
    _import_offers(offers, region, out_dir, version)


@pricing_group.command("update")
@region_option
@out_option
@click.option(
    "--endpoint",
    default=DEFAULT_ENDPOINT,
    show_default=True,
    help="Where the Price List offer files are served (AWS's public endpoint, no credentials).",
)
@click.option(
    "--offer-code",
    "offer_codes",
    multiple=True,
    default=DEFAULT_OFFERS,
    show_default=True,
    help="An offer to download; repeatable.",
)
@version_option
def update_command(
    region: str, out_dir: Path, endpoint: str, offer_codes: tuple[str, ...], version: str | None
) -> None:
    """Download AWS's current Price List offer files for REGION and import them."""
    _check_region(region)
    offers = []
    for code in offer_codes:
        try:
            downloaded = download_offer(endpoint, code, region)
        except OfferMissing as exc:
            note(f"costline: skipped {exc}")
            continue
        except DownloadError as exc:
            _fail(str(exc))
        offers.append(OfferFile(downloaded.url, downloaded.document))
    if not offers:
        _fail(f"{endpoint}: none of the offers {', '.join(offer_codes)} exists for {region}")
    _import_offers(offers, region, out_dir, version)


def _import_offers(
    offers: list[OfferFile], region: str, out_dir: Path, version: str | None
) -> None:
    """Convert, merge with the region's existing tables, validate the whole region in a staging
    folder, then swap it in: a failure at any step leaves ``OUT/<region>`` as it was."""
    _check_region(region)
    if version is not None and not re.match(VERSION_PATTERN, version):
        _fail(f"--version {version!r}: expected YEAR.MONTH.N, e.g. 2026.11.0")
    try:
        result = convert(offers, region, version or "0000.0.0")
    except PriceListError as exc:
        _fail(str(exc))
    if not result.tables:
        _fail(
            f"{', '.join(o.name for o in offers)}: no usagetype for region {region} maps to a "
            "costline price"
        )
    if version is None:
        year, month, _ = result.as_of.split("-")
        version = f"{year}.{int(month)}.0"
    folder = out_dir / region
    tables, kept = _merge(_existing_tables(folder), result.tables, version)
    _add_free_tiers(tables, region)
    documents = {
        "region.yaml": dump_document(
            {
                "schema": "costline-pricing-region/1",
                "region": region,
                "version": version,
                "currency": "USD",
                "description": f"{region} list prices imported from AWS Price List offer files "
                f"(as of {result.as_of}).",
            }
        ),
        **{
            f"{service}.yaml": dump_document(table, "Generated by `costline pricing import`.")
            for service, table in sorted(tables.items())
        },
    }
    book = _replace_region(out_dir, region, documents)
    echo(
        f"costline: wrote {len(book.entries)} prices for {region} (version {version}, "
        f"as of {result.as_of}) to {folder}"
        + (f"; kept {kept} entries the offers did not cover" if kept else "")
    )
    for line in result.skipped:
        note(f"costline: skipped {line}")


def _existing_tables(folder: Path) -> dict[str, dict[str, Any]]:
    """The service tables already in ``folder`` (parsed, not validated: the merged region is)."""
    from costline.pricing.yaml_decimal import parse_price_file

    tables: dict[str, dict[str, Any]] = {}
    if not folder.is_dir():
        return tables
    for path in sorted(folder.glob("*.yaml")):
        if path.name == "region.yaml":
            continue
        try:
            document = parse_price_file(path.read_bytes(), str(path))
        except OSError as exc:
            _fail(f"{path}: cannot read the existing table ({exc.strerror or exc})")
        except PricingError as exc:
            _fail(f"{exc} (an existing table; fix or remove it, then import again)")
        if not isinstance(document, dict) or not isinstance(document.get("service"), str):
            _fail(f"{path}: an existing table without a service; fix or remove it")
        tables[document["service"]] = document
    return tables


def _merge(
    existing: dict[str, dict[str, Any]], imported: dict[str, dict[str, Any]], version: str
) -> tuple[dict[str, dict[str, Any]], int]:
    """Imported entries replace existing ones of the same id; the existing entries and free
    tiers the offers did not cover stay (an import of some offers must not drop the rest).
    Every table takes the new version (one version per region). Also: how many were kept."""
    merged: dict[str, dict[str, Any]] = {}
    kept = 0
    for service in sorted({*existing, *imported}):
        old, new = existing.get(service), imported.get(service)
        if new is None:
            table = dict(old)  # type: ignore[arg-type]
        elif old is None:
            table = dict(new)
        else:
            entries = dict(old.get("entries") or {})
            kept += sum(1 for entry_id in entries if entry_id not in new["entries"])
            entries.update(new["entries"])
            table = {**new, "entries": entries}
            free_tiers = {**(old.get("free_tiers") or {}), **(new.get("free_tiers") or {})}
            if free_tiers:
                table["free_tiers"] = free_tiers
        table["version"] = version
        merged[service] = table
    return merged, kept


def _replace_region(out_dir: Path, region: str, documents: dict[str, str]):
    """Write ``documents`` into a staging folder beside ``OUT/<region>``, load the whole region
    from there with the normal loader, then swap it in. Returns the validated book."""
    import shutil
    import tempfile

    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        staging_root = Path(tempfile.mkdtemp(prefix=f".{region}.import-", dir=out_dir))
    except OSError as exc:
        _fail(f"{out_dir}: cannot create the tables folder ({exc.strerror or exc})")
    try:
        staged = staging_root / region
        staged.mkdir()
        for name, text in documents.items():
            write_atomically(staged / name, text)
        try:
            book = load_price_book(region, tables_dir=staging_root)
        except PricingError as exc:
            _fail(f"the imported tables do not validate, nothing was changed: {exc}")
        target = out_dir / region
        if target.is_symlink() or (target.exists() and not target.is_dir()):
            _fail(f"{target}: not a folder; refusing to replace it")
        previous = staging_root / "previous"
        if target.exists():
            target.rename(previous)
        try:
            staged.rename(target)
        except OSError:
            if previous.exists():
                previous.rename(target)
            raise
        return book
    except OSError as exc:
        _fail(f"{out_dir}: cannot write the tables ({exc.strerror or exc}); nothing was changed")
    finally:
        shutil.rmtree(staging_root, ignore_errors=True)


def _check_region(region: str) -> None:
    """A region code names a folder under --out: nothing else (``../escaped``) may."""
    if not re.match(REGION_CODE_PATTERN, region):
        _fail(f"--region {region!r}: not an AWS region code such as eu-central-1")


def _fail(message: str) -> NoReturn:
    """Exit 2 with one line."""
    raise InputProblem(message) from None


def _read_json(path: Path):
    try:
        return parse_json(read_input(path).decode("utf-8"))
    except LimitError as exc:
        _fail(f"{path}: {exc}")
    except OSError as exc:
        _fail(f"{path}: cannot read offer file ({exc.strerror})")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = (
            f"line {exc.lineno}, column {exc.colno}: {exc.msg}"
            if isinstance(exc, json.JSONDecodeError)
            else "not UTF-8"
        )
        _fail(f"{path}: $: not valid JSON ({where})")


def _add_free_tiers(tables: dict, region: str) -> None:
    """Copy the bundled always-free / 12-month allowances whose targets were all imported."""
    bundled_dir = data_dir("pricing")  # the shipped tables, whatever COSTLINE_PRICING_DIR says
    try:
        bundled = load_price_book(region, tables_dir=bundled_dir)
    except PricingError:
        bundled = load_price_book("us-east-1", tables_dir=bundled_dir)
    for tier in bundled.free_tiers.values():
        for table in tables.values():
            entries = table["entries"]
            if all(
                target in entries and entries[target]["unit"] == tier.unit
                for target in tier.applies_to
            ):
                table.setdefault("free_tiers", {})[tier.id] = {
                    "description": tier.description,
                    "quantity": tier.quantity,
                    "unit": tier.unit,
                    "applies_to": list(tier.applies_to),
                    "always_free": tier.always_free,
                    "source": tier.source,
                    "as_of": tier.as_of,
                }
