"""A review of a stack against one estimate of it, timed in a process of its own:
``python -m bench.review STACK N`` (prints JSON; :func:`bench.benchmarks.review_rows` reads it,
and ``bench/run --only review`` prints just that row).

Both sides run in this process, on the same ``N`` resources (:mod:`bench.stacks`), at the same
prices (the bundled us-east-1 tables) and the same default options (:class:`EstimateOptions`):

* **one estimate** — :func:`costline.estimator.pipeline.estimate` of the stack, the estimator
  alone;
* **the review** — what ``costline estimate`` and ``costline check`` build for their report,
  from the resources on: :func:`~costline.estimator.priced.price_stack` (that same estimate)
  then :func:`~costline.review.sections.review_report` with its defaults, i.e. the estimate's
  report, the default what-if rows (30k, 100k, 500k and 1M calls a month) and every
  recommendation. No rendering, no baseline, no budget.

After one warm-up of each, the two take turns ``RUNS`` times and each figure is the median of
this process's CPU seconds (single-threaded work; another job on the machine slows a run without
counting in it). The garbage collector runs as it does in the CLI (the estimator pauses it for
its own calls).
"""

from __future__ import annotations

import json
import statistics
import sys
import time

from bench import stacks
from costline.estimator.pipeline import EstimateOptions, estimate
from costline.estimator.priced import price_stack
from costline.pricing import load_price_book
from costline.review.sections import review_report

RUNS = 5


def main(argv: list[str]) -> int:
    build = {"services": stacks.services, "all-priced": stacks.all_priced}[argv[0]]
    resources = build(int(argv[1]))
    prices = load_price_book("us-east-1")
    options = EstimateOptions()

    def one_estimate() -> None:
        estimate(resources, prices, options)

    def review() -> None:
        review_report(price_stack(resources, prices, options))

    one_estimate(), review()  # warm-up: caches, imports
    estimate_s: list[float] = []
    review_s: list[float] = []
    for _ in range(RUNS):
        for run, times in ((one_estimate, estimate_s), (review, review_s)):
            start = time.process_time()
            run()
            times.append(time.process_time() - start)
    print(
        json.dumps(
            {"estimate_s": statistics.median(estimate_s), "review_s": statistics.median(review_s)}
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
