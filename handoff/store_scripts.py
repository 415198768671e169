"""How the plugin lays its data out in Redis (every key name, for the handoff store and the stores
beside it; queue scores) and the Lua scripts that change the handoff state atomically.

Cluster rule: a script only ever receives keys of ONE hash tag, so it runs unchanged on Redis
Cluster. Tags: `{<conversation id>}` for everything of one conversation, `{queue}` for the waiting
queue, `{events}` for agent notifications, `{agents}` for presence and agent names,
`{agent:<id>}` for the chats one agent holds; single keys carry their own (`{pending_sync}`,
`{slack_event:<id>}`, `{slack_tail:<name>}`, `{wake:<reader>}`). Steps that span tags run as
separate atomic steps in an order that keeps the data safe if a process dies in between (see
`store.py`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from handoff.models import AGENT_FEED, INBOX, OUTBOX, OUTBOX_FEED

# Queue score = -priority * PRIORITY_STEP + queued_at (epoch seconds): ascending order puts higher
# priority first and, within one priority, the older request first. Epoch seconds stay below the
# step until the year 2286; priorities are bounded so millisecond precision survives in a double.
PRIORITY_STEP = 1e10
MAX_PRIORITY = 100


def queue_score(priority: int, queued_at: float) -> float:
    return -priority * PRIORITY_STEP + queued_at


def split_score(score: float) -> tuple[int, float]:
    """(priority, queued_at) back from a queue score."""
    priority = -math.floor(score / PRIORITY_STEP)
    return priority, score + priority * PRIORITY_STEP


def hash_tag(key: str) -> str:
    """The part of `key` Redis Cluster hashes: the text inside the first non-empty `{...}`."""
    start = key.find("{")
    if start >= 0:
        end = key.find("}", start + 1)
        if end > start + 1:
            return key[start + 1:end]
    return key


def _required(what: str, value: str) -> str:
    if not value:
        # An empty id would name a key shared by every caller that lacks one (and `{}` is no hash
        # tag: the keys of an empty conversation id would scatter over the cluster).
        raise ValueError(f"{what} must not be empty")
    return value


@dataclass(frozen=True)
class Keys:
    """Names of every key the plugin's stores use, all below one configurable prefix. An empty id
    is refused wherever a key is named after one."""

    prefix: str = "handoff"

    def __post_init__(self) -> None:
        if not self.prefix or "{" in self.prefix or "}" in self.prefix:
            raise ValueError(f"key prefix must be non-empty and free of braces: {self.prefix!r}")

    def _conversation(self, conversation_id: str, suffix: str) -> str:
        return f"{self.prefix}:{{{_required('conversation id', conversation_id)}}}:{suffix}"

    # --- the handoff store (store.py) ---------------------------------------------------------

    def state(self, conversation_id: str) -> str:
        return self._conversation(conversation_id, "state")

    def stream(self, conversation_id: str, direction: str) -> str:
        return self._conversation(conversation_id, direction)

    def sequence(self, conversation_id: str) -> str:
        return self._conversation(conversation_id, "seq")

    def seen(self, conversation_id: str, direction: str, message_id: str) -> str:
        return self._conversation(conversation_id, f"seen:{direction}:{message_id}")

    def cursor(self, conversation_id: str, reader: str) -> str:
        return self._conversation(conversation_id, f"cursor:{reader}")

    def records(self, conversation_id: str) -> list[str]:
        """The conversation's records, its state first: kept while a person has the conversation,
        they expire together once it is closed (see TRANSITION). Its other keys expire on their own."""
        return [self.state(conversation_id), self.stream(conversation_id, INBOX),
                self.stream(conversation_id, OUTBOX), self.sequence(conversation_id),
                self.closed_tickets(conversation_id), self.satisfaction(conversation_id)]

    @property
    def queue(self) -> str:
        return f"{self.prefix}:{{queue}}:waiting"

    @property
    def departures(self) -> str:
        """When waiting customers left (handoff/departures.py); beside the queue, in its slot."""
        return f"{self.prefix}:{{queue}}:departed"

    @property
    def insights(self) -> str:
        """The capture stream: tracker events and handoff milestones for the insights consumer."""
        return f"{self.prefix}:{{insights}}:events"

    @property
    def events(self) -> str:
        return f"{self.prefix}:{{events}}:agents"

    @property
    def outbox_events(self) -> str:
        return f"{self.prefix}:{{events}}:outbox"

    def feed(self, name: str) -> str:
        """The stream of event feed `name` (models.AGENT_FEED or models.OUTBOX_FEED)."""
        streams = {AGENT_FEED: self.events, OUTBOX_FEED: self.outbox_events}
        if name not in streams:
            raise ValueError(f"unknown event feed {name!r}")
        return streams[name]

    @property
    def presence(self) -> str:
        return f"{self.prefix}:{{agents}}:presence"

    @property
    def presence_expiry(self) -> str:
        return f"{self.prefix}:{{agents}}:presence_expiry"

    def outbox_wake(self, reader_id: str) -> str:
        """Where one process's outbox reader is woken to read a newly followed conversation too."""
        return f"{self.prefix}:{{wake:{reader_id}}}:outbox"

    def agent_chats(self, agent_id: str) -> str:
        return f"{self.prefix}:{{agent:{_required('agent id', agent_id)}}}:chats"

    # --- closed tickets, ratings and agent names (care_store.py) ------------------------------

    def closed_tickets(self, conversation_id: str) -> str:
        """Hash: handoff id -> JSON record of each resolved handoff."""
        return self._conversation(conversation_id, "closed_tickets")

    def satisfaction(self, conversation_id: str) -> str:
        """Hash: handoff id -> the customer's 1-5 rating."""
        return self._conversation(conversation_id, "satisfaction")

    def rating_due(self, conversation_id: str) -> str:
        """String: the handoff the customer may still rate."""
        return self._conversation(conversation_id, "rating_due")

    def bot_feedback(self, conversation_id: str) -> str:
        """Hash: end of a bot-only conversation (its offer's time in ms) -> `helpful` or `not_helpful`."""
        return self._conversation(conversation_id, "bot_feedback")

    def bot_feedback_due(self, conversation_id: str) -> str:
        """String: the end of a bot-only conversation the customer may still give a thumb for."""
        return self._conversation(conversation_id, "bot_feedback_due")

    @property
    def agent_names(self) -> str:
        """Hash: agent id -> display name."""
        return f"{self.prefix}:{{agents}}:names"

    # --- the agent service's tracker syncs (agent_service/side_store.py) ----------------------

    def pending_sync(self, conversation_id: str) -> str:
        """Hash: a resolve whose Rasa tracker sync has not finished yet."""
        return self._conversation(conversation_id, "pending_sync")

    def pending_sync_lease(self, conversation_id: str) -> str:
        """The process syncing the conversation now (see leases.py)."""
        return self._conversation(conversation_id, "pending_sync_lease")

    @property
    def pending_sync_due(self) -> str:
        """Sorted set: conversation -> when to try its sync next."""
        return f"{self.prefix}:{{pending_sync}}:due"

    # --- the assistant's identity checks (its look-up actions) ----------------------------------

    def failed_checks(self, conversation_id: str) -> str:
        """Counter: the conversation's failed identity checks (e.g. an email that does not match the
        order), kept where the customer cannot reset it."""
        return self._conversation(conversation_id, "failed_checks")

    # --- customers' rate limits (rate_limits.py) ----------------------------------------------

    def rate_limit(self, scope: str, subject: str) -> str:
        """When `subject` (a conversation id, or a hashed client address) may next do what `scope`
        names (e.g. `message:conversation`); it expires once the limit is full again."""
        return f"{self.prefix}:{{rate:{_required('rate limit scope', scope)}:{_required('subject', subject)}}}"

    # --- the Slack channel and alerts (slack/state.py) ----------------------------------------

    def slack_event(self, event_id: str) -> str:
        """A Slack event already taken, so a retry of it is not answered twice."""
        return f"{self.prefix}:{{slack_event:{_required('slack event id', event_id)}}}"

    def slack_tail(self, name: str, part: str) -> str:
        """The `lease` or `cursor` of Slack event tail `name`."""
        return f"{self.prefix}:{{slack_tail:{_required('slack tail name', name)}}}:{part}"

    def slack_thread(self, conversation_id: str) -> str:
        """A channel thread the app takes part in."""
        return self._conversation(conversation_id, "slack_thread")

    def slack_reply_thread(self, conversation_id: str) -> str:
        """The thread of a direct-message conversation where agent replies go."""
        return self._conversation(conversation_id, "slack_reply_thread")

    def slack_alert(self, conversation_id: str) -> str:
        """Hash: the Slack post announcing the conversation's current ticket."""
        return self._conversation(conversation_id, "slack_alert")

    def slack_drift_alarm(self, alarm_id: str) -> str:
        """A drift alarm already posted into the alert channel, so it is posted once."""
        return f"{self.prefix}:{{slack_drift_alarm:{_required('drift alarm id', alarm_id)}}}"


