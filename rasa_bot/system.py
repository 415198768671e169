"""The services that make up the running assistant, described once for the launcher and tests:
redis-server (unless an external Redis is given), the action server, the Rasa server with the
handoff channels, and the agent service."""

from __future__ import annotations

import os
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

import yaml

from handoff.private_files import write_private_file
from handoff.slack.config import SlackConfig, resolve_slack_config
from rasa_bot.processes import ManagedProcess
from rasa_bot.settings import PROJECT_ROOT

# The trained model, as `make model` writes it (the Makefile's MODEL); all Python code reads it here.
MODEL_PATH = PROJECT_ROOT / "models" / "paylater.tar.gz"
# The shop's settings of the handoff plugin (its pages, its tickets), unless HANDOFF_SETTINGS names others.
HANDOFF_SETTINGS_FILE = PROJECT_ROOT / "handoff_settings.yml"
VENV_BIN = Path(sys.executable).parent
SLACK_CHANNEL = "handoff.channels.slack.HandoffSlackInput"
# Keys of the Slack section that may be written to the Rasa server's copy; secrets travel in the
# environment instead, so no file we write holds them.
SLACK_PUBLIC_KEYS = ("slack_channel",)
INSIGHTS_DATABASE_ENV = "HANDOFF_INSIGHTS_DATABASE_URL"
# Rasa's event broker that puts each turn's events on the capture stream (handoff/insights).
EVENT_BROKER = "handoff.insights.broker.RedisStreamEventBroker"


@dataclass(frozen=True)
class SystemLayout:
    """Hosts, ports and files of one running system (the real one or a test's).

    `external_redis_url` set means "use that Redis"; otherwise a redis-server is started on
    `redis_port` with its data (AOF, fsync every second) under `data_dir`.
    """

    host: str
    rasa_port: int
    action_port: int
    agent_port: int
    redis_port: int
    data_dir: Path
    log_dir: Path
    external_redis_url: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    action_host: str | None = None
    redis_maxmemory: str = "256mb"

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://{self.host}:{self.action_port}"

    @property
    def agent_url(self) -> str:
        return f"http://{self.host}:{self.agent_port}"

    @property
    def redis_url(self) -> str:
        """The URL clients use, with the password of the redis-server we start."""
        if self.external_redis_url:
            return self.external_redis_url
        return f"redis://:{quote(self.redis_password, safe='')}@{self.host}:{self.redis_port}/0"

    @property
    def redis_url_for_display(self) -> str:
        """`redis_url` without its password, for banners and logs."""
        return masked_url(self.redis_url)

    @property
    def redis_password(self) -> str:
        """The password of the redis-server we start, generated into `data_dir` on first use."""
        return ensure_secret(self.data_dir / "redis_password")

    @property
    def rasa_jwt_secret(self) -> str:
        """The secret Rasa's HTTP API checks tokens against, generated into `data_dir` on first use."""
        return ensure_secret(self.data_dir / "rasa_jwt_secret")

    @property
    def metrics_token(self) -> str:
        """The bearer token Prometheus scrapes `/metrics` with, generated into `data_dir` on first use."""
        return ensure_secret(self.data_dir / "metrics_token")

    @property
    def agents_file(self) -> Path:
        return self.data_dir / "agents.yml"

    @property
    def insights_database_url(self) -> str:
        """Where the insights consumer stores captured turns and handoffs: `HANDOFF_INSIGHTS_DATABASE_URL`
        (the layout's environment first), else a SQLite file in `data_dir`."""
        given = self.env.get(INSIGHTS_DATABASE_ENV) or os.environ.get(INSIGHTS_DATABASE_ENV)
        return given or f"sqlite:///{self.data_dir / 'insights.sqlite3'}"


def ensure_secret(path: Path) -> str:
    """The secret stored at `path`, created (random, readable by the owner only) on first use."""
    if not path.exists():
        write_private_file(path, secrets.token_urlsafe(32))
    return path.read_text().strip()


def masked_url(url: str) -> str:
    """`url` with any password replaced by `***`."""
    parsed = urlparse(url)
    if not parsed.password:
        return url
    return parsed._replace(netloc=parsed.netloc.replace(f":{parsed.password}@", ":***@", 1)).geturl()


def redis_config(layout: SystemLayout, redis_dir: Path) -> str:
    """redis-server's configuration: loopback, password, memory cap without eviction (a full Redis
    refuses writes rather than dropping conversations), AOF fsync'd every second."""
    lines = [
        f"bind {layout.host}", f"port {layout.redis_port}", "protected-mode yes",
        f"requirepass {layout.redis_password}",
        f"maxmemory {layout.redis_maxmemory}", "maxmemory-policy noeviction",
        f'dir "{redis_dir}"', "appendonly yes", "appendfsync everysec", 'save ""',
    ]
    return "\n".join(lines) + "\n"


def write_endpoints(layout: SystemLayout, path: Path) -> Path:
    """The project's endpoints.yml pointed at this layout's action server and Redis."""
    endpoints = yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text())
    redis = _redis_parts(layout.redis_url)
    endpoints["action_endpoint"]["url"] = f"{layout.action_url}/webhook"
    for store in ("tracker_store", "lock_store"):
        endpoints[store].update(redis)
    endpoints["event_broker"] = {"type": EVENT_BROKER, **redis}
    return write_private_file(path, yaml.safe_dump(endpoints, sort_keys=False))


