"""The demo shop: customers and orders that `seed_demo_data` writes into an empty database.

`seed_demo_data` always creates these orders, so tests, docs and demos can rely on them. Dates are
relative to the day the database was seeded (shown as days from then), so a fresh seed always has
payments still to come:

=========  ========================  ==========  ========================================================
Order      Email                     Status      What it shows
=========  ========================  ==========  ========================================================
KL-100001  anna.berg@example.com     shipped     DHL tracking number, delivery expected tomorrow;
                                                 2 of 4 instalments paid, next one due in 12 days
KL-100002  anna.berg@example.com     returned    delivered, then returned; €129.00 refund processing
KL-100003  ben.okafor@example.com    processing  placed yesterday, not shipped; 1 of 4 instalments paid
KL-100004  carla.mendes@example.com  returned    €219.00 refund paid; fully paid
KL-100005  chloe.martin@example.com  delivered   instalment 3 overdue (due 2 days ago), instalment 4 due
KL-100006  david.nguyen@example.com  delivered   refund rejected (returned after the 30-day window)
KL-100007  emma.schulz@example.com   cancelled   cancelled before shipping; refund of the first
                                                 instalment approved; no further payments due
KL-100008  farid.haddad@example.com  delivered   two refunds (one paid, one requested);
                                                 3 of 4 instalments paid
=========  ========================  ==========  ========================================================

KL-100009 to KL-100025 are generated from a fixed random seed across the same twelve customers.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.engine import Connection, Engine

from actions.shop.records import Instalment, Order, Refund
from actions.shop.schema import INSTALMENT_COUNT, ORDER_STATUSES, customers, instalments, orders, refunds

# Pay in 4: the first instalment at checkout, then one every two weeks.
INSTALMENT_INTERVAL = timedelta(days=14)
DEMO_RANDOM_SEED = 20240611
DEMO_GENERATED_ORDERS = range(100009, 100026)

DEMO_CUSTOMERS = (
    ("anna.berg@example.com", "Anna Berg"),
    ("ben.okafor@example.com", "Ben Okafor"),
    ("carla.mendes@example.com", "Carla Mendes"),
    ("chloe.martin@example.com", "Chloé Martin"),
    ("david.nguyen@example.com", "David Nguyen"),
    ("emma.schulz@example.com", "Emma Schulz"),
    ("farid.haddad@example.com", "Farid Haddad"),
    ("grace.lindqvist@example.com", "Grace Lindqvist"),
    ("hugo.petit@example.com", "Hugo Petit"),
    ("isla.murphy@example.com", "Isla Murphy"),
    ("jonas.keller@example.com", "Jonas Keller"),
    ("mark.dunn@example.com", "Mark Dunn"),
)

_CATALOGUE = (
    ("Nordlicht Outdoor", "Hiking backpack 30 l", 8990),
    ("Casa Verde Home", "Set of 4 stoneware plates", 5480),
    ("Pixelwerk Electronics", "Wireless earbuds", 12999),
    ("Atelier Sofia", "Silk scarf", 6900),
    ("Kleine Welt Toys", "Building blocks starter box", 3495),
    ("Urban Kicks", "Canvas trainers (size 42)", 7995),
    ("Bergblick Sports", "Yoga mat, Resistance bands", 6480),
    ("Maison Lumière", "Brass floor lamp", 23900),
    ("Buchhaus Lindner", "Cookbook, Notebook set", 4250),
    ("Velo Stadt", "City bike lights, Bike lock", 9870),
    ("Grüne Küche", "Stand mixer", 34900),
    ("Kids & Co", "Winter jacket (age 6), Snow boots", 11480),
)

_CARRIER_FORMATS = {"DHL": ("00340434", 12), "DPD": ("0", 13), "GLS": ("", 11), "UPS": ("1Z", 16)}


@dataclass(frozen=True)
class _SeedOrder:
    """An order with its refunds and instalments, ready to insert together."""

    order: Order
    refunds: tuple[Refund, ...] = ()
    instalments: tuple[Instalment, ...] = ()


def _schedule(
    order_number: str,
    total_cents: int,
    placed_at: date,
    today: date,
    overdue: Iterable[int] = (),
    count: int = INSTALMENT_COUNT,
) -> tuple[Instalment, ...]:
    """Pay in 4 from the order date; the first instalment takes the odd cents.

    Instalments due by `today` are paid, unless listed in `overdue`; a cancelled order passes
    `count=1` because only the checkout payment was taken.
    """
    share, odd_cents = divmod(total_cents, INSTALMENT_COUNT)
    overdue_numbers = set(overdue)
    schedule = []
    for number in range(1, count + 1):
        due = placed_at + INSTALMENT_INTERVAL * (number - 1)
        status = "overdue" if number in overdue_numbers else ("paid" if due <= today else "due")
        amount = share + (odd_cents if number == 1 else 0)
        schedule.append(Instalment(order_number, number, due, amount, status))
    return tuple(schedule)


def _order(
    number: str, email: str, merchant: str, items: str, total: int, status: str, *, placed_at: date,
    shipped_at: date | None = None, delivered_at: date | None = None, expected_delivery: date | None = None,
    carrier: str | None = None, tracking_number: str | None = None,
) -> Order:
    """Builds an order with no shipping details unless given; keeps the demo tables readable."""
    return Order(number, email, merchant, items, total, "EUR", status, carrier, tracking_number, placed_at,
                 shipped_at, delivered_at, expected_delivery)


def _guaranteed_orders(today: date) -> list[_SeedOrder]:
    """The documented orders KL-100001 to KL-100008 (see the table at the top of this module)."""

    def day(offset: int) -> date:
        return today + timedelta(days=offset)

    o1 = _order(
        "KL-100001", "anna.berg@example.com", "Nordlicht Outdoor",
        "Trail running shoes (size 39), Packable rain jacket", 18990, "shipped",
        placed_at=day(-16), shipped_at=day(-2), expected_delivery=day(1),
        carrier="DHL", tracking_number="00340434161094042557",
    )
    o2 = _order(
        "KL-100002", "anna.berg@example.com", "Casa Verde Home", "Linen duvet cover set", 12900, "returned",
        placed_at=day(-45), shipped_at=day(-43), delivered_at=day(-41), expected_delivery=day(-41),
        carrier="DPD", tracking_number="09445512345678",
    )
    o3 = _order(
        "KL-100003", "ben.okafor@example.com", "Pixelwerk Electronics", "Noise-cancelling headphones",
        24999, "processing", placed_at=day(-1), expected_delivery=day(4),
    )
    o4 = _order(
        "KL-100004", "carla.mendes@example.com", "Atelier Sofia", "Wool coat (size M)", 21900, "returned",
        placed_at=day(-60), shipped_at=day(-58), delivered_at=day(-56), expected_delivery=day(-56),
        carrier="UPS", tracking_number="1Z999AA10123456784",
    )
    o5 = _order(
        "KL-100005", "chloe.martin@example.com", "Kleine Welt Toys", "Wooden train set, Play mat", 8990,
        "delivered", placed_at=day(-30), shipped_at=day(-29), delivered_at=day(-27),
        expected_delivery=day(-27), carrier="GLS", tracking_number="67891234567",
    )
    o6 = _order(
        "KL-100006", "david.nguyen@example.com", "Urban Kicks", "Leather sneakers (size 44)", 13995,
        "delivered", placed_at=day(-75), shipped_at=day(-74), delivered_at=day(-72),
        expected_delivery=day(-72), carrier="DHL", tracking_number="00340434161094990213",
    )
    o7 = _order(
        "KL-100007", "emma.schulz@example.com", "Bergblick Sports", "Road bike helmet", 15980, "cancelled",
        placed_at=day(-3),
    )
    o8 = _order(
        "KL-100008", "farid.haddad@example.com", "Maison Lumière",
        "Ceramic table lamp, Lampshade, 2 LED bulbs", 11970, "delivered",
        placed_at=day(-35), shipped_at=day(-33), delivered_at=day(-31), expected_delivery=day(-31),
        carrier="UPS", tracking_number="1Z999AA10123459921",
    )
    return [
        _SeedOrder(o1, instalments=_schedule(o1.order_number, o1.total_cents, o1.placed_at, today)),
        _SeedOrder(
            o2,
            refunds=(Refund("KL-100002", 12900, "processing", day(-6), day(4), None, "Colour not as pictured"),),
            instalments=_schedule(o2.order_number, o2.total_cents, o2.placed_at, today),
        ),
        _SeedOrder(o3, instalments=_schedule(o3.order_number, o3.total_cents, o3.placed_at, today)),
        _SeedOrder(
            o4,
            refunds=(Refund("KL-100004", 21900, "paid", day(-30), day(-20), day(-21), "Too small"),),
            instalments=_schedule(o4.order_number, o4.total_cents, o4.placed_at, today),
        ),
        _SeedOrder(o5, instalments=_schedule(o5.order_number, o5.total_cents, o5.placed_at, today, overdue=[3])),
        _SeedOrder(
            o6,
            refunds=(
                Refund(
                    "KL-100006", 13995, "rejected", day(-5), None, None,
                    "Returned after the 30-day return window",
                ),
            ),
            instalments=_schedule(o6.order_number, o6.total_cents, o6.placed_at, today),
        ),
        _SeedOrder(
            o7,
            refunds=(Refund("KL-100007", 3995, "approved", day(-2), day(3), None, "Order cancelled before shipping"),),
            instalments=_schedule(o7.order_number, o7.total_cents, o7.placed_at, today, count=1),
        ),
        _SeedOrder(
            o8,
            refunds=(
                Refund("KL-100008", 2990, "paid", day(-25), day(-18), day(-19), "Lampshade arrived damaged"),
                Refund("KL-100008", 1490, "requested", day(-1), day(9), None, "Bulbs missing from the parcel"),
            ),
            instalments=_schedule(o8.order_number, o8.total_cents, o8.placed_at, today),
        ),
    ]


def _shipping(rng: random.Random) -> dict:
    """A carrier and a tracking number in that carrier's usual shape."""
    carrier = rng.choice(sorted(_CARRIER_FORMATS))
    prefix, digits = _CARRIER_FORMATS[carrier]
    return {"carrier": carrier, "tracking_number": prefix + "".join(rng.choices("0123456789", k=digits))}


