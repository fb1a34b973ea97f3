"""Helpers for report tests: schema validation, a GitHub-flavoured markdown renderer, and an
HTML table reader, so tests assert on structure (rows, cells) rather than on substrings."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any

from markdown_it import MarkdownIt

from costline.render.templates import render
from costline.review.sections import schema_problems


def json_report(report: dict[str, Any]) -> dict[str, Any]:
    """The report as its JSON output, validated against costline/review/report.schema.json."""
    data = json.loads(render(report, "json"))
    assert schema_problems(data) == [], schema_problems(data)[:3]
    return data


def gfm(text: str) -> str:
    """Markdown → HTML as GitHub would structure it: tables, strikethrough, raw HTML blocks
    (``<details>``) and autolinks (markdown-it's ``gfm-like`` preset with linkify-it, which
    links ``https://…`` and ``www.…`` as GitHub does, and bare domains too: stricter)."""
    return MarkdownIt("gfm-like", {"linkify": True}).render(text)


class _Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self.tags: list[str] = []
        self._stack: list[list[list[str]]] = []
        self._cell: list[str] | None = None
        self._span = 1

    def handle_starttag(self, tag: str, attrs) -> None:
        self.tags.append(tag)
        if tag == "table":
            self._stack.append([])
        elif tag == "tr" and self._stack:
            self._stack[-1].append([])
        elif tag in ("td", "th") and self._stack:
            self._cell = []
            self._span = int(dict(attrs).get("colspan") or 1)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._stack:
            self._stack[-1][-1].extend(["".join(self._cell).strip()] + [""] * (self._span - 1))
            self._cell = None
        elif tag == "table" and self._stack:
            self.tables.append(self._stack.pop())

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables(html: str) -> list[list[list[str]]]:
    """Every table of ``html`` as rows of cell texts (header row first), in document order;
    a cell spanning N columns counts as N cells (the first holds the text)."""
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def tags(html: str) -> list[str]:
    """Every element name in ``html``, in order (to assert that no ``script`` was produced)."""
    parser = _Tables()
    parser.feed(html)
    return parser.tags


def table_with(html: str, header: str) -> list[list[str]]:
    """The first table whose header row has a cell ``header``."""
    return next(t for t in tables(html) if t and header in t[0])
