"""User templates (``--templates DIR``): extending a built-in, and errors that say where.

The bundled templates are also ``builtin/<name>``; a user template that extends (or includes)
its own name gets the bundled one instead of itself (was a RecursionError). Every error in a
user template is exit 2 with the template's file and line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from costline.cli.errors import EXIT_BAD_INPUT, EXIT_OK
from tests.hostile import PREVIEW, assert_one_line_error, cli


def templates(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir()
    for name, text in files.items():
        (folder / name.replace("_", ".")).write_text(text)
    return folder


@pytest.fixture(scope="module")
def bundled_report() -> str:
    result = cli("estimate", "--from-preview", PREVIEW)
    assert result.exit_code == EXIT_OK
    return result.stdout


@pytest.mark.parametrize(
    "text",
    [
        '{% extends "report.md.j2" %}',
        '{% extends "builtin/report.md.j2" %}',
        '{% include "report.md.j2" %}',
    ],
    ids=["extends its own name", "extends builtin/", "includes its own name"],
)
def test_a_user_template_can_build_on_the_bundled_one(tmp_path, bundled_report, text):
    folder = templates(tmp_path, report_md_j2=text)
    result = cli("estimate", "--from-preview", PREVIEW, "--templates", folder)
    assert result.exit_code == EXIT_OK, result.stderr
    assert result.stdout == bundled_report


def test_the_html_template_too(tmp_path):
    plain = cli("estimate", "--from-preview", PREVIEW, "--format", "html")
    folder = templates(tmp_path, report_html_j2='{% extends "report.html.j2" %}')
    result = cli("estimate", "--from-preview", PREVIEW, "--format", "html", "--templates", folder)
    assert result.exit_code == EXIT_OK and result.stdout == plain.stdout


@pytest.mark.parametrize(
    "files, where, error",
    [
        (
            {"report_md_j2": "line 1\n{% if %}\n"},
            "report.md.j2:2: ",
            "TemplateSyntaxError: Expected an expression, got 'end of statement block'",
        ),
        (
            {"report_md_j2": "line 1\nline 2\n{{ report.nope.x }}\n"},
            "report.md.j2:3: ",
            "UndefinedError: 'dict object' has no attribute 'nope'",
        ),
        (
            {"report_md_j2": "a\n{% extends 'missing.j2' %}\n"},
            "report.md.j2:2: ",
            "TemplateNotFound: missing.j2",
        ),
        ({"report_md_j2": "\n\n\n{{ 1 / 0 }}"}, "report.md.j2:4: ", "ZeroDivisionError"),
        (
            {
                "report_md_j2": "x\n{% include 'other.j2' %}",
                "other_j2": "{% include 'report.md.j2' %}",
            },
            ".j2:",
            "RecursionError: maximum recursion depth exceeded",
        ),
    ],
    ids=["syntax", "undefined", "missing parent", "a Python error", "mutual includes"],
)
def test_a_template_error_is_exit_2_naming_file_and_line(tmp_path, files, where, error):
    folder = templates(tmp_path, **files)
    result = cli("estimate", "--from-preview", PREVIEW, "--templates", folder)
    assert result.exit_code == EXIT_BAD_INPUT
    assert_one_line_error(result.stderr, "report template: ", str(folder), where, error)


def test_check_names_the_template_too(tmp_path):
    folder = templates(tmp_path, report_md_j2="ok\n{{ report.total_monthly_usd | nosuchfilter }}")
    report = tmp_path / "comment.md"
    result = cli("check", "--from-preview", PREVIEW, "--templates", folder, "--report", report)
    assert result.exit_code == EXIT_BAD_INPUT
    assert_one_line_error(result.stderr, "report.md.j2:2: ", "No filter named 'nosuchfilter'")
    assert not report.exists()