def _generated_order(number: str, email: str, rng: random.Random, today: date) -> _SeedOrder:
    """A plausible random order whose dates, refunds and instalments agree with its status."""
    merchant, items, total = rng.choice(_CATALOGUE)
    status = rng.choices(ORDER_STATUSES, weights=(2, 3, 6, 1, 2))[0]

    def ago(low: int, high: int, since: date = today) -> date:
        return since - timedelta(days=rng.randint(low, high))

    if status == "cancelled":
        placed = ago(1, 30)
        schedule = _schedule(number, total, placed, today, count=1)
        requested = placed + timedelta(days=1)
        paid = requested <= today - timedelta(days=7)
        refund = Refund(
            number, schedule[0].amount_cents, "paid" if paid else "approved", requested,
            requested + timedelta(days=7), requested + timedelta(days=5) if paid else None,
            "Order cancelled before shipping",
        )
        order = _order(number, email, merchant, items, total, status, placed_at=placed)
        return _SeedOrder(order, (refund,), schedule)
    if status == "processing":
        placed = ago(0, 2)
        order = _order(
            number, email, merchant, items, total, status,
            placed_at=placed, expected_delivery=today + timedelta(days=rng.randint(2, 5)),
        )
        return _SeedOrder(order, (), _schedule(number, total, placed, today))
    if status == "shipped":
        shipped = ago(0, 3)
        placed = ago(1, 4, shipped)
        order = _order(
            number, email, merchant, items, total, status, placed_at=placed, shipped_at=shipped,
            expected_delivery=today + timedelta(days=rng.randint(1, 3)), **_shipping(rng),
        )
        return _SeedOrder(order, (), _schedule(number, total, placed, today))

    # Delivered or returned. Returns are old enough that every instalment and the refund are paid.
    delivered = ago(45, 70) if status == "returned" else ago(1, 60)
    shipped = ago(1, 3, delivered)
    placed = ago(1, 3, shipped)
    order = _order(
        number, email, merchant, items, total, status, placed_at=placed, shipped_at=shipped,
        delivered_at=delivered, expected_delivery=delivered, **_shipping(rng),
    )
    refunds_made: tuple[Refund, ...] = ()
    if status == "returned":
        requested = delivered + timedelta(days=rng.randint(3, 10))
        refunds_made = (
            Refund(
                number, total, "paid", requested, requested + timedelta(days=10),
                requested + timedelta(days=rng.randint(5, 9)), "Changed my mind",
            ),
        )
    return _SeedOrder(order, refunds_made, _schedule(number, total, placed, today))


