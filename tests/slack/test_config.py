"""Slack settings: off without values, a clear error for a partial set, env over credentials.yml."""

from __future__ import annotations

import pytest

from handoff.slack.config import DEFAULT_API_URL, SlackConfigError, resolve_slack_config

TOKEN = {"HANDOFF_SLACK_BOT_TOKEN": "xoxb-1"}


def test_no_values_means_slack_is_off() -> None:
    assert resolve_slack_config(None, {}) is None
    assert resolve_slack_config({"slack_channel": "C1"}, {"HANDOFF_SLACK_API_URL": "http://x/"}) is None


@pytest.mark.parametrize(("env", "missing"), [
    ({"HANDOFF_SLACK_SIGNING_SECRET": "s"}, "HANDOFF_SLACK_BOT_TOKEN"),
    ({"HANDOFF_SLACK_ALERT_CHANNEL": "C9"}, "HANDOFF_SLACK_BOT_TOKEN"),
    (TOKEN, "HANDOFF_SLACK_SIGNING_SECRET"),
    (TOKEN, "HANDOFF_SLACK_ALERT_CHANNEL"),
])
def test_a_partial_set_names_what_is_missing(env: dict[str, str], missing: str) -> None:
    with pytest.raises(SlackConfigError, match=missing):
        resolve_slack_config(None, env)


def test_channel_and_alerts_are_enabled_separately() -> None:
    channel_only = resolve_slack_config(None, {**TOKEN, "HANDOFF_SLACK_SIGNING_SECRET": "s"})
    assert channel_only is not None
    assert (channel_only.channel_enabled, channel_only.alerts_enabled) == (True, False)
    alerts_only = resolve_slack_config(None, {**TOKEN, "HANDOFF_SLACK_ALERT_CHANNEL": "C9"})
    assert alerts_only is not None
    assert (alerts_only.channel_enabled, alerts_only.alerts_enabled) == (False, True)
    assert alerts_only.api_url == DEFAULT_API_URL


def test_environment_wins_over_the_credentials_file_and_round_trips() -> None:
    section = {"slack_token": "xoxb-file", "slack_signing_secret": "file-secret", "api_url": "http://127.0.0.1:9"}
    config = resolve_slack_config(section, {"HANDOFF_SLACK_BOT_TOKEN": "xoxb-env"})
    assert config is not None
    assert (config.bot_token, config.signing_secret) == ("xoxb-env", "file-secret")
    assert config.api_url == "http://127.0.0.1:9/"
    assert resolve_slack_config(None, config.to_env()) == config


def test_malformed_values_are_refused() -> None:
    with pytest.raises(SlackConfigError, match="mapping"):
        resolve_slack_config(["slack_token"], {})  # type: ignore[arg-type]
    with pytest.raises(SlackConfigError, match="string"):
        resolve_slack_config({"slack_token": 123}, {})
