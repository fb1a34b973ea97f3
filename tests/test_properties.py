"""Properties of the estimator over random valid stacks (hypothesis).

Stacks mix Lambda functions (memory, timeout, architecture, requests, duration), REST APIs
with stages (traffic on either, an optional stage cache), S3 buckets (storage, GETs, PUTs) and
Bedrock inference profiles (any text model of the price book, requests, input and output
tokens). For every such stack:

* **no negative money**: every line item, resource total and the stack total is ≥ 0;
* **monotone**: more traffic, duration, memory, tokens or storage never lowers the stack total,
  nor the total of a single-resource stack. (Not per resource inside a larger stack: the
  account-wide free tier is shared in proportion to usage, so when one function grows, another
  function's share of the free tier shrinks... and its share of the bill may too.)
* **order does not matter**: the same resources in any order give the same total and, for every
  URN, the same line items, findings and assumptions;
* **sums are exact**: every line item is a whole multiple of :data:`costline.core.money.QUANTUM`,
  so a resource's line items sum to its total, the resources and the services to the stack
  total, exactly (in the money context); and the shares of one price entry add up to the tiered
  cost of the account's billable usage of it (worked out here by a band-by-band sum written
  independently of :mod:`costline.pricing.tiers`): splitting neither creates nor loses money;
* **display rounding** (the rule documented in ``docs/reliability.md``): each amount is rounded
  half-up to the cent on its own, so the displayed parts of a sum may differ from its displayed
  total, by at most ⌊n/2⌋ cents for n parts (|Σ round(xᵢ) − round(Σ xᵢ)| ≤ n × $0.005).
"""

from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from costline.core.model import Estimate, Resource
from costline.core.money import CENT, QUANTUM, ZERO, money_context, round_cents
from costline.estimator.pipeline import estimate
from costline.pricing import load_price_book

PRICES = load_price_book("us-east-1")
TEXT_MODELS = sorted(
    pid.split(".", 2)[2].rsplit(".", 1)[0]
    for pid in PRICES.entries
    if pid.startswith("bedrock.on_demand.") and pid.endswith(".input_tokens")
)
LAMBDA = "aws:lambda/function:Function"
REST_API = "aws:apigateway/restApi:RestApi"
STAGE = "aws:apigateway/stage:Stage"
BUCKET = "aws:s3/bucket:Bucket"
PROFILE = "aws:bedrock/inferenceProfile:InferenceProfile"
FAST = settings(deadline=None, max_examples=150)

counts = st.integers(min_value=0, max_value=10**9)
small_counts = st.integers(min_value=0, max_value=10**5)
amounts = st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False, allow_infinity=False)


def urn(type_token: str, name: str) -> str:
    return f"urn:pulumi:dev::props::{type_token}::{name}"


def text(value: int | Decimal) -> str:
    return format(Decimal(value).normalize(), "f") if isinstance(value, Decimal) else str(value)


@st.composite
def lambdas(draw, name: str) -> list[Resource]:
    timeout = draw(st.integers(min_value=1, max_value=900))
    props = {
        "memorySize": draw(st.integers(min_value=128, max_value=10240)),
        "timeout": timeout,
        "tags": {
            "cost:monthly-requests": text(draw(counts)),
            "cost:avg-duration-ms": text(
                draw(st.decimals(min_value=0, max_value=timeout * 1000, places=1))
            ),
        },
    }
    if draw(st.booleans()):
        props["architectures"] = [draw(st.sampled_from(["x86_64", "arm64"]))]
    if draw(st.booleans()):
        props["ephemeralStorage"] = {"size": draw(st.integers(min_value=512, max_value=10240))}
    return [Resource(urn(LAMBDA, name), LAMBDA, name, props)]


@st.composite
def rest_apis(draw, name: str) -> list[Resource]:
    api = Resource(
        urn(REST_API, name),
        REST_API,
        name,
        {"tags": {"cost:monthly-requests": text(draw(counts))}} if draw(st.booleans()) else {},
    )
    stage_props: dict = {"stageName": "dev"}
    if draw(st.booleans()) or not api.properties:
        stage_props["tags"] = {"cost:monthly-requests": text(draw(counts))}
    if draw(st.booleans()):
        stage_props.update(
            cacheClusterEnabled=True,
            cacheClusterSize=draw(
                st.sampled_from(["0.5", "1.6", "6.1", "13.5", "28.4", "58.2", "118", "237"])
            ),
        )
    stage = Resource(
        urn(STAGE, f"{name}-dev"),
        STAGE,
        f"{name}-dev",
        stage_props,
        property_dependencies={"restApi": (api.urn,)},
    )
    return [api, stage]