def demo_orders(today: date) -> list[_SeedOrder]:
    """All demo orders for a database seeded on `today`; the same `today` always gives the same data."""
    rng = random.Random(DEMO_RANDOM_SEED)
    seeded = _guaranteed_orders(today)
    with_orders = {seed.order.customer_email for seed in seeded}
    # Every customer gets at least one order: first those without one, then anyone at random.
    emails = [email for email, _ in DEMO_CUSTOMERS if email not in with_orders]
    while len(emails) < len(DEMO_GENERATED_ORDERS):
        emails.append(rng.choice(DEMO_CUSTOMERS)[0])
    for number, email in zip(DEMO_GENERATED_ORDERS, emails, strict=True):
        seeded.append(_generated_order(f"KL-{number}", email, rng, today))
    return seeded


def _insert(connection: Connection, table: Table, records: Sequence[Any]) -> None:
    """Inserts dataclass records as rows (their field names are the column names)."""
    if records:
        connection.execute(table.insert(), [asdict(record) for record in records])


def seed_demo_data(engine: Engine, today: date | None = None) -> int:
    """Fills an empty shop database with the demo data and returns how many orders it added.

    A database that already holds any order is left untouched (returns 0), so re-running never
    duplicates rows and never mixes demo orders into real ones. Everything is written in one
    transaction, so an interrupted seed leaves nothing half-done.
    """
    today = today or date.today()
    with engine.begin() as connection:
        if connection.execute(select(orders.c.order_number).limit(1)).first() is not None:
            return 0
        seeded = demo_orders(today)
        connection.execute(customers.insert(), [{"email": email, "name": name} for email, name in DEMO_CUSTOMERS])
        _insert(connection, orders, [seed.order for seed in seeded])
        _insert(connection, refunds, [refund for seed in seeded for refund in seed.refunds])
        _insert(connection, instalments, [instalment for seed in seeded for instalment in seed.instalments])
    return len(seeded)
