"""Recognises a case that needs a person's judgement from its unmistakable phrases.

"YOU CHARGED ME TWICE!!! and when is my next payment due?" is a disputed charge, however the intent
classifier weighs the rest of the message; such phrases are settings (`judgement_cues`: a list of
regular expressions per judgement intent), read here once per settings object. A cue wins over a
classifier that saw no judgement case; when the classifier sees one itself, its reading stands.
"""

from __future__ import annotations

import re
from functools import lru_cache

from handoff.detect import normalise_text
from handoff.settings import HandoffSettings


def judgement_from_cues(text: str | None, settings: HandoffSettings) -> str | None:
    """The judgement intent whose cue the message contains (the first listed wins), or None."""
    if not text:
        return None
    folded = " ".join(normalise_text(text, settings.max_message_bytes).lower().split())
    for intent, pattern in _compiled(tuple((name, tuple(cues)) for name, cues in settings.judgement_cues.items())):
        if intent in settings.judgement_intents and pattern.search(folded):
            return intent
    return None


@lru_cache(maxsize=8)
def _compiled(cues: tuple[tuple[str, tuple[str, ...]], ...]) -> list[tuple[str, re.Pattern[str]]]:
    """One case-insensitive whole-word pattern per intent."""
    return [(intent, re.compile(r"(?<!\w)(?:" + "|".join(patterns) + r")(?!\w)")) for intent, patterns in cues if patterns]
