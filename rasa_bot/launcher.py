"""`make run`: starts the action server and the Rasa server, prints where to reach them, and stops
everything on Ctrl-C (or SIGTERM)."""

from __future__ import annotations

import logging
import signal
import sys
import threading

from rasa_bot.processes import ServiceFailed, start_all, stop_all
from rasa_bot.settings import PROJECT_ROOT, get_settings
from rasa_bot.system import MODEL_PATH, SystemLayout, services

logger = logging.getLogger("launcher")
READY_TIMEOUT_SECONDS = 180.0


def main() -> int:
    """Runs the system in the foreground until interrupted; returns the process exit code."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    settings = get_settings()
    if not MODEL_PATH.exists():
        logger.error("no trained model at %s: run `make run` (it trains one) or `make model`", MODEL_PATH)
        return 1
    layout = SystemLayout(
        host=settings.rasa_host,
        rasa_port=settings.rasa_port,
        action_port=settings.action_port,
        log_dir=PROJECT_ROOT / "var" / "log",
        env={},
    )
    children = services(layout)
    stop_requested = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop_requested.set())
    logger.info("starting the action server and the Rasa server (loading the model takes a while)")
    try:
        start_all(children, READY_TIMEOUT_SECONDS)
    except ServiceFailed as failure:
        logger.error("%s", failure)
        return 1
    print(
        "\nThe PayLater assistant is running:\n"
        f"  REST channel:      POST {layout.rasa_url}/webhooks/rest/webhook"
        '  {"sender": "me", "message": "hi"}\n'
        f"  socket.io channel: {layout.rasa_url}/socket.io  (rasa-webchat protocol)\n"
        f"  Rasa HTTP API:     {layout.rasa_url}/status\n"
        f"  Action server:     {layout.action_url}/health\n"
        f"  Logs:              {layout.log_dir}\n"
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
