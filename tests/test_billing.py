"""Account-wide billing: tiers and free tiers over the sum of all resources, split back by usage.

These use a small hand-made price book so tier boundaries sit at round numbers; the shipped
tables are exercised in test_estimate_reference.py.
"""

from decimal import Decimal as D

from costline.billing import OwnedCharge, bill
from costline.money import QUANTUM, split_exactly, split_in_order
from costline.pricers.base import Charge
from costline.pricing.model import FreeTier, PriceBook, PriceEntry, Tier
from costline.tiers import tier_usage, tiered_cost


def entry(price_id, unit, per, *tiers):
    return PriceEntry(price_id, price_id, unit, D(per),
                      tuple(Tier(None if up is None else D(up), D(usd)) for up, usd in tiers), "test", "2026-11-01", "test")


BOOK = PriceBook(
    version="test", region="us-east-1", currency="USD", as_of="2026-11-01",
    entries={e.id: e for e in [
        entry("req", "request", 1_000_000, ("100", "10"), ("300", "5"), (None, "1")),
        entry("x86", "GB-second", 1, (None, "0.01")),
        entry("arm", "GB-second", 1, (None, "0.008")),
    ]},
    free_tiers={"free": FreeTier("free", "shared", D(100), "GB-second", ("x86", "arm"), "test", "2026-11-01", "test")},
)


def test_tier_boundaries_are_inclusive_of_the_band_end():
    tiers = BOOK.entries["req"].tiers
    assert tiered_cost(D(100), tiers, D(1)) == D(1000)           # exactly the first band
    assert tiered_cost(D(101), tiers, D(1)) == D(1005)           # one unit into the second
    assert tiered_cost(D(300), tiers, D(1)) == D(1000 + 200 * 5)
    assert tiered_cost(D(301), tiers, D(1)) == D(1000 + 200 * 5 + 1)
    assert [b.quantity for b in tier_usage(D(350), tiers, D(1))] == [D(100), D(200), D(50)]


def test_free_tier_is_shared_across_resources_and_architectures():
    charges = [OwnedCharge("a", Charge("Lambda", "x86", D(60), "a")),
               OwnedCharge("b", Charge("Lambda", "arm", D(90), "b"))]
    billed = {b.owner: b.line_item for b in bill(charges, BOOK)}
    # 150 GB-s used, 100 free, split 40 / 60 by usage; 20 x86 + 30 arm billable.
    assert billed["a"].free_quantity == D(40)
    assert billed["b"].free_quantity == D(60)
    assert billed["a"].monthly_usd == D("0.20")
    assert billed["b"].monthly_usd == D("0.240")


def test_free_tier_switch_off_bills_everything():
    charges = [OwnedCharge("a", Charge("Lambda", "x86", D(60), "a"))]
    (billed,) = bill(charges, BOOK, free_tier=False)
    assert billed.line_item.free_quantity == 0
    assert billed.line_item.monthly_usd == D("0.60")


def test_tiers_count_the_whole_account_and_split_by_usage():
    charges = [OwnedCharge(i, Charge("API", "req", D(100), str(i))) for i in range(3)]
    billed = bill(charges, BOOK)
    total = sum(b.line_item.monthly_usd for b in billed)
    assert total == tiered_cost(D(300), BOOK.entries["req"].tiers, D(1_000_000))
    shares = {b.line_item.monthly_usd for b in billed}  # equal usage: equal shares, to one QUANTUM
    assert max(shares) - min(shares) <= QUANTUM
    assert billed[0].line_item.note == "2 price tiers (account-wide)"


def test_split_does_not_depend_on_order():
    a = [OwnedCharge("a", Charge("API", "req", D(7), "a")), OwnedCharge("b", Charge("API", "req", D(333), "b"))]
    forward = {b.owner: b.line_item.monthly_usd for b in bill(a, BOOK)}
    backward = {b.owner: b.line_item.monthly_usd for b in bill(list(reversed(a)), BOOK)}
    assert forward == backward


def test_split_in_order_gives_left_over_quanta_to_the_earlier_of_equal_weights():
    assert split_in_order(2 * QUANTUM, [D(1), D(1), D(1)]) == [QUANTUM, QUANTUM, 0]
    assert split_exactly(2 * QUANTUM, [D(1), D(1), D(1)], ["c", "a", "b"]) == [0, QUANTUM, QUANTUM]
