"""The team-scale surfaces under hostile or careless input: ``--config costline.yml``,
``costline:usage`` in stack config, usage files, ``costline usage init`` and ``costline pack
build``.

Every case drives the real CLI and asserts what a user sees: the exit code (0 passed, 1 a gate
failed, 2 bad input, 3 internal error; a crash is never 1), one line naming the file and the key,
no traceback, and that the user's own files keep their bytes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from costline.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
FAST = ("--what-if", "none", "--no-recommendations")


def cli(*args: str | os.PathLike) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def one_line_error(result: Result, *parts: str) -> str:
    """The single ``costline: error:`` line of an exit-2 result, holding every one of
    ``parts``."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("costline: error: "), result.stderr
    assert "Traceback" not in result.output
    for part in parts:
        assert part in lines[0], (part, lines[0])
    return lines[0]


# --- costline.yml ------------------------------------------------------------------------------
def config_file(folder: Path, body: str) -> Path:
    """``costline.yml`` in ``folder``; ``ROOT`` in ``body`` is the reference program's folder,
    relative to ``folder``."""
    path = folder / "costline.yml"
    path.write_text(body.replace("ROOT", os.path.relpath(ROOT, folder)))
    return path


def one_project(**fields: str) -> str:
    entry = ", ".join(f"{key}: {value}" for key, value in {"path": "ROOT", **fields}.items())
    return f"version: 1\nprojects:\n  - {{{entry}}}\n"


@pytest.mark.parametrize(
    ("entry", "where", "said"),
    [
        # budgets that are not numbers of USD
        ({"budget_usd": ".nan"}, "projects/0/budget_usd", ".nan is not a finite number"),
        ({"budget_usd": ".inf"}, "projects/0/budget_usd", ".inf is not a finite number"),
        ({"budget_usd": "-.Inf"}, "projects/0/budget_usd", "-.Inf is not a finite number"),
        ({"warn_at_percent": ".NaN"}, "projects/0/warn_at_percent", ".NaN is not a finite"),
        ({"budget_usd": "1" + "0" * 20}, "projects/0/budget_usd", "at most 1,000,000,000,000,000"),
        ({"budget_usd": "-1"}, "projects/0/budget_usd", "-1 is not a non-negative number of USD"),
        ({"budget_usd": "'150'"}, "projects/0/budget_usd", "'150' is not a non-negative number"),
        ({"budget_usd": "1e3"}, "projects/0/budget_usd", "'1e3' is not a non-negative"),  # text
        (
            {"budget_usd": "{secure: v1:AAAABBBB}"},
            "projects/0/budget_usd",
            "an encrypted value (secure:)",
        ),
        (
            {"warn_at_percent": "101"},
            "projects/0/warn_at_percent",
            "101 is not a number from 0 to 100",
        ),
        # stack names that are paths or shell text
        ({"stack": "../../etc/passwd"}, "projects/0/stack", "'../../etc/passwd' is not a stack"),
        ({"stack": "org/dev"}, "projects/0/stack", "'org/dev' is not a stack name"),
        ({"stack": "'dev; rm -rf ~'"}, "projects/0/stack", "'dev; rm -rf ~' is not a stack"),
        ({"stack": "'$(id)'"}, "projects/0/stack", "'$(id)' is not a stack name"),
        ({"stack": '"dev\\n"'}, "projects/0/stack", "is not a stack name"),
        # names and paths with control characters
        ({"path": '"ROOT\\0x"'}, "projects/0/path", "is not a path"),
        ({"usage_file": '"u\\x1b[2J.yml"'}, "projects/0/usage_file", "is not a path"),
    ],
)
def test_config_values_that_are_not_what_the_key_takes_are_exit_2_naming_the_key(
    tmp_path, entry, where, said
):
    config = config_file(tmp_path, one_project(**entry))
    result = cli("check", "--config", config, "--budget", "500", *FAST)
    line = one_line_error(result, str(config), where, said)
    assert "v1:AAAABBBB" not in line  # an encrypted value is never echoed


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ("version: 1\nprojects: " + "[" * 5000 + "]" * 5000 + "\n", "nest"),
        (
            "version: 1\nprojects: [{path: ROOT, name: "
            + "{a: " * 3000
            + "1"
            + "}" * 3000
            + "}]\n",
            "nest",
        ),
        ("version: 1" + "0" * 5000 + "\nprojects: [{path: ROOT}]\n", "a number of 5,001 char"),
        ("version: 1\nprojects:\n  - {path: ROOT, budget_usd: 100, budget_usd: 1}\n", "budget_usd"),
        ("version: 1\nversion: 1\nprojects: [{path: ROOT}]\n", "line 2"),
        ("a: &a {path: ROOT}\nversion: 1\nprojects: [*a]\n", "YAML aliases are not allowed"),
        (
            "version: 1\nprojects:\n" + "  - {path: ROOT}\n" * 501,
            "projects: at most 500 stacks",
        ),
    ],
    ids=["deep-lists", "deep-maps", "long-number", "repeated-key", "repeated-top", "alias", "501"],
)
def test_config_files_past_the_limits_are_exit_2_naming_the_file(tmp_path, body, said):
    config = config_file(tmp_path, body)
    result = cli("estimate", "--config", config, *FAST)
    one_line_error(result, str(config), said)


