"""Resolve: give the conversation back to the bot and make Rasa's tracker whole again.

Steps after the store's resolve (assigned -> bot):
1. POST /conversations/{id}/tracker/events with, in conversation order, each live customer
   message as a `user` event (intent `handoff_message_intent`, metadata `handoff: true`) and each
   agent message as a `bot` event (metadata agent_id/agent_name), then a `slot` event per slot the
   agent set, then `resume` (the handoff action paused the tracker). User events are safe here:
   the handoff policy starts counting afresh at `resume`, and the intent, unknown to the domain, is
   ignored by the featurizers; the next prediction sees the triggered intent below.
   Internal notes, typing indicators and system messages are not part of the record Rasa keeps.
2. POST /conversations/{id}/trigger_intent {"name": handoff_resolved_intent} without an output
   channel, so Rasa returns the bot's replies; each is appended to the outbox with sender "bot",
   and the customer's channel delivers this welcome-back like any agent message.

Rasa may be down: the resolve still holds in Redis and a pending-sync marker (`side_store.py`)
keeps what is left to do. It is written before the resolve (so a crash cannot lose it), and
retried with back-off by a background task, on service start, and whenever a sync succeeds (Rasa
is back). A per-conversation lease keeps two processes from syncing the same conversation.

Rasa's API is not idempotent, and a step can reach Rasa with only its answer lost (a timeout, a
dropped connection, a process that died waiting). So every attempt but a sync's first reads the
tracker before the step it starts with: messages already in it (by message id) are not appended again, and a
welcome-back Rasa already gave (the resolved intent after the last `resume`) is taken from the
tracker instead of triggering the intent twice. The welcome-back messages have fixed ids per
sync, so the customer never gets them twice either.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from handoff.agent_service.agents import Agent
from handoff.agent_service.errors import ApiError
from handoff.agent_service.rasa_client import RasaClient, RasaUnavailable
from handoff.agent_service.side_store import PendingSync, ServiceStore, SyncStage
from handoff.models import BOT, INBOX, OUTBOX, ChatMessage, ConversationState, TransitionResult
from handoff.settings import HandoffSettings
from handoff.store import HandoffStore, StoreUnavailable

logger = logging.getLogger(__name__)

BOT_SENDER = "bot"
MAX_RETRY_DELAY_SECONDS = 600.0
# Stages of a pending sync.
EVENTS: SyncStage = "events"
TRIGGER: SyncStage = "trigger"
DONE: SyncStage = "done"


@dataclass
class SyncOutcome:
    """How the hand-back to Rasa went; `warning` explains a failure to the agent."""

    ok: bool
    warning: str | None = None
    welcome_messages: int = 0


def handoff_messages(transcript: list[ChatMessage], pending: PendingSync) -> list[ChatMessage]:
    """The messages exchanged with the agent during the handoff being synced."""
    return [message for message in transcript
            if message.kind == "text" and message.ts >= pending.since
            and (pending.until_seq < 0 or message.seq <= pending.until_seq)
            and not (message.direction == OUTBOX and message.sender == BOT_SENDER)]


LISTEN = {"event": "action", "name": "action_listen"}


def tracker_events(pending: PendingSync, messages: list[ChatMessage], message_intent: str, *,
                   resume: bool) -> list[dict[str, Any]]:
    """The events for Rasa's tracker, in conversation order (see the module docstring)."""
    events: list[dict[str, Any]] = []
    for message in messages:
        if message.direction == INBOX:
            # Rasa's own trackers always listen before a user message; rules match on that.
            events.append(LISTEN)
            events.append({
                "event": "user", "text": message.text, "timestamp": message.ts, "message_id": message.id,
                "parse_data": {"intent": {"name": message_intent, "confidence": 1.0}, "entities": [],
                               "text": message.text},
                "input_channel": pending.channel or None, "metadata": {"handoff": True}})
        else:
            events.append({
                "event": "bot", "text": message.text, "timestamp": message.ts,
                "metadata": {"handoff": True, "message_id": message.id, "agent_id": message.sender,
                             "agent_name": message.extra.get("agent_name") or message.sender}})
    events.extend({"event": "slot", "name": name, "value": value} for name, value in pending.slots.items())
    if resume:
        events += [{"event": "resume"}, LISTEN]
    return events


def applied_message_ids(events: list[dict[str, Any]]) -> set[str]:
    """The ids of the handoff messages a tracker already holds (see `tracker_events`)."""
    ids: set[str] = set()
    for event in events:
        metadata = event.get("metadata") or {}
        if not metadata.get("handoff"):
            continue
        message_id = event.get("message_id") if event.get("event") == "user" else metadata.get("message_id")
        if isinstance(message_id, str):
            ids.add(message_id)
    return ids


