"""Customers' thumbs up/down on conversations only the bot had, so the bot's own endings are rated
too (a handoff's customers rate it 1-5, see `care_store.py`).

When the bot says one of the goodbye responses (setting `bot_feedback_responses`) in a conversation
no person ever had, the conversation's end is offered for feedback: `bot_feedback_due` (string: the
end's id, its time in ms) is set for a day at most. A thumb consumes it into `bot_feedback` (hash:
end id -> `helpful` | `not_helpful`), so each end is rated at most once. Both keys are the
conversation's (key names in `store_scripts.Keys`): they expire after the retention period and
`python -m handoff.erase` takes them with the conversation.
"""

from __future__ import annotations

import time

from redis.asyncio import Redis

from handoff.insights.milestones import BOT_FEEDBACK, publish_milestone
from handoff.insights.publisher import StreamPublisher
from handoff.store import store_errors
from handoff.store_scripts import Keys

FEEDBACK_DUE_SECONDS = 86_400  # a customer who answers the next day is not asked any more
HELPFUL, NOT_HELPFUL = "helpful", "not_helpful"

# Offers the conversation's end for feedback unless a person ever had the conversation (its state
# has a version once handed off). KEYS[1] state, KEYS[2] bot_feedback_due. ARGV: end id, seconds due.
OFFER = """
if tonumber(redis.call('HGET', KEYS[1], 'version') or '0') > 0 then return 0 end
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
return 1
"""

# Moves the due end into the feedback hash; 0 when none is due. KEYS[1] bot_feedback_due,
# KEYS[2] bot_feedback. ARGV: helpful | not_helpful, retention seconds.
GIVE = """
local due = redis.call('GET', KEYS[1])
if not due then return 0 end
redis.call('HSET', KEYS[2], due, ARGV[1])
redis.call('DEL', KEYS[1])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return 1
"""


class BotFeedback:
    """Offers and stores the thumbs of bot-only conversations; StoreUnavailable without Redis."""

    def __init__(self, redis: Redis, keys: Keys, retention_seconds: int,
                 insights: StreamPublisher | None = None) -> None:
        self.keys = keys
        self.insights = insights  # where thumbs are captured (the handoff store's publisher), if anywhere
        self.retention_seconds = retention_seconds
        self._redis = redis
        self._offer = redis.register_script(OFFER)
        self._give = redis.register_script(GIVE)

    @store_errors
    async def offer(self, conversation_id: str) -> bool:
        """Makes the conversation's end rateable; False when a person ever had the conversation."""
        keys = [self.keys.state(conversation_id), self.keys.bot_feedback_due(conversation_id)]
        due_seconds = min(FEEDBACK_DUE_SECONDS, self.retention_seconds)
        return bool(await self._offer(keys=keys, args=[int(time.time() * 1000), due_seconds]))

    @store_errors
    async def give(self, conversation_id: str, helpful: bool) -> bool:
        """Stores the thumb for the end that is due; False when none is (not offered, or given)."""
        keys = [self.keys.bot_feedback_due(conversation_id), self.keys.bot_feedback(conversation_id)]
        saved = bool(await self._give(keys=keys, args=[HELPFUL if helpful else NOT_HELPFUL, self.retention_seconds]))
        if saved and self.insights is not None:
            publish_milestone(self.insights, BOT_FEEDBACK, conversation_id, round(time.time(), 3), helpful=helpful)
        return saved

    @store_errors
    async def given(self, conversation_id: str) -> dict[str, str]:
        """End id -> thumb, for every end of the conversation rated."""
        return dict(await self._redis.hgetall(self.keys.bot_feedback(conversation_id)))
