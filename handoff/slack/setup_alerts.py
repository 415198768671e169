"""Runs the handoff alerts and the drift alarms' posts as background tasks of the agent service when
Slack alerts are configured, with the service's own start/stop life cycle."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from sanic import Sanic

from handoff.drift.alarms import StoredAlarm, open_alarms
from handoff.insights.reading import open_read_only
from handoff.settings import HandoffSettings
from handoff.slack.alerts import SlackAlerts
from handoff.slack.config import SlackConfig
from handoff.slack.drift_alarms import DriftAlarmPoster
from handoff.slack.state import SlackState
from handoff.slack.tail import LeasedEventTail
from handoff.slack.web import web_client
from handoff.store import HandoffStore
from handoff.task_stop import cancel_and_wait


def install_slack_alerts(app: Sanic, settings: HandoffSettings, store: HandoffStore,
                         config: SlackConfig | None) -> None:
    """Adds the alerts task to `app` if `config` names an alert channel; otherwise does nothing."""
    if config is None or not config.alerts_enabled:
        return
    state = SlackState(settings.redis_url, settings.key_prefix)

    def agent_name(agent_id: str) -> str:
        agent = app.ctx.agents.get(agent_id)
        return agent.name if agent else agent_id or "an agent"

    alerts = SlackAlerts(store, state, web_client(config), config.alert_channel,
                         config.console_base_url or settings.agent_service_url, agent_name)
    tail = LeasedEventTail(store, state, "alerts", alerts)

    def read_alarms() -> Sequence[StoredAlarm]:
        if app.ctx.insights_engine is None:  # shared with the service's routes (insights_access.py)
            app.ctx.insights_engine = open_read_only(settings.insights_database_url)
        return open_alarms(app.ctx.insights_engine)

    poster = DriftAlarmPoster(state, web_client(config), config.alert_channel, read_alarms,
                              settings.drift_slack_poll_seconds)
    tasks: list[asyncio.Task] = []

    async def start(_app: Sanic, _loop: Any) -> None:
        tasks.append(asyncio.create_task(tail.run(), name="slack-alerts"))
        tasks.append(asyncio.create_task(poster.run(), name="slack-drift-alarms"))

    async def stop(_app: Sanic, _loop: Any) -> None:
        await cancel_and_wait(tasks)
        await state.close()

    app.register_listener(start, "after_server_start")
    app.register_listener(stop, "before_server_stop")
