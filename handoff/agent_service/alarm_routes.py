"""Drift alarms in the console (docs/drift.md, "Where alarms show"): `GET /api/alarms` lists the open
alarms the drift monitor raised (what changed, since when, how severe, example conversations) and
`POST /api/alarms/<id>/clear` lets a lead mark one as seen to. Leads only."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, json

from handoff.agent_service.access import require_role
from handoff.agent_service.agents import LEAD_ROLE
from handoff.agent_service.errors import ApiError
from handoff.agent_service.insights_access import in_thread, read_engine, write_engine
from handoff.drift.alarms import StoredAlarm, clear_alarm, open_alarms


def blueprint() -> Blueprint:
    bp = Blueprint("alarms")
    bp.add_route(alarms, "/api/alarms", methods=["GET"])
    bp.add_route(clear, "/api/alarms/<alarm_id:int>/clear", methods=["POST"])
    return bp


def describe_alarm(alarm: StoredAlarm) -> dict[str, Any]:
    """An open alarm as the console shows it."""
    return {"id": alarm.id, "kind": alarm.kind, "headline": alarm.headline, "subject": alarm.subject, "since": alarm.since.isoformat(),
            "raised_at": alarm.raised_at.isoformat(), "detail": alarm.detail, "severity": alarm.severity,
            "examples": list(alarm.examples)}


async def alarms(request: Request) -> HTTPResponse:
    """The open alarms, newest first."""
    require_role(request.ctx.agent, LEAD_ROLE)
    found = await in_thread(open_alarms, read_engine(request))
    return json({"alarms": [describe_alarm(alarm) for alarm in found]})


async def clear(request: Request, alarm_id: int) -> HTTPResponse:
    """Clears an open alarm; 404 when there is no open alarm `alarm_id`."""
    require_role(request.ctx.agent, LEAD_ROLE)
    if not await in_thread(clear_alarm, write_engine(request), alarm_id, request.ctx.agent.id):
        raise ApiError(404, f"no open alarm {alarm_id}", reason="unknown_alarm")
    return json({"id": alarm_id, "cleared_by": request.ctx.agent.id})
