"""A small client for the assistant's REST channel, as a customer's app would use it."""

from __future__ import annotations

import uuid

import requests

from rasa_bot.system import SystemLayout


class RestCustomer:
    """One customer talking over REST: gets a signed conversation id, then sends messages."""

    def __init__(self, layout: SystemLayout) -> None:
        self.base = f"{layout.rasa_url}/webhooks/handoff_rest"
        reply = requests.post(f"{self.base}/session", timeout=10)
        reply.raise_for_status()
        self.conversation_id = reply.json()["conversation_id"]
        self.cursor = "0-0"

    def send(self, text: str, message_id: str | None = None, metadata: object = None) -> requests.Response:
        body = {"sender": self.conversation_id, "message": text, "message_id": message_id or uuid.uuid4().hex}
        if metadata is not None:
            body["metadata"] = metadata
        return requests.post(f"{self.base}/webhook", json=body, timeout=60)

    def say(self, text: str) -> list[str]:
        """Sends `text` and returns the texts of the bot's replies."""
        reply = self.send(text)
        reply.raise_for_status()
        return [message.get("text", "") for message in reply.json()]

    def agent_messages(self, wait: float = 5.0) -> list[dict]:
        """Messages from the agent side (agents, and the bot after a handoff) since the last call."""
        reply = requests.get(f"{self.base}/conversations/{self.conversation_id}/messages",
                             params={"after": self.cursor, "wait": wait}, timeout=wait + 10)
        reply.raise_for_status()
        body = reply.json()
        self.cursor = body["next"]
        return body["messages"]
