"""The shop's tables (SQLAlchemy Core, so any SQLAlchemy URL works) and the statuses they allow.

Customers pay with "Pay in 4": one instalment at checkout, then one every two weeks.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import CheckConstraint, Column, Date, ForeignKey, Integer, MetaData, String, Table
from sqlalchemy.engine import Engine

ORDER_STATUSES = ("processing", "shipped", "delivered", "cancelled", "returned")
REFUND_STATUSES = ("requested", "approved", "processing", "paid", "rejected")
INSTALMENT_STATUSES = ("paid", "due", "overdue")
INSTALMENT_COUNT = 4


def _one_of(column: str, values: Sequence[str]) -> CheckConstraint:
    """Keeps unknown statuses out of the database, so the answers never meet one."""
    allowed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({allowed})")


metadata = MetaData()

customers = Table(
    "customers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("name", String(120), nullable=False),
)

orders = Table(
    "orders",
    metadata,
    Column("order_number", String(9), primary_key=True),
    Column("customer_email", String(254), ForeignKey("customers.email"), nullable=False, index=True),
    Column("merchant", String(120), nullable=False),
    Column("items", String(500), nullable=False),
    Column("total_cents", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(12), nullable=False),
    Column("carrier", String(40)),
    Column("tracking_number", String(40)),
    Column("placed_at", Date, nullable=False),
    Column("shipped_at", Date),
    Column("delivered_at", Date),
    Column("expected_delivery", Date),
    _one_of("status", ORDER_STATUSES),
    CheckConstraint("total_cents >= 0"),
)

refunds = Table(
    "refunds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_number", String(9), ForeignKey("orders.order_number"), nullable=False, index=True),
    Column("amount_cents", Integer, nullable=False),
    Column("status", String(12), nullable=False),
    Column("requested_at", Date, nullable=False),
    Column("expected_by", Date),
    Column("paid_at", Date),
    Column("reason", String(200), nullable=False),
    _one_of("status", REFUND_STATUSES),
    CheckConstraint("amount_cents > 0"),
)

instalments = Table(
    "instalments",
    metadata,
    Column("order_number", String(9), ForeignKey("orders.order_number"), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("due_date", Date, nullable=False),
    Column("amount_cents", Integer, nullable=False),
    Column("status", String(8), nullable=False),
    _one_of("status", INSTALMENT_STATUSES),
    CheckConstraint(f"number BETWEEN 1 AND {INSTALMENT_COUNT}"),
)


def create_schema(engine: Engine) -> None:
    """Creates any missing tables; existing tables and rows are left alone."""
    metadata.create_all(engine)
