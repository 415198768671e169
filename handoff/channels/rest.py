"""REST channel with human handoff, for apps and scripts.

    POST /webhooks/handoff_rest/session
         -> {"conversation_id": "<signed id>"}
    POST /webhooks/handoff_rest/webhook  {"sender": "<id>", "message": "...", "message_id": "<optional>"}
         -> the bot's replies as a list, like Rasa's REST channel ([] while a human owns the chat;
            the header X-Handoff-Route says "bot", "human" or "duplicate")
    GET  /webhooks/handoff_rest/conversations/<id>/messages?after=<stream id>&wait=<seconds>
         -> {"messages": [...], "next": "<stream id>"}: what agents (and the bot after a handoff)
            sent, waiting up to `wait` seconds (max 25) for something new

The sender must be an id issued by `/session`: a made-up id could belong to someone else.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff.channels.common import ChannelContext, freeze_heap_after_start, message_id_from, outgoing_payload
from handoff.channels.outbox import CUSTOMER_KINDS
from handoff.channels.router import CustomerMessage, MessageRejected
from handoff.models import OUTBOX
from handoff.store import StoreUnavailable

MAX_WAIT_SECONDS = 25.0
STREAM_ID = re.compile(r"^\d{1,20}-\d{1,20}$")


def error(status: int, message: str) -> HTTPResponse:
    return response.json({"error": message}, status=status)


class HandoffRestInput(InputChannel):
    """REST input channel with human handoff; configured in credentials.yml."""

    @classmethod
    def name(cls) -> str:
        return "handoff_rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls()

    def __init__(self, context: ChannelContext | None = None) -> None:
        self.context = context or ChannelContext.from_settings()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("handoff_rest_webhook", __name__)
        context = self.context
        freeze_heap_after_start(bp, context.settings)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @bp.route("/session", methods=["POST"])
        async def new_session(_: Request) -> HTTPResponse:
            return response.json({"conversation_id": context.session_ids.issue()})

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                data = json.loads(request.body or b"")
            except (ValueError, UnicodeDecodeError):
                return error(400, "the body must be JSON")
            if not isinstance(data, dict):
                return error(400, "the body must be a JSON object")
            sender = data.get("sender")
            if not context.session_ids.is_valid(sender):
                return error(403, "unknown conversation: get an id from POST /webhooks/handoff_rest/session")
            collector = CollectingOutputChannel()
            metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
            message = CustomerMessage(sender, data.get("message"), message_id_from(data), self.name(), metadata)

            async def ask_bot() -> int:
                await on_new_message(UserMessage(message.text, collector, sender,
                                                 input_channel=self.name(), metadata=metadata))
                return len(collector.messages)

            try:
                route = await context.router.route(message, ask_bot)
            except MessageRejected as rejected:
                return error(rejected.status, rejected.error)
            except StoreUnavailable:
                return error(503, "live agents are unavailable right now; please try again shortly")
            return response.json(collector.messages, headers={"X-Handoff-Route": route})

        @bp.route("/conversations/<conversation_id>/messages", methods=["GET"])
        async def agent_messages(request: Request, conversation_id: str) -> HTTPResponse:
            if not context.session_ids.is_valid(conversation_id):
                return error(403, "unknown conversation")
            after = request.args.get("after", "0-0")
            if not STREAM_ID.match(after):
                return error(400, "after must be a stream id such as 0-0")
            try:
                wait = min(max(float(request.args.get("wait", "0")), 0.0), MAX_WAIT_SECONDS)
            except ValueError:
                return error(400, "wait must be a number of seconds")
            try:
                messages = await context.store.read_messages(
                    conversation_id, OUTBOX, after, block_ms=int(wait * 1000) or None
                )
            except StoreUnavailable:
                return error(503, "messages from agents are unavailable right now; please retry")
            next_id = messages[-1].stream_id if messages else after
            visible = [outgoing_payload(m) for m in messages if m.kind in CUSTOMER_KINDS]
            return response.json({"messages": visible, "next": next_id})

        return bp
