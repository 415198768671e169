"""Which Redis key belongs to which conversation, across the plugin's keys and Rasa's.

A conversation's own keys all carry its id as their hash tag: `<prefix>:{<id>}:<kind>[:...]` for
the handoff stores (every `Keys` method that takes a conversation id) and
`<rasa prefix>:tracker:{<id>}:events|session_start` for the tracker store. Rasa's lock store names
its locks `<rasa prefix>:lock:<id>` (plain `lock:<id>` when the prefix is not alphanumeric, as
Rasa does). Any other key under a conversation's tag counts as the conversation's too, so a key
kind added later is erased without this module knowing it; the shared keys (queue, events,
agents, ...) are told apart by their tags, which no conversation id takes.
"""

from __future__ import annotations

from dataclasses import dataclass

# Hash tags of the plugin's shared keys (store_scripts.Keys), and of the erasure audit stream.
AUDIT_TAG = "audit"
SHARED_TAGS = frozenset({"queue", "events", "agents", "pending_sync", "insights", AUDIT_TAG})
SHARED_TAG_PREFIXES = ("agent:", "slack_event:", "slack_tail:", "wake:")

TRACKER_KIND = "tracker"
LOCK_KIND = "rasa_lock"

_GLOB_SPECIAL = "\\*?["


def glob_escape(text: str) -> str:
    """`text` as a literal inside a SCAN MATCH pattern."""
    return "".join(f"\\{char}" if char in _GLOB_SPECIAL or char == "]" else char for char in text)


def _tagged(rest: str) -> tuple[str, str] | None:
    """(tag, what follows `}:`) of `{tag}:suffix`, or None."""
    if not rest.startswith("{"):
        return None
    tag, separator, suffix = rest[1:].partition("}:")
    if not separator or not tag or not suffix:
        return None
    return tag, suffix


@dataclass(frozen=True)
class KeyLayout:
    """The key names of one deployment: the plugin's prefix and the one Rasa's stores use."""

    prefix: str
    rasa_prefix: str

    @property
    def lock_prefix(self) -> str:
        """What Rasa's RedisLockStore puts before a conversation id."""
        return f"{self.rasa_prefix}:lock:" if self.rasa_prefix.isalnum() else "lock:"

    @property
    def tracker_prefix(self) -> str:
        return f"{self.rasa_prefix}:tracker:"

    def lock(self, conversation_id: str) -> str:
        return self.lock_prefix + conversation_id

    def tracker_events(self, conversation_id: str) -> str:
        return f"{self.tracker_prefix}{{{conversation_id}}}:events"

    def tracker_pattern(self) -> str:
        """SCAN MATCH pattern of every conversation's tracker event list."""
        return f"{glob_escape(self.tracker_prefix)}{{*}}:events"

    def conversation_pattern(self, kind: str) -> str:
        """SCAN MATCH pattern of every conversation's key of `kind` (e.g. `state`)."""
        return f"{glob_escape(self.prefix)}:{{*}}:{glob_escape(kind)}"

    def owner(self, key: str) -> tuple[str, str] | None:
        """(conversation id, kind of key) when `key` belongs to one conversation, else None."""
        if key.startswith(self.tracker_prefix):
            tagged = _tagged(key[len(self.tracker_prefix):])
            return (tagged[0], f"{TRACKER_KIND}_{tagged[1]}") if tagged else None
        if key.startswith(self.lock_prefix) and len(key) > len(self.lock_prefix):
            return key[len(self.lock_prefix):], LOCK_KIND
        if key.startswith(f"{self.prefix}:"):
            tagged = _tagged(key[len(self.prefix) + 1:])
            if tagged and not is_shared_tag(tagged[0]):
                return tagged[0], tagged[1].split(":", 1)[0]
        return None


def is_shared_tag(tag: str) -> bool:
    """True for the hash tags of keys that many conversations (or none) share."""
    return tag in SHARED_TAGS or tag.startswith(SHARED_TAG_PREFIXES)
