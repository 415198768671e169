"""Slack Events API payloads as Slack sends them, signed with the app's signing secret the way
Slack signs them (HMAC-SHA256 of `v0:<timestamp>:<body>`), and posted to a channel's webhook."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

import requests

TEAM = "T0PAYLATER"
BOT_USER = "U0PAYBOT"
BOT_ID = "B0PAYBOT"


def signature_headers(body: bytes, secret: str, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


def new_ts() -> str:
    """A fresh Slack message timestamp."""
    now = time.time_ns() // 1000
    return f"{now // 1_000_000}.{now % 1_000_000:06d}"


def event_callback(event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    """The envelope Slack wraps every event in."""
    return {"token": "deprecated-verification-token", "team_id": TEAM, "api_app_id": "A0PAYLATER",
            "event": event, "type": "event_callback", "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "authorizations": [{"enterprise_id": None, "team_id": TEAM, "user_id": BOT_USER, "is_bot": True}]}


def message(text: str, user: str, channel: str, *, channel_type: str = "im", ts: str | None = None,
            thread_ts: str | None = None, **extra: Any) -> dict[str, Any]:
    """A `message` event (message.im / message.channels)."""
    event = {"type": "message", "user": user, "text": text, "ts": ts or new_ts(), "channel": channel,
             "channel_type": channel_type, "team": TEAM, "event_ts": ts, **extra}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def app_mention(text: str, user: str, channel: str, *, ts: str | None = None,
                thread_ts: str | None = None) -> dict[str, Any]:
    """An `app_mention` event: the customer wrote `<@bot> text` in a channel."""
    event = {"type": "app_mention", "user": user, "text": f"<@{BOT_USER}> {text}", "ts": ts or new_ts(),
             "channel": channel, "team": TEAM}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


class SlackSender:
    """Posts signed payloads to a Slack channel's webhook, as Slack's servers do."""

    def __init__(self, url: str, secret: str) -> None:
        self.url = url
        self.secret = secret

    def post(self, payload: dict[str, Any], *, timestamp: int | None = None, secret: str | None = None,
             headers: dict[str, str] | None = None) -> requests.Response:
        body = json.dumps(payload).encode()
        signed = signature_headers(body, secret or self.secret, timestamp)
        return requests.post(self.url, data=body, timeout=30,
                             headers={**signed, "Content-Type": "application/json", **(headers or {})})

    def click(self, payload: dict[str, Any]) -> requests.Response:
        """Posts an interactivity payload the way Slack does: a signed form with a `payload` field."""
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return requests.post(self.url, data=body, timeout=30, headers={
            **signature_headers(body, self.secret), "Content-Type": "application/x-www-form-urlencoded"})


def block_actions(value: str, user: str, channel: str, *, message_ts: str,
                  thread_ts: str | None = None) -> dict[str, Any]:
    """An interactivity payload: the customer clicked a button (value `value`) on the bot's message."""
    posted = {"type": "message", "user": BOT_USER, "bot_id": BOT_ID, "ts": message_ts, "text": "pick one"}
    if thread_ts:
        posted["thread_ts"] = thread_ts
    return {"type": "block_actions", "team": {"id": TEAM, "domain": "paylater"},
            "user": {"id": user, "team_id": TEAM}, "channel": {"id": channel, "name": "directmessage"},
            "message": posted, "trigger_id": uuid.uuid4().hex,
            "actions": [{"type": "button", "action_id": "a1", "block_id": "b1", "value": value,
                         "text": {"type": "plain_text", "text": value}, "action_ts": new_ts()}]}
