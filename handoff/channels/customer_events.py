"""The socket.io events our own widget adds to the rasa-webchat protocol, so the customer always
knows who answers: status (bot, waiting with queue position and estimated wait, or which agent),
their typing indicator for the agent, and the 1-5 satisfaction rating after a handoff.

Client -> server:
- `status_request` {}            -> `handoff_status` {mode, position, wait_seconds, agent_name,
                                    rating_due}
- `user_typing` {typing: bool}     the customer's typing indicator; only stored while a human
                                    owns the conversation (the bot needs none); over the rate
                                    limits the first one gets `handoff_error`, the rest are dropped
                                    quietly until the limits allow again
- `satisfaction` {rating: 1..5}  -> `satisfaction_saved` {saved: bool}
- `bot_feedback` {helpful: bool} -> `bot_feedback_saved` {saved: bool, error?}: the thumb for a
                                    bot-only conversation's end, once the server offered it
                                    (`bot_feedback_offer` {}, see `bot_feedback.py`); counted
                                    against the feedback limits (over them: `handoff_error`)

Every handler acts on the conversation of the socket's session, never on an id the client names,
so a customer only ever sees and rates their own conversation.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from socketio import AsyncServer

from handoff.bot_feedback import BotFeedback
from handoff.care_store import RATINGS, CareStore
from handoff.channels.common import ChannelContext
from handoff.channels.customer_limits import FEEDBACK, TYPING
from handoff.channels.refusals import RateLimited
from handoff.channels.router import CUSTOMER, HUMAN_MODES, MessageRejected
from handoff.models import ASSIGNED, INBOX, QUEUED
from handoff.store import StoreUnavailable

logger = logging.getLogger(__name__)

STATUS_EVENT = "handoff_status"
SATISFACTION_SAVED_EVENT = "satisfaction_saved"
BOT_FEEDBACK_OFFER_EVENT = "bot_feedback_offer"
BOT_FEEDBACK_SAVED_EVENT = "bot_feedback_saved"
# In the socket's session: the monotonic time until which an over-limit indicator is dropped quietly, the
# error having been sent once.
TYPING_QUIET_UNTIL = "typing_quiet_until"
Refuse = Callable[[str, MessageRejected, bool], Awaitable[object]]
UNAVAILABLE_STATUS = {"mode": "unknown", "position": None, "wait_seconds": None, "agent_name": "",
                      "rating_due": False}


async def customer_status(context: ChannelContext, care: CareStore, conversation_id: str) -> dict[str, Any]:
    """What the widget shows about who answers the conversation right now."""
    state = await context.store.get_state(conversation_id)
    position = await context.store.queue_position(conversation_id) if state.mode == QUEUED else None
    agent_name = await care.agent_name(state.agent_id) if state.mode == ASSIGNED and state.agent_id else ""
    return {"mode": state.mode, "position": position,
            "wait_seconds": context.store.estimate_wait(position) if position else None,
            "agent_name": agent_name, "rating_due": await care.rating_due(conversation_id)}


def register_customer_events(sio: AsyncServer, context: ChannelContext, care: CareStore, refuse: Refuse,
                             feedback: BotFeedback) -> None:
    """Adds the events of the module doc to the channel's socket.io server; `refuse(sid, refusal,
    in_chat)` tells a socket it went over a limit."""
    events = CustomerEvents(sio, context, care, refuse, feedback)
    sio.on("status_request", events.status_request)
    sio.on("user_typing", events.user_typing)
    sio.on("satisfaction", events.satisfaction)
    sio.on("bot_feedback", events.bot_feedback)


class CustomerEvents:
    """The widget's own events, each acting on the conversation of the socket's session."""

    def __init__(self, sio: AsyncServer, context: ChannelContext, care: CareStore, refuse: Refuse,
                 feedback: BotFeedback) -> None:
        self.sio = sio
        self.context = context
        self.care = care
        self.refuse = refuse
        self.feedback = feedback

    async def _conversation_of(self, sid: str) -> str | None:
        return (await self.sio.get_session(sid)).get("conversation_id")

    async def status_request(self, sid: str, _data: Any = None) -> None:
        conversation_id = await self._conversation_of(sid)
        if not conversation_id:
            return
        try:
            status = await customer_status(self.context, self.care, conversation_id)
        except StoreUnavailable as error:
            logger.warning("status of %s unavailable: %s", conversation_id, error)
            status = UNAVAILABLE_STATUS
        await self.sio.emit(STATUS_EVENT, status, room=sid)

    async def user_typing(self, sid: str, data: Any = None) -> None:
        session = await self.sio.get_session(sid)
        conversation_id = session.get("conversation_id")
        if not conversation_id or not isinstance(data, dict) or not isinstance(data.get("typing"), bool):
            return
        if not await self._typing_allowed(sid, session, conversation_id):
            return
        store = self.context.store
        try:
            if (await store.get_state(conversation_id)).mode in HUMAN_MODES:
                await store.append_message(conversation_id, INBOX, f"typing-{uuid.uuid4().hex}",
                                           CUSTOMER, "", "typing", {"typing": data["typing"]})
        except StoreUnavailable as error:
            logger.warning("typing indicator of %s dropped: %s", conversation_id, error)

    async def _typing_allowed(self, sid: str, session: dict[str, Any], conversation_id: str) -> bool:
        """Counts the indicator against the limits; only the first one over them in a window gets an error.

        A deadline, not a flag cleared by the next allowed indicator: indicators are handled concurrently, and an
        allowed one finishing after a refused one would clear the flag and let a third send the error again."""
        try:
            await self.context.limits.client(TYPING, session.get("address", ""), conversation_id)
        except RateLimited as limited:
            now = time.monotonic()
            if now >= session.get(TYPING_QUIET_UNTIL, 0.0):
                # Marked before any await: indicators handled at the same time see the mark at once.
                session[TYPING_QUIET_UNTIL] = now + (limited.retry_after or 0)
                await self.sio.save_session(sid, session)
                await self.refuse(sid, limited, False)
            return False
        return True

    async def satisfaction(self, sid: str, data: Any = None) -> None:
        conversation_id = await self._conversation_of(sid)
        rating = data.get("rating") if isinstance(data, dict) else None
        if not conversation_id or type(rating) is not int or rating not in RATINGS:
            await self.sio.emit(SATISFACTION_SAVED_EVENT, {"saved": False, "error": "a rating is 1 to 5"}, room=sid)
            return
        try:
            saved = await self.care.rate(conversation_id, rating)
        except StoreUnavailable as error:
            logger.warning("rating of %s not stored: %s", conversation_id, error)
            saved = False
        await self.sio.emit(SATISFACTION_SAVED_EVENT, {"saved": saved}, room=sid)

    async def bot_feedback(self, sid: str, data: Any = None) -> None:
        session = await self.sio.get_session(sid)
        conversation_id = session.get("conversation_id")
        helpful = data.get("helpful") if isinstance(data, dict) else None
        if not conversation_id or not isinstance(helpful, bool):
            await self.sio.emit(BOT_FEEDBACK_SAVED_EVENT, {"saved": False, "error": "feedback is {helpful: true|false}"},
                                room=sid)
            return
        try:
            await self.context.limits.client(FEEDBACK, session.get("address", ""), conversation_id)
        except RateLimited as limited:
            await self.refuse(sid, limited, False)
            await self.sio.emit(BOT_FEEDBACK_SAVED_EVENT, {"saved": False, "error": limited.error}, room=sid)
            return
        try:
            saved = await self.feedback.give(conversation_id, helpful)
        except StoreUnavailable as error:
            logger.warning("bot feedback of %s not stored: %s", conversation_id, error)
            saved = False
        await self.sio.emit(BOT_FEEDBACK_SAVED_EVENT, {"saved": saved}, room=sid)


async def offer_bot_feedback(sio: AsyncServer, feedback: BotFeedback, conversation_id: str) -> None:
    """After the bot's goodbye: offers the customer a thumb if no person ever had the conversation."""
    try:
        offered = await feedback.offer(conversation_id)
    except StoreUnavailable as error:
        logger.warning("bot feedback for %s not offered: %s", conversation_id, error)
        return
    if offered:
        await sio.emit(BOT_FEEDBACK_OFFER_EVENT, {}, room=conversation_id)
