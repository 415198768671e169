"""The handoff milestones the stores put on the capture stream, beside the tracker events.

Each is one small event: a handoff requested (reason, priority, frustration, channel), claimed by an
agent, the agent's first (and later) messages, how it ended, the customer's rating and the agent's verdict. The
consumer folds them into one row per handoff (handoff.insights.handoffs).
"""

from __future__ import annotations

from typing import Any

from handoff.insights.publisher import StreamPublisher

REQUESTED = "handoff_requested"
CLAIMED = "handoff_claimed"
AGENT_MESSAGE = "handoff_agent_message"
ENDED = "handoff_ended"
RATED = "handoff_rated"
VERDICT = "handoff_verdict"  # the agent's verdict, given at the resolve or after it
BOT_FEEDBACK = "bot_feedback"  # a customer's thumb at the end of a bot-only conversation (no handoff)
MILESTONES = frozenset({REQUESTED, CLAIMED, AGENT_MESSAGE, ENDED, RATED, VERDICT, BOT_FEEDBACK})

# How a handoff ended.
RESOLVED, ABANDONED, RETURNED = "resolved", "abandoned", "returned"


def publish_milestone(publisher: StreamPublisher, kind: str, conversation_id: str, at: float,
                      **fields: Any) -> None:
    """Offers one milestone to the stream (never blocks, never raises: see StreamPublisher)."""
    publisher.offer({"event": kind, "sender_id": conversation_id, "timestamp": at, **fields})
