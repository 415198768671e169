"""Recognises a case that needs a person's judgement from its unmistakable phrases.

"YOU CHARGED ME TWICE!!! and when is my next payment due?" is a disputed charge, however the intent
classifier weighs the rest of the message; such phrases are settings (`judgement_cues`: a list of
regular expressions per judgement intent), read here once per settings object. A cue wins over a
classifier that saw no judgement case, and over one that read another judgement case into a message
with no cue of that case ("your so-called security team let someone take over my account" reads as a
complaint, yet is an account case); when the classifier's case has a cue too, its reading stands.
"""

from __future__ import annotations

import re
from functools import lru_cache

from handoff.detect import normalise_text
from handoff.settings import HandoffSettings


def cued_judgement_intents(text: str | None, settings: HandoffSettings) -> list[str]:
    """Every judgement intent whose cue the message contains, in the order listed; none for a message
    that is no case of ours."""
    if not text:
        return []
    folded = _folded(text, settings)
    if _no_case_of_ours(folded, settings):
        return []
    return [intent for intent, pattern in _compiled(tuple((name, tuple(cues)) for name, cues in settings.judgement_cues.items()))
            if intent in settings.judgement_intents and pattern.search(folded)]


def names_no_case_of_ours(text: str | None, settings: HandoffSettings) -> bool:
    """Whether the message is someone else's case, a complaint declined or a case already sorted
    (`not_our_case_phrases`): a judgement intent read into it is a guess."""
    return text is not None and _no_case_of_ours(_folded(text, settings), settings)


def _folded(text: str, settings: HandoffSettings) -> str:
    return " ".join(normalise_text(text, settings.max_message_bytes).lower().split())


def _no_case_of_ours(folded: str, settings: HandoffSettings) -> bool:
    phrases = tuple(settings.not_our_case_phrases)
    return bool(phrases) and _whole_words(phrases).search(folded) is not None


@lru_cache(maxsize=8)
def _compiled(cues: tuple[tuple[str, tuple[str, ...]], ...]) -> list[tuple[str, re.Pattern[str]]]:
    """One case-insensitive whole-word pattern per intent."""
    return [(intent, _whole_words(patterns)) for intent, patterns in cues if patterns]


@lru_cache(maxsize=32)
def _whole_words(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern matching any of `patterns` as whole words."""
    return re.compile(r"(?<!\w)(?:" + "|".join(patterns) + r")(?!\w)")
