"""The newer output formats — ``--format table``, ``--format infracost-json`` and the combined
report of ``--config costline.yml`` (markdown comment, JSON, Infracost JSON) — under hostile
text, secrets and incomplete estimates, through the real CLI.

* Hostile text: a stack name from costline.yml or a resource name holding markup (rich's
  ``[red]``/``[link=…]``, markdown, HTML, ``-->`` that would close an HTML comment), line breaks
  or terminal control characters must print as inert text: the comment keeps the shape it has
  under plain names, the table keeps its lines and colours, JSON keeps the exact name as data
  with every control character escaped.
* Secrets: a figure or name chosen by a secret appears in no format.
* Verdicts: an estimate that is incomplete, or priced in part at a fail-closed worst-case bound,
  says so in every format, as ``costline check``'s verdict line does; a complete one says so in
  none.

Expectations are worked out by hand in each test (the prices are the shipped us-east-1 tables:
Lambda $0.20 per 1M requests, Claude 3 Haiku $0.25 per 1M input and $1.25 per 1M output tokens).
"""

from __future__ import annotations

import json
import re
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from costline.cli.main import main
from costline.core.text import one_line
from costline.render.templates import render
from costline.render.view import ReportView
from tests.test_infracost_output import ROOT_SCHEMA as INFRACOST_SCHEMA
from tests.test_output_safety import HOSTILE, UNSAFE, html_tags, markdown_shape
from tests.test_secrets import DURATION, LAMBDA, PROFILE, export, plaintext

REPO = Path(__file__).resolve().parents[1]
PROGRAM = REPO / "tests" / "fixtures" / "programs" / "component"
FAST = ("--what-if", "none", "--no-recommendations")
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"

WORDS = {
    **HOSTILE,
    "rich markup": "[red]red[/] [link=https://evil.example]click[/link] [/] [bold",
    "comment closer": "x --> <!-- costline-report --> --!> y",
    "c1 controls": "\x9b31mC1\x9c \x7fdel \x85nel",
    "blank line": "top\n\n# injected heading\n\n@admin [x](https://evil.example)",
}
"""Each word is a stack name in costline.yml and a resource name."""

JSON_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""What must never be raw in JSON text (printed to a terminal, or pasted into JavaScript): every
control character (C0, DEL, C1), line separators and bidirectional overrides. JSON escapes them
as ``\\uXXXX`` and the data is the same."""


def cli(*args: str | Path):
    return CliRunner().invoke(main, [str(a) for a in args])


# --- the combined report (--config costline.yml) ----------------------------------------------
def config_file(folder: Path, names: list[str]) -> Path:
    """costline.yml with one stack of the component fixture (an $18.73 Lambda) per name, each with
    a $100 budget; names written as JSON strings (valid YAML) so any character survives. The
    stacks are ``s0``, ``s1``... of a copy of the fixture (a stack is listed once), each with the
    fixture's ``dev`` config."""
    program = folder / "component"
    shutil.copytree(PROGRAM, program, ignore=shutil.ignore_patterns("__pycache__"))
    lines = ["version: 1", "projects:"]
    for index, name in enumerate(names):
        shutil.copy(PROGRAM / "Pulumi.dev.yaml", program / f"Pulumi.s{index}.yaml")
        lines.append(f"  - {{path: component, stack: s{index}, name: {json.dumps(name)}, ")
        lines[-1] += "budget_usd: 100}"
    path = folder / "costline.yml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def combined(tmp_path_factory) -> dict[str, dict[str, Any]]:
    """The combined outputs of ``check --config`` and ``estimate --config --format
    infracost-json``, for the hostile names and for plain ones (``s0``, ``s1``...)."""
    outputs: dict[str, dict[str, Any]] = {}
    for kind, names in (("hostile", list(WORDS.values())), ("plain", [f"s{i}" for i in WORDS])):
        folder = tmp_path_factory.mktemp(kind)
        config = config_file(folder, names)
        md, data = folder / "comment.md", folder / "report.json"
        checked = cli("check", "--config", config, *FAST, "--report", md, "--json-report", data)
        assert checked.exit_code == 0, checked.output
        infracost = cli("estimate", "--config", config, *FAST, "--format", "infracost-json")
        assert infracost.exit_code == 0, infracost.output
        outputs[kind] = {
            "names": names,
            "markdown": md.read_text(encoding="utf-8"),
            "json": data.read_text(encoding="utf-8"),
            "infracost-json": infracost.stdout,
            "stdout": checked.stdout,
        }
    return outputs


