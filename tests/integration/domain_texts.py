"""The assistant's response texts, read from domain.yml, so tests compare against the real answers."""

from __future__ import annotations

from functools import lru_cache

import yaml

from rasa_bot.settings import PROJECT_ROOT


@lru_cache(maxsize=1)
def _responses() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())["responses"]


def response_text(name: str, **values: object) -> str:
    """The first text variant of response `name`, with `{placeholders}` filled from `values`."""
    text = _responses()[name][0]["text"]
    return text.format(**values) if values else text