# A key written into a conversation keeps what the conversation's records keep: a closed one's state
# has an expiry (TRANSITION sets it), which the key then takes too; where the conversation has no
# state at all (never handed off) the key expires `fallback` seconds from now (0: not at all).
FOLLOW_STATE = """
local function follow_state(state, key, fallback)
  local left = redis.call('PTTL', state)
  if left > 0 then
    redis.call('PEXPIRE', key, left)
  elseif left == -2 and tonumber(fallback) > 0 then
    redis.call('EXPIRE', key, fallback)
  end
end
"""

# Compare-and-set on a conversation's mode, and in the same step the lifetime of its records: they
# stay for good while a person has the conversation, and expire once it is closed, so no crash can
# leave a closed conversation's records without an expiry.
# KEYS[1] state hash, then the conversation's other records (Keys.records), then its rating_due
# marker (cut to the retention period, never lengthened). ARGV: now, allowed current modes (space
# separated), required owner ('' for any), new mode, fields to delete (space separated), seconds
# the records are kept once the new mode is reached (0: for good, a person has it), then
# field/value pairs to set. Returns JSON {ok, reason?, state: flat HGETALL list}.
TRANSITION = """
local mode = redis.call('HGET', KEYS[1], 'mode') or 'bot'
local allowed = false
for candidate in string.gmatch(ARGV[2], '%S+') do
  if candidate == mode then allowed = true end
end
if not allowed then
  return cjson.encode({ok = false, reason = 'wrong_mode', state = redis.call('HGETALL', KEYS[1])})
end
if ARGV[3] ~= '' and redis.call('HGET', KEYS[1], 'agent_id') ~= ARGV[3] then
  return cjson.encode({ok = false, reason = 'not_owner', state = redis.call('HGETALL', KEYS[1])})
end
for name in string.gmatch(ARGV[5], '%S+') do
  redis.call('HDEL', KEYS[1], name)
end
redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('HSET', KEYS[1], 'mode', ARGV[4], 'updated_at', ARGV[1], unpack(ARGV, 7))
local keep = tonumber(ARGV[6])
for index = 1, #KEYS - 1 do
  if keep > 0 then
    redis.call('EXPIRE', KEYS[index], keep)
  else
    redis.call('PERSIST', KEYS[index])
  end
end
if keep > 0 and redis.call('PTTL', KEYS[#KEYS]) > keep * 1000 then
  redis.call('EXPIRE', KEYS[#KEYS], keep)
end
return cjson.encode({ok = true, state = redis.call('HGETALL', KEYS[1])})
"""

