"""Did an answer lead to a handoff? The answer versions a conversation was last given wait for its next
turn: a handoff in that turn (or in the answer's own turn) counts for them.

A customer told something outdated or wrong asks for a person in the turn after the answer, while the
turn that hands off carries the handoff message's own version; so the handoff rate of an answer
version is read one turn later. Conversations that never come back are counted as not handed off once
`capacity` others wait (the longest waiting first).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class AnswerOutcome:
    """One answer version given in a turn, and whether the conversation handed off right after."""

    version: str
    handed_off: bool
    at: datetime  # when the answer was given
    conversation_id: str


class FollowUps:
    """Each conversation's last answer versions, waiting for its next turn."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.waiting: OrderedDict[str, tuple[list[str], datetime, bool]] = OrderedDict()

    def turn(self, conversation_id: str, versions: list[str], at: datetime, handed_off: bool) -> list[AnswerOutcome]:
        """Takes one turn; returns the outcomes it settles (the conversation's previous answers, and
        conversations forgotten for room)."""
        settled: list[AnswerOutcome] = []
        previous = self.waiting.pop(conversation_id, None)
        if previous is not None:
            earlier, earlier_at, earlier_handoff = previous
            settled += [AnswerOutcome(version, earlier_handoff or handed_off, earlier_at, conversation_id)
                        for version in earlier]
        if versions:
            self.waiting[conversation_id] = (versions, at, handed_off)
        while len(self.waiting) > self.capacity:
            forgotten, (old, old_at, old_handoff) = self.waiting.popitem(last=False)
            settled += [AnswerOutcome(version, old_handoff, old_at, forgotten) for version in old]
        return settled

    def to_state(self) -> list[list[Any]]:
        return [[conversation, versions, at.isoformat(), handed_off]
                for conversation, (versions, at, handed_off) in self.waiting.items()]

    @classmethod
    def from_state(cls, state: list[list[Any]], capacity: int) -> FollowUps:
        follow_ups = cls(capacity)
        for conversation, versions, at, handed_off in state:
            follow_ups.waiting[str(conversation)] = ([str(v) for v in versions], datetime.fromisoformat(at),
                                                     bool(handed_off))
        return follow_ups
