"""Builds the agent service: a Sanic app with the agents' HTTP API and WebSocket, and the two
background tasks each process runs (the event tail feeding its sockets, and the tracker-sync
retries). All state is in Redis, so any number of these processes may serve side by side."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sanic import Sanic

from handoff.agent_service import (
    agent_routes,
    alarm_routes,
    canned,
    conversation_routes,
    erase_routes,
    insights_routes,
    message_routes,
    metrics,
    pages,
    review_routes,
    socket_routes,
    verdict_routes,
)
from handoff.agent_service.agents import AgentRegistry
from handoff.agent_service.auth import authenticate
from handoff.agent_service.errors import install_error_handlers
from handoff.agent_service.event_tail import EventTail
from handoff.agent_service.hub import Hub
from handoff.agent_service.insights_access import dispose_engines
from handoff.agent_service.origins import check_socket_origin, console_origins
from handoff.agent_service.rasa_client import RasaClient
from handoff.agent_service.rasa_sync import RasaSync
from handoff.agent_service.review_queue import ReviewQueue
from handoff.agent_service.side_store import ServiceStore
from handoff.care_store import CareStore
from handoff.departures import Departures, sweep_departures
from handoff.heap_freeze import freeze_startup_heap
from handoff.settings import HandoffSettings
from handoff.slack.config import SlackConfig
from handoff.slack.setup_alerts import install_slack_alerts
from handoff.store import HandoffStore, StoreUnavailable
from handoff.task_stop import cancel_and_wait

OPENAPI_FILE = Path(__file__).with_name("openapi.yaml")
REQUEST_MAX_BYTES = 256 * 1024  # far above any valid request; bigger bodies get 413 from Sanic
WEBSOCKET_MAX_BYTES = 64 * 1024  # consoles send pings and messages (at most max_message_bytes of text)


def create_app(settings: HandoffSettings, store: HandoffStore, slack: SlackConfig | None = None) -> Sanic:
    """The service app. It reads the agents file now (AgentsFileError if missing or malformed), the
    canned replies (CannedRepliesError if malformed) and the console origins (OriginsSettingError),
    and closes `store` when the server stops; with `slack` naming an alert channel it posts handoff
    alerts there."""
    app = Sanic("handoff_agent_service", configure_logging=False)
    app.config.REQUEST_MAX_SIZE = REQUEST_MAX_BYTES
    app.config.WEBSOCKET_MAX_SIZE = WEBSOCKET_MAX_BYTES
    app.config.FALLBACK_ERROR_FORMAT = "json"

    # The stores beside `store` share its connections to Redis (one set per process).
    side = ServiceStore(settings.redis_url, store.keys, store.config.timeouts,
                        retention_seconds=store.config.retention_seconds)
    rasa_client = RasaClient(settings.rasa_url, settings.rasa_jwt_secret, settings.rasa_token_seconds,
                             settings.rasa_timeout_seconds)
    app.ctx.settings = settings
    app.ctx.store = store
    app.ctx.agents = AgentRegistry.load(settings.agents_file)
    app.ctx.console_origins = console_origins(settings)
    app.ctx.canned_replies = canned.load_canned_replies(settings.canned_replies_file)
    app.ctx.care = care = CareStore(settings.redis_url, store.keys, store.config.timeouts,
                                          insights=store.insights)
    departures = Departures(settings.redis_url, store.keys, store.config.timeouts)
    app.ctx.openapi_yaml = OPENAPI_FILE.read_text(encoding="utf-8")
    app.ctx.hub = Hub(store)
    app.ctx.rasa_sync = RasaSync(settings, store, side, rasa_client)
    app.ctx.rasa_client = rasa_client
    app.ctx.domain = verdict_routes.DomainCache(rasa_client)
    app.ctx.tasks = []
    app.ctx.metrics = metrics.ServiceMetrics()
    app.ctx.review_queue = ReviewQueue(settings.review_project_root, settings.review_cache_seconds)
    app.ctx.insights_engine = app.ctx.insights_writer = None  # opened on first use (insights_access.py)

    install_error_handlers(app)
    # A foreign page's WebSocket is refused before its token is even looked at.
    app.register_middleware(check_socket_origin, "request")
    app.register_middleware(authenticate, "request")
    app.blueprint([agent_routes.blueprint(), conversation_routes.blueprint(), message_routes.blueprint(),
                   socket_routes.blueprint(), canned.blueprint(), pages.blueprint(),
                   erase_routes.blueprint(), verdict_routes.blueprint(), metrics.blueprint(),
                   insights_routes.blueprint(), review_routes.blueprint(), alarm_routes.blueprint()])

    async def start_tasks(app: Sanic, _loop: asyncio.AbstractEventLoop) -> None:
        if settings.freeze_startup_heap:
            freeze_startup_heap()
        await rasa_client.start()
        try:
            await care.publish_roster((agent.id, agent.name) for agent in app.ctx.agents)
        except StoreUnavailable:
            pass  # each agent's presence heartbeat publishes their name again
        app.ctx.tasks = [asyncio.create_task(EventTail(store, side, app.ctx.hub).run(), name="event-tail"),
                         asyncio.create_task(app.ctx.rasa_sync.run_retries(), name="rasa-sync-retries"),
                         asyncio.create_task(sweep_departures(store, departures, settings.abandon_after_seconds),
                                             name="departure-sweep")]

    async def stop_tasks(app: Sanic, _loop: asyncio.AbstractEventLoop) -> None:
        await cancel_and_wait(app.ctx.tasks)

    async def close_clients(_app: Sanic, _loop: asyncio.AbstractEventLoop) -> None:
        await rasa_client.close()
        await side.close()
        await care.close()
        await departures.close()
        await store.close()
        dispose_engines(app.ctx)

    app.register_listener(start_tasks, "after_server_start")
    app.register_listener(stop_tasks, "before_server_stop")
    app.register_listener(close_clients, "after_server_stop")
    install_slack_alerts(app, settings, store, slack)
    return app
