"""What each bot turn ended in (answered, fallback, handoff) and why a handoff happened, counted
for the metrics (`channel_metrics.py`) from the events the turn added.

Why in the tracker store's save (`handoff/tracker_store.py`): Rasa 3.6 saves once per turn, with the
customer's message and every action that followed it, in the Rasa process that serves `/metrics`;
the events are in hand there, so counting costs no read at all. The channel is the message's
`input_channel`; only the customer channels' turns are counted (the ones that registered with
`channel_metrics`), not an intent triggered through Rasa's API (the hand-back after a handoff). A handoff's trigger is the reason on the ticket `action_handoff` wrote (in the
action server): one read of the conversation's state, for handoff turns only. Counting never fails
a save: a failed state read only loses that handoff's trigger.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence

from rasa.shared.core.constants import ACTION_LISTEN_NAME, IS_EXTERNAL
from rasa.shared.core.events import ActionExecuted, Event, UserUttered

from handoff.channels.router import HUMAN_MODES
from handoff.metrics import channel_metrics
from handoff.metrics.labels import ANSWERED, FALLBACK, HANDOFF
from handoff.settings import HandoffSettings
from handoff.store import HandoffStore

logger = logging.getLogger(__name__)

OpenStore = Callable[[], HandoffStore]


def turn_outcome(events: Sequence[Event], fallback_intents: Collection[str], handoff_action: str) -> str | None:
    """What the bot did with the latest customer message: `handoff` when the handoff action ran after
    it, `fallback` when its intent means the bot did not understand, else `answered`; None when no
    action followed it (a paused conversation keeps the bot silent) or there is no message."""
    actions: list[str] = []
    for event in reversed(events):
        if isinstance(event, UserUttered):
            if handoff_action in actions:
                return HANDOFF
            if not actions:
                return None
            return FALLBACK if event.intent.get("name") in fallback_intents else ANSWERED
        if isinstance(event, ActionExecuted) and event.action_name and event.action_name != ACTION_LISTEN_NAME:
            actions.append(event.action_name)
    return None


def customer_channel(events: Sequence[Event]) -> str | None:
    """The customer channel the latest message among `events` came from; None when it came from
    elsewhere (Rasa's API, an intent triggered from outside such as the hand-back after a handoff)."""
    for event in reversed(events):
        if isinstance(event, UserUttered):
            channel = event.input_channel
            if (event.metadata or {}).get(IS_EXTERNAL) or channel is None:
                return None
            return channel if channel_metrics.is_customer_channel(channel) else None
    return None


class BotTurns:
    """Counts a turn's outcome from its new events, and a handoff's trigger from the ticket.

    `open_store` gives the handoff store, opened on the first handoff turn (most processes that
    save trackers never need it)."""

    def __init__(self, open_store: OpenStore, settings: HandoffSettings) -> None:
        self._open_store = open_store
        self._store: HandoffStore | None = None
        self.fallback_intents = frozenset(settings.fallback_intents)
        self.judgement_intents = frozenset(settings.judgement_intents)
        self.handoff_action = settings.handoff_action

    async def count(self, conversation_id: str, new_events: Sequence[Event]) -> None:
        """Counts the turn whose events were just saved, if a customer channel's message started
        it; never raises."""
        outcome = turn_outcome(new_events, self.fallback_intents, self.handoff_action)
        channel = customer_channel(new_events)
        if outcome is None or channel is None:
            return
        channel_metrics.bot_turn(channel, outcome)
        if outcome == HANDOFF:
            await self._count_handoff(conversation_id)

    async def _count_handoff(self, conversation_id: str) -> None:
        try:
            if self._store is None:
                self._store = self._open_store()
            state = await self._store.get_state(conversation_id)
        except Exception as error:  # noqa: BLE001 - a trigger is not worth a customer's turn
            logger.warning("handoff trigger of %s not counted: %s", conversation_id, error)
            return
        if state.mode in HUMAN_MODES and state.ticket is not None:
            channel_metrics.handoff(state.ticket.reason, self.judgement_intents)

    async def close(self) -> None:
        """Gives back the handoff store, if a handoff turn opened it."""
        if self._store is not None:
            await self._store.close()
            self._store = None
