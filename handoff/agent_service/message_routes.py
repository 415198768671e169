"""Message routes of a held conversation: send (text or internal note), typing, and catch-up.

Everything an agent sends goes to the conversation's OUTBOX stream, in conversation order:
- kind `text`: for the customer;
- kind `note`: internal, for agents only. Channels MUST NOT deliver it;
- kind `typing`: the agent's typing indicator (`extra.typing`), delivered as an indicator, never
  shown as a message nor kept in the transcript this API returns.
Channels therefore deliver `text` (and `typing` as an indicator) and skip every other kind.

A message is acknowledged only once it is in Redis; its client id makes a retry harmless (the
first copy's stream id comes back with `duplicate: true`).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, json

from handoff.agent_service.access import check_conversation_id, known_state, require_owner, require_sent
from handoff.agent_service.agents import Agent
from handoff.agent_service.errors import ApiError, json_body, text_field
from handoff.agent_service.views import message_view
from handoff.models import DIRECTIONS, INBOX
from handoff.settings import HandoffSettings
from handoff.store import HandoffStore
from handoff.stream_ids import is_stream_id
from handoff.utf8_text import NOT_UTF8, is_utf8_text

MESSAGES = "/api/conversations/<conversation_id:str>/messages"
AGENT_KINDS = ("text", "note")
MESSAGE_ID_PATTERN = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
LIMIT_PATTERN = re.compile(r"[0-9]{1,4}")
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000


def blueprint() -> Blueprint:
    bp = Blueprint("messages")
    bp.add_route(send, MESSAGES, methods=["POST"])
    bp.add_route(catch_up, MESSAGES, methods=["GET"])
    bp.add_route(typing, "/api/conversations/<conversation_id:str>/typing", methods=["POST"])
    return bp


async def send_agent_message(store: HandoffStore, settings: HandoffSettings, agent: Agent, conversation_id: str,
                             body: dict[str, Any]) -> dict[str, Any]:
    """Validates and stores one agent message (the HTTP route and the console socket share this);
    returns the acknowledgement, with `duplicate` for a retried id. Refusals raise ApiError."""
    message_id = text_field(body, "id")
    if not MESSAGE_ID_PATTERN.fullmatch(message_id):
        raise ApiError(400, "field 'id' must be 1-128 letters, digits or _.:- (a UUID is a good choice)")
    text = text_field(body, "text")
    if not is_utf8_text(text):
        raise ApiError(400, f"field 'text' {NOT_UTF8}")
    kind = body.get("kind", "text")
    if kind not in AGENT_KINDS:
        raise ApiError(400, f"field 'kind' must be one of {', '.join(AGENT_KINDS)}")
    size = len(text.encode("utf-8"))
    if size > settings.max_message_bytes:
        raise ApiError(413, f"message is {size} bytes; the limit is {settings.max_message_bytes} "
                            "bytes (UTF-8)")
    check_conversation_id(conversation_id)
    result = await store.append_agent_message(conversation_id, agent.id, message_id, text, kind,
                                              {"agent_name": agent.name})
    require_sent(conversation_id, result, agent)
    return {"id": message_id, "conversation_id": conversation_id, "kind": kind, "stream_id": result.stream_id,
            "duplicate": result.outcome == "duplicate"}


async def send(request: Request, conversation_id: str) -> HTTPResponse:
    sent = await send_agent_message(request.app.ctx.store, request.app.ctx.settings, request.ctx.agent,
                                    conversation_id, json_body(request))
    return json(sent, status=200 if sent["duplicate"] else 201)


async def typing(request: Request, conversation_id: str) -> HTTPResponse:
    store: HandoffStore = request.app.ctx.store
    agent = request.ctx.agent
    typing_now = json_body(request).get("typing")
    if not isinstance(typing_now, bool):
        raise ApiError(400, "field 'typing' must be true or false")
    check_conversation_id(conversation_id)
    result = await store.append_agent_message(conversation_id, agent.id, f"typing-{uuid.uuid4().hex}", "",
                                              "typing", {"typing": typing_now, "agent_name": agent.name})
    require_sent(conversation_id, result, agent)
    return json({"typing": typing_now, "stream_id": result.stream_id}, status=201)


async def catch_up(request: Request, conversation_id: str) -> HTTPResponse:
    """Messages of one direction after a stream id (default: customer messages, from the start),
    e.g. what arrived while the console was disconnected. Page on with `last_id` while `more`."""
    store: HandoffStore = request.app.ctx.store
    after = request.args.get("after", "0-0")
    if not is_stream_id(after, sequence_optional=True):
        raise ApiError(400, "query 'after' must be a stream id such as 1700000000000-0 (whole numbers below 2^64)")
    direction = request.args.get("direction", INBOX)
    if direction not in DIRECTIONS:
        raise ApiError(400, f"query 'direction' must be one of {', '.join(DIRECTIONS)}")
    limit = _limit(request.args.get("limit"))
    require_owner(await known_state(store, conversation_id), request.ctx.agent)
    read = await store.read_messages(conversation_id, direction, after, count=limit)
    return json({"conversation_id": conversation_id, "direction": direction,
                 "messages": [message_view(m) for m in read if m.kind != "typing"],
                 "last_id": read[-1].stream_id if read else after, "more": len(read) == limit})


def _limit(raw: str | None) -> int:
    """`limit` as ASCII digits only: str.isdigit() and int() also take digits such as "²" or "٣"."""
    if raw is None:
        return DEFAULT_LIMIT
    if not LIMIT_PATTERN.fullmatch(raw) or not 1 <= int(raw) <= MAX_LIMIT:
        raise ApiError(400, f"query 'limit' must be a whole number within 1..{MAX_LIMIT}")
    return int(raw)
