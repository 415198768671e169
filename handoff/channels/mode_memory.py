"""What this process last learned from Redis about who answers each conversation, so a Redis outage
can tell a conversation that is surely with the bot from one a person may own.

The memory is a hint for outages only, never the truth: while Redis answers, the router reads the
mode from Redis. An entry is trusted for `max_age_seconds` after Redis last confirmed it, because
another process (a second channel process, the agent service) may change the mode meanwhile; during
an outage nobody can change it, so the risk is only a change made just before Redis went away. A
conversation this process never saw, or saw too long ago, counts as one a person may own.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from handoff.models import BOT


class ModeMemory:
    """A bounded, least-recently-confirmed-first map of conversation id -> (mode, when confirmed)."""

    def __init__(self, max_entries: int, max_age_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_entries = max_entries
        self.max_age_seconds = max_age_seconds
        self._clock = clock
        self._modes: OrderedDict[str, tuple[str, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._modes)

    def remember(self, conversation_id: str, mode: str) -> None:
        """Records the mode Redis just gave or took for the conversation."""
        self._modes[conversation_id] = (mode, self._clock())
        self._modes.move_to_end(conversation_id)
        while len(self._modes) > self.max_entries:
            self._modes.popitem(last=False)

    def forget(self, conversation_id: str) -> None:
        """The mode may have changed in a way this process did not see (e.g. a bot turn whose
        outcome could not be read back)."""
        self._modes.pop(conversation_id, None)

    def surely_with_bot(self, conversation_id: str) -> bool:
        """Whether Redis confirmed bot mode recently enough for the bot to answer without asking it."""
        entry = self._modes.get(conversation_id)
        if entry is None:
            return False
        mode, confirmed_at = entry
        return mode == BOT and self._clock() - confirmed_at <= self.max_age_seconds
