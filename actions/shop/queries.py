"""Read functions of the shop database, on the configured database unless given an engine.

The URL comes from `get_settings().database_url` (a SQLite file by default).
"""

from __future__ import annotations

from dataclasses import fields
from functools import lru_cache
from typing import TypeVar

from sqlalchemy import Table, create_engine, select
from sqlalchemy.engine import Engine

from actions.shop.records import Instalment, Order, Refund
from actions.shop.schema import instalments, orders, refunds
from rasa_bot.settings import get_settings

Record = TypeVar("Record", Order, Refund, Instalment)


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """Returns one engine per URL, so look-ups share its connection pool."""
    return create_engine(url, future=True)


def _engine(engine: Engine | None) -> Engine:
    return engine if engine is not None else engine_for(get_settings().database_url)


def _read(engine: Engine | None, record: type[Record], table: Table, order_number: str) -> list[Record]:
    """Reads the rows of `table` for one order as `record` dataclasses, oldest key first."""
    columns = [table.c[field.name] for field in fields(record)]
    query = select(*columns).where(table.c.order_number == order_number).order_by(*table.primary_key)
    with _engine(engine).connect() as connection:
        return [record(**row) for row in connection.execute(query).mappings()]


def find_order(order_number: str, engine: Engine | None = None) -> Order | None:
    """Returns the order with this exact number (as `normalise_order_number` gives it), or None."""
    found = _read(engine, Order, orders, order_number)
    return found[0] if found else None


def refunds_for(order_number: str, engine: Engine | None = None) -> tuple[Refund, ...]:
    """Returns the order's refunds in the order they were requested; empty when there are none."""
    return tuple(_read(engine, Refund, refunds, order_number))


def instalments_for(order_number: str, engine: Engine | None = None) -> tuple[Instalment, ...]:
    """Returns the order's instalments by number; empty when it has no payment plan."""
    return tuple(_read(engine, Instalment, instalments, order_number))