def test_a_key_given_twice_is_refused_not_the_last_one_silently_kept(tmp_path):
    config = config_file(
        tmp_path, "version: 1\nprojects:\n  - path: ROOT\n    budget_usd: 100\n    budget_usd: 1\n"
    )
    result = cli("check", "--config", config, *FAST)
    one_line_error(result, str(config), "line 5", "budget_usd", "twice")


def test_an_endless_config_file_is_refused_without_reading_it_all():
    result = cli("estimate", "--config", "/dev/zero", *FAST)
    one_line_error(result, "/dev/zero", "larger than 1,000,000 bytes")


def test_a_config_file_that_is_not_utf8_is_exit_2(tmp_path):
    config = tmp_path / "costline.yml"
    config.write_bytes(b"version: 1\nprojects: [{path: caf\xe9}]\n")
    one_line_error(cli("estimate", "--config", config, *FAST), str(config), "not UTF-8")


@pytest.mark.parametrize("second", ["ROOT", "ROOT/", "ROOT/program/.."])
def test_the_same_program_and_stack_twice_is_refused(tmp_path, second):
    """Listed twice (under other names, or spelled another way), a stack's cost would count twice
    in the total."""
    config = config_file(
        tmp_path,
        f"version: 1\nprojects:\n  - {{path: ROOT, name: a}}\n  - {{path: {second}, name: b}}\n",
    )
    result = cli("estimate", "--config", config, *FAST)
    one_line_error(result, str(config), "projects/1", "same program and stack as projects/0")


def test_a_missing_program_folder_is_named_relative_to_the_config_file(tmp_path, monkeypatch):
    (tmp_path / "team").mkdir()
    config = config_file(tmp_path / "team", "version: 1\nprojects: [{path: services/api}]\n")
    monkeypatch.chdir(ROOT)  # paths are the config file's, not the current folder's
    one_line_error(
        cli("estimate", "--config", config, *FAST), str(config), "services/api: no Pulumi.yaml"
    )


def test_a_program_that_crashes_is_exit_2_and_the_others_still_report(tmp_path):
    """A stack whose program raises is not "passed" and not "over budget": its line says why,
    the exit code is 2 (the worst), and the stack that ran is in the report."""
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "Pulumi.yaml").write_text("name: broken\nruntime: python\n")
    (broken / "__main__.py").write_text("raise RuntimeError('the program failed here')\n")
    config = config_file(
        tmp_path,
        "version: 1\nprojects:\n  - {path: ROOT, name: over, budget_usd: 1}\n"
        "  - {path: broken, name: broken}\n",
    )
    result = cli("check", "--config", config, *FAST)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "over: costline check FAILED: $102.29/month, budget $1.00"
    assert lines[2].startswith("broken: costline check could not run: ")
    assert "the program failed here" in result.stdout
    assert lines[-1].endswith(", exit 2")


@pytest.mark.parametrize(
    ("target", "said"),
    [
        ("costline.yml", "is the config file"),
        ("usage.yml", "is api's usage_file"),
        ("program/Pulumi.dev.yaml", "is api's stack config"),
    ],
)
def test_a_report_is_never_written_over_an_input_of_the_run(tmp_path, target, said):
    usage = tmp_path / "usage.yml"
    usage.write_bytes(b"version: 0.1\nresource_usage: {}\n")
    program_with(tmp_path, "config:\n  aws:region: us-east-1\n")
    config = config_file(
        tmp_path, "version: 1\nprojects:\n  - {path: program, name: api, usage_file: usage.yml}\n"
    )
    path = tmp_path / target
    before = path.read_bytes()
    result = cli("estimate", "--config", config, "-o", path, *FAST)
    one_line_error(result, str(path), said)
    assert path.read_bytes() == before