def test_hostile_stack_names_do_not_change_the_combined_comment(combined):
    hostile, plain = combined["hostile"]["markdown"], combined["plain"]["markdown"]
    assert markdown_shape(hostile) == markdown_shape(plain)
    assert html_tags(hostile) == html_tags(plain)
    assert not UNSAFE.search(hostile.replace("\n", "")), "a control character reached the comment"
    assert re.search(r"@(?!\u200b)", hostile) is None, "an @ can ping someone"
    assert "<script" not in hostile.lower()
    # a name cannot open or close an HTML comment (the workflows find their comment by one)
    assert hostile.count("-->") == plain.count("-->")
    assert hostile.count("<!--") == plain.count("<!--")
    # GitHub links scheme:// and www. also in raw HTML: no name may make a link
    assert len(re.findall(r"(?i)://|(?<![\w.])www\.", hostile)) == len(
        re.findall(r"(?i)://|(?<![\w.])www\.", plain)
    )


def _table_rows(markdown: str) -> list[list[str]]:
    """The cells of the comment's first table (the stacks), as markdown-it renders their text."""
    from tests.test_output_safety import MD

    rows: list[list[str]] = []
    cells: list[str] | None = None
    for token in MD.parse(markdown):
        if token.type == "table_close":
            break
        if token.type == "tr_open":
            cells = []
        elif token.type == "inline" and cells is not None:
            cells.append("".join(c.content for c in token.children or () if c.type == "text"))
        elif token.type == "tr_close" and cells is not None:
            rows.append(cells)
    return rows


def test_a_pipe_in_a_stack_name_reads_as_one_pipe_in_its_cell(combined):
    rows = _table_rows(combined["hostile"]["markdown"])
    # header, one row per stack, the total; every row has four cells (Stack, Monthly, Budget,
    # Status: no baseline)
    assert len(rows) == 1 + len(WORDS) + 1
    assert {len(r) for r in rows} == {4}
    names = [r[0] for r in rows[1:-1]]
    assert names[list(WORDS).index("pipes")] == "a | b || c |"
    assert names[list(WORDS).index("rich markup")] == WORDS["rich markup"].replace(
        "://", ":/\u200b/"
    )


def test_each_stack_is_folded_under_its_name_on_one_line(combined):
    hostile = combined["hostile"]["markdown"]
    summaries = re.findall(r"<details><summary>(.*?)</summary>", hostile)
    # the per-stack reports nest their own <details>; the stacks' come right after the table
    assert len(summaries) >= len(WORDS)
    stack_summaries = re.findall(r"^<details><summary>(.*)</summary>$", hostile, re.MULTILINE)
    shown = [s for s in stack_summaries if not s.startswith("Per-resource") and s != "Assumptions"]
    assert len(shown) == len(WORDS)
    blank = shown[list(WORDS).index("blank line")]
    assert blank == ("top  # injected heading  @\u200badmin [x](https:/\u200b/evil.example)"), blank
    assert shown[list(WORDS).index("script")].startswith("&lt;script&gt;alert(1)&lt;/script&gt;")


