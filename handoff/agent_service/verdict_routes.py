"""Agents' verdicts on the handoffs they resolve (see `handoff/verdicts.py`): the choices a console
offers, and giving a verdict after the resolve (the resolve itself takes one too, see
`conversation_routes.resolve`). A verdict is stored in the resolved handoff's record, once."""

from __future__ import annotations

import time
from typing import Any

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, json

from handoff.agent_service.access import known_state, require_readable
from handoff.agent_service.agents import LEAD_ROLE, Agent
from handoff.agent_service.errors import ApiError, json_body
from handoff.agent_service.rasa_client import RasaClient, RasaUnavailable
from handoff.care_store import CareStore
from handoff.verdicts import DomainNames, VerdictError, VerdictRequest, suggestions

CONVERSATION = "/api/conversations/<conversation_id:str>"
DOMAIN_CACHE_SECONDS = 60.0  # a retrained model's new intents show up within a minute


def blueprint() -> Blueprint:
    bp = Blueprint("verdicts")
    bp.add_route(verdict_options, f"{CONVERSATION}/verdict_options", methods=["GET"])
    bp.add_route(give_verdict, f"{CONVERSATION}/verdict", methods=["POST"])
    return bp


class DomainCache:
    """The names of Rasa's domain, asked for at most once a minute."""

    def __init__(self, client: RasaClient) -> None:
        self._client = client
        self._names: DomainNames | None = None
        self._fetched_at = 0.0

    async def names(self) -> DomainNames:
        """The domain's names; RasaUnavailable when Rasa cannot tell and none are cached."""
        now = time.monotonic()
        if self._names is None or now - self._fetched_at > DOMAIN_CACHE_SECONDS:
            try:
                self._names = DomainNames.from_domain(await self._client.domain())
                self._fetched_at = now
            except RasaUnavailable:
                if self._names is None:
                    raise
        return self._names


def parse_verdict(raw: Any) -> VerdictRequest:
    """The body's verdict, or 400 saying what is wrong with it."""
    try:
        return VerdictRequest.parse(raw)
    except VerdictError as exc:
        raise ApiError(400, str(exc), reason="bad_verdict") from exc


async def check_names(domain: DomainCache, verdict: VerdictRequest) -> None:
    """400 when the verdict names an intent or answer the domain lacks; RasaUnavailable when the
    domain cannot be read."""
    if not verdict.names_something:
        return
    try:
        verdict.check(await domain.names())
    except VerdictError as exc:
        raise ApiError(400, str(exc), reason="bad_verdict") from exc


async def store_verdict(request: Request, conversation_id: str, handoff_id: str,
                        verdict: VerdictRequest) -> dict[str, Any]:
    """Stores the requesting agent's verdict with the handoff and counts it for the metrics; 409
    when the handoff already has one."""
    record = verdict.given_by(request.ctx.agent.id)
    if not await request.app.ctx.care.give_verdict(conversation_id, handoff_id, record):
        raise ApiError(409, f"handoff {handoff_id} of conversation {conversation_id} already has a verdict",
                       reason="verdict_given")
    request.app.ctx.metrics.verdict_given(verdict.kind)
    return record


async def verdict_options(request: Request, conversation_id: str) -> HTTPResponse:
    """Intents and FAQ topics (the top ranked for the customer's last messages first) and responses
    (those the bot sent in the conversation first) a verdict may name."""
    require_readable(await known_state(request.app.ctx.store, conversation_id), request.ctx.agent)
    client: RasaClient = request.app.ctx.rasa_client
    try:
        names = await request.app.ctx.domain.names()
        options = suggestions(await client.tracker_events(conversation_id), names)
    except RasaUnavailable as exc:
        raise ApiError(503, f"the bot's intents and answers cannot be read now: {exc}",
                       reason="rasa_unavailable") from exc
    return json(options)


async def give_verdict(request: Request, conversation_id: str) -> HTTPResponse:
    """The verdict on a resolved handoff (`handoff_id`, by default the latest), by the agent who
    resolved it or a lead."""
    care: CareStore = request.app.ctx.care
    agent: Agent = request.ctx.agent
    body = json_body(request)
    verdict = parse_verdict({key: value for key, value in body.items() if key != "handoff_id"})
    await known_state(request.app.ctx.store, conversation_id)
    handoff_id = body.get("handoff_id")
    if handoff_id is not None and not isinstance(handoff_id, str):
        raise ApiError(400, "field 'handoff_id' must name a resolved handoff of the conversation")
    closed = {record["handoff_id"]: record for record in await care.closed_tickets(conversation_id)}
    record = closed.get(handoff_id) if handoff_id else next(reversed(closed.values()), None)
    if record is None:
        raise ApiError(404, f"conversation {conversation_id} has no resolved handoff "
                            f"{handoff_id or ''}".rstrip(), reason="no_handoff")
    if record["agent_id"] != agent.id and not agent.has_role(LEAD_ROLE):
        raise ApiError(403, "only the agent who resolved the handoff, or a lead, may give its verdict")
    try:
        await check_names(request.app.ctx.domain, verdict)
    except RasaUnavailable as exc:
        raise ApiError(503, f"the verdict cannot be checked now: {exc}", reason="rasa_unavailable") from exc
    stored = await store_verdict(request, conversation_id, record["handoff_id"], verdict)
    return json({"handoff_id": record["handoff_id"], "verdict": stored})