def test_two_reports_into_one_file_are_refused(tmp_path):
    config = config_file(tmp_path, "version: 1\nprojects: [{path: ROOT}]\n")
    out = tmp_path / "out.md"
    result = cli("check", "--config", config, "--report", out, "--json-report", out, *FAST)
    one_line_error(result, str(out), "given for two reports")
    assert not out.exists()


def _dies_for_one(entry, options):
    """A stack runner whose worker process dies (as when the kernel kills it) for ``dies``."""
    if entry.name == "dies":
        os._exit(9)
    return 0, {}


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs two worker processes")
def test_a_worker_that_dies_is_that_stacks_internal_error_not_a_lost_run(tmp_path):
    from costline.cli.multi import StackEntry, run_stacks
    from costline.render.combined import worst_exit_code

    entries = [StackEntry(name, tmp_path / name, "dev") for name in ("dies", "other")]
    outcomes = run_stacks(entries, _dies_for_one, {})
    assert [o.entry.name for o in outcomes] == ["dies", "other"]
    assert outcomes[0].exit_code == 3
    assert outcomes[0].error.startswith("internal error: its worker process stopped")
    assert outcomes[1].exit_code in (0, 3)  # done before the pool broke, or lost with it
    from costline.cli.multi import results

    assert worst_exit_code(results(outcomes)) == 3


# --- a program whose stack config a case writes ------------------------------------------------
PROGRAM = ROOT / "tests" / "fixtures" / "programs" / "stack-config-usage"
NO_FREE = ("--no-free-tier",)


def program_with(tmp_path: Path, dev_yaml: str | bytes) -> Path:
    """The stack-config-usage fixture (Lambdas ``handler`` with no usage tags, ``tagged`` with
    its own, $0.40833375 a month with the free tier off) with ``dev_yaml`` as its stack config."""
    copy = tmp_path / "program"
    copy.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        (copy / name).write_text((PROGRAM / name).read_text())
    data = dev_yaml.encode() if isinstance(dev_yaml, str) else dev_yaml
    (copy / "Pulumi.dev.yaml").write_bytes(data)
    return copy


# --- stack config (Pulumi.<stack>.yaml) -------------------------------------------------------
def estimate_json(program: Path, *extra: str) -> dict:
    result = cli("estimate", program, "--format", "json", *FAST, *NO_FREE, *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


HEAD = "config:\n  aws:region: us-east-1\n  costline:usage:\n    handler:\n"


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("2024-01-31", "'2024-01-31'"),
        (".nan", "is not a finite number"),
        ("-.inf", "is not a finite number"),
        ("!!binary aGVsbG8=", "cost:monthly-requests="),
    ],
    ids=["date", "nan", "infinity", "binary"],
)
def test_a_stack_config_figure_that_is_no_number_is_unreadable_not_zero(tmp_path, value, said):
    """The handler's requests are unreadable: the estimate is incomplete and a finding names
    the figure and its place; the rest of costline:usage still counts (one bad figure does not
    drop the block); the tagged Lambda is still priced; never a crash, never $0 as if known."""
    program = program_with(
        tmp_path, HEAD + f"      cost:monthly-requests: {value}\n      cost:avg-duration-ms: 1000\n"
    )
    report = estimate_json(program)
    assert report["complete"] is False
    by_name = {r["name"]: r for r in report["resources"]}
    assert by_name["handler"]["status"] == "usage_missing"
    assert by_name["tagged"]["monthly_usd"] == "0.40833375"
    (finding,) = [
        f
        for f in report["findings"]
        if "cost:monthly-requests" in f["message"] and f["code"] != "usage-tag-missing"
    ]
    assert "costline:usage.handler" in finding["message"], finding
    assert said in finding["message"], finding
    assert "must map resource names" not in json.dumps(report["findings"])


def test_a_key_twice_in_stack_config_is_refused_as_pulumi_refuses_it(tmp_path):
    """Pulumi will not read a stack file with a key twice; costline must not quietly keep the
    last one (here it would drop the handler's figures)."""
    program = program_with(
        tmp_path,
        HEAD + "      cost:monthly-requests: 2000000\n      cost:avg-duration-ms: 1000\n"
        "  costline:usage: {}\n",
    )
    result = cli("estimate", program, "--format", "json", *FAST)
    one_line_error(result, "Pulumi.dev.yaml", "costline:usage", "twice")


BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n"
    for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)


@pytest.mark.parametrize(
    ("dev_yaml", "said"),
    [
        (BOMB + "config:\n  x: *i\n", "expands to more than 1,000,000 values"),
        ("config:\n  x: " + "[" * 5000 + "]" * 5000 + "\n", "nesting depth"),
        (b"config:\n  x: caf\xe9\n", "not UTF-8"),
        ("config:\n  x: 1" + "0" * 200 + "\n", "a number of 201 characters"),
    ],
    ids=["alias-bomb", "deep", "latin-1", "long-number"],
)
def test_an_unreadable_stack_file_is_one_stacks_exit_2_under_config(tmp_path, dev_yaml, said):
    program = program_with(tmp_path, dev_yaml)
    config = config_file(
        tmp_path,
        "version: 1\nprojects:\n  - {path: ROOT, name: good}\n  - {path: program, name: bad}\n",
    )
    result = cli("estimate", "--config", config, "--format", "json", *FAST)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    stacks = {s["name"]: s for s in json.loads(result.stdout)["stacks"]}
    assert stacks["good"]["exit_code"] == 0
    assert stacks["bad"]["exit_code"] == 2 and stacks["bad"]["report"] is None
    assert str(program / "Pulumi.dev.yaml") in stacks["bad"]["error"]
    assert said in stacks["bad"]["error"]


# --- usage files ------------------------------------------------------------------------------
def test_a_key_twice_in_a_usage_file_is_refused(tmp_path):
    program = program_with(tmp_path, "config:\n  aws:region: us-east-1\n")
    usage = tmp_path / "usage.yml"
    usage.write_text(
        "version: 0.1\nresource_usage:\n  aws_lambda_function.handler:\n"
        "    monthly_requests: 2000000\n    monthly_requests: 1\n"
    )
    result = cli("estimate", program, "--usage-file", usage, *FAST)
    one_line_error(result, str(usage), "line 5", "monthly_requests", "twice")


# --- usage init ---------------------------------------------------------------------------------
def usage_init(*args: str | os.PathLike) -> Result:
    return cli("usage", "init", PROGRAM, *args)


def test_usage_init_does_not_overwrite_a_file_without_force(tmp_path):
    edited = tmp_path / "usage.yml"
    edited.write_bytes(b"# my figures\nconfig: {}\n")
    result = usage_init("-o", edited)
    one_line_error(result, str(edited), "already exists", "--force")
    assert edited.read_bytes() == b"# my figures\nconfig: {}\n"
    forced = usage_init("-o", edited, "--force")
    assert forced.exit_code == 0, forced.output
    assert "costline:usage:" in edited.read_text()
    new = tmp_path / "new.yml"
    written = usage_init("-o", new)
    assert written.exit_code == 0, written.output
    assert new.read_text() == edited.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.yml", "usage.yml"]  # no temp file


def test_usage_init_never_writes_over_the_stack_config(tmp_path):
    program = program_with(
        tmp_path, "config:\n  aws:region: us-east-1\n  app:secret:\n    secure: v1:X\n"
    )
    stack_file = program / "Pulumi.dev.yaml"
    before = stack_file.read_bytes()
    result = cli("usage", "init", program, "-o", stack_file)
    one_line_error(result, str(stack_file), "already exists")
    assert stack_file.read_bytes() == before


@pytest.mark.parametrize("kind", ["link-to-file", "dangling-link", "fifo", "folder"])
def test_usage_init_refuses_what_is_already_there_and_keeps_it(tmp_path, kind):
    target, mine = tmp_path / "usage.yml", tmp_path / "mine.yml"
    mine.write_bytes(b"mine\n")
    if kind == "link-to-file":
        target.symlink_to(mine)
    elif kind == "dangling-link":
        target.symlink_to(tmp_path / "nowhere.yml")
    elif kind == "fifo":
        os.mkfifo(target)
    else:
        target.mkdir()
    result = usage_init("-o", target)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and str(target) in result.stderr
    assert mine.read_bytes() == b"mine\n"
    assert not (tmp_path / "nowhere.yml").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.yml", "usage.yml"]


