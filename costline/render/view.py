"""How a report is shown, apart from its data: the options a reader picks (the Mermaid chart,
the terminal's colours and width, where advice is folded), and the ranked advice they give."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from costline.render.advice import (
    DEFAULT_FOLD_BELOW_PERCENT,
    DEFAULT_FOLD_BELOW_USD,
    ranked_advice,
)


@dataclass(frozen=True)
class ReportView:
    """How a report is shown; the data (and the JSON) stay the same. ``mermaid``: the markdown
    has the Mermaid what-if chart (GitHub draws it; other viewers show its source). ``color``
    and ``width``: the table view's ANSI colours and line width. ``fold_below_usd`` and
    ``fold_below_percent`` (of the total): savings under the larger of the two are folded into
    one line (:mod:`costline.render.advice`)."""

    mermaid: bool = True
    color: bool = False
    width: int = 100
    fold_below_usd: Decimal = DEFAULT_FOLD_BELOW_USD
    fold_below_percent: Decimal = DEFAULT_FOLD_BELOW_PERCENT


def ranked(report: Mapping[str, Any], view: ReportView) -> dict[str, Any] | None:
    """The recommendations ranked and folded as ``view`` says (None: not computed)."""
    return ranked_advice(
        report.get("recommendations"),
        report["total_monthly_usd"],
        below_usd=view.fold_below_usd,
        below_percent=view.fold_below_percent,
    )
