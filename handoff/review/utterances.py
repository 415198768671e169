"""A customer message the bot could not handle (a fallback) or handed to a person, as the review
queue sees it: already scrubbed of personal data."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

FALLBACK, HANDOFF = "fallback", "handoff"
REASONS = (FALLBACK, HANDOFF)

_PUNCTUATION = re.compile(r"[^\w<>\s]+")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Utterance:
    """One reviewable customer message."""

    text: str                 # already scrubbed of personal data
    conversation_id: str
    at: datetime              # naive UTC
    top_intents: list[dict]   # [{"name": ..., "confidence": ...}], best first (the classifier's ranking)
    reason: str               # "fallback" | "handoff"


def normalise(text: str) -> str:
    """The form two messages share when they say the same thing: lower case, no punctuation (the
    placeholders' brackets stay), single spaces. Used to de-duplicate."""
    return _SPACES.sub(" ", _PUNCTUATION.sub(" ", text.lower())).strip()
