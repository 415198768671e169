"""Shared pieces of the review queue's tests: messages as the capture stores them, the known examples."""

from __future__ import annotations

from datetime import datetime

import pytest

from handoff.review.clusters import load_known_examples
from handoff.review.utterances import Utterance
from rasa_bot.settings import PROJECT_ROOT


def message(text: str, bot_ranked_first: str, reason: str = "handoff", conversation: str = "c1") -> Utterance:
    """A captured message whose bot ranking put `bot_ranked_first` first (after the fallback)."""
    return Utterance(text=text, conversation_id=conversation, at=datetime(2026, 11, 1, 12),
                     top_intents=[{"name": "nlu_fallback", "confidence": 0.5},
                                  {"name": bot_ranked_first, "confidence": 0.4}], reason=reason)


@pytest.fixture(scope="session")
def known() -> dict[str, list[str]]:
    return load_known_examples(PROJECT_ROOT)
