"""What of a Rasa tracker event goes into the capture stream: only what a turn's row needs.

A bot answer's text never leaves the tracker, and a customer's words leave it only scrubbed of
personal data (handoff/review/scrub.py, here in the Rasa process) and only when asked (`with_text`,
the `review_capture_text` setting): the review queue keeps them for fallback and handoff turns. A
user event keeps its parse result (intent, ranking, the answer gate's decision), a bot event keeps
the response's name and its
version: a hash of the response as the domain words it (or of the text sent, for an answer that
names no response). Other events (slots, loops, ...) are not published: slot
values are what customers told the bot, and no row reads them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from rasa.shared.core.constants import IS_EXTERNAL

from handoff.review.scrub import scrub

USER, BOT, ACTION = "user", "bot", "action"
PUBLISHED_EVENTS = frozenset({USER, BOT, ACTION})
TOP_INTENTS = 5  # entries of the intent ranking kept
VERSION_LENGTH = 12  # hex digits of an answer's text hash


def text_version(text: str) -> str:
    """The version of a response: a short hash of its text (another wording, another version)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:VERSION_LENGTH]


def answer_version(response: str | None, text: str, responses: Mapping[str, Any]) -> str:
    """The version of the answer a bot event sent: of the response's variations in the domain when
    it names one (so a templated answer, filled differently each time, keeps one version until its
    wording changes), else of the text sent."""
    variations = responses.get(response) if response else None
    if variations is None:
        return text_version(text)
    return text_version(json.dumps(variations, sort_keys=True, ensure_ascii=False, default=str))


def slim_event(event: Mapping[str, Any], responses: Mapping[str, Any] | None = None,
               with_text: bool = False) -> dict[str, Any] | None:
    """The capture form of a Rasa event dict (with `sender_id`), or None when it is not published;
    `responses` are the domain's, by name, for the answers' versions; `with_text` adds a customer
    message's scrubbed words."""
    kind = event.get("event")
    if kind not in PUBLISHED_EVENTS:
        return None
    metadata = event.get("metadata") or {}
    slim: dict[str, Any] = {"event": kind, "sender_id": event.get("sender_id"), "timestamp": event.get("timestamp"),
                            "model_id": metadata.get("model_id")}
    if kind == USER:
        parse_data = event.get("parse_data") or {}
        # An external event (an intent triggered through Rasa's API, e.g. the hand-back after a
        # handoff) is no customer message; the channels never let a customer set this flag.
        slim.update(external=bool(metadata.get(IS_EXTERNAL)),
                    input_channel=event.get("input_channel"), intent=parse_data.get("intent"),
                    intent_ranking=[{"name": entry.get("name"), "confidence": entry.get("confidence")}
                                    for entry in (parse_data.get("intent_ranking") or [])[:TOP_INTENTS]],
                    decision=parse_data.get("decision"))
        if with_text and not slim["external"]:
            slim["text"] = scrub(str(event.get("text") or ""))
    elif kind == BOT:
        response = metadata.get("utter_action")
        slim.update(response=response, version=answer_version(response, event.get("text") or "", responses or {}))
    else:
        slim.update(name=event.get("name"), policy=event.get("policy"), confidence=event.get("confidence"))
    return slim
