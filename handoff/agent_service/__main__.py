"""`python -m handoff.agent_service [--host 127.0.0.1] [--port 5006]`: runs the agent service as
one process with one worker. Settings come from `HandoffSettings` (environment `HANDOFF_REDIS_URL`,
`HANDOFF_AGENTS_FILE`, `HANDOFF_RASA_URL`, `HANDOFF_RASA_JWT_SECRET`, ... or the YAML file named by
`HANDOFF_SETTINGS`). With `HANDOFF_SLACK_BOT_TOKEN` and `HANDOFF_SLACK_ALERT_CHANNEL` set it posts
handoff alerts to Slack (README "Slack"). Scale out by starting more processes behind a load
balancer."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from handoff.agent_service.agents import AgentsFileError
from handoff.agent_service.app import create_app
from handoff.agent_service.canned import CannedRepliesError
from handoff.settings import HandoffSettings
from handoff.slack.config import SlackConfigError, resolve_slack_config
from handoff.store import open_store
from handoff.web_origins import OriginsSettingError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m handoff.agent_service",
                                     description="HTTP + WebSocket API for human agents.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5006)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = HandoffSettings()
    try:
        slack = resolve_slack_config(None, os.environ)
    except SlackConfigError as exc:
        print(f"agent service cannot start: {exc}", file=sys.stderr)
        return 2
    if not settings.rasa_jwt_secret:
        print("agent service cannot start: HANDOFF_RASA_JWT_SECRET is not set (the secret Rasa's HTTP API "
              "checks, `rasa run --jwt-secret`; `make run` generates one into var/rasa_jwt_secret)",
              file=sys.stderr)
        return 2
    store = open_store(settings)
    try:
        app = create_app(settings, store, slack)
    except (AgentsFileError, CannedRepliesError, OriginsSettingError) as exc:
        print(f"agent service cannot start: {exc}", file=sys.stderr)
        return 2
    app.run(host=args.host, port=args.port, workers=1, access_log=False, motd=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