@st.composite
def buckets(draw, name: str) -> list[Resource]:
    return [
        Resource(
            urn(BUCKET, name),
            BUCKET,
            name,
            {
                "tags": {
                    "cost:storage-gb": text(draw(amounts)),
                    "cost:monthly-get-requests": text(draw(counts)),
                    "cost:monthly-put-requests": text(draw(counts)),
                }
            },
        )
    ]


@st.composite
def profiles(draw, name: str) -> list[Resource]:
    return [
        Resource(
            urn(PROFILE, name),
            PROFILE,
            name,
            {
                "modelSource": {"copyFrom": draw(st.sampled_from(TEXT_MODELS))},
                "tags": {
                    "cost:monthly-requests": text(draw(counts)),
                    "cost:input-tokens": text(draw(small_counts)),
                    "cost:output-tokens": text(draw(small_counts)),
                },
            },
        )
    ]


KINDS = {"fn": lambdas, "api": rest_apis, "bucket": buckets, "model": profiles}


@st.composite
def stacks(draw, min_size: int = 1, max_size: int = 6) -> list[Resource]:
    kinds = draw(st.lists(st.sampled_from(sorted(KINDS)), min_size=min_size, max_size=max_size))
    return [r for i, kind in enumerate(kinds) for r in draw(KINDS[kind](f"{kind}-{i}"))]


def total(resources: list[Resource]) -> Decimal:
    return estimate(resources, PRICES).total_monthly_usd


# --- growth: one usage figure of one resource gets larger ------------------------------------
GROWABLE = {
    LAMBDA: ("tags.cost:monthly-requests", "tags.cost:avg-duration-ms", "memorySize"),
    REST_API: ("tags.cost:monthly-requests",),
    STAGE: ("tags.cost:monthly-requests",),
    BUCKET: (
        "tags.cost:storage-gb",
        "tags.cost:monthly-get-requests",
        "tags.cost:monthly-put-requests",
    ),
    PROFILE: ("tags.cost:monthly-requests", "tags.cost:input-tokens", "tags.cost:output-tokens"),
}


def grown(resource: Resource, path: str, factor: Decimal, extra: int) -> Resource | None:
    """``resource`` with the figure at ``path`` multiplied by ``factor`` (≥ 1) plus ``extra``; None
    when the resource does not declare it."""
    props = {k: (dict(v) if isinstance(v, dict) else v) for k, v in resource.properties.items()}
    holder, key = (props.get("tags"), path[5:]) if path.startswith("tags.") else (props, path)
    if not isinstance(holder, dict) or key not in holder:
        return None
    old = Decimal(str(holder[key]))
    new = old * factor + extra
    if key == "cost:avg-duration-ms":
        new = min(new, Decimal(resource.properties["timeout"]) * 1000)  # a valid stack stays valid
    holder[key] = text(new) if path.startswith("tags.") else int(new)
    return replace(resource, properties=props)


growths = st.tuples(
    st.decimals(min_value=1, max_value=10, places=2), st.integers(min_value=0, max_value=10**6)
)


@FAST
@given(stacks(), st.data())
def test_money_is_never_negative(resources, data):
    est = estimate(resources, PRICES)
    assert est.total_monthly_usd >= 0
    for r in est.resources:
        assert r.monthly_usd >= 0
        assert all(
            i.monthly_usd >= 0 and i.quantity >= 0 and i.free_quantity >= 0 for i in r.line_items
        )


@FAST
@given(stacks(), st.data(), growths)
def test_the_stack_total_never_decreases_when_usage_grows(resources, data, growth):
    index = data.draw(st.integers(min_value=0, max_value=len(resources) - 1))
    target = resources[index]
    path = data.draw(st.sampled_from(GROWABLE.get(target.type, ("tags.cost:monthly-requests",))))
    bigger = grown(target, path, *growth)
    assume(bigger is not None)  # the drawn resource does not declare the drawn figure
    assert total([*resources[:index], bigger, *resources[index + 1 :]]) >= total(resources)


