"""The shop database layer: seeding, the documented demo orders, read functions and normalisers."""

from __future__ import annotations

import dataclasses
import logging
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from actions.shop import demo_data, normalise, queries, schema, seed
from actions.shop.records import Order

TODAY = date(2026, 3, 2)


def _count(engine: Engine, table) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


def _all_orders(engine: Engine) -> list[Order]:
    with engine.connect() as connection:
        numbers = connection.execute(select(schema.orders.c.order_number)).scalars().all()
    return [queries.find_order(number, engine) for number in numbers]


def test_seeding_twice_adds_nothing_the_second_time(seeded_engine: Engine) -> None:
    counts = {table.name: _count(seeded_engine, table) for table in schema.metadata.sorted_tables}

    schema.create_schema(seeded_engine)
    assert demo_data.seed_demo_data(seeded_engine) == 0

    assert {table.name: _count(seeded_engine, table) for table in schema.metadata.sorted_tables} == counts
    assert counts["orders"] == 25
    assert counts["customers"] == 12


def test_the_same_day_always_gives_the_same_data() -> None:
    assert demo_data.demo_orders(TODAY) == demo_data.demo_orders(TODAY)


def test_every_customer_has_an_order_and_every_order_a_customer(seeded_engine: Engine) -> None:
    with seeded_engine.connect() as connection:
        customers = set(connection.execute(select(schema.customers.c.email)).scalars())
        ordering = set(connection.execute(select(schema.orders.c.customer_email)).scalars())
    assert customers == ordering


def test_seeded_data_is_consistent(seeded_engine: Engine) -> None:
    today = date.today()
    for order in _all_orders(seeded_engine):
        assert order.order_number == normalise.normalise_order_number(order.order_number)
        assert order.status in schema.ORDER_STATUSES
        assert order.currency == "EUR"
        if order.shipped_at:
            assert order.placed_at <= order.shipped_at <= today
            assert order.carrier and order.tracking_number
        if order.delivered_at:
            assert order.shipped_at <= order.delivered_at <= today
        plan = queries.instalments_for(order.order_number, seeded_engine)
        if order.status == "cancelled":
            assert [i.number for i in plan] == [1]
        else:
            assert [i.number for i in plan] == [1, 2, 3, 4]
            assert sum(i.amount_cents for i in plan) == order.total_cents
        assert all(i.due_date > today for i in plan if i.status == "due")
        for refund in queries.refunds_for(order.order_number, seeded_engine):
            assert refund.requested_at <= today
            assert (refund.paid_at is not None) == (refund.status == "paid")
            assert refund.paid_at is None or refund.paid_at <= today


@pytest.mark.parametrize(
    ("order_number", "email", "status"),
    [
        ("KL-100001", "anna.berg@example.com", "shipped"),
        ("KL-100002", "anna.berg@example.com", "returned"),
        ("KL-100003", "ben.okafor@example.com", "processing"),
        ("KL-100004", "carla.mendes@example.com", "returned"),
        ("KL-100005", "chloe.martin@example.com", "delivered"),
        ("KL-100006", "david.nguyen@example.com", "delivered"),
        ("KL-100007", "emma.schulz@example.com", "cancelled"),
        ("KL-100008", "farid.haddad@example.com", "delivered"),
    ],
)
def test_documented_demo_orders_exist(seeded_engine: Engine, order_number: str, email: str, status: str) -> None:
    order = queries.find_order(order_number, seeded_engine)
    assert order is not None
    assert (order.customer_email, order.status) == (email, status)


def test_documented_demo_order_details() -> None:
    seeded = {seed.order.order_number: seed for seed in demo_data.demo_orders(TODAY)}

    first = seeded["KL-100001"]
    assert first.order.carrier == "DHL" and first.order.tracking_number
    assert [i.status for i in first.instalments] == ["paid", "paid", "due", "due"]
    assert first.instalments[2].due_date > TODAY
    assert [(r.status, r.amount_cents) for r in seeded["KL-100002"].refunds] == [("processing", 12900)]
    assert [i.status for i in seeded["KL-100003"].instalments] == ["paid", "due", "due", "due"]
    assert [r.status for r in seeded["KL-100004"].refunds] == ["paid"]
    assert [i.status for i in seeded["KL-100004"].instalments] == ["paid"] * 4
    assert [i.status for i in seeded["KL-100005"].instalments] == ["paid", "paid", "overdue", "due"]
    assert [r.status for r in seeded["KL-100006"].refunds] == ["rejected"]
    assert [r.status for r in seeded["KL-100007"].refunds] == ["approved"]
    assert [r.status for r in seeded["KL-100008"].refunds] == ["paid", "requested"]


def test_dates_follow_the_day_of_seeding(db_url: str) -> None:
    engine = queries.engine_for(db_url)
    schema.create_schema(engine)
    demo_data.seed_demo_data(engine, today=TODAY)

    order = queries.find_order("KL-100001", engine)
    assert order.placed_at == TODAY - timedelta(days=16)
    assert order.expected_delivery == TODAY + timedelta(days=1)


