"""Handoff alerts for agents who live in Slack: each new ticket is posted into the agents' Slack
channel with its reason, priority, summary and a link into the agent console, and that same post
is updated as the ticket is claimed, transferred, resolved or abandoned.

It runs as a leased tail (see `tail.py`) inside the agent service, so exactly one process posts
each alert. Which post belongs to which ticket is kept in Redis (`state.py`), so updates reach
the right post after a restart too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from slack_sdk.web.async_client import AsyncWebClient

from handoff.models import WAITING_OFFLINE, HandoffEvent
from handoff.personal_data import mask_emails
from handoff.slack.state import AlertPost, SlackState
from handoff.slack.web import call, escape
from handoff.store import HandoffStore

logger = logging.getLogger(__name__)

AgentName = Callable[[str], str]
CLOSING_EVENTS = ("ticket_resolved", "ticket_abandoned")


def status_line(event: HandoffEvent, agent_name: AgentName) -> str | None:
    """What the alert says about the ticket after `event`; None for events that do not change it."""
    agent = str(event.data.get("agent_id") or "")
    match event.type:
        case "ticket_created":
            offline = event.data.get("mode") == WAITING_OFFLINE
            return "Waiting: no agent is online" if offline else "Waiting in the queue"
        case "ticket_requeued":
            return "Waiting in the queue"
        case "ticket_claimed":
            return f"Claimed by {agent_name(agent)}"
        case "ticket_transferred":
            return f"Transferred to {agent_name(str(event.data.get('to_agent') or ''))}"
        case "ticket_resolved":
            return f"Resolved by {agent_name(agent)}"
        case "ticket_abandoned":
            return "The customer left"
    return None


def console_link(console_base_url: str, conversation_id: str) -> str:
    return f"{console_base_url.rstrip('/')}/console#/conversations/{quote(conversation_id, safe='')}"


def render(post: AlertPost, link: str) -> dict[str, Any]:
    """The chat.postMessage / chat.update arguments showing `post`; customers' words are escaped and
    email addresses masked."""
    headline = "Handoff closed" if post.closed else "New handoff"
    reason = escape(post.reason or "unknown reason")
    # The channel may be wider than the agents: the summary quotes the customer and the known slots.
    summary = escape(mask_emails(post.summary or "(no summary)"))
    status = escape(post.status)
    return {
        "text": f"{headline} (priority {post.priority}, {reason}): {summary}. {status}.",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": (
                f"*{headline}* · priority *{post.priority}* · `{reason}`\n{summary}")}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": (
                f"*{status}* · via {escape(post.customer_channel or 'unknown channel')} · "
                f"<{link}|Open in the agent console>")}]},
        ],
    }


class SlackAlerts:
    """Handler of ticket events: posts and updates the alerts in `channel`."""

    def __init__(self, store: HandoffStore, state: SlackState, client: AsyncWebClient, channel: str,
                 console_base_url: str, agent_name: AgentName) -> None:
        self._store = store
        self._state = state
        self._client = client
        self._channel = channel
        self._console = console_base_url
        self._agent_name = agent_name

    async def __call__(self, event: HandoffEvent) -> None:
        status = status_line(event, self._agent_name)
        if status is None:
            return
        if event.type == "ticket_created":
            await self._announce(event, status)
        else:
            await self._update(event, status)

    async def _announce(self, event: HandoffEvent, status: str) -> None:
        conversation_id = event.conversation_id
        known = await self._state.alert(conversation_id)
        if known is not None and known.event == event.id:
            return  # posted already, just before a restart
        ticket = (await self._store.get_state(conversation_id)).ticket
        post = AlertPost(channel=self._channel, ts="", event=event.id,
                         reason=ticket.reason if ticket else "",
                         priority=int(event.data.get("priority") or (ticket.priority if ticket else 0)),
                         summary=ticket.summary if ticket else "",
                         customer_channel=str(event.data.get("channel") or ""), status=status)
        reply = await call(self._client.chat_postMessage(
            channel=self._channel, **render(post, console_link(self._console, conversation_id))))
        # chat.update needs the channel's id, which the reply gives even if a name was configured.
        post.channel, post.ts = reply["channel"], reply["ts"]
        await self._state.save_alert(conversation_id, post)

    async def _update(self, event: HandoffEvent, status: str) -> None:
        post = await self._state.alert(event.conversation_id)
        if post is None:
            logger.info("no Slack alert for %s (its ticket predates the alerts); %s not shown",
                        event.conversation_id, event.type)
            return
        post.status = status
        post.closed = event.type in CLOSING_EVENTS
        await call(self._client.chat_update(
            channel=post.channel, ts=post.ts, **render(post, console_link(self._console, event.conversation_id))))
        await self._state.save_alert(event.conversation_id, post)
