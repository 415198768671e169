"""What each bot turn ended in (answered, fallback, handoff) and why a handoff happened, counted
for the metrics (`handoff/metrics/channel_metrics.py`).

Why it is read from Rasa's tracker after the turn, in the channel: the channels run in the Rasa
process, which serves `/metrics`; `action_handoff` runs in the action server, which does not, and
the model's components and policies stay as they are. The tracker is what Rasa recorded of the
turn (the message's intent, the actions that followed), with any tracker store; the output channel
would only show the replies' texts. A handoff's trigger is the reason on the ticket the action
wrote, read from the conversation's state only for turns that handed over. The cost is one tracker
read per bot turn (docs/benchmarks.md), and a failed read only loses that turn's count.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Sequence

from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from handoff.channels.router import HUMAN_MODES
from handoff.metrics import channel_metrics
from handoff.metrics.labels import ANSWERED, FALLBACK, HANDOFF
from handoff.settings import HandoffSettings
from handoff.store import HandoffStore

logger = logging.getLogger(__name__)

ReadTracker = Callable[[str], Awaitable[DialogueStateTracker | None]]


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


class BotTurns:
    """Counts each bot turn's outcome, and each handoff's trigger, after the turn."""

    def __init__(self, read_tracker: ReadTracker, store: HandoffStore, settings: HandoffSettings) -> None:
        self.read_tracker = read_tracker
        self.store = store
        self.fallback_intents = frozenset(settings.fallback_intents)
        self.judgement_intents = frozenset(settings.judgement_intents)
        self.handoff_action = settings.handoff_action

    async def count(self, channel: str, conversation_id: str) -> None:
        """Counts the turn the bot just took for the conversation; never raises."""
        try:
            tracker = await self.read_tracker(conversation_id)
            outcome = turn_outcome(list(tracker.events) if tracker else [], self.fallback_intents,
                                   self.handoff_action)
            if outcome is None:
                return
            channel_metrics.bot_turn(channel, outcome)
            if outcome == HANDOFF:
                state = await self.store.get_state(conversation_id)
                if state.mode in HUMAN_MODES and state.ticket is not None:
                    channel_metrics.handoff(state.ticket.reason, self.judgement_intents)
        except Exception as error:  # noqa: BLE001 - any tracker store may fail; a count is not worth a turn
            logger.warning("bot turn of %s not counted: %s", conversation_id, error)
