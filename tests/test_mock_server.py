"""The mock-runner server (``costline.readers.mock_server``): many programs under mocks, the
Pulumi SDK imported once, each program still in a process of its own.

What it must keep from the runner's own subprocess: the same resources, outputs, diagnostics,
secrets and errors for every program; a program that hangs killed at the timeout (with what
it started); nothing of one program (modules, environment, working directory, ``sys.path``,
config) seen by the next; a failing stack not losing the others in ``--config``; and a plain
subprocess wherever the server cannot run a program.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from costline.cli.main import main
from costline.core.values import UNKNOWN
from costline.readers import ProgramError, mock_server
from costline.readers.mocks import mock_run, runner_env, use_servers
from tests.conftest import SERVED_PROBE

pytestmark = pytest.mark.skipif(not mock_server.available(), reason="no os.fork here")

ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = ROOT / "tests" / "fixtures" / "programs"
USAGE = PROGRAMS / "stack-config-usage"
FAST = ("--what-if", "none", "--no-recommendations", "--no-free-tier")


@pytest.fixture
def server():
    """A server for this interpreter, used by ``mock_run`` in this process."""
    with mock_server.mock_servers([sys.executable], 2, runner_env()) as addresses:
        assert set(addresses) == {sys.executable}
        use_servers(addresses)
        try:
            yield addresses[sys.executable]
        finally:
            use_servers({})


def project(folder: Path, program: str, stack_config: str = "config: {}\n", **files: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Pulumi.yaml").write_text(f"name: {folder.name}\nruntime: python\n")
    (folder / "Pulumi.dev.yaml").write_text(stack_config)
    (folder / "__main__.py").write_text(program)
    for name, text in files.items():
        (folder / f"{name}.py").write_text(text)
    return folder


PARENT = """
import os
import pulumi
for name, pid in [("self", os.getpid()), ("parent", os.getppid())]:
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        pulumi.export(name, f.read().decode().replace("\\0", " "))
pulumi.export("parentThreads", len(os.listdir(f"/proc/{os.getppid()}/task")))
"""


def test_runs_go_to_the_server(server, tmp_path):
    """The program's process is a child of the server, not a runner started for it; the server
    has one thread (no thread is forked mid-state), also once it has learnt pulumi_aws's
    modules from a program that used them."""
    if not Path("/proc/self/cmdline").exists():
        pytest.skip("needs /proc")
    mock_run(USAGE)
    run = mock_run(project(tmp_path / "p", PARENT))
    assert "_mock_server.py" in run.outputs["self"] and "_mock_server.py" in run.outputs["parent"]
    assert run.outputs["parentThreads"] == 1
    use_servers({})
    alone = mock_run(tmp_path / "p")
    assert "_mock_runner.py" in alone.outputs["self"]


@pytest.mark.parametrize(
    ("program", "first_preview"),
    [
        ("secret-config", False),
        ("stack-config-usage", False),
        ("provider-default-tags", False),
        ("component", True),
        ("provider-config-unknown", True),
    ],
)
def test_a_program_gives_what_its_own_subprocess_gives(server, program, first_preview):
    served = mock_run(PROGRAMS / program, first_preview=first_preview)
    use_servers({})
    alone = mock_run(PROGRAMS / program, first_preview=first_preview)
    assert served.resources == alone.resources
    assert served.states == alone.states
    assert served.outputs == alone.outputs
    assert served.diagnostics == alone.diagnostics
    assert served.config == alone.config
    assert served.secret_keys == alone.secret_keys
    assert served.python == alone.python == sys.executable


SECRET = """
import pulumi
token = pulumi.Config().require_secret("token")
pulumi.CustomResource("tiny:index:Thing", "thing", {"count": 3, "nested": {"token": token}})
"""


def test_secure_config_stays_secret_through_the_server(server, tmp_path):
    """A ``secure:`` value costline cannot decrypt reaches the program as a secret, and what the
    program derives from it comes back secret with its value unknown, as from the runner."""
    run = mock_run(project(tmp_path / "s", SECRET, "config:\n  s:token:\n    secure: v1:abc\n"))
    (thing,) = [r for r in run.resources if r.name == "thing"]
    assert thing.properties == {"count": 3, "nested": {"token": UNKNOWN}}
    assert thing.secret_paths == frozenset({"nested.token"})
    assert run.secret_keys == {"s:token"}


@pytest.mark.parametrize(
    ("program", "message"),
    [
        (
            "import pulumi\n\nraise ValueError('boom:\\n  details')\n",
            "failed under mocks (__main__.py:3): ValueError: boom: details",
        ),
        ("import sys\nsys.exit(3)\n", "failed under mocks: the program called sys.exit(3)"),
        ("import os\nos._exit(7)\n", "crashed (exit code 7)"),
        (
            "import pulumi\npulumi.Config().require('missing')\n",
            "Missing required configuration variable",
        ),
    ],
)
def test_a_failing_program_fails_as_in_its_own_subprocess(server, tmp_path, program, message):
    folder = project(tmp_path / "p", program)
    with pytest.raises(ProgramError) as served:
        mock_run(folder)
    use_servers({})
    with pytest.raises(ProgramError) as alone:
        mock_run(folder)
    assert message in str(served.value)
    assert str(served.value) == str(alone.value)


def test_what_a_program_prints_goes_to_stderr(server, tmp_path):
    run = mock_run(
        project(
            tmp_path / "p", "import sys\nprint('to stdout')\nprint('to stderr', file=sys.stderr)\n"
        )
    )
    assert "to stdout" in run.stderr and "to stderr" in run.stderr
    assert [r.type for r in run.resources] == ["pulumi:pulumi:Stack"]


HANGS = """
import os, subprocess, sys, time
started = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
with open(os.environ["PIDS_FILE"], "w") as f:
    f.write(f"{os.getpid()} {started.pid}")
