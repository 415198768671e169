"""A tiny client for the assistant's REST channel, as a customer's app would use it."""

from __future__ import annotations

import uuid
from typing import List

import requests

from rasa_bot.system import SystemLayout


class RestCustomer:
    """One customer talking to the bot over REST; `say` returns the texts of the replies."""

    def __init__(self, layout: SystemLayout, sender: str | None = None) -> None:
        self.url = f"{layout.rasa_url}/webhooks/rest/webhook"
        self.sender = sender or f"test-{uuid.uuid4().hex[:12]}"

    def say(self, text: str) -> List[str]:
        reply = requests.post(self.url, json={"sender": self.sender, "message": text}, timeout=60)
        reply.raise_for_status()
        return [message.get("text", "") for message in reply.json()]
