"""Builds the handoff ticket an agent reads first: why the bot handed over, how the customer
feels, what they said and what the bot already knows (slots), with a one-line summary."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from handoff.answer_gate import AnswerDecision
from handoff.detect import (
    EXPLICIT_REQUEST,
    FRUSTRATION,
    JUDGEMENT_PREFIX,
    LOW_ACTION_CONFIDENCE,
    LOW_NLU_CONFIDENCE,
    HandoffDecision,
)
from handoff.models import IntentConfidence, Ticket

SUMMARY_QUOTE_CHARS = 90
REASON_LABELS = {
    EXPLICIT_REQUEST: "Asked for a person",
    FRUSTRATION: "Frustrated customer",
    LOW_NLU_CONFIDENCE: "Bot did not understand twice",
    LOW_ACTION_CONFIDENCE: "Bot unsure what to do",
}


def reason_label(reason: str) -> str:
    """A short human wording of a decision reason, e.g. "judgement:complaint" -> "Complaint"."""
    if reason.startswith(JUDGEMENT_PREFIX):
        return reason.removeprefix(JUDGEMENT_PREFIX).replace("_", " ").capitalize()
    return REASON_LABELS.get(reason, reason.replace("_", " ").capitalize())


def transcript_from_events(events: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The whole bot part of the conversation, as the agent console shows it.

    Each customer message carries its intent, the confidence that decided how the bot handled it
    (the chosen answer's for FAQ) and its frustration; each bot message carries the deciding
    confidence of the message it answered and whether the bot was sure, so an agent sees at a glance
    which answers were guesses.
    """
    transcript: list[dict[str, Any]] = []
    decided: dict[str, Any] = {}
    for event in events:
        if event.get("event") == "user":
            parse_data = event.get("parse_data") or {}
            decided = _deciding_confidence(parse_data)
            transcript.append({
                "role": "customer",
                "text": event.get("text") or "",
                "intent": _intent_label(parse_data),
                **decided,
                "frustration": round(float((parse_data.get("frustration") or {}).get("score") or 0.0), 3),
                "ts": event.get("timestamp"),
            })
        elif event.get("event") == "bot" and event.get("text"):
            transcript.append({"role": "bot", "text": event["text"], **decided, "ts": event.get("timestamp")})
    return transcript


def _intent_label(parse_data: Mapping[str, Any]) -> str | None:
    """The intent, or the FAQ answer chosen ("faq/late_fees") when the message was taken as FAQ."""
    intent = parse_data.get("intent") or {}
    selector = (parse_data.get("response_selector") or {}).get(intent.get("name") or "", {})
    return (selector.get("response") or {}).get("intent_response_key") or intent.get("name")


def _deciding_confidence(parse_data: Mapping[str, Any]) -> dict[str, Any]:
    """The answer gate's decision; for messages parsed without it, the intent's confidence alone."""
    decision = AnswerDecision.from_dict(parse_data.get("decision"))
    if decision is None:
        intent = parse_data.get("intent") or {}
        return {"confidence": round(float(intent.get("confidence") or 0.0), 3), "sure": None, "decided_by": "intent"}
    return {"confidence": round(decision.confidence, 3), "sure": decision.sure, "decided_by": decision.source}


def summarise(decision: HandoffDecision, transcript: list[dict[str, Any]], slots: Mapping[str, Any]) -> str:
    """One line an agent takes in at a glance: reason, mood, the last words, the known order."""
    parts = [reason_label(decision.reason)]
    if decision.frustration > 0:
        parts.append(f"frustration {decision.frustration:.2f}")
    last_words = next((turn["text"] for turn in reversed(transcript) if turn["role"] == "customer"), "")
    if last_words:
        quoted = last_words if len(last_words) <= SUMMARY_QUOTE_CHARS else last_words[:SUMMARY_QUOTE_CHARS] + "…"
        parts.append(f'last said "{quoted}"')
    known = [f"{name} {value}" for name, value in slots.items() if value not in (None, "", [])]
    if known:
        parts.append(", ".join(known))
    topics = []
    for turn in transcript:
        intent = turn.get("intent")
        if turn["role"] == "customer" and intent and intent not in topics:
            topics.append(intent)
    if topics:
        parts.append("topics: " + ", ".join(topics[-4:]))
    return " · ".join(parts)


def build_ticket(conversation_id: str, decision: HandoffDecision, events: Sequence[Mapping[str, Any]],
                 slots: Mapping[str, Any], channel: str, now: float | None = None) -> Ticket:
    """The ticket for `decision`, with everything the conversation so far tells an agent."""
    transcript = transcript_from_events(events)
    intents = [IntentConfidence(intent=turn["intent"], confidence=turn["confidence"])
               for turn in transcript if turn["role"] == "customer"]
    return Ticket(
        conversation_id=conversation_id,
        reason=decision.reason,
        priority=decision.priority,
        frustration=round(decision.frustration, 3),
        summary=summarise(decision, transcript, slots),
        intents=intents,
        slots=dict(slots),
        transcript=transcript,
        channel=channel,
        created_at=now if now is not None else time.time(),
    )
