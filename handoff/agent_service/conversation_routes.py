"""Conversation lifecycle routes: the agent's own list, reading one, claim, transfer, resolve."""

from __future__ import annotations

import json as json_text
from typing import Any

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, json

from handoff.agent_service.access import known_state, require_owner, require_readable
from handoff.agent_service.agents import AgentRegistry
from handoff.agent_service.errors import ApiError, json_body, text_field
from handoff.agent_service.hub import Hub
from handoff.agent_service.rasa_client import RasaUnavailable
from handoff.agent_service.rasa_sync import RasaSync
from handoff.agent_service.verdict_routes import check_names, parse_verdict, store_verdict
from handoff.agent_service.views import conversation_item, message_view, state_view
from handoff.care_store import CareStore
from handoff.models import ASSIGNED, INBOX, OUTBOX, ClaimResult, TransitionResult
from handoff.settings import HandoffSettings
from handoff.store import HandoffStore
from handoff.utf8_text import NOT_UTF8, is_utf8_text

CONVERSATION = "/api/conversations/<conversation_id:str>"


def blueprint() -> Blueprint:
    bp = Blueprint("conversations")
    bp.add_route(mine, "/api/conversations/mine", methods=["GET"])
    bp.add_route(conversation, CONVERSATION, methods=["GET"])
    bp.add_route(claim, f"{CONVERSATION}/claim", methods=["POST"])
    bp.add_route(transfer, f"{CONVERSATION}/transfer", methods=["POST"])
    bp.add_route(resolve, f"{CONVERSATION}/resolve", methods=["POST"])
    return bp


async def mine(request: Request) -> HTTPResponse:
    hub: Hub = request.app.ctx.hub
    return json({"conversations": await hub.mine(request.ctx.agent.id)})


async def conversation(request: Request, conversation_id: str) -> HTTPResponse:
    """State, ticket (with the bot part of the transcript) and the live messages since the handoff
    (agent notes included, typing indicators left out), plus the newest stream id per direction
    to resume from with the catch-up endpoint, and the handoffs resolved before with their rating."""
    store: HandoffStore = request.app.ctx.store
    state = await known_state(store, conversation_id)
    require_readable(state, request.ctx.agent)
    transcript = await store.transcript(conversation_id)
    cursors = {direction: max((m.stream_id for m in transcript if m.direction == direction),
                              key=_stream_order, default="0-0")
               for direction in (INBOX, OUTBOX)}
    ticket = state.ticket.to_dict() if state.ticket else None
    return json({"conversation_id": conversation_id, "state": state_view(state), "ticket": ticket,
                 "bot_transcript": ticket["transcript"] if ticket else [],
                 "messages": [message_view(m) for m in transcript if m.kind != "typing"],
                 "cursors": cursors,
                 "closed_tickets": await request.app.ctx.care.closed_tickets(conversation_id)})


def _stream_order(stream_id: str) -> tuple[int, int]:
    millis, _, sequence = stream_id.partition("-")
    return int(millis), int(sequence or 0)


async def claim(request: Request, conversation_id: str) -> HTTPResponse:
    """Takes a queued conversation; the chat limit is enforced by the store in the same step."""
    settings: HandoffSettings = request.app.ctx.settings
    store: HandoffStore = request.app.ctx.store
    agent = request.ctx.agent
    await known_state(store, conversation_id)
    result = await store.claim(conversation_id, agent.id, settings.max_concurrent_chats)
    if result.ok:
        request.app.ctx.metrics.ticket_claimed(result.state)
    if result.ok or (result.mode == ASSIGNED and result.owner == agent.id):
        return json({"conversation": conversation_item(result.state), "active_chats": result.active_chats,
                     "already_yours": not result.ok})
    if result.reason == "at_capacity":
        raise ApiError(409, f"you already handle {result.active_chats} conversations, the most one agent may "
                            f"(max_concurrent_chats = {settings.max_concurrent_chats})", reason="at_capacity")
    if result.reason == "already_claimed":
        raise ApiError(409, f"conversation {conversation_id} was already claimed by {result.owner}",
                       reason="already_claimed", owner=result.owner)
    raise _refused(result, conversation_id, "claimed")


