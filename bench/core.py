"""The estimator core alone, timed in a process of its own: ``python -m bench.core STACK N...``.

Run as a child of :mod:`bench.benchmarks` so that nothing else lives in its heap (the parent
holds tens of thousands of engine resources for the pack benchmarks, which Python's garbage
collector would otherwise walk during the estimate). Prints one JSON object: for every ``N``,
``core_s``, the median seconds of ``estimate()`` over a stack of ``N`` resources (after one
warm-up run; a small stack is estimated several times per sample, so that every sample lasts
about as long and a short one is not at the mercy of a passing hiccup), and ``floor_s``, the
median seconds of building just that estimate's output objects (:func:`output_model_seconds`),
the floor under any estimator. Core and floor runs take turns, and so do the sizes, so a busy
moment of the machine hits all alike. Seconds are this process's CPU time: the estimator is
single-threaded, and other work on the machine then slows a run without counting in it.
"""

from __future__ import annotations

import json
import statistics
import sys
import time

from bench import stacks
from costline.core.model import Assumption, Estimate, LineItem, ResourceEstimate
from costline.estimator.pipeline import estimate
from costline.pricing import load_price_book

RUNS = 7


def main(argv: list[str]) -> int:
    build = {"services": stacks.services, "all-priced": stacks.all_priced}[argv[0]]
    prices = load_price_book("us-east-1")
    stacks_by_size = {int(a): build(int(a)) for a in argv[1:]}
    results = {
        n: estimate(resources, prices) for n, resources in stacks_by_size.items()
    }  # also warms up
    core: dict[int, list[float]] = {n: [] for n in stacks_by_size}
    floor: dict[int, list[float]] = {n: [] for n in stacks_by_size}
    largest = max(stacks_by_size)
    for _ in range(RUNS):
        for n, resources in stacks_by_size.items():
            repeats = max(1, largest // n)  # every sample lasts about as long, whatever the size
            start = time.process_time()
            for _ in range(repeats):
                estimate(resources, prices)
            core[n].append((time.process_time() - start) / repeats)
            floor[n].append(sum(output_model_seconds(results[n]) for _ in range(repeats)) / repeats)
    print(
        json.dumps(
            {
                n: {"core_s": statistics.median(core[n]), "floor_s": statistics.median(floor[n])}
                for n in stacks_by_size
            }
        )
    )
    return 0


def output_model_seconds(result: Estimate) -> float:
    """The floor under the core: CPU seconds to build just the objects an estimate returns
    (every ResourceEstimate with its LineItems and Assumptions), copied from ``result``: any
    estimator must at least build its answer."""
    start = time.process_time()
    for r in result.resources:
        assumptions = tuple([Assumption(a.key, a.value, a.source, a.detail) for a in r.assumptions])
        items = tuple(
            [
                LineItem(
                    i.service,
                    i.description,
                    i.quantity,
                    i.unit,
                    i.unit_price_usd,
                    i.price_per,
                    i.monthly_usd,
                    i.price_id,
                    i.free_quantity,
                    i.note,
                    i.secret,
                )
                for i in r.line_items
            ]
        )
        ResourceEstimate(
            r.urn, r.type, r.name, r.status, r.monthly_usd, items, r.findings, assumptions
        )
    return time.process_time() - start


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