@pytest.mark.parametrize(
    "fmt",
    [
        "json",
        "infracost-json",
    ],
)
def test_combined_json_keeps_each_name_as_data_with_no_raw_control_character(combined, fmt):
    text = combined["hostile"][fmt]
    match = JSON_UNSAFE.search(text.replace("\n", ""))
    assert match is None, repr(text[max(0, match.start() - 40) : match.end() + 40])
    document = json.loads(text)
    names = combined["hostile"]["names"]
    if fmt == "json":  # costline's own JSON: the exact names, as data
        assert [s["name"] for s in document["stacks"]] == names
    else:  # Infracost's tools print names as they are: one line, no control character
        assert [p["name"] for p in document["projects"]] == [one_line(n) for n in names]


def test_the_combined_heading_says_within_budget_only_of_stacks_with_a_budget(tmp_path):
    # one stack with a $100 budget, one without; the component's Lambda costs $18.73 (3,000,000
    # requests: 2,000,000 billable × $0.20/M = $0.40; 3,000,000 × 0.5 s × 1 GB = 1,500,000
    # GB-s, 1,100,000 after the free 400,000, × $0.0000166667 = $18.33), within $100
    shutil.copytree(PROGRAM, tmp_path / "copy", ignore=shutil.ignore_patterns("__pycache__"))
    config = tmp_path / "costline.yml"
    config.write_text(  # the fixture and a copy of it: a stack is listed once
        "version: 1\nprojects:\n"
        f"  - {{path: {json.dumps(str(PROGRAM))}, name: capped, budget_usd: 100}}\n"
        "  - {path: copy, name: open}\n",
        encoding="utf-8",
    )
    md = tmp_path / "comment.md"
    result = cli("check", "--config", config, *FAST, "--report", md)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("capped: costline check passed: ")
    assert lines[1].startswith("open: costline check passed (no limits set): ")
    heading = md.read_text(encoding="utf-8").splitlines()[0]
    # not "2 stacks within budget": one of them has no budget
    assert not heading.startswith("## ✅ costline: 2 stacks within budget")
    assert heading.startswith(
        "## ✅ costline: 1 of 2 stacks within budget, 1 with no limits set · $37.47/month in all"
    )
    assert lines[-1].startswith(
        "costline check: 1 of 2 stacks within budget, 1 with no limits set · $37.47/month"
    )


# --- the table and the JSON formats of one stack -----------------------------------------------
def hostile_export(folder: Path, word: str) -> Path:
    """A stack in which ``word`` names a priced Lambda and a Bedrock profile missing its output
    tokens (so the name shows in the verdict line and the findings too)."""
    return export(
        folder,
        [
            (LAMBDA, word, {"tags": {"cost:monthly-requests": "3000000", **DURATION}}),
            (
                PROFILE,
                f"{word}-model",
                {
                    "tags": {
                        "cost:monthly-requests": "1000",
                        "cost:input-tokens": "10",
                        "cost:bedrock-model": HAIKU,
                    }
                },
            ),
        ],
    )


def estimate_text(folder: Path, word: str, fmt: str) -> str:
    folder.mkdir(exist_ok=True)
    result = cli("estimate", "--from-preview", hostile_export(folder, word), "--format", fmt, *FAST)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.stderr
    return result.stdout


def wide_table(folder: Path, word: str, *, color: bool) -> str:
    """The table view 400 columns wide (no cell wraps), from the CLI's JSON report."""
    report = json.loads(estimate_text(folder, word, "json"), parse_float=Decimal)
    return render(_decimals(report), "table", view=ReportView(color=color, width=400))


