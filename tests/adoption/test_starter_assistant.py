"""The plugin adopted by an assistant that is not ours: Rasa's starter assistant (`rasa init`) gets
docs/adopting.md's steps (tests/adoption/starter_assistant.py), is trained, and runs as Redis, the
action server, Rasa and the agent service on free loopback ports, with nothing of this repository
importable but a copy of `handoff/`. A customer who asks for a person reaches an agent through the
plugin's policy, and is back with the bot once the agent resolves.

About 2-3 minutes on the 2-core development machine, most of it training and Rasa's start-up."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from rasa_bot.processes import ManagedProcess, start_all, stop_all
from rasa_bot.system import SystemLayout
from tests.adoption import starter_assistant as starter
from tests.free_port import free_port
from tests.integration.agent_client import AgentClient
from tests.integration.rest_client import RestCustomer
from tests.rasa_api import tracker_events
from tests.redis_server import RedisServer

pytestmark = pytest.mark.model

RASA = str(Path(sys.executable).parent / "rasa")
TRAIN_TIMEOUT_SECONDS = 900
READY_TIMEOUT_SECONDS = 300.0
AGENT = {"id": "sam", "name": "Sam Rivera", "token": "sam-adoption-token-0123456789"}
STARTER_GREETING = "Hey! How are you?"


@pytest.fixture(scope="module")
def adopted(tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer) -> Iterator[SystemLayout]:
    """The starter assistant with the plugin, trained and running; its layout (URLs)."""
    work = tmp_path_factory.mktemp("adoption")
    plugin = starter.plugin_only_path(work / "plugin")
    bot = work / "bot"
    layout = SystemLayout(host="127.0.0.1", rasa_port=free_port(), action_port=free_port(),
                          agent_port=free_port(), redis_port=redis_server.port, data_dir=work, log_dir=work / "log",
                          external_redis_url=redis_server.url)
    starter.create_starter(bot)
    starter.add_to_config(bot)
    starter.add_domain_fragment(bot, plugin)
    starter.add_training_data(bot)
    starter.add_action(bot)
    starter.add_channels(bot)
    starter.add_endpoints(bot, layout.action_url, redis_server.url)
    env = plugin_environment(plugin, starter.write_settings(bot), layout)
    check_only_the_plugin_is_importable(bot, env, plugin)
    model = train(bot, env)
    children = processes(bot, model, env, layout)
    start_all(children, READY_TIMEOUT_SECONDS)
    yield layout
    stop_all(children)


def plugin_environment(plugin: Path, settings_file: Path, layout: SystemLayout) -> dict[str, str]:
    """Every process's environment: only the plugin's copy on the path, the settings (step 7)."""
    agents_file = layout.data_dir / "agents.yml"
    agents_file.write_text(yaml.safe_dump({"agents": [AGENT]}))
    agents_file.chmod(0o600)
    inherited = {name: value for name, value in os.environ.items()
                 if not name.startswith(("HANDOFF_", "PAYLATER_"))}
    return {**inherited, "PYTHONPATH": str(plugin), "HANDOFF_SETTINGS": str(settings_file),
            "HANDOFF_REDIS_URL": layout.redis_url, "HANDOFF_RASA_URL": layout.rasa_url,
            "HANDOFF_AGENT_SERVICE_URL": layout.agent_url, "HANDOFF_AGENTS_FILE": str(agents_file),
            "HANDOFF_SESSION_SECRET": secrets.token_urlsafe(32), "HANDOFF_RASA_JWT_SECRET": layout.rasa_jwt_secret}


def check_only_the_plugin_is_importable(bot: Path, env: dict[str, str], plugin: Path) -> None:
    """The plugin comes from its copy, `actions` is the starter's, and the shop's code is nowhere."""
    probe = ("import importlib.util, handoff, actions; print(handoff.__file__); print(actions.__file__); "
             "print(importlib.util.find_spec('rasa_bot'))")
    lines = subprocess.run([sys.executable, "-c", probe], cwd=bot, env=env, capture_output=True, text=True,
                           check=True, timeout=60).stdout.splitlines()
    assert Path(lines[0]).is_relative_to(plugin) and Path(lines[1]).is_relative_to(bot), lines
    assert lines[2] == "None", lines


def train(bot: Path, env: dict[str, str]) -> Path:
    result = subprocess.run([RASA, "train", "--domain", "domain", "--fixed-model-name", "starter", "--out", "models"],
                            cwd=bot, env=env, capture_output=True, text=True, timeout=TRAIN_TIMEOUT_SECONDS,
                            check=False)
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
    return bot / "models" / "starter.tar.gz"


def processes(bot: Path, model: Path, env: dict[str, str], layout: SystemLayout) -> list[ManagedProcess]:
    """Step 8: the action server, Rasa and the agent service, run from the starter's folder."""
    def service(name: str, command: list[str], ready_url: str, extra_env: dict[str, str] | None = None
                ) -> ManagedProcess:
        return ManagedProcess(name=name, command=command, ready_url=ready_url, env={**env, **(extra_env or {})},
                              cwd=bot,
                              log_path=layout.log_dir / f"{name.replace(' ', '_')}.log")

    return [
        service("action server", [RASA, "run", "actions", "--actions", "actions", "--port", str(layout.action_port)],
                f"{layout.action_url}/health", {"SANIC_HOST": layout.host}),
        service("rasa server", [sys.executable, "-m", "handoff.rasa_server", "run", "--enable-api", "--model",
                                str(model), "--credentials", "credentials.yml", "--endpoints", "endpoints.yml",
                                "--interface", layout.host, "--port", str(layout.rasa_port)], f"{layout.rasa_url}/"),
        service("agent service", [sys.executable, "-m", "handoff.agent_service", "--host", layout.host,
                                  "--port", str(layout.agent_port)], f"{layout.agent_url}/health"),
    ]


