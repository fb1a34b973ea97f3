"""Rendering reports with Jinja2: markdown (the PR comment), HTML, and JSON.

Templates receive one variable, ``report`` (see :func:`costline.review.report.build_report`), and
these filters: ``usd`` ($1,234.57, half-up cents), ``unit_price`` (all digits),
``qty`` (15,000), ``pct``, ``per_price_unit`` (``per GB-month``), ``qty_unit`` (``15,000 tokens``),
and those of :mod:`costline.render.filters` (``signed_usd``,
``signed_pct``, ``factor``, ``link``). Escaping is not left to template authors: in markdown every
printed string is escaped by the environment's ``finalize`` hook unless a filter marked it
safe; HTML uses Jinja's autoescape. A user's ``--templates DIR`` overrides any template by
name and falls back to the bundled ones.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PrefixLoader,
    StrictUndefined,
    select_autoescape,
)
from markupsafe import Markup
from markupsafe import escape as html_escape

from costline.core.money import format_quantity, format_unit_price, format_usd
from costline.core.paths import data_dir
from costline.core.text import one_line, strip_control
from costline.render.charts import mermaid_what_if, service_bars, what_if_lines
from costline.render.filters import REVIEW_FILTERS
from costline.render.verdict import verdict
from costline.render.view import ReportView, ranked
from costline.review.report import to_json

FORMATS = ("table", "markdown", "html", "json", "infracost-json")
TEMPLATE_NAMES = {"markdown": "report.md.j2", "html": "report.html.j2"}

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>])")
_AUTOLINK_START = re.compile(
    r"://|(?<![\w.])www\.", re.IGNORECASE
)  # GFM's extended autolinks start so


def escape_markdown(text: str) -> str:
    """Make untrusted text inert inside GitHub-flavoured markdown, tables included.

    HTML metacharacters become entities, markdown punctuation is backslash-escaped, line
    breaks become spaces (a table row stays one row), ``@`` gets a zero-width space so a tag
    value like ``@org/team`` cannot ping anyone, and so do ``://`` and ``www.`` so that a
    value like ``https://evil.example`` is not turned into a link by GitHub's autolinker.
    """
    text = one_line(text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _defuse_links(_MARKDOWN_SPECIAL.sub(r"\\\1", text))


def escape_html_in_markdown(text: str) -> str:
    """Make untrusted text inert inside raw HTML in a GitHub markdown comment (a
    ``<summary>``): one line (a blank line would end the HTML block and let the rest be read as
    markdown), HTML-escaped, and, as :func:`escape_markdown` does, no ``@`` mention and no
    autolink (GitHub finds both in raw HTML's text too). No backslashes: HTML shows them."""
    return _defuse_links(str(html_escape(one_line(text))))


def _defuse_links(text: str) -> str:
    """A zero-width space after ``@`` and inside ``://`` and ``www.``: no mention, no autolink."""
    text = _AUTOLINK_START.sub(lambda m: m.group(0)[:-1] + "\u200b" + m.group(0)[-1], text)
    return text.replace("@", "@\u200b")


def _finalize_markdown(value: Any) -> Any:
    if isinstance(value, Markup):
        return value
    if isinstance(value, str):
        return escape_markdown(value)
    if value is None:
        return ""
    return value


def _usd(value: Decimal) -> Markup:
    return Markup(format_usd(value))


def _unit_price(value: Decimal | None) -> Markup:
    """A price with every digit; ``None`` is the price of an entry a secret text chose."""
    return Markup("[secret]" if value is None else format_unit_price(value))


def _qty(value: Decimal | None) -> Markup:
    """A usage figure; ``None`` is a figure derived from a secret."""
    return Markup("[secret]" if value is None else format_quantity(value))


def _units(unit: str, count: Decimal | None) -> str:
    """Price tables' units are singular nouns: ``token`` → ``tokens`` for any count but 1
    (``GB`` and units already ending in ``s`` stay as they are)."""
    if count == 1 or unit.endswith("s") or unit.isupper():
        return unit
    return f"{unit}s"


def _unit_filters(escape: Callable[[str], str]) -> dict[str, Callable[..., Markup]]:
    """``qty_unit`` (``15,000,000 tokens``; ``[secret] tokens`` for a figure derived from a
    secret) and ``per_price_unit`` (``per GB-month``, ``per 1,000,000 tokens``). A unit comes
    from a price table or override file, so it is escaped for the output format."""

    def qty_unit(quantity: Decimal | None, unit: str) -> Markup:
        return _qty(quantity) + Markup(" " + escape(_units(unit, quantity)))

    def per_price_unit(price_per: Decimal, unit: str) -> Markup:
        counted = escape(_units(unit, price_per))
        return Markup(
            f"per {counted}" if price_per == 1 else f"per {format_quantity(price_per)} {counted}"
        )

    return {"qty_unit": qty_unit, "per_price_unit": per_price_unit}


def _pct(value: Decimal, digits: int = 0) -> Markup:
    return Markup(f"{value:.{digits}f}%")


BUILTIN_PREFIX = "builtin/"
"""The bundled templates are also ``builtin/<name>``, so a user template can extend the one it
replaces: ``{% extends "builtin/report.md.j2" %}``."""


class _ReportEnvironment(Environment):
    """A template that extends (or includes) its own name means the bundled one of that name:
    a user's ``report.md.j2`` holding ``{% extends "report.md.j2" %}`` extends costline's,
    instead of itself without end (a RecursionError)."""

    def join_path(self, template: str, parent: str) -> str:
        if template == parent and not template.startswith(BUILTIN_PREFIX):
            return BUILTIN_PREFIX + template
        return template


@functools.lru_cache(maxsize=16)
def environment(fmt: str, templates_dir: Path | None = None) -> Environment:
    """A Jinja environment for ``fmt`` that loads user templates first, then bundled ones (also
    under :data:`BUILTIN_PREFIX`).

    One per format and templates folder, kept for the process: Jinja then compiles a template
    once (``--config`` renders one report per stack; compiling the markdown template took
    longer than rendering it), and still reloads a template whose file changed."""
    bundled = FileSystemLoader(str(data_dir("templates")))
    loaders: list[BaseLoader] = [PrefixLoader({BUILTIN_PREFIX.rstrip("/"): bundled})]
    if templates_dir:
        loaders.append(FileSystemLoader(str(templates_dir)))
    loaders.append(bundled)
    if fmt == "html":
        env = _ReportEnvironment(
            loader=ChoiceLoader(loaders),
            autoescape=select_autoescape(default=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters["clean"] = strip_control
    else:
        env = _ReportEnvironment(
            loader=ChoiceLoader(loaders),
            autoescape=False,
            finalize=_finalize_markdown,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
    env.filters.update(
        usd=_usd,
        unit_price=_unit_price,
        qty=_qty,
        pct=_pct,
        **REVIEW_FILTERS,
        **_unit_filters(
            lambda text: str(html_escape(text)) if fmt == "html" else escape_markdown(text)
        ),
    )
    return env


def charts(report: Mapping[str, Any], *, mermaid: bool = True) -> dict[str, Any]:
    """What the templates draw (:mod:`costline.render.charts`): ``bars`` (cost by service),
    ``what_if`` (the what-if curve, or None) and ``mermaid`` (the curve for the markdown
    comment; None when ``mermaid`` is False or there is no curve)."""
    return {
        "bars": service_bars(report["by_service"]),
        "what_if": what_if_lines(report.get("what_if")),
        "mermaid": mermaid_what_if(report.get("what_if")) if mermaid else None,
    }


def render(
    report: Mapping[str, Any],
    fmt: str,
    templates_dir: Path | None = None,
    view: ReportView | None = None,
) -> str:
    """Render ``report`` as ``table`` (the terminal view), ``markdown``, ``html``, ``json`` or
    ``infracost-json``, shown as ``view`` says (default: :class:`ReportView`)."""
    view = view or ReportView()
    if fmt == "table":
        from costline.render.terminal import to_text

        return to_text(report, view)
    if fmt == "json":
        return to_json(report)
    if fmt == "infracost-json":
        from costline.render.infracost import to_infracost_json

        return to_infracost_json(report)
    if fmt not in TEMPLATE_NAMES:
        raise ValueError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")
    template = environment(fmt, templates_dir).get_template(TEMPLATE_NAMES[fmt])
    return template.render(
        report=report,
        verdict=verdict(report),
        charts=charts(report, mermaid=view.mermaid),
        ranked=ranked(report, view),
    )
