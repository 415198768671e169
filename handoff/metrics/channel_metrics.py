"""The Rasa process's metrics: what the customer channels (which run inside Rasa) did with each
message, what the bot's turns ended in, and the handoffs by trigger.

Every Rasa process counts in its own registry and serves it at its own `/metrics`
(`handoff/channels/metrics_route.py`): with several processes, Prometheus scrapes each one and
sums, so no multiprocess directory is needed. Counting never fails a customer's message: it only
touches memory.
"""

from __future__ import annotations

from collections.abc import Collection

from prometheus_client import CollectorRegistry, Counter, GCCollector, PlatformCollector, ProcessCollector

from handoff.channels.router import MessageRejected
from handoff.metrics.labels import (
    BUILT_IN_CHANNELS,
    NONE,
    REFUSAL_REASONS,
    REFUSED,
    ROUTES,
    TURN_OUTCOMES,
    channel_label,
    one_of,
    refusal_reason,
    route_label,
    trigger_label,
    triggers,
)

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

CUSTOMER_MESSAGES = Counter(
    "handoff_customer_messages",
    "Customer messages the channels received, by channel and where they went: bot, human, duplicate "
    "(a retry of a message already taken) or refused; `reason` says why a refused one was refused "
    "(rate_limited, unavailable, invalid) and is `none` for the others.",
    ["channel", "route", "reason"], registry=REGISTRY)
BOT_TURNS = Counter(
    "handoff_bot_turns",
    "Turns the bot took for a customer message, by channel and outcome: answered, fallback (the bot "
    "did not understand: the message's intent is one of the settings' fallback_intents) or handoff.",
    ["channel", "outcome"], registry=REGISTRY)
HANDOFFS = Counter(
    "handoff_handoffs",
    "Conversations the bot handed to a person (queued, or waiting for an agent to come online), by "
    "trigger: the reason on the ticket.",
    ["trigger"], registry=REGISTRY)

_channels: set[str] = set(BUILT_IN_CHANNELS)


def register_channel(channel: str, judgement_intents: Collection[str]) -> None:
    """Makes a channel's name a known label value and creates its series at zero, so a rate over
    them is defined before the first message."""
    _channels.add(channel)
    for route in ROUTES:
        CUSTOMER_MESSAGES.labels(channel, route, NONE)
    for reason in REFUSAL_REASONS:
        CUSTOMER_MESSAGES.labels(channel, REFUSED, reason)
    for outcome in TURN_OUTCOMES:
        BOT_TURNS.labels(channel, outcome)
    for trigger in triggers(judgement_intents):
        HANDOFFS.labels(trigger)


def is_customer_channel(channel: str) -> bool:
    """Whether `channel` is a customer channel's name (a built-in one, or one that registered)."""
    return channel in _channels


def message_routed(channel: str, route: str) -> None:
    """A customer message was delivered: to the bot, to the agent, or recognised as a retry."""
    CUSTOMER_MESSAGES.labels(channel_label(channel, _channels), route_label(route), NONE).inc()


def message_refused(channel: str, rejected: MessageRejected) -> None:
    """A customer message was refused (the client got an error or an apology)."""
    CUSTOMER_MESSAGES.labels(channel_label(channel, _channels), REFUSED, refusal_reason(rejected)).inc()


def bot_turn(channel: str, outcome: str) -> None:
    """The bot took a turn that ended in `outcome` (answered, fallback, handoff)."""
    BOT_TURNS.labels(channel_label(channel, _channels), one_of(outcome, TURN_OUTCOMES)).inc()


def handoff(reason: str, judgement_intents: Collection[str]) -> None:
    """The bot handed a conversation over for `reason` (the ticket's)."""
    HANDOFFS.labels(trigger_label(reason, judgement_intents)).inc()
