"""The look-up form's validation and the status answers, run through rasa_sdk as Rasa would."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.engine import Engine

from actions.failed_checks import failed_checks as action_server_counter
from actions.order_lookup import (
    ActionLookupStatus,
    ValidateOrderLookupForm,
    describe_payments,
    format_amount,
    format_date,
)
from actions.shop.demo_data import demo_orders
from actions.shop.queries import find_order, instalments_for, refunds_for
from tests.free_port import free_port
from tests.redis_server import RedisServer
from tests.settings_env import forget_loaded_settings
from tests.unit.conftest import FailedCheckCounts

RunAction = Callable[[Action, Tracker], tuple[dict[str, Any], list[str]]]
MakeTracker = Callable[..., Tracker]

VALIDATE = ValidateOrderLookupForm()
LOOKUP = ActionLookupStatus()


def test_actions_have_the_names_in_the_domain(domain) -> None:
    assert {VALIDATE.name(), LOOKUP.name()} <= set(domain["actions"])


@pytest.mark.parametrize(
    ("cents", "text"), [(0, "€0.00"), (5, "€0.05"), (2350, "€23.50"), (102350, "€1,023.50")]
)
def test_amounts_are_shown_in_euros(cents: int, text: str) -> None:
    assert format_amount(cents) == text


def test_dates_are_written_out() -> None:
    assert format_date(date(2026, 12, 3)) == "3 December 2026"


# --- Validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["KL-100001", "kl 100001", "it's kl-100001 thanks", "#KL100001", ["nonsense", "KL-100001"]]
)
def test_a_known_order_number_is_kept_in_its_standard_form(
    seeded_engine: Engine, run_action: RunAction, make_tracker: MakeTracker, typed: object
) -> None:
    slots, messages = run_action(VALIDATE, make_tracker(candidates={"order_number": typed}))

    assert slots["order_number"] == "KL-100001"
    assert messages == []


@pytest.mark.parametrize(
    "typed",
    ["it is KL-1234", "", "<script>alert(1)</script>", pytest.param("x" * 100_000, id="huge"), ["a", "b"]],
)
def test_a_badly_formed_order_number_explains_the_format(
    seeded_engine: Engine, run_action: RunAction, make_tracker: MakeTracker, failed_checks: FailedCheckCounts,
    typed: object
) -> None:
    slots, messages = run_action(VALIDATE, make_tracker(candidates={"order_number": typed}))

    assert slots["order_number"] is None
    assert failed_checks() == 1
    assert len(messages) == 1
    assert "KL-" in messages[0] and "6 digits" in messages[0] and "confirmation email" in messages[0]


def test_an_unknown_order_is_asked_for_again(seeded_engine: Engine, run_action: RunAction, make_tracker: MakeTracker) -> None:
    slots, messages = run_action(VALIDATE, make_tracker(candidates={"order_number": "KL-999999"}))

    assert slots["order_number"] is None
    expected = (
        "I couldn't find order KL-999999. Please check the number in your order confirmation email "
        "and type it again."
    )
    assert messages == [expected]


@pytest.mark.parametrize("typed", ["anna.berg", "anna@", "<b>not an email</b>", ""])
def test_a_badly_formed_email_is_asked_for_again(
    seeded_engine: Engine, run_action: RunAction, make_tracker: MakeTracker, typed: str
) -> None:
    tracker = make_tracker(slots={"order_number": "KL-100001"}, candidates={"email": typed})
    slots, messages = run_action(VALIDATE, tracker)

    assert slots["email"] is None
    assert "order_number" not in slots
    assert len(messages) == 1 and "email address" in messages[0]


def test_the_email_on_the_order_verifies_it(seeded_engine: Engine, run_action: RunAction, make_tracker: MakeTracker) -> None:
    tracker = make_tracker(
        slots={"order_number": "KL-100001"}, candidates={"email": "It's Anna.Berg@example.com"}
    )
    slots, messages = run_action(VALIDATE, tracker)

    assert slots == {"email": "anna.berg@example.com", "verified_order": "KL-100001"}
    assert messages == []


def test_both_details_in_one_message_verify_the_order(seeded_engine: Engine, run_action: RunAction, make_tracker: MakeTracker) -> None:
    tracker = make_tracker(candidates={"order_number": "KL-100005", "email": "chloe.martin@example.com"})
    slots, messages = run_action(VALIDATE, tracker)

    assert slots["verified_order"] == "KL-100005"
    assert messages == []


def test_an_email_given_first_is_checked_when_the_order_number_follows(
    seeded_engine: Engine, run_action: RunAction, make_tracker: MakeTracker
) -> None:
    first, _ = run_action(VALIDATE, make_tracker(candidates={"email": "ben.okafor@example.com"}))
    assert first == {"email": "ben.okafor@example.com"}

    tracker = make_tracker(slots={"email": "ben.okafor@example.com"}, candidates={"order_number": "KL-100001"})
    slots, messages = run_action(VALIDATE, tracker)
    assert slots["order_number"] is None and slots["email"] is None
    assert len(messages) == 1


def test_a_mismatched_email_resets_both_details_without_revealing_the_real_one(
    seeded_engine: Engine, run_action: RunAction, make_tracker: MakeTracker, failed_checks: FailedCheckCounts
) -> None:
    tracker = make_tracker(slots={"order_number": "KL-100001"}, candidates={"email": "someone.else@example.com"})
    slots, messages = run_action(VALIDATE, tracker)

    assert slots["order_number"] is None
    assert slots["email"] is None
    assert slots.get("verified_order") is None
    assert failed_checks() == 1
    assert len(messages) == 1
    assert "doesn't match" in messages[0]
    assert "anna" not in messages[0].lower()


def test_changing_the_order_number_drops_the_earlier_verification(
    seeded_engine: Engine, run_action: RunAction, make_tracker: MakeTracker
) -> None:
    tracker = make_tracker(slots={"verified_order": "KL-100001"}, candidates={"order_number": "KL-100003"})
    slots, _ = run_action(VALIDATE, tracker)

    assert slots == {"order_number": "KL-100003", "verified_order": None}


def test_success_clears_earlier_failures(
    seeded_engine: Engine, run_action: RunAction, make_tracker: MakeTracker, failed_checks: FailedCheckCounts
) -> None:
    failed_checks.set(2)
    tracker = make_tracker(slots={"order_number": "KL-100003"}, candidates={"email": "ben.okafor@example.com"})
    slots, _ = run_action(VALIDATE, tracker)

    assert slots["verified_order"] == "KL-100003"
    assert failed_checks() == 0


@pytest.mark.parametrize(
    ("slots", "candidates"),
    [
        ({}, {"order_number": "KL-1234"}),
        ({}, {"order_number": "KL-999999"}),
        ({"order_number": "KL-100001"}, {"email": "not-an-email"}),
        ({"order_number": "KL-100001"}, {"email": "someone.else@example.com"}),
        ({}, {"order_number": "KL-999999", "email": "anna.berg@example.com"}),
    ],
)
def test_the_last_allowed_failure_ends_the_look_up(
    seeded_engine: Engine, run_action: RunAction, make_tracker: MakeTracker, failed_checks: FailedCheckCounts,
    slots: dict, candidates: dict
) -> None:
    failed_checks.set(2)
    events, messages = run_action(VALIDATE, make_tracker(slots=slots, candidates=candidates))

    assert events["requested_slot"] is None
    assert events["order_number"] is None and events["email"] is None
    assert failed_checks() == 0
    assert len(messages) == 1
    assert "stop" in messages[0] and "support team" in messages[0]
    assert "anna" not in messages[0].lower()


def test_the_caller_cannot_reset_the_count_through_the_tracker(
    seeded_engine: Engine, run_action: RunAction, make_tracker: MakeTracker, failed_checks: FailedCheckCounts
) -> None:
    """The tracker is the caller's to write: a slot claiming no failures changes nothing."""
    failed_checks.set(2)
    tracker = make_tracker(slots={"order_number": "KL-100001", "lookup_failures": 0.0},
                           candidates={"email": "guess@example.com"})
    events, messages = run_action(VALIDATE, tracker)

    assert events["requested_slot"] is None
    assert "support team" in messages[0]


