"""Label values of the plugin's metrics, each from a closed set.

A label value that is not in its set becomes "other": a label never carries a conversation id, an
agent, an address or any text a client chose, and the number of series stays small whatever the
clients send.
"""

from __future__ import annotations

from collections.abc import Collection

from handoff.channels.refusals import AgentsUnavailable, RateLimited
from handoff.channels.router import MessageRejected
from handoff.detect import (
    EXPLICIT_REQUEST,
    FRUSTRATION,
    JUDGEMENT_PREFIX,
    LOW_ACTION_CONFIDENCE,
    LOW_NLU_CONFIDENCE,
)
from handoff.verdicts import KINDS

OTHER = "other"
NONE = "none"

BUILT_IN_CHANNELS = frozenset({"handoff_rest", "handoff_socketio", "handoff_slack"})
ROUTES = ("bot", "human", "duplicate")
REFUSED = "refused"
RATE_LIMITED, UNAVAILABLE, INVALID = "rate_limited", "unavailable", "invalid"
REFUSAL_REASONS = (RATE_LIMITED, UNAVAILABLE, INVALID)
ANSWERED, FALLBACK, HANDOFF = "answered", "fallback", "handoff"
TURN_OUTCOMES = (ANSWERED, FALLBACK, HANDOFF)
PLAIN_TRIGGERS = (EXPLICIT_REQUEST, FRUSTRATION, LOW_NLU_CONFIDENCE, LOW_ACTION_CONFIDENCE)
VERDICT_KINDS = KINDS  # an agent's verdict on a handoff (handoff/verdicts.py)
DRIFT_ALARM_KINDS = ("fallback_rate", "handoff_rate", "confidence_shift", "stale_answer")  # handoff/drift
REVIEW_LABEL_KINDS = ("known", "new_topic")  # a review cluster adds to an intent, or is a new topic


def one_of(value: object, allowed: Collection[str]) -> str:
    """`value` when it is one of `allowed`, else "other"."""
    return value if isinstance(value, str) and value in allowed else OTHER


def channel_label(channel: object, known: Collection[str] = BUILT_IN_CHANNELS) -> str:
    """A channel's name when it is a known channel's (the built-in ones, or those that registered)."""
    return one_of(channel, known)


def route_label(route: object) -> str:
    """Where a delivered message went: bot, human or duplicate."""
    return one_of(route, ROUTES)


def refusal_reason(rejected: MessageRejected) -> str:
    """Why a message was refused: over a rate limit, Redis unavailable, or the message itself."""
    if isinstance(rejected, RateLimited):
        return RATE_LIMITED
    if isinstance(rejected, AgentsUnavailable):
        return UNAVAILABLE
    return INVALID


def trigger_label(reason: object, judgement_intents: Collection[str]) -> str:
    """A handoff's trigger: one of the detector's reasons, or `judgement:<intent>` for an intent the
    settings name as needing a person's judgement."""
    if isinstance(reason, str) and reason.startswith(JUDGEMENT_PREFIX):
        return reason if reason.removeprefix(JUDGEMENT_PREFIX) in judgement_intents else OTHER
    return one_of(reason, PLAIN_TRIGGERS)


def triggers(judgement_intents: Collection[str]) -> list[str]:
    """Every trigger label the settings allow (so each series exists from the start, at zero)."""
    return [*PLAIN_TRIGGERS, *(f"{JUDGEMENT_PREFIX}{intent}" for intent in sorted(judgement_intents)), OTHER]

