"""Did an answer lead to a handoff? The answer versions a conversation was last given wait for its next
turn: a handoff in that turn (or in the answer's own turn) counts for them.

A customer told something outdated or wrong asks for a person in the turn after the answer, while the
turn that hands off carries the handoff message's own version; so the handoff rate of an answer
version is read one turn later. Most customers never write again after an answer that helped, so an
answer still waiting once the turn times have moved `timeout` past it counts as not handed off (a
reply that late is no reaction to it); and at most `capacity` conversations wait (the longest waiting
are settled first), so a burst of traffic cannot grow the set without bound.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class AnswerOutcome:
    """One answer version given in a turn, and whether the conversation handed off right after."""

    version: str
    handed_off: bool
    at: datetime  # when the answer was given
    conversation_id: str


class FollowUps:
    """Each conversation's last answer versions, waiting for its next turn (oldest answer first)."""

    def __init__(self, capacity: int, timeout: timedelta) -> None:
        self.capacity = capacity
        self.timeout = timeout
        self.waiting: OrderedDict[str, tuple[list[str], datetime, bool]] = OrderedDict()

    def turn(self, conversation_id: str, versions: list[str], at: datetime, handed_off: bool) -> list[AnswerOutcome]:
        """Takes one turn; returns the outcomes it settles (answers whose time ran out, the
        conversation's previous answers, and conversations settled for room)."""
        settled = self._expire(at)
        previous = self.waiting.pop(conversation_id, None)
        if previous is not None:
            earlier, earlier_at, earlier_handoff = previous
            settled += [AnswerOutcome(version, earlier_handoff or handed_off, earlier_at, conversation_id)
                        for version in earlier]
        if versions:
            self.waiting[conversation_id] = (versions, at, handed_off)
        while len(self.waiting) > self.capacity:
            settled += self._settle_oldest()
        return settled

    def _expire(self, now: datetime) -> list[AnswerOutcome]:
        """Settles the answers given `timeout` or longer before `now` (the oldest wait first)."""
        settled: list[AnswerOutcome] = []
        while self.waiting and now - next(iter(self.waiting.values()))[1] >= self.timeout:
            settled += self._settle_oldest()
        return settled

    def _settle_oldest(self) -> list[AnswerOutcome]:
        conversation, (versions, at, handed_off) = self.waiting.popitem(last=False)
        return [AnswerOutcome(version, handed_off, at, conversation) for version in versions]

    def to_state(self) -> list[list[Any]]:
        return [[conversation, versions, at.isoformat(), handed_off]
                for conversation, (versions, at, handed_off) in self.waiting.items()]

    @classmethod
    def from_state(cls, state: list[list[Any]], capacity: int, timeout: timedelta) -> FollowUps:
        follow_ups = cls(capacity, timeout)
        for conversation, versions, at, handed_off in state:
            follow_ups.waiting[str(conversation)] = ([str(v) for v in versions], datetime.fromisoformat(at),
                                                     bool(handed_off))
        return follow_ups
