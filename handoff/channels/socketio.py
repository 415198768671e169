"""socket.io channel speaking the rasa-webchat protocol, with human handoff.

Protocol (what the unmodified `rasa-webchat` widget does): the client emits `session_request`
{session_id} and gets `session_confirm` <id>; it emits `user_uttered` {message, session_id} and
receives `bot_uttered` {text, quick_replies?, metadata?}. Differences from Rasa's stock channel:

- the server issues the conversation id (signed, see `session_ids.py`); an id the server did not
  issue is replaced by a new one, so nobody can join another customer's conversation;
- every socket joins the room of its conversation (`enter_room` is awaited: with python-socketio 5
  it is a coroutine, and Rasa 3.6's stock channel forgets the await, so its replies never arrive);
- while a human owns the conversation, messages go to the agent instead of Rasa, and the agent's
  messages reach every socket of the conversation, including those that reconnect later.
- a browser may connect only from a shop page: a connection whose `Origin` is not one of
  `allowed_shop_origins()` (the origins Rasa's CORS headers name) is refused; a client sending no
  `Origin` is not a browser, and no other site's page can act through it.
- sessions, messages and typing indicators count against the rate limits (`customer_limits.py`),
  per conversation and per client address (the peer of the socket.io request, or what a trusted
  proxy says, see `client_address.py`); past one the socket gets `handoff_error` {error, status 429,
  retry_after} and, for sessions and messages, the refusal as a system message in the chat.

It also serves the status, typing and rating events our own widget adds (`customer_events.py`), and
after the bot's goodbye in a conversation no person had, offers a thumb up/down (`bot_feedback.py`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel
from rasa.core.channels.socketio import SocketBlueprint, SocketIOOutput
from sanic import Blueprint, Sanic
from socketio import AsyncServer
from socketio.exceptions import ConnectionRefusedError as ConnectionRefused

from handoff.bot_feedback import BotFeedback
from handoff.care_store import CareStore
from handoff.channels.common import ChannelContext, outgoing_payload
from handoff.channels.customer_channel import CustomerChannel
from handoff.channels.customer_events import offer_bot_feedback, register_customer_events
from handoff.channels.customer_limits import MESSAGES, SESSIONS
from handoff.channels.customer_turn import CustomerTurns, customer_message_from
from handoff.channels.metrics_route import ServesMetrics
from handoff.channels.outbox import OutboxReaders
from handoff.channels.refusals import RateLimited, apology
from handoff.channels.router import MessageRejected
from handoff.departures import Departures, record_departure
from handoff.metrics import channel_metrics
from handoff.models import ChatMessage
from handoff.store import StoreUnavailable
from handoff.web_origins import normalise_origin

logger = logging.getLogger(__name__)

TYPING_EVENT = "agent_typing"
ERROR_EVENT = "handoff_error"


class CountingSocketIOOutput(SocketIOOutput):
    """Rasa's socket.io output, counting the replies so the router knows whether the bot spoke, and
    calling `on_goodbye(conversation id)` after a response that ends the conversation."""

    def __init__(self, sio: AsyncServer, bot_message_evt: str, goodbyes: frozenset[str] = frozenset(),
                 on_goodbye: Callable[[str], Awaitable[None]] | None = None) -> None:
        super().__init__(sio, bot_message_evt)
        self.sent = 0
        self.goodbyes = goodbyes
        self.on_goodbye = on_goodbye

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        ends = message.get("utter_action") in self.goodbyes  # read first: sending pops from the message
        await super().send_response(recipient_id, message)
        if ends and self.on_goodbye is not None:
            await self.on_goodbye(recipient_id)

    async def _send_message(self, socket_id: str, response: Any) -> None:
        self.sent += 1
        await super()._send_message(socket_id, response)

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        self.sent += 1
        await self._send_message(recipient_id, json_message)


class HandoffSocketIOInput(CustomerChannel):
    """socket.io input channel with human handoff; configured in credentials.yml."""

    @classmethod
    def name(cls) -> str:
        return "handoff_socketio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        return cls(
            user_message_evt=credentials.get("user_message_evt", "user_uttered"),
            bot_message_evt=credentials.get("bot_message_evt", "bot_uttered"),
            socketio_path=credentials.get("socketio_path", "/socket.io"),
            cors_allowed_origins=credentials.get("cors_allowed_origins", "*"),
        )

    def __init__(self, user_message_evt: str = "user_uttered", bot_message_evt: str = "bot_uttered",
                 socketio_path: str = "/socket.io", cors_allowed_origins: str | list[str] = "*",
                 context: ChannelContext | None = None) -> None:
        super().__init__(context)
        self.user_message_evt = user_message_evt
        self.bot_message_evt = bot_message_evt
        self.socketio_path = socketio_path
        self.cors_allowed_origins = cors_allowed_origins
        self.sio: AsyncServer | None = None

    def get_output_channel(self) -> SocketIOOutput | None:
        return SocketIOOutput(self.sio, self.bot_message_evt) if self.sio is not None else None

    def new_blueprint(self) -> ServesMetrics:
        self.sio = AsyncServer(async_mode="sanic", cors_allowed_origins=self.cors_allowed_origins)
        return MetricsSocketBlueprint(self.sio, self.socketio_path, "handoff_socketio_webhook", __name__)

    def add_routes(self, bp: Blueprint, turns: CustomerTurns) -> None:
        assert self.sio is not None, "new_blueprint makes the socket.io server first"
        sockets = CustomerSockets(self.sio, self.context, turns, self.bot_message_evt, self.name())
        bp.after_server_stop(sockets.close)
        self.sio.on("connect", sockets.connect)
        self.sio.on("session_request", sockets.session_request)
        self.sio.on("disconnect", sockets.disconnect)
        self.sio.on(self.user_message_evt, sockets.handle_message)
        register_customer_events(self.sio, self.context, sockets.care, sockets.refuse, sockets.feedback)


class MetricsSocketBlueprint(ServesMetrics, SocketBlueprint):
    """Rasa's socket.io blueprint that also adds the process's `/metrics` (`metrics_route.py`)."""


class CustomerSockets:
    """The channel's socket.io handlers: a socket joins its conversation, sends messages, leaves;
    the conversation's outbox reaches every socket that shows it."""

    def __init__(self, sio: AsyncServer, context: ChannelContext, turns: CustomerTurns,
                 bot_message_evt: str, channel: str) -> None:
        self.sio = sio
        self.context = context
        self.turns = turns
        self.bot_message_evt = bot_message_evt
        self.channel = channel
        settings = context.settings
        self.outboxes = OutboxReaders(context.store, "socketio", settings.customer_block_ms, settings.outbox_readers)
        self.care = CareStore(settings.redis_url, context.store.keys, insights=context.store.insights)
        self.departures = Departures(settings.redis_url, context.store.keys)
        self.feedback = BotFeedback(context.store.connections.commands, context.store.keys,
                                    context.store.config.retention_seconds, insights=context.store.insights)
        self.goodbyes = frozenset(settings.bot_feedback_responses)
        self.shop_origins = frozenset(settings.allowed_shop_origins())

    async def close(self, _app: Sanic, _loop: Any) -> None:
        await self.outboxes.stop_all()
        await self.care.close()
        await self.departures.close()
        await self.context.store.close()

    async def deliver(self, message: ChatMessage) -> None:
        """Shows an outbox message (or the agent's typing) on every socket of its conversation."""
        if message.kind == "typing":
            await self.sio.emit(TYPING_EVENT, {"typing": bool(message.extra.get("typing")),
                                               "agent_name": message.extra.get("agent_name", "")},
                                room=message.conversation_id)
        else:
            await self.sio.emit(self.bot_message_evt, outgoing_payload(message), room=message.conversation_id)

    async def connect(self, sid: str, environ: dict[str, Any], _auth: Any = None) -> None:
        """Refuses a browser's connection from a page that is not the shop's (see the module doc);
        keeps the client's address for the limits counted per address."""
        origin = environ.get("HTTP_ORIGIN")
        if not origin_allowed(origin, self.shop_origins):
            logger.info("socket.io connection from origin %r refused", origin)
            raise ConnectionRefused("this page's origin may not open the chat")
        await self.sio.save_session(sid, {"address": client_address(environ, self.context)})

    async def refuse(self, sid: str, rejected: MessageRejected, in_chat: bool = True) -> dict[str, Any]:
        """Tells the socket its request was refused and returns the ack for a client that asked for
        one. The error event is for clients that handle it; with `in_chat`, the text also reaches a
        widget that reads neither (the stock rasa-webchat) as a system message."""
        details: dict[str, Any] = {"error": rejected.error, "status": rejected.status}
        if rejected.retry_after is not None:
            details["retry_after"] = rejected.retry_after
        await self.sio.emit(ERROR_EVENT, details, room=sid)
        if in_chat:
            await self.sio.emit(self.bot_message_evt, {"text": apology(rejected),
                                                       "metadata": {"sender": "system", "kind": "error"}},
                                room=sid)
        return {"ok": False, **details}

    async def session_request(self, sid: str, data: Any = None) -> None:
        """Shows the requested conversation on the socket; a socket shows one at a time, so a
        conversation it showed before is left (else its agent messages kept arriving here, and each
        repeat kept one more outbox followed for the life of the process)."""
        requested = data.get("session_id") if isinstance(data, dict) else None
        session = await self.sio.get_session(sid)
        try:
            await self.context.limits.address(SESSIONS, session.get("address", ""))
            if self.context.session_ids.is_valid(requested):
                await self.context.limits.conversation(SESSIONS, requested)
        except RateLimited as limited:
            await self.refuse(sid, limited)
            return
        conversation_id = self.context.session_ids.resume_or_issue(requested)
        previous = session.get("conversation_id")
        await self.sio.save_session(sid, {**session, "conversation_id": conversation_id})
        if previous and previous != conversation_id:
            await self.sio.leave_room(sid, previous)
            await self._left(previous, sid)
        await self.sio.enter_room(sid, conversation_id)
        await self.sio.emit("session_confirm", conversation_id, room=sid)
        self.outboxes.follow(conversation_id, self.deliver)
        await _note(self.departures.back(conversation_id), "return", conversation_id)

    async def disconnect(self, sid: str) -> None:
        conversation_id = (await self.sio.get_session(sid)).get("conversation_id")
        if conversation_id:
            await self._left(conversation_id, sid)

    async def _left(self, conversation_id: str, sid: str) -> None:
        """The socket no longer shows the conversation: if no other socket of this process does,
        its outbox is no longer followed here and the customer's departure is recorded."""
        if not _other_sockets_in_room(self.sio, conversation_id, sid):
            self.outboxes.stop(conversation_id)
            await _note(record_departure(self.context.store, self.departures, conversation_id), "departure",
                        conversation_id)
            if _other_sockets_in_room(self.sio, conversation_id, sid):
                # Back (a reload) while that was stored: its own `back` may have reached Redis first.
                await _note(self.departures.back(conversation_id), "return", conversation_id)

    async def handle_message(self, sid: str, data: Any = None) -> dict[str, Any]:
        """Routes one customer message; the return value is the socket.io ack a client gets when it
        asks for one: {"ok": true, "route": ...} once the message is delivered (stored for the
        agent, or answered by the bot), else {"ok": false, "error", "status"} and, when sending it
        again later may work, "retry_after" seconds. Clients that ask for no ack (the stock
        rasa-webchat) get the `handoff_error` event and an apology in the chat instead."""
        session = await self.sio.get_session(sid)
        conversation_id = session.get("conversation_id")
        if not conversation_id:
            return await self._refuse_message(sid, MessageRejected(400, "send session_request before messages"),
                                              in_chat=False)
        if not isinstance(data, dict):
            return await self._refuse_message(sid, MessageRejected(400, "a message must be a JSON object"),
                                              in_chat=False)
        output = CountingSocketIOOutput(self.sio, self.bot_message_evt, self.goodbyes, self._offer_feedback)
        try:
            await self.context.limits.address(MESSAGES, session.get("address", ""))
            route = await self.turns.route(customer_message_from(data, conversation_id, self.channel,
                                                                 self.turns.router), output, lambda: output.sent)
        except MessageRejected as rejected:
            return await self._refuse_message(sid, rejected)
        channel_metrics.message_routed(self.channel, route)
        return {"ok": True, "route": route}

    async def _refuse_message(self, sid: str, rejected: MessageRejected, in_chat: bool = True) -> dict[str, Any]:
        """Refuses a customer message, counted for the metrics."""
        channel_metrics.message_refused(self.channel, rejected)
        return await self.refuse(sid, rejected, in_chat)

    async def _offer_feedback(self, conversation_id: str) -> None:
        await offer_bot_feedback(self.sio, self.feedback, conversation_id)


def client_address(environ: dict[str, Any], context: ChannelContext) -> str:
    """The address of the client behind a socket.io connection. python-socketio's Sanic driver puts
    a fixed 127.0.0.1 in REMOTE_ADDR, so the peer comes from the Sanic request it keeps."""
    request = environ["sanic.request"]
    return context.proxies.client_address(request.ip, request.headers.get("x-forwarded-for"))


def origin_allowed(origin: str | None, allowed: frozenset[str]) -> bool:
    """Whether a connection with this `Origin` header may open a socket: none (not a browser), or
    one of the allowed origins."""
    return origin is None or normalise_origin(origin) in allowed


async def _note(update: Awaitable[None], what: str, conversation_id: str) -> None:
    """Records a customer's departure or return; without Redis the chat goes on (a missed
    departure only leaves a ticket waiting, as before departures were recorded)."""
    try:
        await update
    except StoreUnavailable as error:
        logger.warning("%s of %s not recorded: %s", what, conversation_id, error)


def _other_sockets_in_room(sio: AsyncServer, room: str, leaving_sid: str) -> bool:
    """Whether another socket of this process still shows the conversation."""
    return any(sid != leaving_sid for sid, _ in sio.manager.get_participants("/", room))