@pytest.mark.parametrize("stack", ["../../etc/passwd", "a/b", "dev;id", ""])
def test_a_stack_name_that_is_a_path_is_refused(tmp_path, stack):
    for result in (
        usage_init("--stack", stack),
        cli("estimate", PROGRAM, "--stack", stack, *FAST),
    ):
        one_line_error(result, "--stack", "not a stack name")


# --- pack build ----------------------------------------------------------------------------------
@pytest.fixture
def fake_wheel(tmp_path) -> Path:
    """A costline wheel file (never installed: every case below stops before pip runs)."""
    wheel = tmp_path / "costline-0.0.1-py3-none-any.whl"
    wheel.write_bytes(b"not really a wheel")
    return wheel


def pack_build(out: str | os.PathLike, wheel: Path) -> Result:
    return cli("pack", "build", out, "--wheel", wheel)


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_pack_build_refuses_a_symlinked_out_dir_and_keeps_the_link(tmp_path, fake_wheel):
    empty = tmp_path / "empty"
    empty.mkdir()
    link = tmp_path / "pack"
    link.symlink_to(empty)
    result = pack_build(link, fake_wheel)
    one_line_error(result, str(link), "symbolic link")
    assert link.is_symlink() and os.readlink(link) == str(empty)
    assert listing(empty) == []
    assert listing(tmp_path) == sorted(["empty", "pack", fake_wheel.name])  # no staging left


def test_pack_build_refuses_a_dangling_symlink(tmp_path, fake_wheel):
    link = tmp_path / "pack"
    link.symlink_to(tmp_path / "nowhere")
    one_line_error(pack_build(link, fake_wheel), str(link), "symbolic link")
    assert link.is_symlink() and not (tmp_path / "nowhere").exists()


def test_pack_build_refuses_a_file_and_keeps_its_bytes(tmp_path, fake_wheel):
    out = tmp_path / "pack"
    out.write_bytes(b"my notes\n")
    for given in (str(out), f"{out}/"):
        result = pack_build(given, fake_wheel)
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
    assert out.read_bytes() == b"my notes\n"


def test_pack_build_keeps_an_existing_folders_files(tmp_path, fake_wheel):
    out = tmp_path / "pack"
    out.mkdir()
    (out / "PulumiPolicy.yaml").write_bytes(b"mine\n")
    one_line_error(pack_build(out, fake_wheel), str(out), "not an empty folder")
    assert (out / "PulumiPolicy.yaml").read_bytes() == b"mine\n"
    assert listing(out) == ["PulumiPolicy.yaml"]


def test_a_failed_pack_build_leaves_nothing_in_an_empty_out_dir(tmp_path, fake_wheel, monkeypatch):
    """pip fails half-way (the wheel is copied, no wheel is fetched): OUT_DIR stays the empty
    folder it was, the same folder, and no staging folder is left beside it."""
    from costline.cli import bundle

    def pip_fails(python, args):
        raise bundle.BundleError("pip download failed (exit 1): no network")

    monkeypatch.setattr(bundle, "_pip", pip_fails)
    out = tmp_path / "pack"
    out.mkdir()
    inode = out.stat().st_ino
    one_line_error(pack_build(out, fake_wheel), "pip download failed")
    assert listing(out) == [] and out.stat().st_ino == inode
    assert listing(tmp_path) == sorted(["pack", fake_wheel.name])


def test_pack_build_into_the_empty_current_folder_fills_it(tmp_path, fake_wheel, monkeypatch):
    """``mkdir pack && cd pack && costline pack build .``: the pack lands in that folder (the
    same folder, so the shell's working directory still shows it)."""
    from costline.cli import bundle

    def pip_download(python, args):
        dest = Path(args[args.index("--dest") + 1])
        (dest / "pulumi-3.0.0-py3-none-any.whl").write_bytes(b"w")

    monkeypatch.setattr(bundle, "_pip", pip_download)
    out = tmp_path / "pack"
    out.mkdir()
    inode = out.stat().st_ino
    monkeypatch.chdir(out)
    result = pack_build(".", fake_wheel)
    assert result.exit_code == 0, result.output
    assert out.stat().st_ino == inode
    assert listing(out) == ["PulumiPolicy.yaml", "__main__.py", "requirements.txt", "wheels"]
    assert listing(out / "wheels") == sorted([fake_wheel.name, "pulumi-3.0.0-py3-none-any.whl"])
    assert listing(tmp_path) == sorted(["pack", fake_wheel.name])
