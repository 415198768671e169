"""REST channel with human handoff, for apps and scripts.

    POST /webhooks/handoff_rest/session
         -> {"conversation_id": "<signed id>"}
    POST /webhooks/handoff_rest/webhook  {"sender": "<id>", "message": "...", "message_id": "<optional>"}
         -> the bot's replies as a list, like Rasa's REST channel ([] while a human owns the chat;
            the header X-Handoff-Route says "bot", "human" or "duplicate"); 503 with Retry-After
            when Redis is down and a person may own the chat: the message was not delivered, send
            it again with the same message_id
    GET  /webhooks/handoff_rest/conversations/<id>/messages?after=<stream id>&wait=<seconds>
         -> {"messages": [...], "next": "<stream id>"}: what agents (and the bot after a handoff)
            sent, waiting up to `wait` seconds (max 25) for something new

The sender must be an id issued by `/session`: a made-up id could belong to someone else.
Sessions and messages count against the rate limits (per conversation and per client address), and
waiting reads are capped per address and per process (`customer_limits.py`): past a limit the
answer is 429 with Retry-After and {"error": ...}.
"""

from __future__ import annotations

import json
import math
from contextlib import nullcontext
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff.channels.common import ChannelContext, outgoing_payload
from handoff.channels.customer_channel import CustomerChannel, route_handler
from handoff.channels.customer_limits import MESSAGES, SESSIONS, LongPollSlots
from handoff.channels.customer_turn import CustomerTurns, customer_message_from
from handoff.channels.outbox import CUSTOMER_KINDS
from handoff.channels.refusals import RateLimited
from handoff.channels.router import MessageRejected
from handoff.metrics import channel_metrics
from handoff.models import OUTBOX
from handoff.store import StoreUnavailable
from handoff.stream_ids import is_stream_id

MAX_WAIT_SECONDS = 25.0


def error(status: int, message: str) -> HTTPResponse:
    return response.json({"error": message}, status=status)


def refusal(rejected: MessageRejected) -> HTTPResponse:
    """A refusal as the client gets it. One that may pass later (over a rate limit, or not delivered
    while Redis is away: send it again with the same message_id) says when in Retry-After."""
    if rejected.retry_after is None:
        return error(rejected.status, rejected.error)
    return response.json({"error": rejected.error, "retry_after": rejected.retry_after}, status=rejected.status,
                         headers={"Retry-After": str(rejected.retry_after)})


class HandoffRestInput(CustomerChannel):
    """REST input channel with human handoff; configured in credentials.yml."""

    @classmethod
    def name(cls) -> str:
        return "handoff_rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls()

    def add_routes(self, bp: Blueprint, turns: CustomerTurns) -> None:
        routes = RestRoutes(self.context, turns, self.name())
        bp.add_route(route_handler(routes.new_session), "/session", methods=["POST"])
        bp.add_route(route_handler(routes.receive), "/webhook", methods=["POST"])
        bp.add_route(route_handler(routes.agent_messages), "/conversations/<conversation_id>/messages",
                     methods=["GET"])


class RestRoutes:
    """The REST channel's handlers: sessions, customer messages in, agents' messages out."""

    def __init__(self, context: ChannelContext, turns: CustomerTurns, channel: str) -> None:
        self.context = context
        self.turns = turns
        self.channel = channel
        settings = context.settings
        self.long_polls = LongPollSlots(settings.long_polls_per_address, settings.long_polls_per_process)

    def address(self, request: Request) -> str:
        """The client's address (see `client_address.py`)."""
        return self.context.proxies.client_address(request.ip, request.headers.get("x-forwarded-for"))

    async def new_session(self, request: Request) -> HTTPResponse:
        try:
            await self.context.limits.address(SESSIONS, self.address(request))
        except RateLimited as limited:
            return refusal(limited)
        return response.json({"conversation_id": self.context.session_ids.issue()})

    async def receive(self, request: Request) -> HTTPResponse:
        """One customer message; every answer but a delivery is a refusal, counted as one."""
        try:
            route, replies = await self._deliver(request)
        except MessageRejected as rejected:
            channel_metrics.message_refused(self.channel, rejected)
            return refusal(rejected)
        channel_metrics.message_routed(self.channel, route)
        return response.json(replies, headers={"X-Handoff-Route": route})

    async def _deliver(self, request: Request) -> tuple[str, list[dict[str, Any]]]:
        """Where the request's message went and the bot's replies; MessageRejected when refused."""
        try:
            data = json.loads(request.body or b"")
        except (ValueError, RecursionError):  # RecursionError: nested too deep for the parser
            raise MessageRejected(400, "the body must be JSON") from None
        if not isinstance(data, dict):
            raise MessageRejected(400, "the body must be a JSON object")
        sender = data.get("sender")
        if not self.context.session_ids.is_valid(sender):
            raise MessageRejected(403, "unknown conversation: get an id from POST /webhooks/handoff_rest/session")
        collector = CollectingOutputChannel()
        await self.context.limits.address(MESSAGES, self.address(request))
        route = await self.turns.route(customer_message_from(data, sender, self.channel, self.turns.router), collector,
                                       lambda: len(collector.messages))
        return route, collector.messages

    async def agent_messages(self, request: Request, conversation_id: str) -> HTTPResponse:
        if not self.context.session_ids.is_valid(conversation_id):
            return error(403, "unknown conversation")
        after = request.args.get("after", "0-0")
        if not is_stream_id(after):
            return error(400, "after must be a stream id such as 0-0")
        try:
            wait = float(request.args.get("wait", "0"))
        except ValueError:
            wait = math.nan
        if not math.isfinite(wait):
            return error(400, "wait must be a number of seconds")
        wait = min(max(wait, 0.0), MAX_WAIT_SECONDS)
        block_ms = int(wait * 1000) or None
        try:
            # Only a read that waits holds a Redis connection for long, so only it takes a slot.
            with self.long_polls.slot(self.address(request)) if block_ms else nullcontext():
                messages = await self.context.store.read_messages(conversation_id, OUTBOX, after, block_ms=block_ms)
        except RateLimited as limited:
            return refusal(limited)
        except StoreUnavailable:
            return error(503, "messages from agents are unavailable right now; please retry")
        next_id = messages[-1].stream_id if messages else after
        visible = [outgoing_payload(m) for m in messages if m.kind in CUSTOMER_KINDS]
        return response.json({"messages": visible, "next": next_id})
