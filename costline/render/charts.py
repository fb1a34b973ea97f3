"""Chart geometry for the reports: computed here in exact ``Decimal``, formatted by templates.

* :func:`service_bars`: cost by service as horizontal bars, each bar's length the service's
  share of the largest one (an exact ratio, rounded to 1/100 px only for the SVG).
* :func:`what_if_lines`: the what-if rows as a curve per service and one for the total, cost
  against calls/month; an axis whose positive values span more than :data:`LOG_RATIO` turns
  logarithmic (values of $0.00 cannot sit on a log axis: they are left off the line and the
  text alternative says so).
* :func:`mermaid_what_if`: the same curve as a Mermaid ``xychart-beta`` for the markdown PR
  comment (GitHub renders Mermaid in comments), with its legend.

Nothing here is text from the stack: the labels are costline's service names and formatted
figures; templates escape them anyway. Each chart carries a plain-text ``title`` and ``desc``
for screen readers (the SVG's ``<title>``/``<desc>``), listing every figure drawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from markupsafe import Markup

from costline.core.money import format_quantity, format_usd, money_context, round_cents

PX = Decimal("0.01")
LOG_RATIO = Decimal(100)
"""An axis is logarithmic when its largest positive value is more than this many times its
smallest (a curve from $0.11 to $3,375 would otherwise show only its largest line)."""

PALETTE = ("#0969da", "#cf222e", "#1a7f37", "#9a6700", "#8250df", "#bc4c00", "#7d4e2d")
"""Series colours, in order; Mermaid gets the same palette, and the markdown legend names each
colour with the emoji square closest to it."""
PALETTE_EMOJI = ("🟦", "🟥", "🟩", "🟨", "🟪", "🟧", "🟫")
TOTAL_COLOUR = "#1f2328"

# Bar chart layout (px).
BAR_LABEL_WIDTH = Decimal(110)
BAR_MAX = Decimal(260)
BAR_ROW = Decimal(26)
BAR_HEIGHT = Decimal(16)
BAR_WIDTH = BAR_LABEL_WIDTH + BAR_MAX + Decimal(100)

# Line chart layout (px): the plot area, then the legend to its right.
PLOT_LEFT = Decimal(72)
PLOT_TOP = Decimal(16)
PLOT_WIDTH = Decimal(420)
PLOT_HEIGHT = Decimal(220)
LINE_WIDTH = Decimal(660)
LINE_HEIGHT = PLOT_TOP + PLOT_HEIGHT + Decimal(48)
TICK_GAP = Decimal(36)  # an x label closer than this to the previous one is left blank


def _px(value: Decimal) -> Decimal:
    return value.quantize(PX)


def service_bars(by_service: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """``by_service`` (``service``, ``monthly_usd``) as bars: ``width``, ``height``, ``bars``
    (``service``, ``label``, ``x``, ``y``, ``length``, ``colour``), ``title``, ``desc``."""
    largest = max((row["monthly_usd"] for row in by_service), default=Decimal(0))
    bars = []
    for i, row in enumerate(by_service):
        usd = row["monthly_usd"]
        with money_context():
            length = BAR_MAX * usd / largest if largest > 0 and usd > 0 else Decimal(0)
        bars.append(
            {
                "service": row["service"],
                "label": format_usd(usd),
                "x": BAR_LABEL_WIDTH,
                "y": _px(Decimal(i) * BAR_ROW + Decimal(4)),
                "text_y": _px(Decimal(i) * BAR_ROW + Decimal(17)),
                "length": _px(length),
                "value_x": _px(BAR_LABEL_WIDTH + length + Decimal(6)),
                "colour": PALETTE[i % len(PALETTE)],
            }
        )
    return {
        "width": BAR_WIDTH,
        "height": _px(Decimal(max(len(bars), 1)) * BAR_ROW + Decimal(4)),
        "bar_height": BAR_HEIGHT,
        "label_x": BAR_LABEL_WIDTH - Decimal(8),
        "bars": bars,
        "title": "Monthly cost by service",
        "desc": "; ".join(f"{b['service']}: {b['label']}" for b in bars) or "no service",
    }


def _short_count(value: Decimal) -> str:
    """``30k``, ``1M``, ``2.5B``: calls/month on an axis."""
    for size, suffix in ((Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"), (Decimal(10) ** 3, "k")):
        if value >= size:
            return f"{format_quantity((value / size).quantize(Decimal('0.01')))}{suffix}"
    return format_quantity(value.quantize(Decimal("0.01")))


def _log_scale(values: Sequence[Decimal]) -> bool:
    positive = [v for v in values if v > 0]
    return bool(positive) and max(positive) > LOG_RATIO * min(positive)


class _Axis:
    """Maps values to a pixel span ``[0, length]``, linear or log10."""

    def __init__(self, values: Sequence[Decimal], length: Decimal) -> None:
        self.length = length
        self.log = _log_scale(values)
        positive = [v for v in values if v > 0]
        with money_context():
            if self.log:
                low, high = min(positive).log10(), max(positive).log10()
                self.low = low.to_integral_value(rounding="ROUND_FLOOR")
                self.high = high.to_integral_value(rounding="ROUND_CEILING")
            else:
                self.low = Decimal(0) if min(values, default=Decimal(0)) >= 0 else min(values)
                self.high = max(values, default=Decimal(0))
            if self.high <= self.low:
                self.high = self.low + 1

    def position(self, value: Decimal) -> Decimal | None:
        """Pixels from the axis' origin; ``None`` for a value a log axis cannot show (≤ 0)."""
        with money_context():
            if self.log:
                if value <= 0:
                    return None
                return self.length * (value.log10() - self.low) / (self.high - self.low)
            return self.length * (value - self.low) / (self.high - self.low)

    def ticks(self) -> list[Decimal]:
        if self.log:
            return [Decimal(10) ** int(e) for e in range(int(self.low), int(self.high) + 1)]
        span = self.high - self.low
        step = Decimal(10) ** (span.adjusted() - 1)
        for multiple in (1, 2, 5, 10, 20, 50):
            if span / (step * multiple) <= 5:
                step *= multiple
                break
        first = (self.low / step).to_integral_value(rounding="ROUND_CEILING") * step
        return [first + step * i for i in range(int((self.high - first) / step) + 1)]


