"""`GET /api/insights?since=7d`: the lead's figures from the insights database (handoff/insights/
figures.py), for the console's dashboard. Leads only (403 for agents). The database is opened
read-only from `insights_database_url`, the setting the consumer writes to; the query runs in a
worker thread so a slow database never stalls the service's event loop."""

from __future__ import annotations

import asyncio
import logging

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, json
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from handoff.agent_service.access import require_role
from handoff.agent_service.agents import LEAD_ROLE
from handoff.agent_service.errors import ApiError
from handoff.insights.period import SinceError, parse_since
from handoff.insights.reading import figures_since, open_read_only
from handoff.settings import HandoffSettings

logger = logging.getLogger(__name__)
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
    try:
        figures = await asyncio.to_thread(figures_since, _engine(request), since, settings)
    except (SQLAlchemyError, ImportError) as error:
        logger.warning("insights database unreadable: %s", error.__class__.__name__)
        raise ApiError(503, "the insights database cannot be read now; try again shortly",
                       reason="insights_unavailable") from None
    return json(figures)


def _engine(request: Request) -> Engine:
    """The read-only engine, made on first use: a database URL whose driver is missing (ImportError)
    or that is malformed (ArgumentError) then fails this route only, never the service's start."""
    if request.app.ctx.insights_engine is None:
        try:
            request.app.ctx.insights_engine = open_read_only(request.app.ctx.settings.insights_database_url)
        except ArgumentError as error:
            raise ApiError(503, "insights_database_url is not a database URL", reason="insights_unavailable") \
                from error
    return request.app.ctx.insights_engine
