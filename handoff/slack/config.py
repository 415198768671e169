"""Which Slack app the assistant talks to, from the environment or a `credentials.yml` section.

Secrets never belong in the repository, so every value can come from an environment variable
(which wins) or from the Slack channel's section of a credentials file kept out of version control.
With no Slack value at all, Slack is simply off; a partial set is an error that names what is
missing, because a half-configured app fails silently in ways that are hard to trace.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_API_URL = "https://slack.com/api/"

# setting -> (environment variable, key in the channel's credentials.yml section)
SOURCES = {
    "bot_token": ("HANDOFF_SLACK_BOT_TOKEN", "slack_token"),
    "signing_secret": ("HANDOFF_SLACK_SIGNING_SECRET", "slack_signing_secret"),
    "alert_channel": ("HANDOFF_SLACK_ALERT_CHANNEL", "alert_channel"),
    "api_url": ("HANDOFF_SLACK_API_URL", "api_url"),
    "console_base_url": ("HANDOFF_CONSOLE_BASE_URL", "console_base_url"),
}
# Values whose presence means "the operator wants Slack"; api_url and console_base_url only tune it.
ENABLING = ("bot_token", "signing_secret", "alert_channel")


class SlackConfigError(ValueError):
    """Slack is partly configured; the message names the missing values and where to set them."""


def _describe(setting: str) -> str:
    env, key = SOURCES[setting]
    return f"{env} (or `{key}` in credentials.yml)"


@dataclass(frozen=True)
class SlackConfig:
    """A usable Slack set-up: the bot token, plus the signing secret for the customer channel
    and/or the alert channel for handoff alerts."""

    bot_token: str = field(metadata={"description": "The app's Bot User OAuth Token (`xoxb-...`)."})
    signing_secret: str = field(default="", metadata={
        "description": "The app's Signing Secret; turns the customer channel on."})
    alert_channel: str = field(default="", metadata={
        "description": "Channel for handoff alerts (an id such as `C0123456789`, or `#name`); turns the "
        "alerts on."})
    api_url: str = field(default=DEFAULT_API_URL, metadata={
        "description": "Slack's Web API (the tests point it at a loopback stand-in)."})
    console_base_url: str = field(default="", metadata={
        "description": "Base of the console link in an alert; empty: the agent service's `agent_service_url`."})

    @property
    def channel_enabled(self) -> bool:
        """Customers can talk to the assistant in Slack (needs the signing secret)."""
        return bool(self.signing_secret)

    @property
    def alerts_enabled(self) -> bool:
        """New tickets are posted for agents in `alert_channel`."""
        return bool(self.alert_channel)

    def to_env(self) -> dict[str, str]:
        """The environment that makes another process resolve this same configuration."""
        return {SOURCES[name][0]: value for name, value in vars(self).items() if value}

    def describe(self) -> str:
        """One line for the launcher: what is on and what is off."""
        channel = "customer channel on" if self.channel_enabled else (
            f"customer channel off (no {_describe('signing_secret')})")
        alerts = f"alerts to {self.alert_channel}" if self.alerts_enabled else (
            f"alerts off (no {_describe('alert_channel')})")
        return f"{channel}; {alerts}"


def resolve_slack_config(section: Mapping[str, Any] | None, environ: Mapping[str, str]) -> SlackConfig | None:
    """The Slack configuration, or None when no Slack value is given anywhere.

    Raises SlackConfigError when some values are given but they do not make a usable set.
    """
    if section is not None and not isinstance(section, Mapping):
        raise SlackConfigError("the Slack section of credentials.yml must be a mapping of names to values")
    values: dict[str, str] = {}
    for setting, (env, key) in SOURCES.items():
        value = environ.get(env) or (section or {}).get(key) or ""
        if not isinstance(value, str):
            raise SlackConfigError(f"{_describe(setting)} must be a string")
        values[setting] = value.strip()
    if not any(values[name] for name in ENABLING):
        return None
    missing = []
    if not values["bot_token"]:
        missing.append(_describe("bot_token"))
    if not values["signing_secret"] and not values["alert_channel"]:
        missing.append(f"{_describe('signing_secret')} for customers in Slack, "
                       f"or {_describe('alert_channel')} for handoff alerts")
    if missing:
        given = ", ".join(SOURCES[name][0] for name in ENABLING if values[name])
        raise SlackConfigError(f"Slack is only partly configured (given: {given}); missing: {'; '.join(missing)}")
    if not values["api_url"]:
        values["api_url"] = DEFAULT_API_URL
    if not values["api_url"].endswith("/"):
        values["api_url"] += "/"
    return SlackConfig(**values)