print("about to hang", file=sys.stderr, flush=True)
time.sleep(600)
"""


def _gone(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    return "\nState:\tZ" in status  # a zombie has stopped: only its parent's wait is left


def test_a_hanging_program_is_killed_at_the_timeout_with_what_it_started(
    server, tmp_path, monkeypatch
):
    pids_file = tmp_path / "pids"
    monkeypatch.setenv("PIDS_FILE", str(pids_file))
    folder = project(tmp_path / "hangs", HANGS)
    start = time.monotonic()
    with pytest.raises(ProgramError, match=r"did not finish within 3 s under mocks") as caught:
        mock_run(folder, timeout=3)
    took = time.monotonic() - start
    assert 3 <= took < 15
    assert "about to hang" in caught.value.stderr_tail
    program_pid, grandchild_pid = map(int, pids_file.read_text().split())
    deadline = time.monotonic() + 10
    while not (_gone(program_pid) and _gone(grandchild_pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _gone(program_pid) and _gone(grandchild_pid)
    # the server still serves
    assert mock_run(project(tmp_path / "ok", "import pulumi\n")).resources


LEAKY = """
import os, sys
import pulumi
import helper

config = pulumi.Config()
pulumi.export("helper", helper.VALUE)
pulumi.export("cwd", os.getcwd())
pulumi.export("leakedEnv", str(os.environ.get("LEAKED")))
pulumi.export("leakedPath", [p for p in sys.path if p.endswith("leaked-path")])
pulumi.export("leakedModule", "leaked_module" in sys.modules)
pulumi.export("own", config.get("own"))
other = "a" if pulumi.get_project() == "b" else "b"
pulumi.export("other", str(pulumi.Config(other).get("own")))  # the other program's config
# now leave everything dirty for whoever comes next
os.environ["LEAKED"] = "yes"
sys.path.append("/leaked-path")
sys.modules["leaked_module"] = sys
os.chdir("/")
"""


def test_programs_run_by_one_server_see_nothing_of_each_other(server, tmp_path):
    a = project(tmp_path / "a", LEAKY, "config:\n  a:own: from-a\n", helper="VALUE = 'a'\n")
    b = project(tmp_path / "b", LEAKY, "config:\n  b:own: from-b\n", helper="VALUE = 'b'\n")
    for folder, name in [(a, "a"), (b, "b"), (a, "a"), (b, "b")]:
        outputs = mock_run(folder).outputs
        assert outputs == {
            "helper": name,
            "cwd": str(folder),
            "leakedEnv": "None",
            "leakedPath": [],
            "leakedModule": False,
            "own": f"from-{name}",
            "other": "None",
        }


def test_two_programs_at_once_in_one_server(server, tmp_path):
    """Two children run at the same time (max 2), each with its own modules and config."""
    import concurrent.futures

    slow = "import time\ntime.sleep(1)\n" + LEAKY
    a = project(tmp_path / "a", slow, "config:\n  a:own: from-a\n", helper="VALUE = 'a'\n")
    b = project(tmp_path / "b", slow, "config:\n  b:own: from-b\n", helper="VALUE = 'b'\n")
    mock_run(a)  # the first child has finished: the server runs two at once from now on
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(mock_run, [a, b, a, b]))
    assert [(r.outputs["helper"], r.outputs["own"]) for r in runs] == [
        ("a", "from-a"),
        ("b", "from-b"),
        ("a", "from-a"),
        ("b", "from-b"),
    ]


def test_no_server_where_the_system_cannot_fork(monkeypatch, tmp_path):
    monkeypatch.setattr(mock_server, "available", lambda: False)
    with mock_server.mock_servers([sys.executable], 2, runner_env()) as addresses:
        assert addresses == {}
    assert mock_run(project(tmp_path / "p", "import pulumi\n")).resources


def test_a_server_that_cannot_import_pulumi_leaves_the_run_to_a_subprocess(tmp_path):
    """The server's interpreter lacks the SDK: it answers "fallback", and the subprocess then
    reports the setup error as it always has."""
    bare = getattr(sys, "_base_executable", None)
    if not bare or bare == sys.executable or not shutil.which(bare):
        pytest.skip("no interpreter without the pulumi SDK")
    probe = os.system(f"{bare} -c 'import pulumi' 2>/dev/null")
    if probe == 0:
        pytest.skip("the base interpreter has the pulumi SDK")
    folder = project(tmp_path / "p", "import pulumi\n")
    with mock_server.mock_servers([bare], 2, runner_env()) as addresses:
        use_servers(addresses)
        try:
            with pytest.raises(ProgramError, match="the pulumi SDK is not importable") as served:
                mock_run(folder, python=bare)
        finally:
            use_servers({})
    with pytest.raises(ProgramError) as alone:
        mock_run(folder, python=bare)
    assert str(served.value) == str(alone.value)


# --- costline estimate --config: every stack as it is alone --------------------------------------
def _usage_project(folder: Path) -> Path:
    """The stack-config-usage fixture with a second stack, ``big``: twice the handler's
    traffic. Worked by hand (free tier off; $0.20 per 1M requests, $0.0000166667 per GB-s):
    dev: handler 2,000,000 × 1 s × 0.5 GB = 1,000,000 GB-s = $16.6667 + $0.40 requests; tagged
    $0.40833375 (its own tags); total $17.47503375.
    big: handler 4,000,000 requests = $0.80, 2,000,000 GB-s = $33.3334; tagged $0.40833375;
    total $34.54173375."""
    shutil.copytree(USAGE, folder)
    dev = (folder / "Pulumi.dev.yaml").read_text()
    (folder / "Pulumi.big.yaml").write_text(dev.replace("2000000", "4000000"))
    return folder


def test_a_config_run_gives_every_stack_the_report_it_gets_alone(tmp_path, monkeypatch):
    """Four stacks (two of one program, a failing one, the reference) and a probe that tells
    who ran it: the server did; every stack's report is the one it gets alone."""
    usage = _usage_project(tmp_path / "usage")
    broken = project(tmp_path / "broken", "import pulumi\n\nraise ValueError('boom')\n")
    probe = project(tmp_path / "probe", SERVED_PROBE)
    monkeypatch.setenv("PROBE_FILE", str(tmp_path / "probe.txt"))
    config = tmp_path / "costline.yml"
    config.write_text(
        "version: 1\nprojects:\n"
        "  - {path: usage, stack: dev, name: usage-dev}\n"
        "  - {path: broken, name: broken}\n"
        "  - {path: probe, name: probe}\n"
        "  - {path: usage, stack: big, name: usage-big}\n"
        f"  - {{path: {os.path.relpath(ROOT, tmp_path)}, name: reference}}\n"
    )
    result = CliRunner().invoke(
        main, ["estimate", "--config", str(config), "--format", "json", *FAST]
    )
    assert result.exit_code == 2, result.output
    document = json.loads(result.stdout)
    stacks = {s["name"]: s for s in document["stacks"]}
    assert stacks["usage-dev"]["report"]["total_monthly_usd"] == "17.47503375"
    assert stacks["usage-big"]["report"]["total_monthly_usd"] == "34.54173375"
    assert stacks["broken"]["exit_code"] == 2 and stacks["broken"]["report"] is None
    assert "failed under mocks (__main__.py:3): ValueError: boom" in stacks["broken"]["error"]
    assert "Traceback" not in result.output
    assert (tmp_path / "probe.txt").read_text() == "True"
    assert probe.is_dir()
    for name, folder, stack in [
        ("usage-dev", usage, "dev"),
        ("usage-big", usage, "big"),
        ("reference", ROOT, "dev"),
    ]:
        alone = CliRunner().invoke(
            main, ["estimate", str(folder), "--stack", stack, "--format", "json", *FAST]
        )
        assert alone.exit_code == 0, alone.output
        assert stacks[name]["exit_code"] == 0
        # the same report; only the program's path is shown relative to the current folder
        expected, got = json.loads(alone.stdout), stacks[name]["report"]
        assert Path(got.pop("source")).resolve() == Path(expected.pop("source")).resolve()
        assert got == expected, name
    alone_broken = CliRunner().invoke(main, ["estimate", str(broken), *FAST])
    assert alone_broken.exit_code == 2
    assert stacks["broken"]["error"] in alone_broken.stderr


