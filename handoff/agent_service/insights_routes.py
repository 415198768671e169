"""`GET /api/insights?since=7d`: the lead's figures from the insights database (handoff/insights/
figures.py), for the console's dashboard. Leads only (403 for agents). The database is opened
read-only from `insights_database_url`, the setting the consumer writes to; the query runs in a
worker thread so a slow database never stalls the service's event loop."""

from __future__ import annotations

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, json

from handoff.agent_service.access import require_role
from handoff.agent_service.agents import LEAD_ROLE
from handoff.agent_service.errors import ApiError
from handoff.agent_service.insights_access import in_thread, read_engine
from handoff.insights.period import SinceError, parse_since
from handoff.insights.reading import figures_since
from handoff.settings import HandoffSettings

DEFAULT_SINCE = "7d"


def blueprint() -> Blueprint:
    bp = Blueprint("insights")
    bp.add_route(insights, "/api/insights", methods=["GET"])
    return bp


async def insights(request: Request) -> HTTPResponse:
    """The figures of the period `since` (e.g. 24h, 7d, 30d) back from now."""
    require_role(request.ctx.agent, LEAD_ROLE)
    since = request.args.get("since", DEFAULT_SINCE)
    try:
        parse_since(since)
    except SinceError as error:
        raise ApiError(400, str(error)) from None
    settings: HandoffSettings = request.app.ctx.settings
    figures = await in_thread(figures_since, read_engine(request), since, settings)
    return json(figures)