@FAST
@given(stacks(max_size=1), st.data(), growths)
def test_a_single_resource_never_costs_less_when_its_usage_grows(resources, data, growth):
    grew = 0
    for index, target in enumerate(resources):  # an API with its stage is one "resource" here
        path = data.draw(st.sampled_from(GROWABLE[target.type]))
        bigger = grown(target, path, *growth)
        if bigger is None:
            continue
        grew += 1
        after = estimate([*resources[:index], bigger, *resources[index + 1 :]], PRICES)
        before = estimate(resources, PRICES)
        assert after.resources[index].monthly_usd >= before.resources[index].monthly_usd
        assert after.total_monthly_usd >= before.total_monthly_usd
    assume(grew > 0)  # no drawn figure was declared: the example checked nothing


def _by_urn(est: Estimate) -> dict:
    return {
        r.urn: (r.monthly_usd, r.status, r.line_items, r.findings, r.assumptions)
        for r in est.resources
    }


@FAST
@given(stacks(min_size=2, max_size=8), st.randoms(use_true_random=False))
def test_the_order_of_resources_does_not_matter(resources, rnd: random.Random):
    shuffled = list(resources)
    rnd.shuffle(shuffled)
    a, b = estimate(resources, PRICES), estimate(shuffled, PRICES)
    assert a.total_monthly_usd == b.total_monthly_usd
    assert _by_urn(a) == _by_urn(b)
    assert a.findings == b.findings


@FAST
@given(stacks(max_size=8))
def test_parts_sum_exactly_and_round_within_the_documented_rule(resources):
    est = estimate(resources, PRICES)
    with money_context():
        for r in est.resources:
            assert all(
                i.monthly_usd % QUANTUM == 0 for i in r.line_items
            )  # on the grid: sums are exact
            assert sum((i.monthly_usd for i in r.line_items), ZERO) == r.monthly_usd
            assert_rounding_rule([i.monthly_usd for i in r.line_items], r.monthly_usd)
        assert sum((r.monthly_usd for r in est.resources), ZERO) == est.total_monthly_usd
        assert sum(est.by_service().values(), ZERO) == est.total_monthly_usd
    assert_rounding_rule([r.monthly_usd for r in est.resources], est.total_monthly_usd)
    assert_rounding_rule(list(est.by_service().values()), est.total_monthly_usd)


@FAST
@given(stacks(min_size=2, max_size=8))
def test_sharing_a_price_between_resources_neither_creates_nor_loses_money(resources):
    """Per price entry, the resources' shares add up to the account-wide tiered cost of their
    billable usage (after the free tier), rounded to the QUANTUM: nothing is lost in the split."""
    est = estimate(resources, PRICES)
    items: dict[str, list] = {}
    for r in est.resources:
        for i in r.line_items:
            items.setdefault(i.price_id, []).append(i)
    with money_context():
        for price_id, group in items.items():
            entry = PRICES.entries[price_id]
            billable = sum((i.quantity - i.free_quantity for i in group), ZERO)
            expected = banded_cost(billable, entry.tiers, entry.price_per).quantize(QUANTUM)
            assert sum((i.monthly_usd for i in group), ZERO) == expected, price_id


def banded_cost(quantity: Decimal, tiers, price_per: Decimal) -> Decimal:
    """The oracle for a tiered price: each band's share of ``quantity`` (the units above the
    previous band's upper bound, up to this one's; the last band is open) at the band's price per
    ``price_per`` units, summed."""
    cost, lower = ZERO, ZERO
    for tier in tiers:
        upper = quantity if tier.up_to is None else min(quantity, Decimal(tier.up_to))
        if upper > lower:
            cost += (upper - lower) * tier.usd / price_per
        if tier.up_to is not None:
            lower = max(lower, Decimal(tier.up_to))
    return cost


def assert_rounding_rule(parts: list[Decimal], whole: Decimal) -> None:
    """|Σ round(xᵢ) − round(Σ xᵢ)| ≤ n × $0.005, i.e. at most ⌊n/2⌋ cents (0 for one part)."""
    if not parts:
        assert whole == 0
        return
    drift = abs(sum(round_cents(p) for p in parts) - round_cents(whole))
    assert drift <= len(parts) * Decimal("0.005")
    assert drift <= CENT * (len(parts) // 2)


def test_the_rounding_rule_is_tight():
    """Two parts of half a cent each show as $0.01 + $0.01 but total $0.01: the bound is reached."""
    parts = [Decimal("0.005"), Decimal("0.005")]
    assert sum(round_cents(p) for p in parts) - round_cents(sum(parts)) == CENT
    assert_rounding_rule(parts, sum(parts))
