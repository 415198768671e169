"""Calls of Rasa's HTTP API as the tests make them: with a JWT signed with the system's secret."""

from __future__ import annotations

from typing import Any

import requests

from handoff.rasa_api_auth import rasa_api_headers
from rasa_bot.system import SystemLayout


def rasa_api(layout: SystemLayout, method: str, path: str, **kwargs: Any) -> requests.Response:
    """`method` on `/conversations/<path>`; raises for an error status."""
    reply = requests.request(method, f"{layout.rasa_url}/conversations/{path}", timeout=30,
                             headers=rasa_api_headers(layout.rasa_jwt_secret, 60), **kwargs)
    reply.raise_for_status()
    return reply


def tracker_events(layout: SystemLayout, conversation_id: str) -> list[dict]:
    """Every event of the conversation's tracker."""
    return rasa_api(layout, "GET", f"{conversation_id}/tracker").json()["events"]
