"""The shop's rows as the look-ups and the demo data handle them: frozen dataclasses whose fields are
the table columns of the same name (`schema`), amounts in cents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Order:
    """One order as the customer sees it; amounts are in cents."""

    order_number: str
    customer_email: str
    merchant: str
    items: str
    total_cents: int
    currency: str
    status: str
    carrier: str | None
    tracking_number: str | None
    placed_at: date
    shipped_at: date | None
    delivered_at: date | None
    expected_delivery: date | None


@dataclass(frozen=True)
class Refund:
    """One refund on an order; `expected_by` and `paid_at` are empty until they apply."""

    order_number: str
    amount_cents: int
    status: str
    requested_at: date
    expected_by: date | None
    paid_at: date | None
    reason: str


@dataclass(frozen=True)
class Instalment:
    """One of the four Pay-in-4 payments of an order."""

    order_number: str
    number: int
    due_date: date
    amount_cents: int
    status: str
