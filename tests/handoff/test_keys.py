"""Key names of the stores beside the handoff store, now all in `store_scripts.Keys`: unchanged,
so data written before stays readable, and refused for an empty id; Redis URLs from parts."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from handoff.redis_connections import redis_url
from handoff.store_scripts import Keys

NAMED_AFTER_AN_ID: dict[str, Callable[[Keys, str], str]] = {
    "closed_tickets": Keys.closed_tickets, "satisfaction": Keys.satisfaction, "rating_due": Keys.rating_due,
    "pending_sync": Keys.pending_sync, "pending_sync_lease": Keys.pending_sync_lease,
    "slack_event": Keys.slack_event, "slack_tail": lambda keys, name: keys.slack_tail(name, "lease"),
    "slack_thread": Keys.slack_thread, "slack_reply_thread": Keys.slack_reply_thread,
    "slack_alert": Keys.slack_alert, "bot_feedback": Keys.bot_feedback, "bot_feedback_due": Keys.bot_feedback_due,
}


@pytest.mark.parametrize("key", NAMED_AFTER_AN_ID.values(), ids=NAMED_AFTER_AN_ID.keys())
def test_a_key_named_after_an_empty_id_is_refused(key: Callable[[Keys, str], str]) -> None:
    assert key(Keys("p"), "x").startswith("p:{")
    with pytest.raises(ValueError, match="must not be empty"):
        key(Keys("p"), "")


def test_the_moved_keys_keep_their_names() -> None:
    """Data written before they moved into Keys stays readable."""
    keys = Keys("p")
    assert [keys.closed_tickets("c"), keys.satisfaction("c"), keys.rating_due("c"), keys.agent_names,
            keys.pending_sync("c"), keys.pending_sync_lease("c"), keys.pending_sync_due, keys.slack_event("E1"),
            keys.slack_tail("delivery", "lease"), keys.slack_tail("delivery", "cursor"), keys.slack_thread("c"),
            keys.slack_reply_thread("c"), keys.slack_alert("c")] == [
        "p:{c}:closed_tickets", "p:{c}:satisfaction", "p:{c}:rating_due", "p:{agents}:names",
        "p:{c}:pending_sync", "p:{c}:pending_sync_lease", "p:{pending_sync}:due", "p:{slack_event:E1}",
        "p:{slack_tail:delivery}:lease", "p:{slack_tail:delivery}:cursor", "p:{c}:slack_thread",
        "p:{c}:slack_reply_thread", "p:{c}:slack_alert"]


def test_a_redis_given_by_parts_is_named_by_its_url() -> None:
    assert redis_url("127.0.0.1", 6379, 0) == "redis://127.0.0.1:6379/0"
    assert redis_url("cache", "6380", "2", password="p@ss/word", use_ssl=True) == "rediss://:p%40ss%2Fword@cache:6380/2"
