"""A new FAQ topic a lead creates from a "new topic" cluster: the rules its name and its answer follow.

The name becomes the retrieval label `faq/<topic>` and the response `utter_faq/<topic>` of the
export (handoff/review/export.py), so it must be a name Rasa and a YAML key take as it is, and one the
bot does not use already: teaching a known topic is a relabel, not a new topic.
"""

from __future__ import annotations

import re
from collections.abc import Collection

FAQ_INTENT = "faq"  # the retrieval intent whose topics a lead can add
TOPIC_NAME = re.compile(r"[a-z0-9_]{3,40}")
MAX_ANSWER_LENGTH = 1000


class NewTopicError(ValueError):
    """The topic's name or answer is not acceptable; the message says why."""


def faq_label(topic: str) -> str:
    return f"{FAQ_INTENT}/{topic}"


def new_topic_label(topic: object, taken: Collection[str]) -> str:
    """`faq/<topic>` for a valid, unused name; NewTopicError otherwise. `taken` holds the intents and
    FAQ labels (`faq/<topic>`) already in use."""
    if not isinstance(topic, str) or not TOPIC_NAME.fullmatch(topic):
        raise NewTopicError("topic must be 3-40 lower-case letters, digits or underscores, such as gift_cards")
    if topic in taken or faq_label(topic) in taken:
        raise NewTopicError(f"{topic!r} is already an intent or FAQ topic of the bot: relabel to it instead")
    return faq_label(topic)


def clean_answer(answer: object) -> str:
    """The answer without surrounding white space; NewTopicError when empty or too long."""
    if not isinstance(answer, str) or not answer.strip():
        raise NewTopicError("a new topic needs the answer the bot is to give")
    text = answer.strip()
    if len(text) > MAX_ANSWER_LENGTH:
        raise NewTopicError(f"the answer may have at most {MAX_ANSWER_LENGTH} characters, not {len(text)}")
    return text
