"""The bot on its own, end to end: real Rasa server, real action server, real shop database."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from actions.shop.queries import find_order
from actions.shop.records import Order
from rasa_bot.system import SystemLayout
from tests.integration.domain_texts import response_text
from tests.integration.rest_client import RestCustomer

pytestmark = pytest.mark.model


def test_faq_is_answered_with_its_response(bot_system: SystemLayout) -> None:
    customer = RestCustomer(bot_system)
    assert customer.say("how much is the late fee if I miss a payment?") == [
        response_text("utter_faq/late_fees")
    ]


def test_greeting_and_bot_challenge(bot_system: SystemLayout) -> None:
    customer = RestCustomer(bot_system)
    assert customer.say("hello") == [response_text("utter_greet")]
    assert customer.say("am I talking to a bot?") == [response_text("utter_iamabot")]


def test_order_status_lookup_from_the_database(bot_system: SystemLayout) -> None:
    customer = RestCustomer(bot_system)
    assert customer.say("where is my order?") == [response_text("utter_ask_order_number")]
    assert customer.say("KL-100001") == [response_text("utter_ask_email")]
    answer = " ".join(customer.say("anna.berg@example.com"))
    order = find_order_in_test_db(bot_system, "KL-100001")
    assert "KL-100001" in answer
    assert order.tracking_number in answer


def test_badly_formed_number_then_unknown_order_are_asked_again(bot_system: SystemLayout) -> None:
    customer = RestCustomer(bot_system)
    customer.say("what's the status of my refund")
    bad_format = " ".join(customer.say("it is KL-12"))
    assert "KL-" in bad_format and "6" in bad_format  # explains the format: KL- and six digits
    unknown = " ".join(customer.say("KL-999999"))
    assert "KL-999999" in unknown
    assert customer.say("KL-100003") == [response_text("utter_ask_email")]


@pytest.mark.parametrize(("opening", "answers", "ask"), [
    ("where is my order", [], "I want to talk to a person about KL-100003"),
    ("what's the status of my refund", ["KL-100003"], "just get me a human, my email is anna.berg@example.com"),
])
def test_a_request_for_a_person_inside_the_lookup_wins_over_its_number(
        bot_system: SystemLayout, opening: str, answers: list[str], ask: str) -> None:
    """A message that asks for a person hands off even when it also holds what the look-up asked for."""
    customer = RestCustomer(bot_system)
    customer.say(opening)
    for answer in answers:
        customer.say(answer)
    replies = customer.say(ask)
    assert replies[0] == response_text("utter_handoff_request_human")
    assert not {response_text("utter_ask_order_number"), response_text("utter_ask_email")} & set(replies)


def test_mismatched_email_resets_the_lookup(bot_system: SystemLayout) -> None:
    customer = RestCustomer(bot_system)
    customer.say("what's the status of my refund")
    customer.say("KL-100001")
    mismatch = " ".join(customer.say("someone.else@example.com"))
    assert "anna.berg@example.com" not in mismatch
    assert "match" in mismatch.lower()
    # both details were reset: the bot asks for the order number again
    assert response_text("utter_ask_order_number") in mismatch


def test_never_mind_stops_the_lookup(bot_system: SystemLayout) -> None:
    customer = RestCustomer(bot_system)
    customer.say("when is my next payment due")
    assert customer.say("never mind") == [response_text("utter_lookup_cancelled")]


NOT_UNDERSTOOD = {response_text("utter_please_rephrase"), response_text("utter_out_of_scope")}


@pytest.mark.parametrize("text", ["is it going to snow", "blorp zzkx quantum marmalade"])
def test_unclear_message_gets_rephrase_or_out_of_scope(bot_system: SystemLayout, text: str) -> None:
    """Either answer tells the customer the bot did not take the message as one it can answer."""
    customer = RestCustomer(bot_system)
    replies = customer.say(text)
    assert len(replies) == 1 and replies[0] in NOT_UNDERSTOOD, replies


def find_order_in_test_db(layout: SystemLayout, order_number: str) -> Order:
    """The order as the test system's database holds it."""
    engine = create_engine(layout.env["PAYLATER_DATABASE_URL"])
    try:
        order = find_order(order_number, engine=engine)
    finally:
        engine.dispose()
    assert order is not None
    return order