async def transfer(request: Request, conversation_id: str) -> HTTPResponse:
    """Hands the conversation to another agent, within that agent's chat limit."""
    settings: HandoffSettings = request.app.ctx.settings
    store: HandoffStore = request.app.ctx.store
    registry: AgentRegistry = request.app.ctx.agents
    agent = request.ctx.agent
    target = registry.get(text_field(json_body(request), "to_agent"))
    if target is None:
        raise ApiError(400, "field 'to_agent' must name a configured agent (see GET /api/agents)")
    if target.id == agent.id:
        raise ApiError(400, "a conversation cannot be transferred to the agent who holds it")
    require_owner(await known_state(store, conversation_id), agent)
    result = await store.transfer(conversation_id, agent.id, target.id, settings.max_concurrent_chats)
    if result.ok:
        return json({"conversation": conversation_item(result.state), "to_agent": target.public()})
    if result.reason == "at_capacity":
        raise ApiError(409, f"{target.id} already handles {result.active_chats} conversations, the most one "
                            f"agent may", reason="at_capacity")
    raise _refused(result, conversation_id, "transferred")


async def resolve(request: Request, conversation_id: str) -> HTTPResponse:
    """Back to the bot: optional slots, tracker sync and welcome-back (see `rasa_sync.py`), and an
    optional verdict (see `verdict_routes.py`). A failed sync does not fail the resolve: the answer
    carries a `warning` and the sync is retried; a verdict that cannot be checked (Rasa away) is not
    stored, and the answer says so in `verdict_warning`."""
    store: HandoffStore = request.app.ctx.store
    sync: RasaSync = request.app.ctx.rasa_sync
    care: CareStore = request.app.ctx.care
    agent = request.ctx.agent
    body = json_body(request, required=False)
    slots = _slots(body)
    verdict = parse_verdict(body["verdict"]) if body.get("verdict") is not None else None
    state = await known_state(store, conversation_id)
    require_owner(state, agent)
    verdict_warning = None
    if verdict is not None:
        try:
            await check_names(request.app.ctx.domain, verdict)
        except RasaUnavailable as exc:
            verdict, verdict_warning = None, f"verdict not stored, it cannot be checked now: {exc}"
    # The ticket is archived (and made rateable) first: the customer may see the bot back at once.
    handoff_id = await care.archive(state, agent.id, agent.name)
    try:
        result, outcome = await sync.resolve(state, agent, slots)
    except Exception:
        await care.discard(conversation_id, handoff_id)
        raise
    if outcome is None:
        await care.discard(conversation_id, handoff_id)
        raise _refused(result, conversation_id, "resolved")
    request.app.ctx.metrics.ticket_resolved(state)
    answer: dict[str, Any] = {"conversation": state_view(result.state), "handoff_id": handoff_id,
                              "rasa_sync": "ok" if outcome.ok else "pending",
                              "welcome_messages": outcome.welcome_messages}
    if outcome.warning:
        answer["warning"] = outcome.warning
    if verdict is not None:
        answer["verdict"] = await store_verdict(request, conversation_id, handoff_id, verdict)
    if verdict_warning:
        answer["verdict_warning"] = verdict_warning
    return json(answer)


def _slots(body: dict[str, Any]) -> dict[str, Any]:
    slots = body.get("slots", {})
    if slots is None:
        return {}
    if not isinstance(slots, dict) or not all(isinstance(name, str) and name for name in slots):
        raise ApiError(400, "field 'slots' must be an object of slot names to values")
    if not is_utf8_text(json_text.dumps(slots, ensure_ascii=False)):
        raise ApiError(400, f"field 'slots' {NOT_UTF8}")
    return slots


def _refused(result: TransitionResult | ClaimResult, conversation_id: str, action: str) -> ApiError:
    """The error for a transition the store refused (for transfer and resolve: a race lost after our
    own checks passed)."""
    if result.reason == "not_owner":
        return ApiError(403, f"conversation {conversation_id} is handled by another agent",
                        reason="not_owner")
    return ApiError(409, f"conversation {conversation_id} cannot be {action} in mode {result.mode}",
                    reason=result.reason or "wrong_mode")

