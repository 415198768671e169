"""A pytest plugin (loaded by tests/conftest.py) that starts the real system once per test session,
shared by the integration and browser tests: redis-server, the action server, the Rasa server
with the trained model and the handoff channels, and the agent service, all on free loopback
ports, against a freshly seeded SQLite shop database and a fresh agents file. Slack is on, pointed
at a loopback stand-in of Slack's Web API (`tests/slack_api.py`)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from handoff.agent_service.agents import Agent, hash_token, write_agents
from rasa_bot.processes import ManagedProcess, start_all, stop_all
from rasa_bot.settings import PROJECT_ROOT
from rasa_bot.system import MODEL_PATH, SystemLayout, services
from tests.free_port import free_port
from tests.slack_api import FakeSlackApi, running_slack_api

READY_TIMEOUT_SECONDS = 300.0
AGENTS = [
    {"id": "alice", "name": "Alice Martin", "token": "alice-test-token-0123456789"},
    {"id": "bob", "name": "Bob Keller", "token": "bob-test-token-0123456789"},
]
SLACK_TOKEN = "xoxb-test-token-0123456789"
SLACK_SIGNING_SECRET = secrets.token_hex(16)
SLACK_ALERT_CHANNEL = "#paylater-agents"


# Room for the Redis outage test's ten customers with the two agents (tests/integration/test_redis_outage.py).
MAX_CONCURRENT_CHATS = 5
# Short, so a test can watch a queued customer who left be abandoned.
ABANDON_AFTER_SECONDS = 3.0

@pytest.fixture(scope="session")
def slack_api() -> Iterator[FakeSlackApi]:
    """The Slack Web API stand-in that the system's Slack parts post to."""
    with running_slack_api(SLACK_TOKEN) as api:
        yield api


@pytest.fixture(scope="session")
def system_layout(tmp_path_factory: pytest.TempPathFactory, slack_api: FakeSlackApi) -> SystemLayout:
    work = Path(tmp_path_factory.mktemp("system"))
    env = {"PAYLATER_DATABASE_URL": f"sqlite:///{work / 'shop.sqlite3'}",
           "HANDOFF_SLACK_BOT_TOKEN": SLACK_TOKEN, "HANDOFF_SLACK_SIGNING_SECRET": SLACK_SIGNING_SECRET,
           "HANDOFF_SLACK_ALERT_CHANNEL": SLACK_ALERT_CHANNEL, "HANDOFF_SLACK_API_URL": slack_api.base_url,
           "HANDOFF_ABANDON_AFTER_SECONDS": str(ABANDON_AFTER_SECONDS),
           "HANDOFF_MAX_CONCURRENT_CHATS": str(MAX_CONCURRENT_CHATS),
           # Every test customer comes from 127.0.0.1 and the socket storm opens 2,000 sessions: the
           # per-address session limit is raised above that (its refusal is tested in-process).
           "HANDOFF_ADDRESS_SESSION_LIMIT": '{"count": 3000, "seconds": 60}'}
    subprocess.run([sys.executable, "-m", "actions.shop.seed"], cwd=PROJECT_ROOT,
                   env={**os.environ, **env, "PYTHONPATH": str(PROJECT_ROOT)}, check=True, timeout=120)
    write_agents(work / "agents.yml", [Agent(agent["id"], agent["name"], hash_token(agent["token"]))
                                       for agent in AGENTS])
    return SystemLayout(host="127.0.0.1", rasa_port=free_port(), action_port=free_port(),
                        agent_port=free_port(), redis_port=free_port(), data_dir=work,
                        log_dir=work / "log", env=env)


@pytest.fixture(scope="session")
def system_processes(system_layout: SystemLayout) -> Iterator[dict[str, ManagedProcess]]:
    """The running system's processes by name, for tests that stop and restart one of them."""
    if not MODEL_PATH.exists():
        pytest.fail(f"no trained model at {MODEL_PATH}; run the tests through `make test`")
    children = services(system_layout)
    start_all(children, READY_TIMEOUT_SECONDS)
    yield {child.name: child for child in children}
    stop_all(children)


@pytest.fixture(scope="session")
def bot_system(system_layout: SystemLayout, system_processes: dict[str, ManagedProcess]) -> SystemLayout:
    """The running system's layout (URLs); the system stops after the test session."""
    return system_layout
