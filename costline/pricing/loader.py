"""Load a region's price tables and any override files into one validated ``PriceBook``.

Layout (adding a region is adding a folder)::

    pricing/
      us-east-1/region.yaml        manifest: region, table version, currency
      us-east-1/lambda.yaml        one table per service (every other *.yaml of the folder)
      overrides/seed-template.yaml override files, applied only when passed in ``overrides``

The tables are found by :func:`costline.core.paths.data_dir` (``costline/_data/pricing``
in a wheel, the repository's ``pricing/`` otherwise). Every file is parsed with exact
Decimals (:mod:`costline.pricing.yaml_decimal`), validated (:mod:`costline.pricing.checks`),
then checked across files: ids unique, free-tier targets present with the same unit. Books
are cached per process on the files' paths, sizes and modification times, and parsed files
across processes on their contents (:mod:`costline.pricing.cache`).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from costline.core.limits import LimitError, read_input
from costline.core.paths import data_dir
from costline.core.values import SECRET_DISPLAY
from costline.pricing import cache, checks
from costline.pricing.errors import PricingError
from costline.pricing.model import FreeTier, PriceBook, PriceEntry, Tier

MANIFEST_NAME = "region.yaml"

_Fingerprint = tuple[tuple[str, int, int], ...]


PRICING_DIR_ENV = "COSTLINE_PRICING_DIR"


def default_tables_dir() -> Path:
    """``$COSTLINE_PRICING_DIR`` when set (tables from ``costline pricing update``, used without
    editing the installed package), else the bundled ``pricing`` folder."""
    chosen = os.environ.get(PRICING_DIR_ENV, "").strip()
    return Path(chosen) if chosen else data_dir("pricing")


def available_regions(tables_dir: Path | None = None) -> list[str]:
    """Regions with price tables: the folders of ``tables_dir`` holding a ``region.yaml``."""
    root = Path(tables_dir) if tables_dir is not None else default_tables_dir()
    if not root.is_dir():
        return []
    return sorted(child.name for child in root.iterdir() if (child / MANIFEST_NAME).is_file())


def load_price_book(
    region: str = "us-east-1",
    overrides: Sequence[str | Path] = (),
    tables_dir: Path | None = None,
    *,
    region_secret: bool = False,
) -> PriceBook:
    """Every price of ``region`` (USD), after applying ``overrides`` in order.

    Raises :class:`PricingError` naming the file, entry and field of the first problem, or the
    available regions when ``region`` has no tables. The result is cached and immutable: the
    same files (same mtimes and sizes) give the same ``PriceBook`` object.

    ``region_secret``: the region came from a secret (a secret ``aws:region`` in the provider's
    config). The book's ``region`` is then ``[secret]``, so no message built from it names the
    region, and an error about the region's tables names neither the region nor its folder
    (an error inside an override file, other than its region, is raised as it is).
    """
    if not region_secret:
        return _load_price_book(region, overrides, tables_dir)
    try:
        book = _load_price_book(region, overrides, tables_dir)
    except PricingError as exc:
        root = (Path(tables_dir) if tables_dir is not None else default_tables_dir()).resolve()
        override_files = {_display(Path(p).resolve(), root) for p in overrides}
        if exc.file in override_files and exc.field != "region":
            raise
        raise PricingError(
            f"{_display(root, root)}/{SECRET_DISPLAY}",
            "the AWS provider's region is a secret (not shown) and its price tables cannot be "
            f"used: there are none for it, or an override file is for another region; price "
            f"tables exist for {', '.join(available_regions(root)) or 'no region'}; set the "
            "region explicitly (--region, or the policy pack's region setting)",
        ) from None
    return replace(book, region=SECRET_DISPLAY)


def _load_price_book(
    region: str, overrides: Sequence[str | Path], tables_dir: Path | None
) -> PriceBook:
    root = (Path(tables_dir) if tables_dir is not None else default_tables_dir()).resolve()
    region_dir = root / region
    if not (region_dir / MANIFEST_NAME).is_file():
        known = available_regions(root)
        raise PricingError(
            _display(region_dir, root),
            f"no price tables for region {region!r}; available: {', '.join(known) or 'none'}",
        )
    tables = sorted(p for p in region_dir.glob("*.yaml") if p.name != MANIFEST_NAME)
    override_paths = [Path(p).resolve() for p in overrides]
    for path in override_paths:
        if not path.is_file():
            raise PricingError(_display(path, root), "price override file not found")
    return _load_cached(
        region,
        str(root),
        _fingerprint([region_dir / MANIFEST_NAME, *tables]),
        _fingerprint(override_paths),
    )


def clear_cache() -> None:
    """Forget cached books (tests that rewrite a file within one mtime tick)."""
    _load_cached.cache_clear()


def _fingerprint(paths: Sequence[Path]) -> _Fingerprint:
    prints = []
    for path in paths:
        stat = path.stat()
        prints.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(prints)


@lru_cache(maxsize=32)
def _load_cached(
    region: str, root: str, table_files: _Fingerprint, override_files: _Fingerprint
) -> PriceBook:
    root_path = Path(root)
    manifest_path, *table_paths = (Path(name) for name, _, _ in table_files)
    manifest = _read(manifest_path, "region", root_path)
    manifest_file = _display(manifest_path, root_path)
    checks.check_currency(manifest["currency"], manifest_file)
    if manifest["region"] != region:
        raise PricingError(
            manifest_file,
            f"region {manifest['region']!r} does not match its folder {region!r}",
            field="region",
        )
    if not table_paths:
        raise PricingError(
            _display(manifest_path.parent, root_path), "no price tables (*.yaml) beside region.yaml"
        )

    book = _Draft()
    for path in table_paths:
        file = _display(path, root_path)
        document = _read(path, "table", root_path)
        checks.check_table_header(document, file, region=region, version=manifest["version"])
        book.add_file(document, file, replacing=False)
    book.check_free_tiers()
    as_of = min(
        itertools.chain(
            (entry.as_of for entry in book.entries.values()),
            (tier.as_of for tier in book.free_tiers.values()),
        )
    )

    applied = []
    for name, _, _ in override_files:
        path = Path(name)
        file = _display(path, root_path)
        document = _read(path, "overrides", root_path)
        if document.get("region", region) != region:
            raise PricingError(
                file,
                f"this override file is for region {document['region']!r}, not {region!r}",
                field="region",
            )
        book.add_file(document, file, replacing=True)
        book.check_free_tiers()
        applied.append(file)

    return PriceBook(
        version=manifest["version"],
        region=region,
        currency=checks.CURRENCY,
        as_of=as_of,
        entries=MappingProxyType(dict(book.entries)),
        free_tiers=MappingProxyType(dict(book.free_tiers)),
        overrides=tuple(applied),
    )


def _read(path: Path, kind: str, root: Path) -> dict[str, Any]:
    """One file parsed, numeric strings coerced, and schema-validated (or from the cache)."""
    file = _display(path, root)
    try:
        raw = read_input(path)
    except LimitError as exc:
        raise PricingError(file, str(exc)) from None
    document = cache.load(kind, raw)
    if document is not None:
        return document
    from costline.pricing.yaml_decimal import parse_price_file  # PyYAML: only on a cache miss

    document = parse_price_file(raw, file)
    if not isinstance(document, dict):
        raise PricingError(file, f"expected a mapping at the top level, got {_type_name(document)}")
    checks.coerce_numbers(document)
    checks.validate_schema(document, kind, file)
    cache.store(kind, raw, document)
    return document


def _type_name(value: Any) -> str:
    if value is None:
        return "an empty document"
    return {list: "a list", str: "a string", Decimal: "a number", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


def _display(path: Path, root: Path) -> str:
    """``pricing/us-east-1/lambda.yaml`` for bundled files; a cwd-relative or absolute path else."""
    for base in (root.parent, Path(os.getcwd())):
        try:
            return path.relative_to(base).as_posix()
        except ValueError:
            continue
    return str(path)


class _Draft:
    """Entries and free tiers gathered file by file, with the cross-file checks."""

    def __init__(self) -> None:
        self.entries: dict[str, PriceEntry] = {}
        self.free_tiers: dict[str, FreeTier] = {}

    def add_file(self, document: Mapping[str, Any], file: str, *, replacing: bool) -> None:
        for entry_id, raw in (document.get("entries") or {}).items():
            checks.check_entry(entry_id, raw, file)
            self._place(
                self.entries, entry_id, raw, file, replacing, _price_entry(entry_id, raw, file)
            )
        for tier_id, raw in (document.get("free_tiers") or {}).items():
            checks.check_date(raw["as_of"], file, tier_id, "as_of")
            self._place(
                self.free_tiers, tier_id, raw, file, replacing, _free_tier(tier_id, raw, file)
            )

    @staticmethod
    def _place(
        target: dict, item_id: str, raw: Mapping[str, Any], file: str, replacing: bool, item
    ) -> None:
        exists = item_id in target
        if not replacing:
            if exists:
                raise PricingError(
                    file,
                    f"duplicate id: already defined in {target[item_id].origin}",
                    entry=item_id,
                )
        elif raw.get("new", False) and exists:
            raise PricingError(
                file,
                "the tables already have this id: drop `new: true` to replace it",
                entry=item_id,
                field="new",
            )
        elif not raw.get("new", False) and not exists:
            raise PricingError(
                file,
                "no such id in the price tables (a typo?); set `new: true` to add it",
                entry=item_id,
            )
        target[item_id] = item

    def check_free_tiers(self) -> None:
        for tier in self.free_tiers.values():
            for index, target in enumerate(tier.applies_to):
                entry = self.entries.get(target)
                if entry is None:
                    raise PricingError(
                        tier.origin,
                        f"no entry {target!r} to apply this free tier to",
                        entry=tier.id,
                        field=f"applies_to/{index}",
                    )
                if entry.unit != tier.unit:
                    raise PricingError(
                        tier.origin,
                        f"unit {tier.unit!r} differs from the unit of {target!r} ({entry.unit!r})",
                        entry=tier.id,
                        field="unit",
                    )


def _price_entry(entry_id: str, raw: Mapping[str, Any], file: str) -> PriceEntry:
    return PriceEntry(
        id=entry_id,
        description=raw["description"],
        unit=raw["unit"],
        price_per=raw["price_per"],
        tiers=tuple(Tier(up_to=tier.get("up_to"), usd=tier["usd"]) for tier in raw["tiers"]),
        source=raw["source"],
        as_of=raw["as_of"],
        origin=file,
        usagetype=raw.get("usagetype"),
        attributes=_frozen(raw.get("attributes") or {}),
    )


def _free_tier(tier_id: str, raw: Mapping[str, Any], file: str) -> FreeTier:
    return FreeTier(
        id=tier_id,
        description=raw["description"],
        quantity=raw["quantity"],
        unit=raw["unit"],
        applies_to=tuple(raw["applies_to"]),
        source=raw["source"],
        as_of=raw["as_of"],
        origin=file,
        always_free=raw["always_free"],
    )


def _frozen(value: Any) -> Any:
    """Read-only copies of nested attributes: a cached book is shared by every caller."""
    if isinstance(value, Mapping):
        return MappingProxyType({key: _frozen(item) for key, item in value.items()})
    if isinstance(value, list):
        return tuple(_frozen(item) for item in value)
    return value
