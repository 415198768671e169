"""One typed settings object for the assistant, read from `settings.yml` and the environment.

Every tunable lives here so that a deployment changes behaviour through configuration, not code.
Precedence (highest first): environment variables (`PAYLATER_<NAME>`), the YAML file named by
`PAYLATER_SETTINGS` (which must exist) or else `settings.yml` in the project root (optional), then the
defaults below; `handoff/settings_file.py` reads the file.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseSettings, Field

from handoff.settings_file import settings_file_source

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SETTINGS_FILE_ENV = "PAYLATER_SETTINGS"
DEFAULT_SETTINGS_FILE = PROJECT_ROOT / "settings.yml"


class Settings(BaseSettings):
    """Settings of the assistant; docs/settings.md lists them all (generated: `make docs`)."""

    database_url: str = Field(
        f"sqlite:///{PROJECT_ROOT / 'var' / 'shop.sqlite3'}",
        description="SQLAlchemy URL of the shop database that status look-ups read.",
    )
    rasa_host: str = Field("127.0.0.1", description="Interface the Rasa server binds to.")
    rasa_port: int = Field(5005, description="Port of the Rasa server (REST, socket.io, HTTP API).")
    action_port: int = Field(5055, description="Port of the action server.")
    action_host: str = Field(
        "127.0.0.1",
        description="Interface the action server binds to. It trusts whoever calls it, so anything but "
        "loopback needs a private network or a proxy in front that only lets the Rasa server through "
        "(docs/security.md).",
    )
    agent_port: int = Field(5006, description="Port of the agent service (console and agent API).")
    redis_port: int = Field(6379, description="Port of the redis-server `make run` starts (unless REDIS_URL).")
    redis_maxmemory: str = Field(
        "256mb",
        description="Memory cap of the redis-server `make run` starts (policy noeviction: when full it "
        "refuses writes, which clients report, instead of dropping conversations).",
    )
    max_lookup_attempts: int = Field(
        3, description="Failed order/email checks allowed before the bot stops the look-up."
    )

    class Config:
        env_prefix = "PAYLATER_"

        @classmethod
        def customise_sources(cls, init_settings, env_settings, file_secret_settings):
            return (init_settings, env_settings, settings_file_source(SETTINGS_FILE_ENV, DEFAULT_SETTINGS_FILE))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Returns the process-wide settings, loaded once."""
    return Settings()