# --- a server started before the command line loads (costline.cli.launch) -------------------------
def test_a_prestarted_server_is_taken_for_its_interpreter_and_environment(tmp_path):
    """Asked for the interpreter and environment it was started with (and no more children):
    that server serves the run, and is stopped with it."""
    address = mock_server.prestart(sys.executable, 2, runner_env())
    assert address is not None and Path(address).exists()
    with mock_server.mock_servers([sys.executable], 2, runner_env()) as addresses:
        assert addresses == {sys.executable: address}
        use_servers(addresses)
        try:
            run = mock_run(project(tmp_path / "p", PARENT))
        finally:
            use_servers({})
        assert "_mock_server.py" in run.outputs["parent"]
    assert not Path(address).parent.exists()  # stopped, its folder gone


@pytest.mark.parametrize(
    ("started_with", "asked_for"),
    [
        ({"env": {"COSTLINE_TEST_OTHER": "1"}}, {}),  # another environment
        ({"children": 1}, {"children": 2}),  # fewer programs at once than the run wants
        ({"interpreter": "/nonexistent/python"}, {}),  # another interpreter (this one fails)
    ],
)
def test_a_prestarted_server_that_does_not_fit_is_stopped_and_another_started(
    tmp_path, started_with, asked_for
):
    env = runner_env()
    address = mock_server.prestart(
        started_with.get("interpreter", sys.executable),
        started_with.get("children", 2),
        {**env, **started_with.get("env", {})},
    )
    with mock_server.mock_servers([sys.executable], asked_for.get("children", 2), env) as addresses:
        assert set(addresses) == {sys.executable}
        assert addresses[sys.executable] != address
        assert address is None or not Path(address).parent.exists()


