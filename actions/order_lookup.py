"""Order, refund and payment look-ups: check who is asking, then answer from the shop database.

`validate_order_lookup_form` only lets the form finish with an order number that exists and the
email address on that order, so the bot never tells one customer about another's order.
`action_lookup_status` then answers, and checks the pair again before it does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import Any, TypeGuard

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.failed_checks import failed_checks
from actions.shop.normalise import normalise_email, normalise_order_number
from actions.shop.queries import find_order, instalments_for, refunds_for
from actions.shop.records import Instalment, Order, Refund
from handoff.store import StoreUnavailable
from rasa_bot.settings import get_settings

logger = logging.getLogger(__name__)

ORDER_NUMBER = "order_number"
EMAIL = "email"
VERIFIED_ORDER = "verified_order"
LOOKUP_TYPE = "lookup_type"

# Reading a damaged SQLite row can raise ValueError (an unparseable date) instead of a SQLAlchemy error.
DATABASE_ERRORS = (SQLAlchemyError, ValueError)

BAD_ORDER_NUMBER = "That doesn't look like one of our order numbers."
BAD_ORDER_NUMBER_RETRY = (
    "Order numbers are KL- followed by 6 digits, like KL-123456, and you'll find yours in your "
    "order confirmation email. Could you type it again?"
)
UNKNOWN_ORDER = "I couldn't find order {order_number}."
UNKNOWN_ORDER_RETRY = "Please check the number in your order confirmation email and type it again."
BAD_EMAIL = "That doesn't look like a complete email address."
BAD_EMAIL_RETRY = "Please type the address you used for the order, like name@example.com."
EMAIL_MISMATCH = "That email address doesn't match the one on that order."
EMAIL_MISMATCH_RETRY = (
    "To keep your details safe, let's start again: please give me the order number, and then the "
    "email address you used when you placed the order."
)
GIVE_UP = (
    "I'm sorry, I still can't match those details, so I'll stop trying here. A person on our "
    "support team can help you with this order."
)
NOT_MATCHED = (
    "I couldn't match that order number with that email address, so I can't share details of the "
    "order. Please check both and ask me again."
)
SYSTEM_UNAVAILABLE = "I can't reach our order system right now. Please try again in a few minutes."

_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)


def format_amount(cents: int) -> str:
    """Formats an amount in euro cents the way customers read it, e.g. '€1,023.50'."""
    return f"€{cents // 100:,}.{cents % 100:02d}"


def format_date(day: date) -> str:
    """Formats a date as '3 December 2026', whatever the server's locale is."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def _first_normalised(value: Any, normalise: Callable[[object], str | None]) -> str | None:
    """Normalises a slot value that may be text, a whole sentence or a list of extracted entities."""
    candidates = value if isinstance(value, (list, tuple)) else [value]
    return next((found for found in map(normalise, candidates) if found), None)


def _belongs_to(order: Order | None, email: str) -> TypeGuard[Order]:
    """True when the order exists and was placed with this (already normalised) email address."""
    return order is not None and order.customer_email.lower() == email


GIVE_UP_SLOTS = {ORDER_NUMBER: None, EMAIL: None, VERIFIED_ORDER: None, REQUESTED_SLOT: None}


async def _failed_check(
    dispatcher: CollectingDispatcher, tracker: Tracker, problem: str, retry: str, reset: dict[str, Any]
) -> dict[str, Any]:
    """Explains a failed check and counts it (in Redis, per conversation); once too many checks
    failed, or when they cannot be counted, ends the look-up.

    Ending it empties both details and sets `requested_slot` to None, which makes Rasa deactivate
    the form. The count starts again from zero for the next look-up.
    """
    try:
        failures = await failed_checks().count_failure(tracker.sender_id)
        if failures >= get_settings().max_lookup_attempts:
            await failed_checks().clear(tracker.sender_id)
            dispatcher.utter_message(text=f"{problem} {GIVE_UP}")
            return dict(GIVE_UP_SLOTS)
    except StoreUnavailable:
        logger.exception("Could not count a failed check; stopping the look-up")
        dispatcher.utter_message(text=f"{problem} {SYSTEM_UNAVAILABLE}")
        return dict(GIVE_UP_SLOTS)
    dispatcher.utter_message(text=f"{problem} {retry}")
    return reset


