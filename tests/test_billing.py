"""Account-wide billing: tiers and free tiers over the sum of all resources, split back by usage.

These use a small hand-made price book so tier boundaries sit at round numbers; the shipped
tables are exercised in test_estimate_reference.py.
"""

from decimal import Decimal as D

import pytest

from costline.core.money import QUANTUM, split_exactly, split_in_order
from costline.estimator.billing import bill_in_order
from costline.estimator.pipeline import estimate
from costline.pricers.base import Charge
from costline.pricing.model import FreeTier, PriceBook, PriceEntry, Tier
from costline.pricing.tiers import tier_usage, tiered_cost
from tests.conftest import LAMBDA, make


def entry(price_id, unit, per, *tiers):
    return PriceEntry(
        price_id,
        price_id,
        unit,
        D(per),
        tuple(Tier(None if up is None else D(up), D(usd)) for up, usd in tiers),
        "test",
        "2026-11-01",
        "test",
    )


BOOK = PriceBook(
    version="test",
    region="us-east-1",
    currency="USD",
    as_of="2026-11-01",
    entries={
        e.id: e
        for e in [
            entry("req", "request", 1_000_000, ("100", "10"), ("300", "5"), (None, "1")),
            entry("x86", "GB-second", 1, (None, "0.01")),
            entry("arm", "GB-second", 1, (None, "0.008")),
        ]
    },
    free_tiers={
        "free": FreeTier(
            "free", "shared", D(100), "GB-second", ("x86", "arm"), "test", "2026-11-01", "test"
        )
    },
)


def test_tier_boundaries_are_inclusive_of_the_band_end():
    tiers = BOOK.entries["req"].tiers
    assert tiered_cost(D(100), tiers, D(1)) == D(1000)  # exactly the first band
    assert tiered_cost(D(101), tiers, D(1)) == D(1005)  # one unit into the second
    assert tiered_cost(D(300), tiers, D(1)) == D(1000 + 200 * 5)
    assert tiered_cost(D(301), tiers, D(1)) == D(1000 + 200 * 5 + 1)
    assert [b.quantity for b in tier_usage(D(350), tiers, D(1))] == [D(100), D(200), D(50)]


def test_free_tier_is_shared_across_resources_and_architectures():
    a, b = bill_in_order(
        [Charge("Lambda", "x86", D(60), "a"), Charge("Lambda", "arm", D(90), "b")], BOOK
    )
    # 150 GB-s used, 100 free, split 40 / 60 by usage; 20 x86 + 30 arm billable.
    assert a.free_quantity == D(40)
    assert b.free_quantity == D(60)
    assert a.monthly_usd == D("0.20")
    assert b.monthly_usd == D("0.240")


def test_free_tier_switch_off_bills_everything():
    (billed,) = bill_in_order([Charge("Lambda", "x86", D(60), "a")], BOOK, free_tier=False)
    assert billed.free_quantity == 0
    assert billed.monthly_usd == D("0.60")


def test_tiers_count_the_whole_account_and_split_by_usage():
    billed = bill_in_order([Charge("API", "req", D(100), str(i)) for i in range(3)], BOOK)
    total = sum(item.monthly_usd for item in billed)
    assert total == tiered_cost(D(300), BOOK.entries["req"].tiers, D(1_000_000))
    shares = {item.monthly_usd for item in billed}  # equal usage: equal shares, to one QUANTUM
    assert max(shares) - min(shares) <= QUANTUM
    assert billed[0].note == "2 price tiers (account-wide)"


def test_split_does_not_depend_on_order(prices):
    """Billing takes charges in the estimator's canonical order (resources by URN), so a split
    with quanta left over gives them to the same resources whatever order the resources come in:
    three equal Lambdas share the 1M free requests, 333,333.33… each, one quantum left over."""
    fns = [
        make(LAMBDA, name, tags={"cost:monthly-requests": "1000000", "cost:avg-duration-ms": "100"})
        for name in ("c", "a", "b")
    ]

    def figures(resources):
        return {
            r.urn: {i.price_id: (i.free_quantity, i.monthly_usd) for i in r.line_items}
            for r in estimate(resources, prices).resources
        }

    forward = figures(fns)
    assert (
        len({f["lambda.requests"][0] for f in forward.values()}) == 2
    )  # the left-over quantum went to one
    assert forward == figures(list(reversed(fns))) == figures([fns[1], fns[0], fns[2]])


def test_split_in_order_gives_left_over_quanta_to_the_earlier_of_equal_weights():
    assert split_in_order(2 * QUANTUM, [D(1), D(1), D(1)]) == [QUANTUM, QUANTUM, 0]
    assert split_exactly(2 * QUANTUM, [D(1), D(1), D(1)], ["c", "a", "b"]) == [0, QUANTUM, QUANTUM]


@pytest.mark.parametrize(
    ("weights", "shares"),
    [
        # 10 quanta over 1:2 = 3.33 and 6.67 → floors 3 and 6, the quantum left goes to the larger
        # remainder (0.67): [3, 7]; reversed, [7, 3].
        ([1, 2], [3, 7]),
        ([2, 1], [7, 3]),
        # 10 over 1:3:3 = 1.43, 4.29, 4.29 → floors 1, 4, 4 (9); the largest remainder is the
        # first (0.43 against 0.29): [2, 4, 4]. In the middle: [4, 2, 4].
        ([1, 3, 3], [2, 4, 4]),
        ([3, 1, 3], [4, 2, 4]),
        # 10 over 1:1:1 = 3.33 each → 3, 3, 3; the tie goes to the earliest: [4, 3, 3].
        ([1, 1, 1], [4, 3, 3]),
        # 10 over 1:1:1:1 = 2.5 each → 2 each, two left, to the two earliest: [3, 3, 2, 2].
        ([1, 1, 1, 1], [3, 3, 2, 2]),
    ],
)
def test_split_in_order_gives_left_over_quanta_to_the_largest_remainders(weights, shares):
    got = split_in_order(10 * QUANTUM, [D(w) for w in weights])
    assert got == [s * QUANTUM for s in shares]