def response_text(bot_domain: Path, name: str, **values: object) -> str:
    return yaml.safe_load(bot_domain.read_text())["responses"][name][0]["text"].format(**values)


def test_a_customer_of_the_starter_assistant_reaches_an_agent_and_comes_back(adopted: SystemLayout) -> None:
    fragment = starter.PLUGIN_SOURCE / "domain" / "handoff.yml"
    agent = AgentClient(adopted, AGENT["token"])
    agent.go_online()
    customer = RestCustomer(adopted)
    assert customer.say("hello") == [STARTER_GREETING]

    replies = customer.say("I want to talk to a person")
    assert replies == [response_text(fragment, "utter_handoff_request_human"),
                       response_text(fragment, "utter_handoff_queued", position=1, wait_minutes=4)]
    ticket = agent.wait_for_ticket(customer.conversation_id)
    assert ticket["reason"] == "explicit_request"
    handoff = [event for event in tracker_events(adopted, customer.conversation_id)
               if event["event"] == "action" and event["name"] == "action_handoff"]
    assert [event["policy"] for event in handoff] == ["HandoffPolicy"]

    assert agent.claim(customer.conversation_id).status_code == 200
    assert customer.send("my parcel is late").headers["X-Handoff-Route"] == "human"
    assert "my parcel is late" in [m["text"] for m in agent.conversation(customer.conversation_id)["messages"]]
    agent.send(customer.conversation_id, "Hi, Sam here, let me check.")
    assert [m["text"] for m in customer.agent_messages()] == ["Hi, Sam here, let me check."]

    resolved = agent.resolve(customer.conversation_id)
    assert resolved.status_code == 200 and resolved.json()["rasa_sync"] == "ok", resolved.text
    assert [m["text"] for m in customer.agent_messages()] == [response_text(fragment, "utter_welcome_back")]
    # The starter's rule (its greeting is a story about how the customer feels, for a conversation's start).
    assert customer.say("goodbye") == ["Bye"]

