"""`POST /api/erase`: a lead erases one customer's data on their request (handoff/erase/). Agents
without the lead role get 403. A conversation a person has now is refused (409, reason
`with_a_person`) unless the body says `force`, which closes it as abandoned first."""

from __future__ import annotations

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, json

from handoff.agent_service.access import require_role
from handoff.agent_service.agents import LEAD_ROLE
from handoff.agent_service.errors import ApiError, json_body
from handoff.erase import CONVERSATION, EMAIL, SLACK_USER, BadSubject, Eraser, Subject, WithAPerson
from handoff.settings import HandoffSettings

# The body field that names the customer, for each kind of identifier.
SUBJECT_FIELDS = {"conversation_id": CONVERSATION, "slack_user": SLACK_USER, "email": EMAIL}


def blueprint() -> Blueprint:
    bp = Blueprint("erase")
    bp.add_route(erase, "/api/erase", methods=["POST"])
    return bp


def _flag(body: dict[str, object], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise ApiError(400, f"field '{name}' must be true or false")
    return value


def _subject(body: dict[str, object]) -> Subject:
    named = [name for name in SUBJECT_FIELDS if name in body]
    if len(named) != 1:
        raise ApiError(400, f"name the customer with exactly one of: {', '.join(SUBJECT_FIELDS)}")
    value = body[named[0]]
    if not isinstance(value, str):
        raise ApiError(400, f"field '{named[0]}' must be a string")
    try:
        return Subject.parse(SUBJECT_FIELDS[named[0]], value)
    except BadSubject as exc:
        raise ApiError(400, f"field '{named[0]}': {exc}") from None


async def erase(request: Request) -> HTTPResponse:
    """Erases (or with `dry_run` reports) everything Redis holds of the customer; the report
    lists the conversations, the kinds of keys and the shared entries removed."""
    require_role(request.ctx.agent, LEAD_ROLE)
    body = json_body(request)
    subject, dry_run, force = _subject(body), _flag(body, "dry_run"), _flag(body, "force")
    settings: HandoffSettings = request.app.ctx.settings
    eraser = Eraser(request.app.ctx.store, settings.rasa_key_prefix)
    try:
        report = await eraser.erase(subject, by=request.ctx.agent.id, dry_run=dry_run, force=force)
    except WithAPerson as refused:
        raise ApiError(409, f"{refused}; nothing was erased (send force: true to close them first)",
                       reason="with_a_person", with_a_person=refused.conversations) from None
    return json(report.to_dict())
