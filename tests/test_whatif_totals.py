"""What-if rows priced without a full estimate give what full estimates give.

A row keeps only what a report shows of the scaled stack's estimate (its total, its cost by
service, how many findings are not INFO: :class:`~costline.estimator.pipeline.Totals`). It is
billed from the stack's charges where every charge says how it scales
(:mod:`costline.estimator.scaled`), else worked out by
:func:`~costline.estimator.pipeline.estimate_totals` over copies made by
:class:`~costline.scenarios.whatif.StackScaling`. Here, over generated stacks (the wired services
and loose resources of ``tests/test_reprice.py``, twisted with secret, unknown, malformed and
near-maximum figures, daily requests, provider default tags and figures from stack config) and
factors whose scaled figures do not terminate (1/3, 7/3), with the free tier on and off and
fail-closed pricing on and off:

* the copies are the very copies :func:`~costline.scenarios.whatif.scale_stack` makes;
* ``estimate_totals`` gives the full estimate's totals, digit for digit, and in the same order;
* every row of :func:`~costline.scenarios.whatif.what_if` is what a full estimate of
  ``scale_stack(resources, factor)`` gives: complete or not, the same count of problems, the
  same services in the same order, and each amount within :data:`BILLING_TOLERANCE` (a billed
  row scales each charge after pricing, the full estimate prices scaled figures: the same bill
  rounded at the 50th digit in other places);
* the review's report is the one the rows priced in full give, but for those amounts, and
  every format renders it as it renders that one with them.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from costline.core.model import Resource, UsageOrigin, UsageSource
from costline.core.values import UNKNOWN
from costline.estimator.pipeline import (
    EstimateOptions,
    Totals,
    UnpricedResults,
    estimate,
    estimate_totals,
    estimate_with_run,
)
from costline.estimator.priced import price_stack
from costline.estimator.reprice import Repricer
from costline.readers import auto_detect
from costline.render.templates import render
from costline.review import sections
from costline.review.sections import review_report
from costline.scenarios import whatif
from costline.scenarios.edit import scale_usage, usage_scaling
from costline.scenarios.whatif import (
    StackScaling,
    parse_scenarios,
    scale_stack,
    what_if,
)
from costline.testing.stacks import services_stack
from costline.usage.tags import IMAGES_PER_REQUEST, INPUT_TOKENS, OUTPUT_TOKENS
from costline.usage.traffic import incoming_edges
from tests.conftest import seed_stack
from tests.test_properties import PRICES
from tests.test_reprice import changed_copies, mixed_stacks

SETTINGS = settings(deadline=None, max_examples=60)
PREVIEW = "tests/fixtures/preview/reference-stack.preview.json"
FACTORS = st.one_of(
    st.sampled_from([Fraction(1, 3), Fraction(7, 3), Fraction(1, 7), Fraction(10**6), Fraction(1)]),
    st.builds(Fraction, st.integers(1, 10**5), st.integers(1, 997)),
)
OPTIONS = st.builds(EstimateOptions, free_tier=st.booleans(), fail_closed=st.booleans())
FIGURES = (
    "cost:monthly-requests",
    "cost:monthly-get-requests",
    "cost:monthly-put-requests",
    "cost:input-tokens",
    "cost:storage-gb",
    "cost:avg-duration-ms",
)


@st.composite
def twisted(draw, resource: Resource) -> Resource:
    """``resource`` with one of the twists of the module doc, or as it is."""
    tags = resource.properties.get("tags")
    if not isinstance(tags, dict) or not tags:
        return resource
    key = draw(st.sampled_from(sorted(tags)))
    twist = draw(
        st.sampled_from(
            [
                "none",
                "secret",
                "secret-map",
                "unknown",
                "unknown-map",
                "malformed",
                "near-maximum",
                "daily",
                "daily-and-days",
                "tags-all",
                "origin",
            ]
        )
    )
    properties = dict(resource.properties)
    new_tags = dict(tags)
    if twist == "secret":
        return replace(resource, secret_paths=resource.secret_paths | {f"tags.{key}"})
    if twist == "secret-map":
        return replace(resource, secret_paths=resource.secret_paths | {"tags"})
    if twist == "unknown":
        new_tags[key] = UNKNOWN
    elif twist == "unknown-map":
        properties["tagsAll"] = UNKNOWN
    elif twist == "malformed":
        new_tags[key] = draw(st.sampled_from(["1,000", "-5", "1e6", " 12", "lots"]))
    elif twist == "near-maximum":
        new_tags[key] = draw(st.sampled_from(["999999999", "9999999999999", "100000000000000"]))
    elif twist in ("daily", "daily-and-days"):
        new_tags.pop("cost:monthly-requests", None)
        new_tags["cost:daily-requests"] = str(draw(st.integers(0, 10**7)))
        if twist == "daily-and-days":
            new_tags["cost:days-per-month"] = draw(st.sampled_from(["0", "28", "31", "7.5"]))
    elif twist == "tags-all":
        moved = {k: v for k, v in new_tags.items() if draw(st.booleans())}
        properties["tagsAll"] = {**moved, "team": "x"}
        new_tags = {k: v for k, v in new_tags.items() if k not in moved}
    elif twist == "origin":
        return replace(
            resource,
            usage_origins={key: UsageOrigin(UsageSource.STACK_CONFIG, "Pulumi.dev.yaml: x")},
        )
    if twist != "unknown-map":
        properties["tags"] = new_tags
    return replace(resource, properties=properties)


UNPRICED = "aws:iot/thing:Thing"


def unpriced(name: str, tags: dict[str, str]) -> Resource:
    """A resource no pricer prices, with a tag that is no usage tag (a warning) among ``tags``."""
    return Resource(
        f"urn:pulumi:dev::props::{UNPRICED}::{name}",
        UNPRICED,
        name,
        {"tags": {"cost:monthly-requets": "5", **tags}},
    )


@st.composite
def twisted_stacks(draw) -> list[Resource]:
    """Mixed stacks, twisted, sometimes with unpriced resources (one with traffic to scale, one
    without: every row copies the one, and shares the other)."""
    resources = draw(mixed_stacks())
    if draw(st.booleans()):
        resources += [
            unpriced("thing", {"cost:monthly-requests": "100"}),
            unpriced("other-thing", {}),
        ]
    return [draw(twisted(r)) if draw(st.booleans()) else r for r in resources]


def assert_same_totals(fast: Totals, full: Totals) -> None:
    assert str(fast.total_monthly_usd) == str(full.total_monthly_usd)
    assert [(s, str(v)) for s, v in fast.by_service.items()] == [
        (s, str(v)) for s, v in full.by_service.items()
    ]
    assert fast.problems == full.problems


BILLING_TOLERANCE = Decimal("1e-20")
"""How far a row billed from the stack's charges (:mod:`costline.estimator.scaled`) may be from
the full estimate of the scaled copy, per dollar (at least 1): the same bill, rounded at the
50th digit and to the quantum in other places."""


def close(a: Decimal, b: Decimal) -> bool:
    return abs(a - b) <= BILLING_TOLERANCE * max(Decimal(1), abs(b))


def assert_row_totals(row: Totals, full: Totals) -> None:
    """A what-if row's totals against the full estimate of its scaled copy: the same services in
    the same order, each amount within :data:`BILLING_TOLERANCE`, the same count of problems."""
    assert close(row.total_monthly_usd, full.total_monthly_usd), (row, full)
    assert list(row.by_service) == list(full.by_service)
    assert all(close(row.by_service[s], v) for s, v in full.by_service.items()), (row, full)
    assert row.problems == full.problems


@SETTINGS
@given(resources=twisted_stacks(), factors=st.lists(FACTORS, min_size=1, max_size=3))
def test_a_stack_scaling_copies_as_scale_stack_does(resources, factors):
    scaling = StackScaling(resources)
    for factor in factors:
        fast, slow = scaling.scaled(factor), scale_stack(resources, factor)
        assert fast == slow
        # a resource with nothing to scale is the stack's own object, as scale_stack leaves it
        assert [a is b for a, b in zip(fast, resources, strict=True)] == [
            a is b for a, b in zip(slow, resources, strict=True)
        ]
        for a, b in zip(fast, slow, strict=True):
            assert list(a.properties.get("tags") or {}) == list(b.properties.get("tags") or {})


@SETTINGS
@given(resources=twisted_stacks(), options=OPTIONS, shared_edges=st.booleans())
def test_the_totals_are_the_full_estimates(resources, options, shared_edges):
    incoming = dict(incoming_edges(resources)) if shared_edges else None
    fast = estimate_totals(resources, PRICES, options, incoming=incoming)
    assert_same_totals(fast, Totals.of(estimate(resources, PRICES, options)))


@SETTINGS
@given(resources=twisted_stacks(), options=OPTIONS, factor=FACTORS)
def test_the_totals_of_a_scaled_copy_with_the_stacks_edges_are_the_full_estimates(
    resources, options, factor
):
    incoming = dict(incoming_edges(resources))
    scaled = scale_stack(resources, factor)
    assert_same_totals(
        estimate_totals(scaled, PRICES, options, incoming=incoming),
        Totals.of(estimate(scaled, PRICES, options)),
    )


def full_rows(resources, options, result):
    """Each row of ``result`` as the full estimate of ``scale_stack(resources, factor)`` gives
    it: its totals, and complete when it has no more problems than today's stack."""
    base = Totals.of(estimate(resources, PRICES, options))
    rows = []
    for row in result.rows:
        full = Totals.of(estimate(scale_stack(resources, row.factor), PRICES, options))
        rows.append((row.factor, full, full.problems <= base.problems))
    return rows


