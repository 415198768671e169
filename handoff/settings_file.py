"""The one way a settings class reads its YAML file, so every settings object of the project treats a
missing or malformed file the same.

Which file: the one named by an environment variable, else the class's default file, else none.
A missing file: a file named in the environment variable must exist (FileNotFoundError), because
silently ignoring it would run with the defaults the operator meant to replace; the default file
is optional, and without it the settings come from the environment and the defaults alone.
A file that does not hold a mapping of setting names to values is a TypeError.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseSettings

SettingsSource = Callable[[BaseSettings], dict[str, Any]]


def read_settings_file(env_var: str, default: Path | None = None) -> dict[str, Any]:
    """The settings in the file named by `env_var` (or `default`), as a dict; see the module for the rules."""
    named = os.environ.get(env_var)
    if named:
        path = Path(named)
    elif default is not None and default.exists():
        path = default
    else:
        return {}
    loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(loaded, dict):
        raise TypeError(f"{path} must hold a mapping of setting names to values")
    return loaded


def settings_file_source(env_var: str, default: Path | None = None) -> SettingsSource:
    """`read_settings_file` as a source for pydantic's `Config.customise_sources`."""

    def source(_settings: BaseSettings) -> dict[str, Any]:
        return read_settings_file(env_var, default)

    return source
