"""Turning Slack on and off: the launcher's credentials for the Rasa server, the channel and the
agent service refusing a partial set-up with the missing names, and no secret written to disk."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from rasa.shared.exceptions import InvalidConfigException

from handoff.channels.slack import HandoffSlackInput
from handoff.slack.config import SlackConfigError
from rasa_bot.launcher import slack_lines
from rasa_bot.settings import PROJECT_ROOT
from rasa_bot.system import SLACK_CHANNEL, SystemLayout, service_env, slack_config, write_credentials

SLACK_VARIABLES = ("HANDOFF_SLACK_BOT_TOKEN", "HANDOFF_SLACK_SIGNING_SECRET", "HANDOFF_SLACK_ALERT_CHANNEL",
                   "HANDOFF_SLACK_API_URL", "HANDOFF_CONSOLE_BASE_URL")


@pytest.fixture(autouse=True)
def no_slack_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SLACK_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def layout(tmp_path: Path, **env: str) -> SystemLayout:
    return SystemLayout(host="127.0.0.1", rasa_port=1, action_port=2, agent_port=3, redis_port=4,
                        data_dir=tmp_path, log_dir=tmp_path / "log", env=env)


def test_without_slack_values_the_rasa_server_gets_no_slack_channel(tmp_path: Path) -> None:
    system = layout(tmp_path)
    assert slack_config(system) is None
    credentials = yaml.safe_load(write_credentials(None, tmp_path / "credentials.yml").read_text())
    assert SLACK_CHANNEL not in credentials
    assert "handoff.channels.rest.HandoffRestInput" in credentials
    assert not any(name.startswith("HANDOFF_SLACK") for name in service_env(system))


def test_with_slack_values_the_channel_is_on_and_secrets_stay_in_the_environment(tmp_path: Path) -> None:
    system = layout(tmp_path, HANDOFF_SLACK_BOT_TOKEN="xoxb-secret-token", HANDOFF_SLACK_SIGNING_SECRET="sign-me")
    slack = slack_config(system)
    assert slack is not None and slack.channel_enabled
    written = write_credentials(slack, tmp_path / "credentials.yml").read_text()
    assert yaml.safe_load(written)[SLACK_CHANNEL] == {}
    assert "xoxb-secret-token" not in written and "sign-me" not in written
    env = service_env(system, slack)
    assert env["HANDOFF_SLACK_BOT_TOKEN"] == "xoxb-secret-token"
    assert env["HANDOFF_SLACK_SIGNING_SECRET"] == "sign-me"


def test_alerts_only_keeps_the_customer_channel_off(tmp_path: Path) -> None:
    system = layout(tmp_path, HANDOFF_SLACK_BOT_TOKEN="xoxb-t", HANDOFF_SLACK_ALERT_CHANNEL="C0AGENTS")
    slack = slack_config(system)
    assert slack is not None and slack.alerts_enabled and not slack.channel_enabled
    assert SLACK_CHANNEL not in yaml.safe_load(write_credentials(slack, tmp_path / "c.yml").read_text())


def test_the_launcher_says_whether_slack_is_on(tmp_path: Path) -> None:
    system = layout(tmp_path)
    assert "not configured" in slack_lines(system, None)
    on = slack_config(layout(tmp_path, HANDOFF_SLACK_BOT_TOKEN="xoxb-t", HANDOFF_SLACK_SIGNING_SECRET="s"))
    said = slack_lines(system, on)
    assert "customer channel on" in said and "alerts off" in said
    assert "http://127.0.0.1:1/webhooks/handoff_slack/webhook" in said


def test_a_partial_set_up_stops_the_launch(tmp_path: Path) -> None:
    with pytest.raises(SlackConfigError, match="HANDOFF_SLACK_BOT_TOKEN"):
        slack_config(layout(tmp_path, HANDOFF_SLACK_SIGNING_SECRET="sign-me"))


def test_the_channel_refuses_missing_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InvalidConfigException, match="HANDOFF_SLACK_SIGNING_SECRET"):
        HandoffSlackInput.from_credentials({})
    monkeypatch.setenv("HANDOFF_SLACK_SIGNING_SECRET", "sign-me")
    with pytest.raises(InvalidConfigException, match="HANDOFF_SLACK_BOT_TOKEN"):
        HandoffSlackInput.from_credentials(None)


def test_the_agent_service_names_what_is_missing(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_ROOT), "HANDOFF_SLACK_ALERT_CHANNEL": "C0AGENTS",
           "HANDOFF_AGENTS_FILE": str(tmp_path / "agents.yml")}
    result = subprocess.run([sys.executable, "-m", "handoff.agent_service", "--port", "1"], env=env, check=False,
                            capture_output=True, text=True, timeout=120, cwd=PROJECT_ROOT)
    assert result.returncode == 2
    assert "HANDOFF_SLACK_BOT_TOKEN" in result.stderr
