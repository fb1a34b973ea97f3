"""Reading a baseline for ``costline diff`` / ``costline check``: a costline JSON report or a stack.

* A costline JSON report (``costline estimate --format json``, schema ``costline-report/1``) is
  validated against ``costline/review/report.schema.json`` and read back with money as ``Decimal``;
  it keeps the prices it was made with (the diff says when they differ from today's).
* A ``pulumi stack export`` (or ``pulumi preview --json``) is read with :mod:`costline.readers`
  and estimated now, with the same prices and options as the change, so the diff shows what
  the code changed and nothing else.

Every problem is a :class:`BaselineError` with a one-line message naming the file. A report's
money is checked, not trusted: no figure may be negative, and the total must be the sum of the
resources' (as every report costline writes has it), so an edited baseline cannot make an
increase look small (a baseline total of -$100 made +$100,018 a change of under 25%).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any

from costline.estimator.pipeline import EstimateOptions, estimate
from costline.pricing.model import PriceBook
from costline.readers import InputFileError
from costline.readers.preview_json import resources_from_preview
from costline.readers.stack_export import resources_from_export
from costline.readers.state import load_json
from costline.review.report import REPORT_SCHEMA_ID, build_report
from costline.review.sections import Baseline, schema_problems

WHAT = "a costline JSON report (`costline estimate --format json`) or `pulumi stack export` output"


class BaselineError(Exception):
    """A baseline file that cannot be used; ``str()`` is one line naming the file."""


def _money(value: Any, where: str = "total_monthly_usd") -> Decimal:
    """A money string of a baseline report (the schema checked its form): never negative."""
    amount = Decimal(value)
    if amount < 0:
        raise BaselineError(f"{where}: {value} is negative; a monthly cost is never below $0")
    return amount


def report_from_json(data: Mapping[str, Any]) -> dict[str, Any]:
    """The fields the diff reads, with money strings as ``Decimal``. Raises
    :class:`BaselineError` (without the file name) for negative money or a total that is not the
    sum of the resources' costs."""
    report = {
        **data,
        "total_monthly_usd": _money(data["total_monthly_usd"]),
        "by_service": [
            {**s, "monthly_usd": _money(s["monthly_usd"], f"by_service[{i}].monthly_usd")}
            for i, s in enumerate(data["by_service"])
        ],
        "resources": [
            {**r, "monthly_usd": _money(r["monthly_usd"], f"resources[{i}].monthly_usd")}
            for i, r in enumerate(data["resources"])
        ],
    }
    with localcontext() as exact:
        exact.prec = 200  # every figure exact: the sum of the parts, as the report was written
        parts = sum((r["monthly_usd"] for r in report["resources"]), Decimal(0))
    if parts != report["total_monthly_usd"]:
        raise BaselineError(
            f"total_monthly_usd: {data['total_monthly_usd']} is not the sum of the resources' "
            f"monthly_usd ({parts}); the report was not written by costline as it is"
        )
    return report


def load_baseline(path: Path, prices: PriceBook, options: EstimateOptions) -> Baseline:
    """The baseline in ``path`` as a report context (see module doc)."""
    try:
        data = load_json(path, what=WHAT)
        if isinstance(data, dict) and "schema" in data:
            if data["schema"] != REPORT_SCHEMA_ID:
                raise BaselineError(
                    f"{path}: report schema {data['schema']!r} is not supported "
                    f"(this costline reads {REPORT_SCHEMA_ID})"
                )
            problems = schema_problems(data)
            if problems:
                raise BaselineError(f"{path}: not a valid costline report: {problems[0]}")
            try:
                return Baseline(report_from_json(data), str(path), "report")
            except BaselineError as exc:
                raise BaselineError(f"{path}: {exc}") from None
        if isinstance(data, dict) and ({"deployment", "checkpoint", "version"} & data.keys()):
            resources, kind = resources_from_export(data, path), "stack-export"
        elif isinstance(data, dict) and "steps" in data:
            resources, kind = resources_from_preview(data, path), "preview"
        else:
            raise BaselineError(f"{path}: is not {WHAT}")
    except InputFileError as exc:
        raise BaselineError(str(exc)) from None
    return Baseline(
        build_report(estimate(resources, prices, options), source=str(path)), str(path), kind
    )