# Reserve a chat slot for an agent before claiming, so the capacity check and the count change
# are one step. KEYS[1] the agent's chats (sorted set: conversation id -> reserved at).
# ARGV: now, conversation id, limit (negative = none). Returns {1 | 0, chats held afterwards}.
RESERVE = """
if redis.call('ZSCORE', KEYS[1], ARGV[2]) then
  return {1, redis.call('ZCARD', KEYS[1])}
end
local count = redis.call('ZCARD', KEYS[1])
local limit = tonumber(ARGV[3])
if limit >= 0 and count >= limit then
  return {0, count}
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
return {1, count + 1}
"""

# Remove a sorted-set member only if its score is still the one the caller saw, so a member that
# was re-added meanwhile (a new request, a new reservation) survives.
# KEYS[1] sorted set. ARGV: member, score. Returns how many were removed.
REMOVE_IF_SCORE = """
local current = redis.call('ZSCORE', KEYS[1], ARGV[1])
if current and tonumber(current) == tonumber(ARGV[2]) then
  return redis.call('ZREM', KEYS[1], ARGV[1])
end
return 0
"""

# Append a message unless its id was seen, if the conversation's mode (and owner) allow it; the
# guard and the append are one step, so a message never lands in a conversation that just changed
# hands. KEYS[1] state hash, KEYS[2] stream, KEYS[3] seen marker, KEYS[4] the conversation's
# message counter. ARGV: modes that take the message ('' = any), required owner ('' = any), modes
# in which the bot takes it instead (only the seen marker is set, to 'bot'), max stream length,
# seen-marker ttl, seconds a closed conversation's records are kept, then field/value pairs. In a
# closed conversation (e.g. the welcome-back after a resolve) the stream and counter take the
# lifetime of its records (FOLLOW_STATE).
# Returns {outcome, stream id ('' if none), seq, mode, owner ('' if none), state version} with
# outcome 'appended', 'duplicate' (stream id of the first copy, or 'bot'), 'bot' or 'refused'.
APPEND_MESSAGE = FOLLOW_STATE + """
local state = redis.call('HMGET', KEYS[1], 'mode', 'agent_id', 'version')
local mode, owner, version = state[1] or 'bot', state[2] or '', state[3] or '0'
local function listed(modes)
  for candidate in string.gmatch(modes, '%S+') do
    if candidate == mode then return true end
  end
  return false
end
if (ARGV[1] == '' or listed(ARGV[1])) and (ARGV[2] == '' or ARGV[2] == owner) then
  local earlier = redis.call('GET', KEYS[3])
  if earlier then
    return {'duplicate', earlier, 0, mode, owner, version}
  end
  local seq = redis.call('INCR', KEYS[4])
  local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'seq', seq, unpack(ARGV, 7))
  redis.call('SET', KEYS[3], id, 'EX', ARGV[5])
  follow_state(KEYS[1], KEYS[2], ARGV[6])
  follow_state(KEYS[1], KEYS[4], ARGV[6])
  return {'appended', id, seq, mode, owner, version}
end
if listed(ARGV[3]) then
  if redis.call('SET', KEYS[3], 'bot', 'NX', 'EX', ARGV[5]) then
    return {'bot', '', 0, mode, owner, version}
  end
  return {'duplicate', redis.call('GET', KEYS[3]) or '', 0, mode, owner, version}
end
return {'refused', '', 0, mode, owner, version}
"""

# Record an agent's presence and forget heartbeats that ran out.
# KEYS[1] hash agent -> status, KEYS[2] sorted set agent -> expires at.
# ARGV: now, agent id, status, expires at. Returns the agent's status before the call.
SET_PRESENCE = """
for _, agent in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])) do
  redis.call('HDEL', KEYS[1], agent)
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
local previous = redis.call('HGET', KEYS[1], ARGV[2]) or 'offline'
if ARGV[3] == 'offline' then
  redis.call('HDEL', KEYS[1], ARGV[2])
  redis.call('ZREM', KEYS[2], ARGV[2])
else
  redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[2])
end
return previous
"""

SCRIPTS = {"TRANSITION": TRANSITION, "RESERVE": RESERVE, "REMOVE_IF_SCORE": REMOVE_IF_SCORE,
           "APPEND_MESSAGE": APPEND_MESSAGE, "SET_PRESENCE": SET_PRESENCE}