def test_read_functions_return_frozen_records_in_order(seeded_engine: Engine) -> None:
    order = queries.find_order("KL-100008", seeded_engine)
    refunds = queries.refunds_for("KL-100008", seeded_engine)
    plan = queries.instalments_for("KL-100008", seeded_engine)

    assert [r.requested_at for r in refunds] == sorted(r.requested_at for r in refunds)
    assert [i.number for i in plan] == [1, 2, 3, 4]
    with pytest.raises(dataclasses.FrozenInstanceError):
        order.status = "delivered"  # type: ignore[misc]


def test_unknown_orders_have_nothing(seeded_engine: Engine) -> None:
    assert queries.find_order("KL-999999", seeded_engine) is None
    assert queries.refunds_for("KL-999999", seeded_engine) == ()
    assert queries.instalments_for("KL-999999", seeded_engine) == ()
    assert queries.refunds_for("KL-100003", seeded_engine) == ()


def test_read_functions_use_the_configured_database_by_default(seeded_engine: Engine) -> None:
    assert queries.find_order("KL-100003").customer_email == "ben.okafor@example.com"


def test_seeding_refuses_to_mix_demo_data_into_a_database_with_orders(seeded_engine: Engine) -> None:
    with seeded_engine.begin() as connection:
        connection.execute(schema.instalments.delete())
        connection.execute(schema.refunds.delete())
        connection.execute(schema.orders.delete().where(schema.orders.c.order_number != "KL-100003"))

    assert demo_data.seed_demo_data(seeded_engine) == 0
    assert _count(seeded_engine, schema.orders) == 1


@pytest.mark.parametrize(
    "text",
    [
        "KL-123456",
        "kl-123456",
        "KL123456",
        "KL 123456",
        "#KL-123456",
        "it's kl 123456 thanks",
        "Order: KL–123456.",
        "<b>KL-123456</b>",
        "ＫＬ－１２３４５６",
        "KL\u00a0123456",
    ],
)
def test_order_numbers_are_found_however_they_are_typed(text: str) -> None:
    assert normalise.normalise_order_number(text) == "KL-123456"


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "   ",
        42,
        ["KL-123456"],
        "KL-1234",
        "KL-1234567",
        "XKL-123456",
        "AB-123456",
        "123456",
        "KL-١٢٣٤٥٦",
        "<script>alert('KL')</script>",
        pytest.param("x" * 1_000_000, id="huge"),
    ],
)
def test_anything_else_is_not_an_order_number(text: object) -> None:
    assert normalise.normalise_order_number(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("anna.berg@example.com", "anna.berg@example.com"),
        ("Anna.Berg@Example.COM", "anna.berg@example.com"),
        ("my email is anna.berg@example.com.", "anna.berg@example.com"),
        ("it's <anna.berg@example.com>, thanks!", "anna.berg@example.com"),
        ("mailto:anna.berg@example.com", "anna.berg@example.com"),
        ("&lt;b&gt;anna.berg@example.com&lt;/b&gt;", "anna.berg@example.com"),
        ("ｂｅｎ＠ｅｘａｍｐｌｅ．ｃｏｍ", "ben@example.com"),
        ("first.last+shop@mail.example.co.uk", "first.last+shop@mail.example.co.uk"),
    ],
)
def test_email_addresses_are_found_and_lower_cased(text: str, expected: str) -> None:
    assert normalise.normalise_email(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        17,
        "anna.berg",
        "anna.berg@",
        "@example.com",
        "anna@example",
        "anna@example.c",
        "anna..berg@example.com",
        "anna@-example.com",
        "anna@exa_mple.com",
        "jörg@exämple.de",
        "<script>alert('a@b')</script>",
        "a" * 65 + "@example.com",
        "anna@" + "a" * 250 + ".com",
        pytest.param("a@" * 500_000, id="huge"),
    ],
)
def test_anything_else_is_not_an_email_address(text: object) -> None:
    assert normalise.normalise_email(text) is None


def test_huge_input_is_handled_quickly() -> None:
    text = ("word " * 400_000) + "KL-100001 anna.berg@example.com"
    started = time.perf_counter()
    assert normalise.normalise_order_number(text) == "KL-100001"
    assert normalise.normalise_email(text) == "anna.berg@example.com"
    assert time.perf_counter() - started < 5


def test_seed_command_creates_the_folder_and_is_idempotent(
    tmp_path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "nested" / "var" / "shop.sqlite3"
    monkeypatch.setenv("PAYLATER_DATABASE_URL", f"sqlite:///{path}")
    caplog.set_level(logging.INFO)

    seed.main()
    seed.main()

    assert path.exists()
    assert "Seeded 25 demo orders" in caplog.text
    assert "nothing to seed" in caplog.text
    assert _count(queries.engine_for(f"sqlite:///{path}"), schema.orders) == 25