@SETTINGS
@given(
    resources=twisted_stacks(),
    options=OPTIONS,
    scenarios=st.sampled_from(["30k,100k,500k,1M", "1/3", "2x,7x", "1x,0.5x", "333333,7"]),
    shared=st.sampled_from(["nothing", "the stack's run", "another stack's run"]),
)
def test_every_what_if_row_is_the_full_estimate_of_the_scaled_stack(
    resources, options, scenarios, shared
):
    """Whether the rows share the stack's estimate, its run (tags, indexes) and its edges, or are
    handed another stack's run (which they must not use)."""
    asked = (
        (whatif.Scenario(multiplier=Decimal(1) / 3),)
        if scenarios == "1/3"
        else parse_scenarios(scenarios)
    )
    if shared == "nothing":
        result = what_if(resources, PRICES, options, asked)
    else:
        stack = resources if shared == "the stack's run" else scale_stack(resources, Fraction(3))
        priced = price_stack(stack, PRICES, options)
        result = what_if(
            resources,
            PRICES,
            options,
            asked,
            estimate(resources, PRICES, options),
            run=priced.run,
            incoming=dict(incoming_edges(resources)),
        )
    assume(result.rows)
    for row, (factor, full, complete) in zip(
        result.rows, full_rows(resources, options, result), strict=True
    ):
        assert row.factor == factor
        assert_row_totals(row.totals, full)
        assert row.complete == complete
    # the full estimate of a row is still there for whoever asks for it
    last = result.rows[-1]
    assert_row_totals(last.totals, Totals.of(last.estimate))


