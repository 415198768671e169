"""`make run`: starts Redis (unless REDIS_URL is set), the action server, the Rasa server and the
agent service, prints where to reach them, and stops everything on Ctrl-C (or SIGTERM)."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading

from handoff.agent_service.agents import AgentsFileError, ensure_demo, reset_hint
from handoff.slack.config import SlackConfig, SlackConfigError
from rasa_bot.processes import ServiceFailed, start_all, stop_all
from rasa_bot.settings import PROJECT_ROOT, get_settings
from rasa_bot.system import MODEL_PATH, SystemLayout, masked_url, services, slack_config

logger = logging.getLogger("launcher")
READY_TIMEOUT_SECONDS = 240.0


def layout_from_settings() -> SystemLayout:
    """The production layout: ports from settings, data and logs under var/."""
    settings = get_settings()
    return SystemLayout(
        host=settings.rasa_host,
        rasa_port=settings.rasa_port,
        action_port=settings.action_port,
        agent_port=settings.agent_port,
        redis_port=settings.redis_port,
        data_dir=PROJECT_ROOT / "var",
        log_dir=PROJECT_ROOT / "var" / "log",
        external_redis_url=os.environ.get("REDIS_URL") or None,
        action_host=settings.action_host,
        redis_maxmemory=settings.redis_maxmemory,
    )


def agent_token_line(layout: SystemLayout) -> str:
    """The banner's line about agent tokens. The demo agent's token is in it only on the run that
    created the agents file (the file keeps only its hash); later runs say how to get a new one."""
    agent, token = ensure_demo(layout.agents_file)
    if token is not None:
        return f"  Demo agent token:  {token}   (shown this once; the agents file keeps only its hash)\n"
    return f"  Agent tokens:      shown only when created; a new one: {reset_hint(layout.agents_file, agent.id)}\n"


def slack_lines(layout: SystemLayout, slack: SlackConfig | None) -> str:
    """What the start-up banner says about Slack."""
    if slack is None:
        return ("  Slack:             not configured (see README \"Slack\": HANDOFF_SLACK_BOT_TOKEN with\n"
                "                     HANDOFF_SLACK_SIGNING_SECRET and/or HANDOFF_SLACK_ALERT_CHANNEL)\n")
    lines = f"  Slack:             {slack.describe()}\n"
    if slack.channel_enabled:
        lines += f"  Slack Request URL: {layout.rasa_url}/webhooks/handoff_slack/webhook (behind your public URL)\n"
    return lines


def main() -> int:
    """Runs the system in the foreground until interrupted; returns the process exit code."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    if not MODEL_PATH.exists():
        logger.error("no trained model at %s: run `make run` (it trains one) or `make model`", MODEL_PATH)
        return 1
    layout = layout_from_settings()
    try:
        slack = slack_config(layout)
        token_line = agent_token_line(layout)
    except (SlackConfigError, AgentsFileError) as exc:
        logger.error("%s", exc)
        return 1
    children = services(layout)
    stop_requested = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop_requested.set())
    logger.info("starting %s (loading the model takes a while)", ", ".join(c.name for c in children))
    try:
        start_all(children, READY_TIMEOUT_SECONDS)
    except ServiceFailed as failure:
        logger.error("%s", failure)
        return 1
    print(
        "\nThe PayLater assistant is running:\n"
        f"  Agent console:     {layout.agent_url}/console   (agents: {layout.agents_file})\n"
        f"  Demo shop + chat:  {layout.agent_url}/shop\n"
        f"  Agent API spec:    {layout.agent_url}/api/openapi.yaml\n"
        f"  Widget channel:    socket.io at {layout.rasa_url}/socket.io  (rasa-webchat protocol)\n"
        f"  REST channel:      {layout.rasa_url}/webhooks/handoff_rest/  (POST session, then webhook)\n"
        f"  Rasa HTTP API:     {layout.rasa_url}/status  (needs a JWT signed with var/rasa_jwt_secret)\n"
        f"  Metrics:           {layout.rasa_url}/metrics and {layout.agent_url}/metrics  "
        "(Bearer token in var/metrics_token)\n"
        f"{slack_lines(layout, slack)}"
        f"  Redis:             {layout.redis_url_for_display}\n"
        f"  Insights database: {masked_url(layout.insights_database_url)}  (every turn and handoff, "
        "docs/insights.md)\n"
        f"  Logs:              {layout.log_dir}\n"
        f"{token_line}"
        "Press Ctrl-C to stop.\n",
        flush=True,
    )
    try:
        while not stop_requested.wait(1.0):
            for child in children:
                if child.process is not None and child.process.poll() is not None:
                    logger.error("%s stopped unexpectedly:\n%s", child.name, child.tail_log())
                    return 1
    except KeyboardInterrupt:
        pass
    finally:
        logger.info("stopping")
        stop_all(children)
    return 0


if __name__ == "__main__":
    sys.exit(main())
