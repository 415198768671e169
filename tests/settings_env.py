"""Makes the settings objects read their documented defaults, whatever the machine running the tests set."""

from __future__ import annotations

import os

import pytest

from handoff.settings import get_handoff_settings
from rasa_bot.settings import get_settings

SETTINGS_PREFIXES = ("HANDOFF_", "PAYLATER_")


def use_default_settings(patch: pytest.MonkeyPatch) -> None:
    """Removes every HANDOFF_* and PAYLATER_* variable, names an empty settings file instead of a local
    `settings.yml`, and forgets the settings loaded so far; `patch` undoes the changes to the environment."""
    for name in [name for name in os.environ if name.startswith(SETTINGS_PREFIXES)]:
        patch.delenv(name)
    patch.setenv("PAYLATER_SETTINGS", os.devnull)
    forget_loaded_settings()


def forget_loaded_settings() -> None:
    """Makes the next `get_settings()` and `get_handoff_settings()` read the environment again."""
    get_settings.cache_clear()
    get_handoff_settings.cache_clear()
