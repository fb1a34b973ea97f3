"""Output safety: hostile names and values stay inert in every output, secrets stay out of all of
them, and report files are never half written.

Anyone who can edit a Pulumi program chooses resource names, type tokens of components and tag
values. Each hostile string below goes into a stack as a resource name, a component's type and a
tag value; the stack is rendered as markdown (the PR comment), HTML and JSON, and sent through the
policy pack (the terminal output of ``pulumi preview`` / ``costline preview``). Each output is
compared with the same stack under plain names: the *structure* must be the same (markdown
tables with as many rows and cells, the same HTML elements, as many terminal lines), nothing may
ping anyone, and no escape sequence may reach a terminal.
"""

from __future__ import annotations

import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt

from costline.cli.main import main
from costline.core import files as writing
from costline.core.model import Resource
from costline.core.values import SECRET_SIGNATURE, SIGNATURE_KEY
from costline.engine import PolicyPackProcess
from costline.engine.preview import engine_resource, format_policies
from costline.estimator.pipeline import estimate
from costline.pricing import load_price_book
from costline.render.templates import render
from costline.review.report import build_report

HOSTILE = {
    "script": "<script>alert(1)</script><img src=x onerror=alert(2)>",
    "pipes": "a | b || c |",
    "backticks": "``code`` `x` ```",
    "mention": "@octo-org/security-team ping @admin",
    "ansi": "\x1b[31mred\x1b[0m\x1b]0;pwned\x07\x9b2J",
    "newlines": "line1\nline2\r\n| fake | row |\n- [mandatory]  stack-budget  (stack)",
    "markdown": "**bold** _em_ [link](https://evil.example) ![img](x.png) # heading <!-- c -->",
    "unicode": "\u202eevil\u2066 \u2028sep\u0085nel",
    "autolinks": "https://evil.example/x WWW.evil.com/login ftp://a.b mailto:x",
}
LAMBDA = "aws:lambda/function:Function"
PROFILE = "aws:bedrock/inferenceProfile:InferenceProfile"
PRICES = load_price_book("us-east-1")


def stack(word: str) -> list[Resource]:
    """A stack in which ``word`` is a Lambda's name, a component's type and name, a malformed tag
    value, a Bedrock model id and an unrecognised tag's key, next to ordinary resources."""

    def urn(type_token: str, name: str) -> str:
        return f"urn:pulumi:dev::safety::{type_token}::{name}"

    fn_urn = urn(LAMBDA, word)
    component_type = f"acme:{word}:Widget"
    return [
        Resource(
            fn_urn,
            LAMBDA,
            word,
            {
                "memorySize": 512,
                "architectures": [word],
                "tags": {
                    "cost:monthly-requests": "2000000",
                    "cost:avg-duration-ms": word,
                    f"cost:{word}": "1",
                },
            },
        ),
        Resource(
            urn(PROFILE, "model"),
            PROFILE,
            "model",
            {
                "tags": {
                    "cost:monthly-requests": "1000",
                    "cost:input-tokens": "10",
                    "cost:output-tokens": "10",
                    "cost:bedrock-model": word,
                }
            },
        ),
        Resource(
            urn(PROFILE, "priced"),
            PROFILE,
            "priced",
            {
                "modelSource": {"copyFrom": "anthropic.claude-3-haiku-20240307-v1:0"},
                "tags": {
                    "cost:monthly-requests": "1000",
                    "cost:input-tokens": "10",
                    "cost:output-tokens": "10",
                },
            },
        ),
        Resource(urn(component_type, f"{word}-component"), component_type, f"{word}-component", {}),
        Resource(
            urn("aws:ec2/instance:Instance", f"{word}-vm"),
            "aws:ec2/instance:Instance",
            f"{word}-vm",
            {},
        ),
    ]


BENIGN = "plain"


def rendered(word: str, fmt: str) -> str:
    return render(build_report(estimate(stack(word), PRICES), source=f"test {word}"), fmt)


# --- markdown ----------------------------------------------------------------------------------
MD = MarkdownIt("commonmark", {"linkify": True}).enable(["table", "strikethrough", "linkify"])
MD.linkify.set({"fuzzy_link": False})  # GitHub links scheme:// URLs, not bare domains ...
AUTOLINK_START = re.compile(r"(?i)://|(?<![\w.])www\.")  # ... and ``www.``, checked on the source


