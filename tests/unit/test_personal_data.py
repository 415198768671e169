"""Personal data masked where text leaves the console: Slack alerts show no customer's email."""

from __future__ import annotations

from handoff.personal_data import mask_emails
from handoff.slack.alerts import render
from handoff.slack.state import AlertPost


def test_an_alert_masks_the_customers_email_addresses() -> None:
    post = AlertPost(channel="#agents", ts="1.0", event="1-0", reason="request_human", priority=3,
                     summary='Asked for a person · last said "mail me at Anna.Berg+shop@mail.example.co.uk" · '
                             "email anna.berg@example.com, order_number KL-100001",
                     customer_channel="socketio", status="Waiting in the queue")
    shown = str(render(post, "http://console"))
    assert "anna.berg" not in shown.lower() and "example.com" not in shown
    assert "A•••@m•••.uk" in shown and "a•••@e•••.com" in shown
    assert "KL-100001" in shown  # what an agent needs to find the order stays


def test_masking_leaves_text_without_an_address_alone() -> None:
    text = "the price is 5 @ 10 EUR, see paylater.com or @alice"
    assert mask_emails(text) == text
