"""costline benchmarks: every figure is a ratio against a floor measured in the same run.

* pack start-up to ready: costline pack vs the no-op pack (``bench/noop_pack``), same harness;
* Analyze for every resource + AnalyzeStack at 1,000 and 10,000 resources, costline vs no-op;
* the estimator core alone: resources per second, and the 10k/1k time ratio (linearity);
* ``costline estimate`` cold on the reference stack vs ``python -c "import pulumi"`` and
  ``python -c "import pulumi_aws"`` (running the program under mocks is mostly that import).

Medians of repeated runs. Prints a table; exit status 1 when a target is missed.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from costline.engine_values import encode
from costline.estimator import estimate
from costline.model import Resource
from costline.pricing import load_price_book
from costline.resources_path import data_dir
from costline.testing.engine import EngineResource, PolicyPackProcess, make_urn

REPO = Path(__file__).resolve().parents[1]
NOOP_PACK = REPO / "bench" / "noop_pack"
LAMBDA = "aws:lambda/function:Function"


@dataclass
class Row:
    name: str
    value: str
    target: str
    ok: bool


def median_of(runs: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(runs))


def stack(n: int) -> list[Resource]:
    """``n`` resources: Lambdas with traffic, buckets and REST stages, as a team would declare."""
    resources = []
    for i in range(n):
        kind = i % 4
        if kind == 3:
            resources.append(Resource(urn=make_urn("aws:s3/bucket:Bucket", f"b{i}"), type="aws:s3/bucket:Bucket",
                                      name=f"b{i}", properties={"tags": {"cost:storage-gb": "40",
                                                                          "cost:monthly-get-requests": "30000"}}))
        else:
            resources.append(Resource(urn=make_urn(LAMBDA, f"fn{i}"), type=LAMBDA, name=f"fn{i}",
                                      properties={"memorySize": 512, "timeout": 30,
                                                  "tags": {"cost:daily-requests": str(100 + i),
                                                           "cost:avg-duration-ms": "250"}}))
    return resources


def engine_resources(resources: list[Resource]) -> list[EngineResource]:
    return [EngineResource(urn=r.urn, type=r.type, name=r.name,
                           properties=encode(r.properties, "", r.secret_paths)) for r in resources]


def startup_s(pack_dir: Path) -> float:
    with PolicyPackProcess(pack_dir) as pack:
        assert pack.startup_s is not None
        return pack.startup_s


def analyze_s(pack_dir: Path, resources: list[EngineResource]) -> float:
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


def main() -> int:
    rows: list[Row] = []
    costline_pack = data_dir("policypack")

    noop = median_of(7, lambda: startup_s(NOOP_PACK))
    ours = median_of(7, lambda: startup_s(costline_pack))
    rows.append(Row("pack start-up to ready", f"{ours:.3f} s vs no-op {noop:.3f} s = {ours / noop:.2f}×",
                    "≤ 1.20×", ours / noop <= 1.20))

    for n in (1_000, 10_000):
        resources = engine_resources(stack(n))
        runs = 3 if n == 1_000 else 1
        noop_t = median_of(runs, lambda: analyze_s(NOOP_PACK, resources))
        ours_t = median_of(runs, lambda: analyze_s(costline_pack, resources))
        rows.append(Row(f"Analyze ×{n:,} + AnalyzeStack", f"{ours_t:.2f} s vs no-op {noop_t:.2f} s = {ours_t / noop_t:.2f}×",
                        "≤ 1.25×", ours_t / noop_t <= 1.25))

    prices = load_price_book("us-east-1")
    core = {}
    for n in (1_000, 10_000):
        resources = stack(n)
        estimate(resources, prices)  # warm
        core[n] = median_of(5, lambda: _timed(lambda: estimate(resources, prices)))
    per_second = 10_000 / core[10_000]
    rows.append(Row("estimator core", f"{per_second:,.0f} resources/s", "≥ 100,000/s", per_second >= 100_000))
    linear = core[10_000] / core[1_000]
    rows.append(Row("estimator core 10k / 1k time", f"{linear:.2f}", "≤ 11", linear <= 11))

    exe = sys.executable
    costline = str(Path(exe).with_name("costline"))
    est = median_of(3, lambda: command_s(costline, "estimate"))
    imp = median_of(3, lambda: command_s(exe, "-c", "import pulumi"))
    imp_aws = median_of(3, lambda: command_s(exe, "-c", "import pulumi, pulumi_aws.lambda_, pulumi_aws.apigateway, "
                                                      "pulumi_aws.s3, pulumi_aws.bedrock, pulumi_aws.iam"))
    rows.append(Row("costline estimate (reference stack, cold)",
                    f"{est:.2f} s = {est / imp:.1f}× `import pulumi` ({imp:.2f} s), "
                    f"{est / imp_aws:.1f}× importing the pulumi_aws modules it uses ({imp_aws:.2f} s)", "report", True))

    width = max(len(r.name) for r in rows)
    print(f"{'benchmark':<{width}}  {'result':<70}  target   ok")
    for r in rows:
        print(f"{r.name:<{width}}  {r.value:<70}  {r.target:<7}  {'yes' if r.ok else 'NO'}")
    return 0 if all(r.ok for r in rows) else 1


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


if __name__ == "__main__":
    sys.exit(main())
