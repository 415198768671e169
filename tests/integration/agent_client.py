"""The agent side in tests: the agent service's HTTP API with a bearer token, as the console uses it."""

from __future__ import annotations

import time
import uuid
from typing import Any

import requests

from rasa_bot.system import SystemLayout


class AgentClient:
    """One logged-in agent."""

    def __init__(self, layout: SystemLayout, token: str) -> None:
        self.base = layout.agent_url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, f"{self.base}{path}", timeout=30, **kwargs)

    def go_online(self) -> None:
        self.call("POST", "/api/presence", json={"status": "online"}).raise_for_status()

    def queue(self) -> list[dict[str, Any]]:
        reply = self.call("GET", "/api/queue")
        reply.raise_for_status()
        return reply.json()["queue"]

    def wait_for_ticket(self, conversation_id: str, timeout: float = 15.0) -> dict[str, Any]:
        """The queue entry of `conversation_id`, once it appears."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for entry in self.queue():
                if entry["conversation_id"] == conversation_id:
                    return entry
            time.sleep(0.1)
        raise AssertionError(f"no ticket for {conversation_id} in the queue")

    def conversation(self, conversation_id: str) -> dict[str, Any]:
        reply = self.call("GET", f"/api/conversations/{conversation_id}")
        reply.raise_for_status()
        return reply.json()

    def claim(self, conversation_id: str) -> requests.Response:
        return self.call("POST", f"/api/conversations/{conversation_id}/claim")

    def send(self, conversation_id: str, text: str, message_id: str | None = None) -> requests.Response:
        body = {"id": message_id or uuid.uuid4().hex, "text": text, "kind": "text"}
        return self.call("POST", f"/api/conversations/{conversation_id}/messages", json=body)

    def resolve(self, conversation_id: str, slots: dict[str, Any] | None = None) -> requests.Response:
        return self.call("POST", f"/api/conversations/{conversation_id}/resolve", json={"slots": slots or {}})