def _decimals(value: Any) -> Any:
    """The JSON report with its money strings as Decimals again (as the CLI holds it)."""
    money = re.compile(r"-?\d+(\.\d+)?")
    if isinstance(value, dict):
        return {
            k: Decimal(v)
            if isinstance(v, str)
            and money.fullmatch(v)
            and k.endswith(("_usd", "quantity", "price_per", "_percent"))
            else _decimals(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_decimals(v) for v in value]
    return value


@pytest.mark.parametrize("word", WORDS.values(), ids=WORDS.keys())
def test_the_table_prints_hostile_names_literally(tmp_path, word):
    text = estimate_text(tmp_path / "cli", word, "table")
    assert not UNSAFE.search(text.replace("\n", "")), repr(text)
    wide = wide_table(tmp_path / "h", word, color=False)
    plain = wide_table(tmp_path / "p", "plain", color=False)
    assert wide.count("\n") == plain.count("\n"), wide
    assert one_line(word) in wide  # shown, on one line, markup and all


@pytest.mark.parametrize("word", WORDS.values(), ids=WORDS.keys())
def test_hostile_names_add_no_colour_or_link_to_the_coloured_table(tmp_path, word):
    hostile = wide_table(tmp_path / "h", word, color=True)
    plain = wide_table(tmp_path / "p", "plain", color=True)
    assert hostile.count("\x1b") == plain.count("\x1b")  # the same styles, no more
    assert "\x1b]" not in hostile  # no OSC sequence: no hyperlink, no window title
    assert "\x9b" not in hostile


@pytest.mark.parametrize("fmt", ["json", "infracost-json"])
@pytest.mark.parametrize("word", WORDS.values(), ids=WORDS.keys())
def test_json_formats_escape_every_control_character(tmp_path, fmt, word):
    text = estimate_text(tmp_path, word, fmt)
    match = JSON_UNSAFE.search(text.replace("\n", ""))
    assert match is None, repr(text[max(0, match.start() - 40) : match.end() + 40])
    document = json.loads(text)
    if fmt == "json":
        names = {r["name"] for r in document["resources"]}
        assert word in names  # the exact name, as data
    else:
        resources = document["projects"][0]["breakdown"]["resources"]
        assert one_line(word) in {r["name"] for r in resources}  # as Infracost's tools print it
        urns = {r["metadata"]["urn"] for r in resources}
        assert any(urn.endswith(f"::{word}") for urn in urns)  # the exact name, in the URN


# --- verdicts agree across formats --------------------------------------------------------------
def verdict_export(folder: Path, *, output_tokens: bool) -> Path:
    """A Lambda (1,000 requests, free) and a Claude 3 Haiku profile: 1,000 requests × 10 input
    tokens = 10,000 tokens × $0.25/M = $0.0025; with ``output_tokens``, 1,000 × 20 = 20,000 ×
    $1.25/M = $0.025 more ($0.0275); without, the output tokens are not known."""
    tags = {"cost:monthly-requests": "1000", "cost:input-tokens": "10", "cost:bedrock-model": HAIKU}
    if output_tokens:
        tags["cost:output-tokens"] = "20"
    return export(
        folder,
        [
            (LAMBDA, "fn", {"tags": {"cost:monthly-requests": "1000", **DURATION}}),
            (PROFILE, "model", {"tags": tags}),
        ],
    )


def every_format(source: Path, *extra: str) -> dict[str, str]:
    texts = {}
    for fmt in ("table", "markdown", "html", "json", "infracost-json"):
        result = cli("estimate", "--from-preview", source, "--format", fmt, *FAST, *extra)
        assert result.exit_code == 0, result.output
        texts[fmt] = result.stdout
    checked = cli("check", "--from-preview", source, *FAST, *extra)
    assert checked.exit_code == 0, checked.output
    texts["check"] = checked.stdout.splitlines()[0]
    return texts


def infracost_resource(text: str, name: str) -> dict[str, Any]:
    document = json.loads(text)
    jsonschema.validate(document, INFRACOST_SCHEMA)  # the gaps stay within Infracost's schema
    (project,) = document["projects"]
    (resource,) = [r for r in project["breakdown"]["resources"] if r["name"] == name]
    return resource


def cost_component_without_figures(name: str) -> dict:
    """An Infracost cost component as its schema writes a cost with no figures (written out
    here by hand, not taken from costline's code)."""
    return {
        "name": name,
        "unit": "",
        "hourlyQuantity": None,
        "monthlyQuantity": None,
        "price": None,
        "hourlyCost": None,
        "monthlyCost": None,
    }


def test_a_complete_estimate_reads_complete_in_every_format(tmp_path):
    texts = every_format(verdict_export(tmp_path, output_tokens=True))
    assert texts["check"] == "costline check passed (no limits set): $0.03/month"
    assert texts["table"].splitlines()[0].endswith("· all costs known")
    assert texts["markdown"].splitlines()[0].endswith("· all costs known")
    assert json.loads(texts["json"])["complete"] is True
    model = infracost_resource(texts["infracost-json"], "model")
    assert model["monthlyCost"] == "0.0275"
    assert [c["monthlyCost"] for c in model["costComponents"]] == ["0.0025", "0.025"]
    assert "incomplete" not in model["metadata"] and "bounded" not in model["metadata"]
    for fmt, text in texts.items():
        if fmt == "json":
            continue  # its field names say "incomplete"; its "complete" is checked above
        assert "incomplete" not in text.lower(), fmt
        assert "worst-case bounds" not in text.lower(), fmt


def test_an_incomplete_estimate_reads_incomplete_in_every_format(tmp_path):
    texts = every_format(verdict_export(tmp_path, output_tokens=False))
    assert texts["check"] == (
        "costline check passed (no limits set), but the estimate is incomplete: $0.00/month + "
        "1 resource not fully priced: model (cost:output-tokens missing)"
    )
    assert "· incomplete: model (cost:output-tokens missing)" in texts["table"].splitlines()[0]
    assert "⚠️ incomplete" in texts["markdown"].splitlines()[0]
    assert json.loads(texts["json"])["complete"] is False
    # Infracost JSON has no verdict field: the unknown cost is a cost component with no cost
    # (as Infracost shows a cost it cannot compute), and the resource's metadata says why
    model = infracost_resource(texts["infracost-json"], "model")
    assert model["monthlyCost"] == "0.0025"  # the known part: 10,000 input tokens
    unknown = model["costComponents"][-1]
    assert unknown == cost_component_without_figures(
        "Not in the total (incomplete): cost:output-tokens missing"
    )
    assert model["metadata"]["incomplete"] == ["cost:output-tokens missing"]
    assert "incomplete" not in infracost_resource(texts["infracost-json"], "fn")["metadata"]


def test_worst_case_bounds_are_said_in_every_format(tmp_path):
    # fail-closed: the output tokens at their bound, 4,096 per request: 4,096,000 × $1.25/M =
    # $5.12, plus the $0.0025 of input: $5.1225
    texts = every_format(verdict_export(tmp_path, output_tokens=False), "--fail-closed")
    assert "including 1 resource priced at worst-case bounds: model" in texts["check"]
    assert "includes worst-case bounds for 1 resource: model" in texts["table"].splitlines()[0]
    assert "includes worst-case bounds for 1 resource" in texts["markdown"].splitlines()[0]
    model = infracost_resource(texts["infracost-json"], "model")
    assert model["monthlyCost"] == "5.1225"
    assert model["metadata"]["bounded"] == ["cost:output-tokens at its bound 4096"]
    assert "incomplete" not in model["metadata"]


def test_a_cost_on_no_listed_resource_is_still_missing_from_the_infracost_total(tmp_path):
    """An EC2 instance costline does not price is an Infracost 'unsupported' resource; the cost
    it leaves out is named on one entry with no figures, as ``check`` names it."""
    source = export(
        tmp_path,
        [
            (LAMBDA, "fn", {"tags": {"cost:monthly-requests": "1000", **DURATION}}),
            ("aws:ec2/instance:Instance", "vm", {"instanceType": "t3.micro"}),
        ],
    )
    texts = every_format(source)
    assert texts["check"] == (
        "costline check passed (no limits set), but the estimate is incomplete: $0.00/month + "
        "1 resource not fully priced: vm (aws:ec2/instance:Instance not priced by costline)"
    )
    document = json.loads(texts["infracost-json"])
    jsonschema.validate(document, INFRACOST_SCHEMA)
    (project,) = document["projects"]
    fn, rest = project["breakdown"]["resources"]
    assert fn["name"] == "fn" and "incomplete" not in fn["metadata"]
    assert rest == {
        "name": "Costs not in the total (incomplete)",
        "metadata": {"incomplete": ["vm: aws:ec2/instance:Instance not priced by costline"]},
        "hourlyCost": None,
        "monthlyCost": None,
        "costComponents": [
            cost_component_without_figures(
                "Not in the total (incomplete): vm: aws:ec2/instance:Instance not priced by "
                "costline"
            )
        ],
        "subresources": [],
    }
    # Infracost's own counts: the Lambda supported, the instance not; the entry is not counted
    assert document["summary"]["totalDetectedResources"] == 2
    assert document["summary"]["unsupportedResourceCounts"] == {"aws:ec2/instance:Instance": 1}


def check_svc(folder: Path, *args: str, budget: str | None = None) -> tuple[Any, str, str]:
    """``check --config`` of one stack ``svc``, the component fixture (an $18.73 Lambda), with
    ``budget`` and ``args``: the result, the combined comment and the stack's table view (400
    columns wide, from the combined JSON report)."""
    entry = f"path: {json.dumps(str(PROGRAM))}, name: svc"
    entry += f", budget_usd: {budget}" if budget is not None else ""
    config = folder / "costline.yml"
    config.write_text(f"version: 1\nprojects:\n  - {{{entry}}}\n", encoding="utf-8")
    md, data = folder / "comment.md", folder / "report.json"
    result = cli("check", "--config", config, *FAST, *args, "--report", md, "--json-report", data)
    (stack,) = json.loads(data.read_text(encoding="utf-8"))["stacks"]
    table = render(_decimals(stack["report"]), "table", view=ReportView(width=400))
    return result, md.read_text(encoding="utf-8"), table


def test_a_broken_resource_limit_is_not_called_over_budget(tmp_path):
    # the component's Lambda costs $18.73 a month (see above): within its $100 budget, over a
    # $10 limit per resource. The check fails (exit 1); no format may say "over budget".
    result, comment, table = check_svc(tmp_path, "--max-resource-usd", "10", budget="100")
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines()[0].startswith("svc: costline check FAILED: $18.73/month")
    assert "| svc | $18.73 | $100.00 | ❌ check failed |" in comment
    assert "over budget" not in comment.split("<details>")[0]
    first = table.splitlines()[0]
    assert "· check failed (budget $100.00) ·" in first, first
    assert "over" not in first, first
    # the table names the broken limit, as the comment's "Cost check failed" list does: the
    # Lambda $18.73 over the $10.00 limit by $8.73
    assert (
        "Cost check failed\n- orders-handler costs ~$18.73/month, over its budget $10.00 by $8.73\n"
        in table
    ), table


def test_a_total_over_its_budget_is_over_budget_in_every_format(tmp_path):
    # $18.73 against a $10 budget: over by $8.73
    result, comment, table = check_svc(tmp_path, budget="10")
    assert result.exit_code == 1, result.output
    assert "| svc | $18.73 | $10.00 | ❌ over budget |" in comment
    assert "· over the limit (budget $10.00) ·" in table.splitlines()[0]
    assert (
        "Cost check failed\n- the total $18.73/month is over the budget $10.00 by $8.73\n" in table
    ), table


# --- secrets -------------------------------------------------------------------------------------
def test_a_secret_model_chooses_no_printed_price_or_name(tmp_path):
    """A secret model id picks the price entry: its name, price id and unit prices (which would
    name the model: $0.25 and $1.25 per 1M tokens are Claude 3 Haiku's) are shown in no format;
    the resource's cost is (the totals are, as in every format)."""
    source = export(
        tmp_path,
        [
            (
                PROFILE,
                "model",
                {
                    "tags": {
                        "cost:monthly-requests": "1000",
                        "cost:input-tokens": "10",
                        "cost:output-tokens": "20",
                        "cost:bedrock-model": plaintext(HAIKU),
                    }
                },
            )
        ],
    )
    texts = every_format(source)
    leaks = ("haiku", "claude", r"\$[01]\.25(?!\d)", r'"[01]\.25"', r"0\.00000[01]25(?!\d)")
    for fmt, text in texts.items():
        for leak in leaks:
            assert re.search(leak, text.lower()) is None, (fmt, leak)
    model = infracost_resource(texts["infracost-json"], "model")
    assert model["monthlyCost"] == "0.0275"
    for component in model["costComponents"]:
        assert component["name"] == "[secret]"
        assert component["price"] is None and component["monthlyQuantity"] is None


@pytest.mark.parametrize("word", [WORDS["ansi"], WORDS["unicode"], WORDS["c1 controls"]])
def test_a_broken_limit_naming_a_hostile_resource_stays_inert_in_html(tmp_path, word):
    # 3,000,000 requests × 100 ms × 128 MB: 2,000,000 billable × $0.20/M = $0.40 of requests
    # (37,500 GB-s, inside the free tier): over a $0.10 limit per resource
    source = export(
        tmp_path, [(LAMBDA, word, {"tags": {"cost:monthly-requests": "3000000", **DURATION}})]
    )
    data = tmp_path / "report.json"
    result = cli(
        "check",
        "--from-preview",
        source,
        *FAST,
        "--max-resource-usd",
        "0.10",
        "--json-report",
        data,
    )
    assert result.exit_code == 1, result.output
    report = _decimals(json.loads(data.read_text(encoding="utf-8")))
    (violation,) = report["budget"]["violations"]
    assert violation["message"].endswith("costs ~$0.40/month, over its budget $0.10 by $0.30")
    html = render(report, "html")
    assert "over its budget $0.10 by $0.30" in html
    # a line separator is only white space in HTML; control characters and bidi overrides must go
    shown = html.replace("\n", "").replace("\u2028", "").replace("\u2029", "")
    assert not UNSAFE.search(shown), "a control character reached the HTML"


@pytest.mark.parametrize(
    "word", [WORDS["ansi"], WORDS["newlines"], WORDS["unicode"], WORDS["c1 controls"]]
)
def test_a_broken_limit_naming_a_hostile_resource_is_one_inert_line_on_the_terminal(tmp_path, word):
    # the same $0.40 Lambda over a $0.10 limit per resource as above: `check` prints its verdict
    # and the broken limit, which quotes the resource's name
    source = export(
        tmp_path, [(LAMBDA, word, {"tags": {"cost:monthly-requests": "3000000", **DURATION}})]
    )
    result = cli("check", "--from-preview", source, *FAST, "--max-resource-usd", "0.10")
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2, lines  # the verdict, then the one broken limit
    assert lines[1].startswith("  - ")
    assert lines[1].endswith("costs ~$0.40/month, over its budget $0.10 by $0.30")
    assert not UNSAFE.search(result.stdout), "a control character reached stdout"


def test_a_stack_with_limits_but_no_budget_is_not_called_within_budget(tmp_path):
    # the component's $18.73 Lambda under a $100 limit per resource, and no budget: the check
    # passes; no format may speak of a budget
    result, comment, table = check_svc(tmp_path, "--max-resource-usd", "100")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "svc: costline check passed: $18.73/month"
    assert comment.startswith("## ✅ costline: 1 stack within limits · $18.73/month in all · ")
    assert "| svc | $18.73 | — | ✅ within limits |" in comment
    assert "· within limits ·" in table.splitlines()[0]
    assert "budget" not in table.splitlines()[0]