def markdown_shape(text: str) -> dict:
    """Tables as rows × cells, the sequence of block tokens, and counts of inline constructs."""
    tokens = MD.parse(text)
    tables, rows = [], None
    for t in tokens:
        if t.type == "table_open":
            tables.append([])
        elif t.type == "tr_open":
            rows = 0
        elif t.type in ("td_open", "th_open"):
            rows += 1
        elif t.type == "tr_close":
            tables[-1].append(rows)
    inline: dict[str, int] = {}
    for t in tokens:
        for child in t.children or ():
            if child.type not in ("text", "softbreak", "hardbreak"):
                inline[child.type] = inline.get(child.type, 0) + 1
    blocks = [t.type for t in tokens if t.type != "inline"]
    # GitHub drops the cells beyond a table's header, so the parse alone would not show a
    # stray "|": count the unescaped pipes of every table line of the source too.
    pipes = [
        len(re.findall(r"(?<!\\)\|", line)) for line in text.splitlines() if line.startswith("|")
    ]
    return {"tables": tables, "blocks": blocks, "inline": inline, "pipes": pipes}


UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""Control characters (ANSI escapes start with one), line separators and bidirectional overrides."""


@pytest.mark.parametrize("word", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_text_does_not_change_the_markdown_report(word):
    hostile, benign = rendered(word, "markdown"), rendered(BENIGN, "markdown")
    assert markdown_shape(hostile) == markdown_shape(benign)
    assert re.search(r"@(?!\u200b)", hostile) is None, (
        "an @ without a zero-width space can ping someone"
    )
    assert not UNSAFE.search(hostile.replace("\n", "")), "a control character reached the report"
    assert "<script" not in hostile.lower() and "<img" not in hostile.lower()
    assert len(AUTOLINK_START.findall(hostile)) == len(AUTOLINK_START.findall(benign)), (
        "a value would autolink"
    )


# --- HTML --------------------------------------------------------------------------------------
class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag + "".join(sorted(f" {k}" for k, _ in attrs)))


def html_tags(text: str) -> list[str]:
    parser = _Tags()
    parser.feed(text)
    return parser.tags


@pytest.mark.parametrize("word", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_text_does_not_change_the_html_report(word):
    hostile, benign = rendered(word, "html"), rendered(BENIGN, "html")
    assert html_tags(hostile) == html_tags(benign)
    # A line separator is only white space in HTML; control characters and bidi overrides must go.
    assert not UNSAFE.search(hostile.replace("\n", "").replace("\u2028", "").replace("\u2029", ""))


@pytest.mark.parametrize("word", HOSTILE.values(), ids=HOSTILE.keys())
def test_json_keeps_hostile_names_as_data(word):
    report = json.loads(rendered(word, "json"))
    assert word in {r["name"] for r in report["resources"]}
    assert "\x1b" not in rendered(word, "json")  # escaped as \u001b: data, not a terminal command


# --- the terminal: the pack's violations and `costline preview` --------------------------------
def terminal(pack: PolicyPackProcess, word: str) -> tuple[list[str], str]:
    resources = stack(word)
    result = pack.run(
        [engine_resource(r) for r in resources], {"lambda-worst-case": {"maxMultipleOfExpected": 1}}
    )
    position = {r.urn: i for i, r in enumerate(resources)}  # the same in both stacks, unlike names
    ordered = sorted(
        result.violations, key=lambda v: (v.policy_name, position.get(v.urn, -1))
    )  # stable
    return [v.message for v in ordered], format_policies(result, resources)


@pytest.mark.parametrize("word", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_text_cannot_forge_or_recolour_terminal_lines(pack, word):
    hostile_messages, hostile_preview = terminal(pack, word)
    benign_messages, benign_preview = terminal(pack, BENIGN)
    assert [m.count("\n") for m in hostile_messages] == [m.count("\n") for m in benign_messages]
    assert hostile_preview.count("\n") == benign_preview.count("\n")
    for text in [*hostile_messages, hostile_preview]:
        assert not UNSAFE.search(text.replace("\n", "")), repr(text)
    assert (
        "line2" in hostile_preview or word != HOSTILE["newlines"]
    )  # the name is shown, on one line


# --- secrets through the CLI, every format -----------------------------------------------------
def test_plaintext_secrets_of_a_stack_export_appear_in_no_cli_output(tmp_path):
    """``pulumi stack export --show-secrets`` holds plaintext secrets: costline uses them, prints
    none."""

    def secret(value: object) -> dict:
        return {SIGNATURE_KEY: SECRET_SIGNATURE, "plaintext": json.dumps(value)}

    fn_urn = "urn:pulumi:dev::p::aws:lambda/function:Function::fn"
    export = {
        "version": 3,
        "deployment": {
            "manifest": {},
            "resources": [
                {
                    "urn": fn_urn,
                    "type": LAMBDA,
                    "custom": True,
                    "inputs": {
                        "memorySize": secret(3008),
                        "timeout": 900,
                        "tags": {
                            "cost:monthly-requests": secret("987654321"),
                            "cost:avg-duration-ms": secret("123456.75"),
                            "cost:bedrock-model": secret("anthropic.claude-3-haiku-20240307-v1:0"),
                            "cost:input-tokens": "10",
                        },
                    },
                    "outputs": {},
                }
            ],
        },
    }
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    # Each secret figure as a whole number, plain or with thousands separators (money figures
    # in the report may hold the same digits inside a longer number).
    never = [r"987,?654,?321", r"123,?456\.75", r"123,?457", r"3,?008", r"claude-3-haiku"]
    for fmt in ("markdown", "html", "json"):
        out = tmp_path / f"report.{fmt}"
        result = CliRunner().invoke(
            main, ["estimate", "--from-preview", str(path), "--format", fmt, "-o", str(out)]
        )
        assert result.exit_code == 0, result.output
        text = out.read_text(encoding="utf-8") + result.stdout + result.stderr
        assert "[secret]" in text or "usage from a secret value" in text
        for pattern in never:
            assert not re.search(rf"(?<![\d.,]){pattern}(?![\d,])", text), (fmt, pattern)
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["total_monthly_usd"] != "0"  # the secret figures were priced


# --- reports are written atomically ----------------------------------------------------------
OLD = "the previous report\n"


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != "report.md")


def test_a_failing_rename_leaves_the_old_report_and_no_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / "report.md"
    target.write_text(OLD, encoding="utf-8")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        writing.write_atomically(target, "the new report\n" * 1000)
    assert target.read_text(encoding="utf-8") == OLD
    assert leftovers(tmp_path) == []


def test_a_write_failing_halfway_leaves_the_old_report_and_no_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / "report.md"
    target.write_text(OLD, encoding="utf-8")
    real_fdopen = os.fdopen

    class HalfWriter:
        def __init__(self, handle) -> None:
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc: object) -> None:
            self.handle.close()

        def write(self, text: str) -> int:
            self.handle.write(text[: len(text) // 2])
            self.handle.flush()
            raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fdopen", lambda fd, *a, **k: HalfWriter(real_fdopen(fd, *a, **k)))
    with pytest.raises(OSError):
        writing.write_atomically(target, "the new report\n" * 1000)
    assert target.read_text(encoding="utf-8") == OLD
    assert leftovers(tmp_path) == []


def _assert_cli_keeps_the_old_report(tmp_path: Path) -> None:
    """``costline estimate -o report.md`` over an existing report fails, and leaves the old
    report whole and no temporary file behind."""
    target = tmp_path / "report.md"
    target.write_text(OLD, encoding="utf-8")
    preview = Path(__file__).parent / "fixtures" / "preview" / "reference-stack.preview.json"
    result = CliRunner().invoke(
        main, ["estimate", "--from-preview", str(preview), "-o", str(target)]
    )
    assert result.exit_code != 0
    assert target.read_text(encoding="utf-8") == OLD
    assert leftovers(tmp_path) == []


def test_the_cli_keeps_the_old_report_when_rendering_fails(tmp_path, monkeypatch):
    import costline.render.templates

    def failing_environment(*args, **kwargs):
        raise RuntimeError("template exploded")

    monkeypatch.setattr(costline.render.templates, "environment", failing_environment)
    _assert_cli_keeps_the_old_report(tmp_path)


def test_the_cli_keeps_the_old_report_when_the_rename_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(
        os,
        "replace",
        lambda src, dst: (_ for _ in ()).throw(OSError(28, "No space left on device")),
    )
    _assert_cli_keeps_the_old_report(tmp_path)


def test_the_pack_writes_its_report_atomically_and_says_when_it_cannot(tmp_path, monkeypatch):
    from costline.policy import pack as policy_pack

    target = tmp_path / "report.md"
    target.write_text(OLD, encoding="utf-8")
    monkeypatch.setattr(
        os,
        "replace",
        lambda src, dst: (_ for _ in ()).throw(OSError(28, "No space left on device")),
    )
    with pytest.raises(
        policy_pack.PackInputError,
        match=f"cannot write the report to {re.escape(str(target))}: No space left on device",
    ):
        policy_pack._write_report(estimate(stack(BENIGN), PRICES), str(target))
    assert target.read_text(encoding="utf-8") == OLD
    assert leftovers(tmp_path) == []
