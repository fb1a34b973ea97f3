"""The estimator core alone, timed in a process of its own: ``python -m bench.core STACK N...``.

Run as a child of :mod:`bench.benchmarks` so that nothing else lives in its heap (the parent
holds tens of thousands of engine resources for the pack benchmarks, which Python's garbage
collector would otherwise walk during the estimate). Prints one JSON object: for every ``N``,
the median seconds of ``estimate()`` over a stack of ``N`` resources (after one warm-up run;
the sizes take turns), and ``output_model_s``: the floor of building the largest estimate's output objects. Seconds are this process's CPU time: the estimator is single-threaded,
and other work on the machine then slows a run without counting in it.
"""

from __future__ import annotations

import json
import statistics
import sys
import time

from bench import stacks
from costline.estimator import estimate
from costline.model import Assumption, Estimate, LineItem, ResourceEstimate
from costline.pricing import load_price_book

RUNS = 5


def main(argv: list[str]) -> int:
    build = {"services": stacks.services, "all-priced": stacks.all_priced}[argv[0]]
    prices = load_price_book("us-east-1")
    stacks_by_size = {int(a): build(int(a)) for a in argv[1:]}
    runs: dict[int, list[float]] = {n: [] for n in stacks_by_size}
    for resources in stacks_by_size.values():
        estimate(resources, prices)  # warm: price tables cached, code paths imported
    for _ in range(RUNS):  # sizes alternate, so a busy moment of the machine hits all alike
        for n, resources in stacks_by_size.items():
            start = time.process_time()
            estimate(resources, prices)
            runs[n].append(time.process_time() - start)
    result = {n: statistics.median(r) for n, r in runs.items()}
    largest = max(stacks_by_size)
    result["output_model_s"] = output_model_seconds(estimate(stacks_by_size[largest], prices))
    print(json.dumps(result))
    return 0


def output_model_seconds(result: Estimate) -> float:
    """The floor under the core: CPU seconds to build just the objects an estimate returns
    (every ResourceEstimate with its LineItems and Assumptions), copied from ``result``: any
    estimator must at least build its answer. Best of RUNS."""
    best = float("inf")
    for _ in range(RUNS):
        start = time.process_time()
        for r in result.resources:
            assumptions = tuple([Assumption(a.key, a.value, a.source, a.detail) for a in r.assumptions])
            items = tuple([LineItem(i.service, i.description, i.quantity, i.unit, i.unit_price_usd, i.price_per,
                                    i.monthly_usd, i.price_id, i.free_quantity, i.note, i.secret)
                           for i in r.line_items])
            ResourceEstimate(r.urn, r.type, r.name, r.status, r.monthly_usd, items, r.findings, assumptions)
        best = min(best, time.process_time() - start)
    return best


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