def project_credentials() -> dict[str, Any]:
    """The project's credentials.yml (channel -> its settings)."""
    return yaml.safe_load((PROJECT_ROOT / "credentials.yml").read_text()) or {}


def slack_config(layout: SystemLayout) -> SlackConfig | None:
    """The Slack set-up from the environment (the layout's first) and credentials.yml; None when no
    Slack value is given. Raises SlackConfigError when it is incomplete."""
    section = project_credentials().get(SLACK_CHANNEL)
    return resolve_slack_config(section, {**os.environ, **layout.env})


def write_credentials(slack: SlackConfig | None, path: Path) -> Path:
    """The project's credentials.yml for the Rasa server: with the Slack channel only when Slack
    customers are configured (so a machine without a Slack app runs without it)."""
    credentials = project_credentials()
    section = credentials.pop(SLACK_CHANNEL, None) or {}
    if slack is not None and slack.channel_enabled:
        credentials[SLACK_CHANNEL] = {key: section[key] for key in SLACK_PUBLIC_KEYS if key in section}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(credentials, sort_keys=False))
    return path


def _redis_parts(url: str) -> dict[str, object]:
    parsed = urlparse(url)
    parts: dict[str, object] = {"url": parsed.hostname or "127.0.0.1", "port": parsed.port or 6379,
                                "db": int((parsed.path or "/0").lstrip("/") or 0)}
    if parsed.password:
        parts["password"] = parsed.password
    return parts


def service_env(layout: SystemLayout, slack: SlackConfig | None = None) -> dict[str, str]:
    """Environment every child gets: where Redis, Rasa, the agents file and the secrets are."""
    return {
        **(slack.to_env() if slack else {}),
        "PYTHONPATH": str(PROJECT_ROOT),
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "HANDOFF_REDIS_URL": layout.redis_url,
        "HANDOFF_RASA_URL": layout.rasa_url,
        "HANDOFF_AGENT_SERVICE_URL": layout.agent_url,
        "HANDOFF_AGENTS_FILE": str(layout.agents_file),
        INSIGHTS_DATABASE_ENV: layout.insights_database_url,
        "HANDOFF_SESSION_SECRET": ensure_secret(layout.data_dir / "session_secret"),
        "HANDOFF_RASA_JWT_SECRET": layout.rasa_jwt_secret,
        "HANDOFF_METRICS_TOKEN": layout.metrics_token,
        "RASA_TELEMETRY_ENABLED": "false",
        "HANDOFF_SETTINGS": os.environ.get("HANDOFF_SETTINGS", str(HANDOFF_SETTINGS_FILE)),
        **layout.env,
    }


def services(layout: SystemLayout, model: Path = MODEL_PATH) -> list[ManagedProcess]:
    """Every process of the system, in start order; SlackConfigError if Slack is half set up."""
    # The data directory holds secrets, the shop database and Redis's files: the owner's alone.
    layout.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    layout.data_dir.chmod(0o700)
    rasa = str(VENV_BIN / "rasa")
    slack = slack_config(layout)
    env = service_env(layout, slack)
    endpoints = write_endpoints(layout, layout.data_dir / "endpoints.yml")
    credentials = write_credentials(slack, layout.data_dir / "credentials.yml")
    children = []
    if layout.external_redis_url is None:
        redis_dir = layout.data_dir / "redis"
        redis_dir.mkdir(parents=True, exist_ok=True)
        config = write_private_file(layout.data_dir / "redis.conf", redis_config(layout, redis_dir))
        children.append(ManagedProcess(
            name="redis-server",
            command=["redis-server", str(config)],
            ready_url=layout.redis_url,
            log_path=layout.log_dir / "redis.log",
        ))
    children += [
        ManagedProcess(
            name="action server",
            command=[rasa, "run", "actions", "--actions", "actions", "--port", str(layout.action_port)],
            ready_url=f"{layout.action_url}/health",
            log_path=layout.log_dir / "actions.log",
            # rasa-sdk binds every interface unless SANIC_HOST says otherwise.
            env={**env, "SANIC_HOST": layout.action_host or layout.host},
            cwd=PROJECT_ROOT,
        ),
        ManagedProcess(
            name="rasa server",
            # `rasa run` with the JWT secret and CORS origins of the handoff settings applied.
            command=[
                sys.executable, "-m", "handoff.rasa_server", "run", "--enable-api",
                "--model", str(model),
                "--credentials", str(credentials),
                "--endpoints", str(endpoints),
                "--interface", layout.host,
                "--port", str(layout.rasa_port),
            ],
            # `/` answers without a credential; `/status` needs one.
            ready_url=f"{layout.rasa_url}/",
            log_path=layout.log_dir / "rasa.log",
            env=env,
            cwd=PROJECT_ROOT,
        ),
        ManagedProcess(
            name="agent service",
            command=[sys.executable, "-m", "handoff.agent_service", "--host", layout.host,
                     "--port", str(layout.agent_port)],
            ready_url=f"{layout.agent_url}/health",
            log_path=layout.log_dir / "agent_service.log",
            env=env,
            cwd=PROJECT_ROOT,
        ),
        ManagedProcess(
            name="insights consumer",
            command=[sys.executable, "-m", "handoff.insights.consumer"],
            # It serves nothing: ready once it runs and its Redis answers.
            ready_url=layout.redis_url,
            log_path=layout.log_dir / "insights.log",
            env=env,
            cwd=PROJECT_ROOT,
        ),
    ]
    return children
