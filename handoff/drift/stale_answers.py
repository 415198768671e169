"""Is an answer out of date? The latest verdicts about one answer version, counted.

A verdict is about an answer version when it calls that answer outdated, or says the bot's answer (that
version) was wrong. Agents err now and then, so one such verdict is no alarm: it takes `min_count` of
them that are also `min_share` of the version's latest `window` verdicts, all given within the last
`horizon` turns of traffic (without it, a rarely handed-off answer would collect an agent's slip now
and then, for months, until the slips alone made an alarm). Two of them from different conversations
`pair_turns` or fewer turns apart (and `min_share` of the window) are enough too: slips name one answer
version among dozens, so two about the same version that close together are rare by chance (their
expected number grows with the gap allowed, about 0.004 per turn of gap in 20,000 turns of the drift
benchmark's traffic), while an answer that went stale draws them one after another.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

EXAMPLES = 5


@dataclass(frozen=True)
class StaleChange:
    """Verdicts calling the answer stale, of how many, since the first of them in the window."""

    stale: int
    verdicts: int
    since: datetime
    examples: list[str]


@dataclass
class StaleCounter:
    """One answer version's latest verdicts: (stale or not, when, the monitor's turn count then,
    conversation)."""

    window: int
    verdicts: deque[tuple[bool, datetime, int, str]] = field(default_factory=deque)

    def observe(self, stale: bool, at: datetime, turn_index: int, conversation_id: str) -> None:
        self.verdicts.append((stale, at, turn_index, conversation_id))
        if len(self.verdicts) > self.window:
            self.verdicts.popleft()

    def forget_before(self, turn_index: int) -> None:
        """Drops the verdicts given before the monitor had seen `turn_index` turns."""
        while self.verdicts and self.verdicts[0][2] < turn_index:
            self.verdicts.popleft()

    def change(self, min_count: int, min_share: float, pair_turns: int) -> StaleChange | None:
        stale = [(at, conversation) for is_stale, at, _, conversation in self.verdicts if is_stale]
        if len(stale) < min_share * len(self.verdicts) or not (len(stale) >= min_count or self._close_pair(pair_turns)):
            return None
        conversations = list(dict.fromkeys(conversation for _, conversation in reversed(stale)))[:EXAMPLES]
        return StaleChange(len(stale), len(self.verdicts), min(at for at, _ in stale), conversations)

    def _close_pair(self, pair_turns: int) -> bool:
        """Whether the latest two stale verdicts come from different conversations at most `pair_turns`
        turns apart (`pair_turns` 0: never)."""
        if pair_turns <= 0:
            return False
        stale = [(index, conversation) for is_stale, _, index, conversation in self.verdicts if is_stale][-2:]
        return len(stale) == 2 and stale[0][1] != stale[1][1] and stale[1][0] - stale[0][0] <= pair_turns

    def restart(self) -> None:
        """After an alarm: counting starts again."""
        self.verdicts.clear()

    def to_state(self) -> dict[str, Any]:
        return {"verdicts": [[stale, at.isoformat(), index, conversation]
                             for stale, at, index, conversation in self.verdicts]}

    @classmethod
    def from_state(cls, state: dict[str, Any], window: int) -> StaleCounter:
        return cls(window, deque((bool(stale), datetime.fromisoformat(at), int(index), str(conversation))
                                 for stale, at, index, conversation in state.get("verdicts") or []))