def test_a_prestarted_server_no_run_takes_is_stopped(tmp_path):
    """One stack in the config: no server; the one started for it is stopped at once (not at
    exit: it would keep importing the SDK on a CPU the program's own run needs)."""
    address = mock_server.prestart(sys.executable, 2, runner_env())
    assert address is not None
    config = tmp_path / "costline.yml"
    _usage_project(tmp_path / "usage")
    config.write_text("version: 1\nprojects:\n  - {path: usage, stack: big}\n")
    result = CliRunner().invoke(
        main, ["estimate", "--config", str(config), "--format", "json", *FAST]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["total_monthly_usd"] == "34.54173375"
    assert not Path(address).parent.exists()


# --- what the server imports before it forks ------------------------------------------------------
def test_program_imports_reads_the_sdk_modules_a_source_names(tmp_path):
    folder = tmp_path / "p"
    (folder / "lib").mkdir(parents=True)
    (folder / ".venv" / "lib").mkdir(parents=True)
    (folder / "__main__.py").write_text(
        "import json\nimport pulumi\nimport pulumi_aws as aws\nfrom pulumi_aws import iam\n"
        "import lib.helpers\naws.s3.Bucket('b')\njson.dumps(aws)\n"
    )
    (folder / "lib" / "helpers.py").write_text("import pulumi_random.integer\n")
    (folder / ".venv" / "lib" / "skipped.py").write_text("import pulumi_gcp\n")
    (folder / "broken.py").write_text("def (:\n")
    assert set(mock_server.program_imports(str(folder))) == {
        "pulumi",
        "pulumi_aws",
        "pulumi_aws.iam",
        "pulumi_aws.s3",
        "pulumi_random.integer",
    }
    assert mock_server.program_imports(str(folder / "lib" / "helpers.py")) == [
        "pulumi_random.integer"
    ]


LOADED = """
import sys, types
import pulumi
module = sys.modules.get("pulumi_aws.{name}")
pulumi.export("loaded", type(module) is types.ModuleType)  # imported, not a lazy stand-in
"""


def test_the_server_imports_what_programs_use_before_they_run(server, tmp_path):
    """Named in the source: imported before the first run. Imported in a way the source does
    not show: reported by the run that did it, imported for the next one."""
    shown = project(
        tmp_path / "shown", LOADED.format(name="sqs") + "import pulumi_aws\npulumi_aws.sqs\n"
    )
    assert mock_run(shown).outputs["loaded"] is True
    hidden = "import importlib\nimportlib.import_module('pulumi_aws.' + 'sns').Topic\n"
    probe = project(tmp_path / "probe", LOADED.format(name="sns") + hidden)
    assert mock_run(probe).outputs["loaded"] is False  # the first run imports it itself
    assert mock_run(probe).outputs["loaded"] is True  # the second finds it imported


TYPES = """
import pulumi, pulumi._types
import pulumi_aws as aws
types = pulumi._types._types_from_py_properties
cache = types if hasattr(types, "cache_info") else types.__wrapped__  # the SDK's own cache
before = cache.cache_info().misses
queue = aws.sqs.Queue("queue", delay_seconds=5, tags={"team": "a"})
pulumi.export("workedOutHere", queue.id.apply(lambda _: cache.cache_info().misses - before))
"""


def test_the_server_works_out_the_sdk_classes_types_a_program_needed_for_the_next(server, tmp_path):
    """The first run works out the property types of the classes it uses (the queue, its
    arguments) itself and reports them; the server works them out once, so that the next run
    (another program using the same classes) finds every one of them in the SDK's cache. A
    program without the server works them all out itself, every time."""
    first = mock_run(project(tmp_path / "first", TYPES))
    assert first.outputs["workedOutHere"] >= 2  # at least sqs.Queue and sqs.QueueArgs
    second = mock_run(project(tmp_path / "second", TYPES))
    assert second.outputs["workedOutHere"] == 0
    queues = [
        [r.properties for r in run.resources if r.type == "aws:sqs/queue:Queue"]
        for run in (first, second)
    ]
    assert queues[0] == queues[1] == [{"delaySeconds": 5, "tags": {"team": "a"}}]
    use_servers({})
    alone = mock_run(tmp_path / "second")
    assert alone.outputs["workedOutHere"] == first.outputs["workedOutHere"]


def test_a_client_that_gives_up_has_its_program_killed(server, tmp_path, monkeypatch):
    """The client stops waiting (its own limit, here made shorter than the program's timeout):
    closing the connection makes the server kill the program and everything it started."""
    pids_file = tmp_path / "pids"
    monkeypatch.setenv("PIDS_FILE", str(pids_file))
    assert mock_run(project(tmp_path / "ok", "import pulumi\n")).resources  # the server is up
    monkeypatch.setattr(mock_server, "GRACE_S", -54.0)  # the client waits 60 - 54 = 6 s
    start = time.monotonic()
    with pytest.raises(ProgramError, match=r"did not finish within 60 s under mocks"):
        mock_run(project(tmp_path / "hangs", HANGS), timeout=60)
    assert time.monotonic() - start < 30
    program_pid, grandchild_pid = map(int, pids_file.read_text().split())
    deadline = time.monotonic() + 10
    while not (_gone(program_pid) and _gone(grandchild_pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _gone(program_pid) and _gone(grandchild_pid)
    assert mock_run(tmp_path / "ok").resources  # still serving
