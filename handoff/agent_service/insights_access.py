"""The agent service's two ways into the insights database, each opened on first use so a bad URL
fails the routes that need it, never the service's start: a read-only engine for figures, queues
and alarms, and a writing one for the lead's review decisions and cleared alarms (it never creates
a SQLite file nor changes the schema: the insights consumer migrates the database). Queries run in
a worker thread so a slow database never stalls the event loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sanic.request import Request
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from handoff.agent_service.errors import ApiError
from handoff.insights.reading import open_existing, open_read_only

logger = logging.getLogger(__name__)
Result = TypeVar("Result")
UNAVAILABLE = "insights_unavailable"


def open_writable(url: str) -> Engine:
    """An engine on `url` that may change rows of an existing SQLite file but never creates one."""
    return open_existing(url, "rw")


def read_engine(request: Request) -> Engine:
    """The service's read-only engine."""
    ctx = request.app.ctx
    if ctx.insights_engine is None:
        ctx.insights_engine = _opened(open_read_only, ctx.settings.insights_database_url)
    return ctx.insights_engine


def write_engine(request: Request) -> Engine:
    """The service's writing engine."""
    ctx = request.app.ctx
    if ctx.insights_writer is None:
        ctx.insights_writer = _opened(open_writable, ctx.settings.insights_database_url)
    return ctx.insights_writer


def dispose_engines(ctx: object) -> None:
    """Closes whichever engines were opened (at the service's stop)."""
    for name in ("insights_engine", "insights_writer"):
        engine = getattr(ctx, name, None)
        if engine is not None:
            engine.dispose()


async def in_thread(work: Callable[..., Result], *args: object) -> Result:
    """`work(*args)` in a worker thread; 503 (reason insights_unavailable) when the database cannot
    be used now."""
    return await guarded(asyncio.to_thread(work, *args))


async def guarded(pending: Awaitable[Result]) -> Result:
    """Awaits a database call; 503 (reason insights_unavailable) when the database cannot be used."""
    try:
        return await pending
    except (SQLAlchemyError, ImportError) as error:
        logger.warning("insights database unusable: %s", error.__class__.__name__)
        raise ApiError(503, "the insights database cannot be read now; try again shortly",
                       reason=UNAVAILABLE) from None


def _opened(opener: Callable[[str], Engine], url: str) -> Engine:
    try:
        return opener(url)
    except ArgumentError as error:
        raise ApiError(503, "insights_database_url is not a database URL", reason=UNAVAILABLE) from error
