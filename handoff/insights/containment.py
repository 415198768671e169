"""Containment: the share of conversations the bot finished on its own.

A conversation (its turns in the period) counts once it has been quiet for `QUIET` (one still going
is `open`, not counted). It is contained unless, checked in this order:

- `handoff`: a handoff was requested in it (a person was needed, whatever came after);
- `fallback`: its last turn ended in a fallback (the bot did not understand and nobody followed);
- `negative_feedback`: the customer gave the bot a thumb down;
- `left`: the customer left right after asking the same thing again: the last turn's intent is the
  one of the turn before (an intent of `repeat_ignore_intents` such as "thanks" aside), so the
  answer did not help the first time. A customer who leaves after one good answer looks the same
  as a satisfied one in what is captured, so that is never counted as leaving.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from handoff.insights.period import Period
from handoff.insights.stats import share

QUIET = timedelta(minutes=30)
HANDOFF, FALLBACK, NEGATIVE_FEEDBACK, LEFT = "handoff", "fallback", "negative_feedback", "left"
FAILURES = (HANDOFF, FALLBACK, NEGATIVE_FEEDBACK, LEFT)


@dataclass(frozen=True)
class ConversationFacts:
    """What containment needs to know of the period's captured rows."""

    turns: Sequence[Any]  # rows with conversation_id, at, intent, fallback, handoff_trigger; in time order
    handed_off: Collection[str]  # conversations with a handoff requested in the period
    thumbs_down: Collection[str]  # conversations with a negative bot_feedback in the period
    repeat_ignore_intents: Collection[str]


def failure_of(turns: Sequence[Any], conversation: str, facts: ConversationFacts) -> str | None:
    """Why the conversation is not contained, or None when it is."""
    if conversation in facts.handed_off or any(turn.handoff_trigger for turn in turns):
        return HANDOFF
    last = turns[-1]
    if last.fallback:
        return FALLBACK
    if conversation in facts.thumbs_down:
        return NEGATIVE_FEEDBACK
    if len(turns) > 1 and last.intent and last.intent == turns[-2].intent \
            and last.intent not in facts.repeat_ignore_intents:
        return LEFT
    return None


def containment(facts: ConversationFacts, period: Period) -> dict[str, Any]:
    """The figure: finished conversations, how many were contained and why the others were not,
    overall and per bucket (of the conversation's last turn)."""
    by_conversation: dict[str, list[Any]] = defaultdict(list)
    for turn in facts.turns:
        by_conversation[turn.conversation_id].append(turn)
    failures = dict.fromkeys(FAILURES, 0)
    per_bucket: dict[datetime, list[int]] = {bucket: [0, 0] for bucket in period.buckets()}
    still_open = 0
    for conversation, turns in by_conversation.items():
        if period.end - turns[-1].at < QUIET:
            still_open += 1
            continue
        failure = failure_of(turns, conversation, facts)
        counts = per_bucket.setdefault(period.bucket_of(turns[-1].at), [0, 0])
        counts[0] += 1
        if failure is None:
            counts[1] += 1
        else:
            failures[failure] += 1
    finished = sum(counts[0] for counts in per_bucket.values())
    contained = sum(counts[1] for counts in per_bucket.values())
    return {"n": finished, "contained": contained, "share": share(contained, finished), "open": still_open,
            "not_contained": failures, "series": _series(per_bucket.items())}


def _series(buckets: Iterable[tuple[datetime, list[int]]]) -> list[dict[str, Any]]:
    return [{"bucket": bucket.isoformat(), "n": n, "contained": contained, "share": share(contained, n)}
            for bucket, (n, contained) in sorted(buckets)]