def test_rows_past_the_plausible_maximum_are_incomplete_as_full_estimates_say():
    """A billion times the seed's traffic pushes its figures past the contract's maximum: the
    row is incomplete, as the full estimate's extra errors say (both sides checked)."""
    resources = seed_stack()
    result = what_if(resources, PRICES, scenarios=parse_scenarios("2x,1000000000x"))
    rows = {row.factor: row for row in result.rows}
    assert rows[Fraction(2)].complete and not rows[Fraction(1_000_000_000)].complete
    for row, (_, full, complete) in zip(
        result.rows, full_rows(resources, EstimateOptions(), result), strict=True
    ):
        assert_row_totals(row.totals, full)
        assert row.complete == complete


class FullRows:
    """Makes :func:`what_if` price every row with a full estimate of ``scale_stack``: what it did
    before rows kept only their totals, and before they were billed from the stack's charges."""

    def __init__(self, monkeypatch):
        monkeypatch.setattr(whatif._BilledRows, "totals", lambda self, factor: None)
        monkeypatch.setattr(
            whatif,
            "estimate_totals",
            lambda resources, prices, options, **shared: Totals.of(
                estimate(resources, prices, options)
            ),
        )
        monkeypatch.setattr(
            whatif.StackScaling, "scaled", lambda self, factor: scale_stack(self.resources, factor)
        )


FORMATS = ("markdown", "json", "html", "table")


def reviewed(resources, options, **kwargs):
    return review_report(price_stack(resources, PRICES, options, source="stack"), **kwargs)


