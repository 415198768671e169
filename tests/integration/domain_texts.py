"""The assistant's response texts, read from its domain (the shop's and the plugin's files), so tests compare
against the real answers."""

from __future__ import annotations

from functools import lru_cache

from rasa.shared.core.domain import Domain

from tests.model_paths import DOMAIN_DIR


@lru_cache(maxsize=1)
def responses() -> dict:
    """The domain's responses by name, as Rasa loads them."""
    return Domain.load(str(DOMAIN_DIR)).responses


def response_text(name: str, **values: object) -> str:
    """The first text variant of response `name`, with `{placeholders}` filled from `values`."""
    text = responses()[name][0]["text"]
    return text.format(**values) if values else text