def test_each_conversation_counts_its_own_failures(
    seeded_engine: Engine, run_action: RunAction, make_tracker: MakeTracker, failed_checks: FailedCheckCounts
) -> None:
    failed_checks.set(2, sender_id="someone-else")
    slots, messages = run_action(VALIDATE, make_tracker(candidates={"order_number": "KL-1234"}))

    assert "requested_slot" not in slots and "support team" not in messages[0]
    assert (failed_checks(), failed_checks("someone-else")) == (1, 2)


def test_failures_that_cannot_be_counted_end_the_look_up(
    seeded_engine: Engine, make_tracker: MakeTracker, domain: DomainDict, redis_server: RedisServer,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without Redis no guess can be counted, so none is allowed."""
    monkeypatch.setenv("HANDOFF_REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    forget_loaded_settings()
    action_server_counter.cache_clear()
    dispatcher = CollectingDispatcher()
    try:
        events = asyncio.run(VALIDATE.run(dispatcher, make_tracker(candidates={"order_number": "KL-1234"}), domain))
    finally:
        action_server_counter.cache_clear()
    slots = {event["name"]: event["value"] for event in events if event["event"] == "slot"}
    assert slots["requested_slot"] is None and slots["order_number"] is None
    assert "can't reach our order system" in dispatcher.messages[0]["text"]


def test_the_attempt_limit_comes_from_the_settings(
    seeded_engine: Engine, run_action: RunAction, make_tracker: MakeTracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAYLATER_MAX_LOOKUP_ATTEMPTS", "1")
    slots, messages = run_action(VALIDATE, make_tracker(candidates={"order_number": "KL-1234"}))

    assert slots["requested_slot"] is None
    assert "support team" in messages[0]


@pytest.mark.parametrize("broken", ["unreachable_db", "corrupt_db"])
def test_validation_keeps_going_when_the_database_is_down(
    run_action: RunAction, make_tracker: MakeTracker, request: pytest.FixtureRequest, broken: str
) -> None:
    request.getfixturevalue(broken)
    tracker = make_tracker(candidates={"order_number": "KL-100001", "email": "anna.berg@example.com"})
    slots, messages = run_action(VALIDATE, tracker)

    assert slots == {"order_number": "KL-100001", "email": "anna.berg@example.com"}
    assert messages == []


# --- Answers -------------------------------------------------------------------------------------


def _lookup(run_action: RunAction, make_tracker: MakeTracker, order_number: str, email: str, lookup_type: str | None) -> str:
    tracker = make_tracker(slots={"order_number": order_number, "email": email, "lookup_type": lookup_type})
    slots, messages = run_action(LOOKUP, tracker)
    assert slots == {}
    assert len(messages) == 1
    return messages[0]


@pytest.mark.parametrize("lookup_type", ["order", None, "something odd"])
def test_order_status_of_a_shipped_order(seeded_engine: Engine, run_action: RunAction, make_tracker: MakeTracker, lookup_type) -> None:
    order = find_order("KL-100001")
    answer = _lookup(run_action, make_tracker, "KL-100001", "anna.berg@example.com", lookup_type)

    assert "is on its way" in answer
    assert "Nordlicht Outdoor" in answer and "Trail running shoes" in answer and "€189.90" in answer
    assert f"shipped on {format_date(order.shipped_at)} with DHL (tracking number 00340434161094042557)" in answer
    assert f"Expected delivery: {format_date(order.expected_delivery)}" in answer


def test_order_status_of_a_processing_order(seeded_engine: Engine, run_action: RunAction, make_tracker: MakeTracker) -> None:
    answer = _lookup(run_action, make_tracker, "KL-100003", "ben.okafor@example.com", "order")

    assert "hasn't shipped yet" in answer and "Expected delivery" in answer
    assert "tracking" not in answer


def test_order_status_of_a_delivered_order(seeded_engine: Engine, run_action: RunAction, make_tracker: MakeTracker) -> None:
    order = find_order("KL-100005")
    answer = _lookup(run_action, make_tracker, "KL-100005", "chloe.martin@example.com", "order")

    assert answer.startswith("Order KL-100005 from Kleine Welt Toys (Wooden train set, Play mat, €89.90) has been")
    assert f"and delivered on {format_date(order.delivered_at)}." in answer
    assert "GLS" in answer and "Expected delivery" not in answer


def test_order_status_of_returned_and_cancelled_orders(seeded_engine: Engine, run_action: RunAction, make_tracker: MakeTracker) -> None:
    assert "was returned" in _lookup(run_action, make_tracker, "KL-100002", "anna.berg@example.com", "order")
    assert "was cancelled" in _lookup(run_action, make_tracker, "KL-100007", "emma.schulz@example.com", "order")


def test_refund_being_processed(seeded_engine: Engine, run_action: RunAction, make_tracker: MakeTracker) -> None:
    (refund,) = refunds_for("KL-100002")
    answer = _lookup(run_action, make_tracker, "KL-100002", "anna.berg@example.com", "refund")

    assert "€129.00" in answer and "is being processed" in answer
    assert format_date(refund.expected_by) in answer


def test_refund_paid(seeded_engine: Engine, run_action: RunAction, make_tracker: MakeTracker) -> None:
    (refund,) = refunds_for("KL-100004")
    answer = _lookup(run_action, make_tracker, "KL-100004", "carla.mendes@example.com", "refund")

    assert answer == f"Your refund for order KL-100004: €219.00 was paid back on {format_date(refund.paid_at)}."


def test_refund_rejected_gives_the_reason(seeded_engine: Engine, run_action: RunAction, make_tracker: MakeTracker) -> None:
    answer = _lookup(run_action, make_tracker, "KL-100006", "david.nguyen@example.com", "refund")

    assert "not approved by the shop" in answer and "30-day return window" in answer
    assert "support team" in answer


def test_several_refunds_are_listed(seeded_engine: Engine, run_action: RunAction, make_tracker: MakeTracker) -> None:
    answer = _lookup(run_action, make_tracker, "KL-100008", "farid.haddad@example.com", "refund")

    assert answer.startswith("There are 2 refunds on order KL-100008")
    assert "\n- €29.90 was paid back on" in answer
    assert "\n- €14.90, requested on" in answer and "waiting for the shop to confirm it" in answer


def test_no_refund_requested(seeded_engine: Engine, run_action: RunAction, make_tracker: MakeTracker) -> None:
    answer = _lookup(run_action, make_tracker, "KL-100003", "ben.okafor@example.com", "refund")

    assert answer == "No refund has been requested for order KL-100003."


def test_payment_schedule_with_instalments_to_come(seeded_engine: Engine, run_action: RunAction, make_tracker: MakeTracker) -> None:
    plan = instalments_for("KL-100001")
    answer = _lookup(run_action, make_tracker, "KL-100001", "anna.berg@example.com", "payment")

    assert f"next instalment of €47.47 is due on {format_date(plan[2].due_date)}" in answer
    assert "Still to pay on order KL-100001: 2 of 4 instalments, €94.94 in total." in answer
    assert "overdue" not in answer


def test_payment_schedule_flags_overdue_instalments(seeded_engine: Engine, run_action: RunAction, make_tracker: MakeTracker) -> None:
    plan = instalments_for("KL-100005")
    answer = _lookup(run_action, make_tracker, "KL-100005", "chloe.martin@example.com", "payment")

    assert f"Instalment 3 of €22.47 was due on {format_date(plan[2].due_date)} and is overdue" in answer
    assert f"next instalment of €22.47 is due on {format_date(plan[3].due_date)}" in answer
    assert "Still to pay on order KL-100005: 2 of 4 instalments, €44.94 in total." in answer


def test_payment_schedule_fully_paid_and_cancelled(seeded_engine: Engine, run_action: RunAction, make_tracker: MakeTracker) -> None:
    assert "fully paid" in _lookup(run_action, make_tracker, "KL-100004", "carla.mendes@example.com", "payment")
    assert "no further payments" in _lookup(run_action, make_tracker, "KL-100007", "emma.schulz@example.com", "payment")


def test_an_unpaid_instalment_past_its_date_counts_as_overdue() -> None:
    first = demo_orders(date(2026, 1, 1))[0]  # KL-100001: instalments 3 and 4 still "due"
    day_after = first.instalments[2].due_date + timedelta(days=1)

    answer = describe_payments(first.order, first.instalments, today=day_after)

    assert "Instalment 3 of €47.47 was due" in answer and "is overdue" in answer
    assert "next instalment of €47.47 is due on" in answer


def test_a_mismatched_pair_is_never_answered(seeded_engine: Engine, run_action: RunAction, make_tracker: MakeTracker) -> None:
    for lookup_type in ("order", "refund", "payment"):
        answer = _lookup(run_action, make_tracker, "KL-100001", "ben.okafor@example.com", lookup_type)
        assert answer.startswith("I couldn't match that order number with that email address")
        assert "anna" not in answer and "Nordlicht" not in answer


def test_an_unknown_order_is_not_answered(seeded_engine: Engine, run_action: RunAction, make_tracker: MakeTracker) -> None:
    answer = _lookup(run_action, make_tracker, "KL-999999", "anna.berg@example.com", "order")

    assert answer.startswith("I couldn't match")


def test_nothing_is_said_without_both_details(seeded_engine: Engine, run_action: RunAction, make_tracker: MakeTracker) -> None:
    slots, messages = run_action(LOOKUP, make_tracker(slots={"order_number": "KL-100001"}))

    assert (slots, messages) == ({}, [])


@pytest.mark.parametrize("broken", ["unreachable_db", "corrupt_db"])
def test_a_database_outage_gets_a_polite_answer(
    run_action: RunAction, make_tracker: MakeTracker, request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture, broken: str
) -> None:
    request.getfixturevalue(broken)
    caplog.set_level(logging.ERROR)

    answer = _lookup(run_action, make_tracker, "KL-100001", "anna.berg@example.com", "payment")

    assert answer == "I can't reach our order system right now. Please try again in a few minutes."
    assert "Looking up order KL-100001 failed" in caplog.text


def test_an_unseeded_database_gets_a_polite_answer(db_url: str, run_action: RunAction, make_tracker: MakeTracker) -> None:
    answer = _lookup(run_action, make_tracker, "KL-100001", "anna.berg@example.com", "order")

    assert answer.startswith("I can't reach our order system")