def replies_already_given(events: list[dict[str, Any]], intent: str) -> list[dict[str, Any]] | None:
    """The bot's replies to `intent` triggered after the tracker's last `resume`, shaped like the
    trigger_intent answer's messages; None if it was not triggered since."""
    resumed = max((index for index, event in enumerate(events) if event.get("event") == "resume"), default=-1)
    replies: list[dict[str, Any]] | None = None
    for event in events[resumed + 1:]:
        if event.get("event") == "user":
            if replies is not None:
                break  # the customer spoke again: later bot events answer them
            if ((event.get("parse_data") or {}).get("intent") or {}).get("name") == intent:
                replies = []
        elif event.get("event") == "bot" and replies is not None:
            data = {key: value for key, value in (event.get("data") or {}).items() if value is not None}
            replies.append({"text": event.get("text"), **data})
    return replies


def _resolve_happened(state: ConversationState, pending: PendingSync) -> bool:
    """Whether the conversation left the handoff the marker was written for. A transfer or an
    abandon changes the version too, but keeps that handoff's request time."""
    if state.version <= pending.version:
        return False
    return state.mode == BOT or state.queued_at != pending.queued_at


class RasaSync:
    """Resolves conversations and keeps retrying their tracker sync until Rasa has it."""

    def __init__(self, settings: HandoffSettings, store: HandoffStore, side: ServiceStore, client: RasaClient,
                 clock: Callable[[], float] = time.time) -> None:
        self._settings = settings
        self._store = store
        self._side = side
        self._client = client
        self._clock = clock
        self._wake = asyncio.Event()
        # Long enough for a resolve with up to four Rasa calls (an earlier sync still owed, then its
        # own); a crashed holder's lease runs out.
        self._lease_seconds = 4 * settings.rasa_timeout_seconds + 10

    async def resolve(self, state: ConversationState, agent: Agent,
                      slots: dict[str, Any]) -> tuple[TransitionResult, SyncOutcome | None]:
        """store.resolve plus the sync; the outcome is None when the resolve itself was refused."""
        conversation_id = state.conversation_id
        lease = await self._side.acquire_lease(conversation_id, self._lease_seconds)
        if lease is None:
            raise ApiError(409, f"conversation {conversation_id} is being synced with Rasa; "
                                "try again shortly")
        try:
            earlier = await self._side.load_pending(conversation_id)
            if earlier is not None and (await self._sync(earlier)).ok:
                earlier = None
            pending = self._pending(state, agent, slots, earlier)
            await self._side.save_pending(pending, self._clock())
            result = await self._store.resolve(conversation_id, agent.id)
            if not result.ok:
                await self._restore(conversation_id, earlier)
                return result, None
            transcript = await self._store.transcript(conversation_id)
            pending.until_seq = max((message.seq for message in transcript), default=0)
            await self._side.save_pending(pending, self._clock())
            return result, await self._sync(pending, transcript, first_attempt=True)
        finally:
            await self._side.release_lease(conversation_id, lease)

    def _pending(self, state: ConversationState, agent: Agent, slots: dict[str, Any],
                 earlier: PendingSync | None) -> PendingSync:
        pending = PendingSync(conversation_id=state.conversation_id, agent_id=agent.id, agent_name=agent.name,
                              channel=state.channel or "", since=state.queued_at or 0.0, until_seq=-1,
                              version=state.version, slots=dict(slots), queued_at=state.queued_at)
        if earlier is not None:
            # An earlier handoff's sync is still owed: fold it in, so nothing it carried is lost.
            pending.slots = {**earlier.slots, **pending.slots}
            if earlier.stage == EVENTS:
                pending.since = min(earlier.since, pending.since)
                pending.attempts = earlier.attempts  # its failed calls may have reached Rasa
        return pending

    async def _restore(self, conversation_id: str, earlier: PendingSync | None) -> None:
        if earlier is None:
            await self._side.drop_pending(conversation_id)
        else:
            await self._side.save_pending(earlier, self._clock())

    async def _sync(self, pending: PendingSync, transcript: list[ChatMessage] | None = None, *,
                    first_attempt: bool = False) -> SyncOutcome:
        """Runs what is left of one sync; the caller holds the conversation's lease. Unless this
        is the sync's first attempt, Rasa's tracker is read before the step the attempt starts
        with: a failed attempt, or a process that died during one, may have reached Rasa."""
        conversation_id = pending.conversation_id
        state = await self._store.get_state(conversation_id)
        if not _resolve_happened(state, pending):
            # The marker was written, then the process died before the resolve itself.
            await self._side.drop_pending(conversation_id)
            return SyncOutcome(True)
        check_rasa = not first_attempt or pending.attempts > 0
        try:
            if pending.stage == EVENTS:
                await self._append_events(pending, state, transcript, check_rasa=check_rasa)
                check_rasa = False  # the trigger now follows the resume just appended: nothing before it counts
            welcome = await self._welcome_back(pending, check_rasa=check_rasa) if pending.stage == TRIGGER else 0
        except RasaUnavailable as exc:
            return await self._postpone(pending, str(exc))
        await self._side.drop_pending(conversation_id)
        self._wake.set()  # Rasa answers again: a good moment to retry the others
        return SyncOutcome(True, welcome_messages=welcome)

    async def _append_events(self, pending: PendingSync, state: ConversationState,
                             transcript: list[ChatMessage] | None, *, check_rasa: bool) -> None:
        if transcript is None:
            transcript = await self._store.transcript(pending.conversation_id)
        # If a new handoff is already under way, the tracker must stay paused and the bot silent.
        back_with_bot = state.mode == BOT
        messages = handoff_messages(transcript, pending)
        if check_rasa:
            applied = applied_message_ids(await self._client.tracker_events(pending.conversation_id))
            messages = [message for message in messages if message.id not in applied]
        events = tracker_events(pending, messages, self._settings.handoff_message_intent, resume=back_with_bot)
        await self._client.append_events(pending.conversation_id, events)
        pending.stage = TRIGGER if back_with_bot else DONE
        await self._side.save_pending(pending, self._clock())

    async def _welcome_back(self, pending: PendingSync, *, check_rasa: bool) -> int:
        intent = self._settings.handoff_resolved_intent
        replies = None
        if check_rasa:
            replies = replies_already_given(await self._client.tracker_events(pending.conversation_id), intent)
        if replies is None:
            replies = await self._client.trigger_intent(pending.conversation_id, intent)
        for index, reply in enumerate(replies):
            extra = {key: value for key, value in reply.items() if key not in ("text", "recipient_id")}
            # A fixed id per sync and reply: a retried sync does not greet the customer twice.
            await self._store.append_message(pending.conversation_id, OUTBOX,
                                             f"rasa-{pending.sync_id}-{index}", BOT_SENDER,
                                             str(reply.get("text") or ""), "text", extra)
        return len(replies)

    async def _postpone(self, pending: PendingSync, error: str) -> SyncOutcome:
        pending.attempts += 1
        pending.last_error = error
        delay = min(self._settings.rasa_sync_retry_seconds * 2 ** (pending.attempts - 1),
                    MAX_RETRY_DELAY_SECONDS)
        await self._side.save_pending(pending, self._clock() + delay)
        logger.warning("tracker sync of %s failed (attempt %d, next in %.0fs): %s",
                       pending.conversation_id, pending.attempts, delay, error)
        return SyncOutcome(False, warning=f"resolved, but handing the conversation back to Rasa failed "
                                          f"({error}); the tracker sync will be retried automatically")

    async def retry_pending(self, *, all_pending: bool = False) -> int:
        """Retries the syncs that are due (or all of them); returns how many succeeded."""
        now = float("inf") if all_pending else self._clock()
        done = 0
        for conversation_id in await self._side.due_pending(now):
            lease = await self._side.acquire_lease(conversation_id, self._lease_seconds)
            if lease is None:
                continue
            try:
                pending = await self._side.load_pending(conversation_id)
                if pending is None:
                    await self._side.drop_pending(conversation_id)  # an index entry without marker
                elif (await self._sync(pending)).ok:
                    done += 1
            finally:
                await self._side.release_lease(conversation_id, lease)
        return done

    async def run_retries(self) -> None:
        """Background task: all pending syncs at start, then the due ones every retry interval, and
        all of them again soon after any sync succeeds. Never ends on a Redis outage."""
        all_pending = True
        while True:
            self._wake.clear()
            try:
                await self.retry_pending(all_pending=all_pending)
            except StoreUnavailable as exc:
                logger.warning("pending tracker syncs not retried, redis unavailable: %s", exc)
            except Exception:
                logger.exception("retrying pending tracker syncs failed")
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self._settings.rasa_sync_retry_seconds)
                all_pending = True
            except asyncio.TimeoutError:
                all_pending = False