def assert_same_review(fast, full):
    """Two reports of one stack, ``fast`` with its what-if rows billed from the stack's charges
    where that applies, ``full`` with every row priced in full: the same but for the rows'
    amounts, each within :data:`BILLING_TOLERANCE` of the full one; and every format renders
    ``fast`` as it renders ``full`` with those amounts (so where an amount lies within the
    tolerance of half a cent, the cent shown may differ, and nothing else)."""
    fast_rows = (fast.get("what_if") or {}).get("rows", [])
    full_rows_ = (full.get("what_if") or {}).get("rows", [])
    assert len(fast_rows) == len(full_rows_)
    for a, b in zip(fast_rows, full_rows_, strict=True):
        assert {k: v for k, v in a.items() if k not in AMOUNTS} == {
            k: v for k, v in b.items() if k not in AMOUNTS
        }
        assert [x["service"] for x in a["by_service"]] == [y["service"] for y in b["by_service"]]
        amounts = [(a["total_monthly_usd"], b["total_monthly_usd"])] + [
            (x["monthly_usd"], y["monthly_usd"])
            for x, y in zip(a["by_service"], b["by_service"], strict=True)
        ]
        assert all(close(x, y) for x, y in amounts), amounts
    full_with_fast_amounts = copy.deepcopy(full)
    if fast_rows:
        full_with_fast_amounts["what_if"]["rows"] = copy.deepcopy(fast_rows)
    assert full_with_fast_amounts == fast
    for fmt in FORMATS:
        assert render(fast, fmt) == render(full_with_fast_amounts, fmt)


AMOUNTS = ("total_monthly_usd", "by_service")


@pytest.mark.parametrize(
    "resources",
    [auto_detect(PREVIEW), seed_stack(), services_stack(120)],
    ids=["reference-preview", "seed", "services"],
)
@pytest.mark.parametrize("fail_closed", [False, True])
def test_the_rendered_review_is_the_one_full_estimates_give(resources, fail_closed, monkeypatch):
    options = EstimateOptions(fail_closed=fail_closed)
    scenarios = parse_scenarios("30k,100k,500k,1M,7x")
    fast = reviewed(resources, options, scenarios=scenarios)
    FullRows(monkeypatch)
    assert_same_review(fast, reviewed(resources, options, scenarios=scenarios))
    assert fast["what_if"]["rows"]


@settings(deadline=None, max_examples=25)
@given(resources=twisted_stacks(), options=OPTIONS)
def test_the_rendered_review_of_generated_stacks_is_the_one_full_estimates_give(resources, options):
    fast = reviewed(resources, options)
    with pytest.MonkeyPatch.context() as monkeypatch:
        FullRows(monkeypatch)
        assert_same_review(fast, reviewed(resources, options))


TOKEN_TAGS = (INPUT_TOKENS, OUTPUT_TOKENS, IMAGES_PER_REQUEST)


@SETTINGS
@given(
    resources=twisted_stacks(),
    factor=FACTORS,
    tags=st.lists(st.sampled_from(TOKEN_TAGS), min_size=1, max_size=3),
)
def test_a_reading_for_several_tags_scales_any_of_them_as_scale_usage_does(resources, factor, tags):
    """The token cuts read the stack once for both token tags and scale one or both."""
    assume(factor != 1)
    for r in resources:
        reading = usage_scaling(r, TOKEN_TAGS)
        only = reading.only(tags) if reading is not None else None
        fast = r if only is None else only.scaled(factor)
        slow = scale_usage(r, factor, tags)
        assert fast == slow
        assert (fast is r) == (slow is r)
        assert list(fast.properties.get("tags") or {}) == list(slow.properties.get("tags") or {})


@pytest.mark.parametrize("enabled", [True, False])
def test_a_review_pauses_the_garbage_collector_and_restores_it(enabled, monkeypatch):
    """The collector is off while the review runs (as during an estimate) and left as it was."""
    import gc

    seen: list[bool] = []
    build = sections.build_report
    monkeypatch.setattr(
        sections, "build_report", lambda *a, **k: seen.append(gc.isenabled()) or build(*a, **k)
    )
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        review_report(price_stack(seed_stack(), PRICES))
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()
    assert seen == [False]


@pytest.mark.parametrize("free_tier", [True, False])
@SETTINGS
@given(data=st.data())
def test_a_change_estimated_in_full_from_the_stacks_results_has_the_full_total(free_tier, data):
    """A copy the re-pricer estimates in full (here every one) shares the stack's collected tags
    and its results for the resources no pricer prices: the total is still the full estimate's."""
    options = EstimateOptions(free_tier=free_tier, fail_closed=data.draw(st.booleans()))
    resources = data.draw(twisted_stacks())
    base, run = estimate_with_run(resources, PRICES, options)
    repricer = Repricer(
        run, PRICES, options, full_above=0, unpriced=UnpricedResults(resources, base.resources)
    )
    for _ in range(3):
        copy = data.draw(changed_copies(resources))
        full = estimate(copy, PRICES, options).total_monthly_usd
        assert str(repricer.total(copy)) == str(full)