def _x_values(what_if: Mapping[str, Any]) -> tuple[list[Decimal], str] | None:
    """Each row's place on the x axis: its calls/month, else (no edge traffic, or the edge
    volume is a secret and every row is a multiplier) its scale factor; ``None`` when neither
    is known for every row (a secret edge volume with absolute rows: placing today's row among
    them would reveal it)."""
    rows = what_if["rows"]
    if all(row["volume"] is not None for row in rows):
        return [row["volume"] for row in rows], "calls/month"
    if all(row["factor"] is not None for row in rows):
        return [row["factor"] for row in rows], "× today's traffic"
    return None


def what_if_lines(what_if: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The what-if rows as a line chart, or ``None`` when there is nothing to draw (fewer than
    two rows, or no x position that is not a secret). ``series`` (``name``, ``colour``,
    ``points`` as ``x``/``y`` pairs, ``band`` for the total), axis ``x_ticks`` / ``y_ticks``
    (``at``, ``label``), ``log_x``/``log_y``, ``title`` and ``desc``."""
    if not what_if or len(what_if["rows"]) < 2:
        return None
    placed = _x_values(what_if)
    if placed is None:
        return None
    xs, x_unit = placed
    rows = what_if["rows"]
    # the total first: drawn as a wide pale band under the services' lines (it runs along the
    # largest service's line, which must stay visible)
    columns: list[tuple[str, list[Decimal], str]] = [
        ("Total", [row["total_monthly_usd"] for row in rows], TOTAL_COLOUR)
    ] + [
        (svc, [row["by_service"][i]["monthly_usd"] for row in rows], PALETTE[i % len(PALETTE)])
        for i, svc in enumerate(what_if["services"])
    ]
    x_axis = _Axis(xs, PLOT_WIDTH)
    y_axis = _Axis([v for _, values, _ in columns for v in values], PLOT_HEIGHT)
    bottom = PLOT_TOP + PLOT_HEIGHT
    series = []
    for index, (name, values, colour) in enumerate(columns):
        points = []
        for x, usd in zip(xs, values, strict=True):
            px, py = x_axis.position(x), y_axis.position(usd)
            if px is not None and py is not None:
                points.append({"x": _px(PLOT_LEFT + px), "y": _px(bottom - py)})
        series.append(
            {
                "name": name,
                "colour": colour,
                "band": name == "Total",
                "legend_y": PLOT_TOP + Decimal(8) + Decimal(18) * index,
                "points": points,
                "path": " ".join(f"{p['x']},{p['y']}" for p in points),
            }
        )
    x_ticks: list[dict[str, Any]] = []
    for x in xs:
        px = x_axis.position(x)
        if px is None:
            continue
        label = _short_count(x) if x_unit == "calls/month" else f"{format_quantity(x)}×"
        crowded = x_ticks and px + PLOT_LEFT - x_ticks[-1]["at"] < TICK_GAP
        x_ticks.append({"at": _px(PLOT_LEFT + px), "label": "" if crowded else label})
    y_ticks = [
        {"at": _px(bottom - pos), "label": _axis_usd(tick)}
        for tick in y_axis.ticks()
        for pos in [y_axis.position(tick)]
        if pos is not None and Decimal(0) <= pos <= PLOT_HEIGHT
    ]
    zeros_hidden = y_axis.log and any(v <= 0 for _, values, _ in columns for v in values)
    return {
        "width": LINE_WIDTH,
        "height": LINE_HEIGHT,
        "left": PLOT_LEFT,
        "top": PLOT_TOP,
        "right": PLOT_LEFT + PLOT_WIDTH,
        "bottom": bottom,
        "legend_x": PLOT_LEFT + PLOT_WIDTH + Decimal(24),
        "legend_end_x": PLOT_LEFT + PLOT_WIDTH + Decimal(44),
        "legend_text_x": PLOT_LEFT + PLOT_WIDTH + Decimal(50),
        "y_label_x": PLOT_LEFT - Decimal(6),
        "x_label_y": bottom + Decimal(18),
        "x_title_y": bottom + Decimal(38),
        "y_title": "USD/month, log scale" if y_axis.log else "USD/month",
        "x_title": x_unit + (", log scale" if x_axis.log else ""),
        "series": series,
        "x_ticks": x_ticks,
        "y_ticks": y_ticks,
        "x_unit": x_unit,
        "log_x": x_axis.log,
        "log_y": y_axis.log,
        "zeros_hidden": zeros_hidden,
        "title": f"Monthly cost against traffic ({x_unit})",
        "desc": _what_if_desc(xs, x_unit, columns, y_axis.log, zeros_hidden),
    }


def _axis_usd(value: Decimal) -> str:
    """``$0.01``, ``$1``, ``$1,000``: whole dollars when the tick is whole."""
    if value == value.to_integral_value():
        return f"${int(value):,}"
    return format_usd(value) if value >= PX else f"${format_quantity(value)}"


def _what_if_desc(
    xs: Sequence[Decimal],
    x_unit: str,
    columns: Sequence[tuple[str, Sequence[Decimal], str]],
    log_y: bool,
    zeros_hidden: bool,
) -> str:
    scale = "Cost on a logarithmic axis. " if log_y else ""
    hidden = "Values of $0.00 are not drawn on the logarithmic axis. " if zeros_hidden else ""
    points = "; ".join(
        f"at {format_quantity(x)} {x_unit}: "
        + ", ".join(f"{name} {format_usd(values[i])}" for name, values, _ in columns)
        for i, x in enumerate(xs)
    )
    return f"{scale}{hidden}{points[:1].upper()}{points[1:]}."


def mermaid_what_if(what_if: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The what-if curve as a Mermaid ``xychart-beta`` (``code``, the lines inside the fence)
    and its ``legend`` (``name``, ``swatch``), or ``None`` when :func:`what_if_lines` would
    draw nothing. Mermaid's axes are linear and its x axis is categorical (rows evenly spaced,
    labelled with their traffic); the exact figures are in the table below it."""
    if not what_if or len(what_if["rows"]) < 2 or _x_values(what_if) is None:
        return None
    xs, x_unit = _x_values(what_if)  # type: ignore[misc]
    rows = what_if["rows"]
    labels = [_short_count(x) if x_unit == "calls/month" else f"{format_quantity(x)}x" for x in xs]
    services = what_if["services"]
    colours = [PALETTE[i % len(PALETTE)] for i in range(len(services))] + [TOTAL_COLOUR]
    lines = [
        '%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "'
        + ", ".join(colours)
        + '"}}}}%%',
        "xychart-beta",
        f'    title "Monthly cost (USD) against traffic ({x_unit})"',
        "    x-axis [" + ", ".join(f'"{label}"' for label in labels) + "]",
        '    y-axis "USD/month"',
    ]
    for i in range(len(services)):
        values = [round_cents(row["by_service"][i]["monthly_usd"]) for row in rows]
        lines.append("    line [" + ", ".join(f"{v:f}" for v in values) + "]")
    lines.append(
        "    line [" + ", ".join(f"{round_cents(row['total_monthly_usd']):f}" for row in rows) + "]"
    )
    legend = [
        {"name": svc, "swatch": PALETTE_EMOJI[i % len(PALETTE_EMOJI)]}
        for i, svc in enumerate(services)
    ] + [{"name": "Total", "swatch": "⬛"}]
    # Markup: the block holds only figures and costline's own words (no name from the stack),
    # and markdown escaping would show its backslashes inside the code fence
    return {"code": Markup("\n".join(lines)), "legend": legend}