class ValidateOrderLookupForm(FormValidationAction):
    """Checks the order number and email of `order_lookup_form`, alone and as a pair."""

    def name(self) -> str:
        return "validate_order_lookup_form"

    async def validate_order_number(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Keeps a well-formed order number that exists; asks again for anything else."""
        order_number = _first_normalised(slot_value, normalise_order_number)
        if order_number is None:
            return await _failed_check(dispatcher, tracker, BAD_ORDER_NUMBER, BAD_ORDER_NUMBER_RETRY,
                                       {ORDER_NUMBER: None})
        try:
            order = find_order(order_number)
        except DATABASE_ERRORS:
            # Nothing is revealed yet; `action_lookup_status` will tell the customer the system is down.
            logger.exception("Could not check order %s; keeping it unchecked", order_number)
            return {ORDER_NUMBER: order_number}
        if order is None:
            problem = UNKNOWN_ORDER.format(order_number=order_number)
            return await _failed_check(dispatcher, tracker, problem, UNKNOWN_ORDER_RETRY, {ORDER_NUMBER: None})
        return {ORDER_NUMBER: order_number}

    async def validate_email(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Keeps a well-formed address; whether it belongs to the order is checked afterwards."""
        email = _first_normalised(slot_value, normalise_email)
        if email is None:
            return await _failed_check(dispatcher, tracker, BAD_EMAIL, BAD_EMAIL_RETRY, {EMAIL: None})
        return {EMAIL: email}

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Validates each slot, then the order number and email together.

        The pair is checked here, after both slot validators, because the customer may give the
        two in either order or in one message.
        """
        events = await super().get_validation_events(dispatcher, tracker, domain)
        changed = {event["name"] for event in events}
        if REQUESTED_SLOT in changed and tracker.get_slot(REQUESTED_SLOT) is None:
            # The look-up was given up in this turn: drop whatever a later validator kept.
            return events + [SlotSet(ORDER_NUMBER, None), SlotSet(EMAIL, None)]
        if changed & {ORDER_NUMBER, EMAIL}:
            outcome = await self._check_pair(dispatcher, tracker)
            events += [SlotSet(slot, value) for slot, value in outcome.items()]
        return events

    @staticmethod
    async def _check_pair(dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        """Marks the order verified when the email is the one on it; starts again when it is not."""
        order_number, email = tracker.get_slot(ORDER_NUMBER), tracker.get_slot(EMAIL)
        verified = None
        if order_number and email:
            try:
                order = find_order(order_number)
            except DATABASE_ERRORS:
                logger.exception("Could not check the email for order %s", order_number)
                return {}
            if not _belongs_to(order, email):
                reset = {ORDER_NUMBER: None, EMAIL: None, VERIFIED_ORDER: None}
                return await _failed_check(dispatcher, tracker, EMAIL_MISMATCH, EMAIL_MISMATCH_RETRY, reset)
            verified = order_number
        outcome: dict[str, Any] = {}
        if tracker.get_slot(VERIFIED_ORDER) != verified:
            outcome[VERIFIED_ORDER] = verified
        if verified:
            try:
                await failed_checks().clear(tracker.sender_id)
            except StoreUnavailable:
                logger.warning("Could not clear the failed checks of a verified look-up; they expire on their own")
        return outcome


def describe_order(order: Order) -> str:
    """Where the order is: status, what and where from, shipping dates, carrier and tracking."""
    intro = f"Order {order.order_number} from {order.merchant} ({order.items}, {format_amount(order.total_cents)})"
    status = {
        "processing": f"{intro} was placed on {format_date(order.placed_at)} and the shop is preparing it; "
        "it hasn't shipped yet.",
        "shipped": f"{intro} is on its way.",
        "delivered": f"{intro} has been delivered.",
        "returned": f"{intro} was returned to the shop.",
        "cancelled": f"{intro} was cancelled, so it won't be sent.",
    }
    sentences = [status.get(order.status, f"{intro} has the status '{order.status}'.")]
    if order.shipped_at:
        shipping = f"It was shipped on {format_date(order.shipped_at)}"
        if order.carrier:
            shipping += f" with {order.carrier}"
        if order.tracking_number:
            shipping += f" (tracking number {order.tracking_number})"
        if order.delivered_at:
            shipping += f" and delivered on {format_date(order.delivered_at)}"
        sentences.append(shipping + ".")
    if order.expected_delivery and order.status in ("processing", "shipped"):
        sentences.append(f"Expected delivery: {format_date(order.expected_delivery)}.")
    if order.status == "returned":
        sentences.append("Ask me about the refund if you'd like to know where your money is.")
    return " ".join(sentences)


def _describe_refund(refund: Refund) -> str:
    """One refund as a sentence starting with its amount, e.g. '€29.90 was paid back on 6 May 2026.'."""
    amount = format_amount(refund.amount_cents)
    if refund.status == "paid":
        paid = f" on {format_date(refund.paid_at)}" if refund.paid_at else ""
        return f"{amount} was paid back{paid}."
    requested = f"{amount}, requested on {format_date(refund.requested_at)},"
    if refund.status == "rejected":
        return (
            f"{requested} was not approved by the shop. The shop's reason: {refund.reason}. If you think "
            "that's wrong, a person on our support team can look at it."
        )
    progress = {
        "requested": "is waiting for the shop to confirm it",
        "approved": "has been approved",
        "processing": "is being processed",
    }.get(refund.status, f"has the status '{refund.status}'")
    expected = f"; you should have it by {format_date(refund.expected_by)}" if refund.expected_by else ""
    return f"{requested} {progress}{expected}."


def describe_refunds(order: Order, refunds: tuple[Refund, ...]) -> str:
    """Each refund on the order with its amount and where it stands."""
    if not refunds:
        return f"No refund has been requested for order {order.order_number}."
    if len(refunds) == 1:
        return f"Your refund for order {order.order_number}: {_describe_refund(refunds[0])}"
    lines = [f"There are {len(refunds)} refunds on order {order.order_number}:"]
    lines += [f"- {_describe_refund(refund)}" for refund in refunds]
    return "\n".join(lines)


def describe_payments(order: Order, instalments: tuple[Instalment, ...], today: date) -> str:
    """What is still to pay: overdue instalments first, then the next one and the total remaining."""
    number = order.order_number
    if order.status == "cancelled":
        return f"Order {number} was cancelled, so no further payments are due."
    if not instalments:
        return f"I can't find a payment plan for order {number}."
    unpaid = [instalment for instalment in instalments if instalment.status != "paid"]
    if not unpaid:
        return f"Order {number} is fully paid: all {len(instalments)} instalments have been paid."
    overdue = [i for i in unpaid if i.status == "overdue" or i.due_date < today]
    upcoming = [i for i in unpaid if i not in overdue]
    sentences = [
        f"Instalment {i.number} of {format_amount(i.amount_cents)} was due on {format_date(i.due_date)} and is "
        "overdue; please pay it as soon as you can."
        for i in overdue
    ]
    if upcoming:
        following = upcoming[0]
        sentences.append(
            f"Your next instalment of {format_amount(following.amount_cents)} is due on "
            f"{format_date(following.due_date)}."
        )
    remaining = format_amount(sum(i.amount_cents for i in unpaid))
    sentences.append(
        f"Still to pay on order {number}: {len(unpaid)} of {len(instalments)} instalments, {remaining} in total."
    )
    return " ".join(sentences)


class ActionLookupStatus(Action):
    """Answers the customer's order, refund or payment question once the form has verified them."""

    def name(self) -> str:
        return "action_lookup_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        order_number = _first_normalised(tracker.get_slot(ORDER_NUMBER), normalise_order_number)
        email = _first_normalised(tracker.get_slot(EMAIL), normalise_email)
        if not order_number or not email:
            # Only a look-up the form gave up on ends without both; the customer has been told why.
            logger.info("No verified order number and email to look up; saying nothing more")
            return []
        try:
            answer = self._answer(order_number, email, tracker.get_slot(LOOKUP_TYPE))
        except DATABASE_ERRORS:
            logger.exception("Looking up order %s failed", order_number)
            answer = SYSTEM_UNAVAILABLE
        dispatcher.utter_message(text=answer)
        return []

    @staticmethod
    def _answer(order_number: str, email: str, lookup_type: str | None) -> str:
        order = find_order(order_number)
        if not _belongs_to(order, email):
            return NOT_MATCHED
        if lookup_type == "refund":
            return describe_refunds(order, refunds_for(order_number))
        if lookup_type == "payment":
            return describe_payments(order, instalments_for(order_number), date.today())
        return describe_order(order)
