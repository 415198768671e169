"""Agents' verdicts on a handoff they resolve, so humans teach the bot: was the handoff needed, could
the bot have handled it, was the bot's answer wrong (and which intent or FAQ topic was right), or is
one of its answers out of date (and which one).

Pure logic, no I/O: the shape of a verdict, the names it may use (from Rasa's domain, see
`DomainNames`), and the choices a console offers first (`suggestions`), read from the tracker.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

NEEDED, NOT_NEEDED, WRONG_ANSWER, OUTDATED = "needed", "not_needed", "wrong_answer", "outdated"
KINDS = (NEEDED, NOT_NEEDED, WRONG_ANSWER, OUTDATED)
# The kind that names the right intent, and the one that names the outdated answer.
NAMES_INTENT, NAMES_ANSWER = WRONG_ANSWER, OUTDATED
SUGGESTED = 3  # ranked intents shown first
RECENT_MESSAGES = 2  # the customer's last messages before the handoff that the suggestions rank
RESPONSE_PREFIX = "utter_"


class VerdictError(ValueError):
    """A verdict the API refuses (400): the message says what is wrong."""


@dataclass(frozen=True)
class VerdictRequest:
    """What an agent chose: a kind, with the intent or answer that kind names."""

    kind: str
    intent: str | None = None
    answer: str | None = None

    @classmethod
    def parse(cls, raw: Any) -> VerdictRequest:
        """A verdict from a request body's `verdict` field; VerdictError for any other shape."""
        if not isinstance(raw, dict):
            raise VerdictError("field 'verdict' must be an object {kind, intent?, answer?}")
        unknown = sorted(set(raw) - {"kind", "intent", "answer"})
        if unknown:
            raise VerdictError(f"field 'verdict' has unknown fields: {', '.join(unknown)}")
        kind = raw.get("kind")
        if kind not in KINDS:
            raise VerdictError(f"verdict kind must be one of {', '.join(KINDS)}")
        intent, answer = raw.get("intent"), raw.get("answer")
        for name, value in (("intent", intent), ("answer", answer)):
            if value is not None and (not isinstance(value, str) or not value):
                raise VerdictError(f"verdict {name} must be a non-empty name")
        if (kind == NAMES_INTENT) != (intent is not None):
            raise VerdictError(f"verdict 'intent' is required with kind {NAMES_INTENT} and only then")
        if (kind == NAMES_ANSWER) != (answer is not None):
            raise VerdictError(f"verdict 'answer' is required with kind {NAMES_ANSWER} and only then")
        return cls(kind, intent, answer)

    @property
    def names_something(self) -> bool:
        """Whether checking it needs the domain."""
        return self.intent is not None or self.answer is not None

    def check(self, names: DomainNames) -> None:
        """VerdictError when the intent or answer is not in the bot's domain."""
        if self.intent is not None and self.intent not in names.intents:
            raise VerdictError(f"verdict intent {self.intent!r} is no intent or FAQ topic of the bot's domain")
        if self.answer is not None and self.answer not in names.answers:
            raise VerdictError(f"verdict answer {self.answer!r} is no response of the bot's domain")

    def given_by(self, agent_id: str, now: float | None = None) -> dict[str, Any]:
        """The verdict as the handoff's record keeps it."""
        return {**{key: value for key, value in asdict(self).items() if value is not None},
                "agent_id": agent_id, "given_at": round(now if now is not None else time.time(), 3)}


@dataclass(frozen=True)
class DomainNames:
    """The names a verdict may use: intents and FAQ topics (`faq/late_fees`), and responses
    (`utter_goodbye`, `utter_faq/late_fees`)."""

    intents: tuple[str, ...]
    answers: tuple[str, ...]

    @classmethod
    def from_domain(cls, domain: Mapping[str, Any]) -> DomainNames:
        """From Rasa's domain as `GET /domain` returns it (JSON): intents are names or one-key
        objects; responses of retrieval intents are named `utter_<intent>/<topic>`."""
        intents = [next(iter(entry)) if isinstance(entry, dict) and entry else entry
                   for entry in domain.get("intents") or []]
        answers = sorted(name for name in domain.get("responses") or {} if isinstance(name, str))
        topics = [name.removeprefix(RESPONSE_PREFIX) for name in answers if "/" in name]
        return cls(tuple(sorted({*(i for i in intents if isinstance(i, str)), *topics})), tuple(answers))


def _ranked_labels(parse_data: Mapping[str, Any]) -> list[tuple[str, float]]:
    """(intent or FAQ topic, confidence) of one parsed message: the intent ranking, with a retrieval
    intent's own entry replaced by its response selector's ranking."""
    selectors = parse_data.get("response_selector") or {}
    ranked: list[tuple[str, float]] = []
    for entry in parse_data.get("intent_ranking") or []:
        name = entry.get("name")
        if not isinstance(name, str):
            continue
        selector = selectors.get(name) or {}
        topics = [(topic.get("intent_response_key"), float(topic.get("confidence") or 0.0))
                  for topic in selector.get("ranking") or []]
        if topics:
            share = float(entry.get("confidence") or 0.0)
            ranked += [(key, share * confidence) for key, confidence in topics if isinstance(key, str)]
        else:
            ranked.append((name, float(entry.get("confidence") or 0.0)))
    return ranked


def suggestions(events: Sequence[Mapping[str, Any]], names: DomainNames) -> dict[str, list[str]]:
    """The verdict choices, likeliest first: intents and FAQ topics ranked for the customer's last
    messages before the handoff (the top `SUGGESTED`, then every other known name), and the answers
    the bot sent in the conversation (newest first, then every other response)."""
    scores: dict[str, float] = {}
    customer = [event for event in events
                if event.get("event") == "user" and not (event.get("metadata") or {}).get("handoff")
                and not (event.get("metadata") or {}).get("is_external")]
    for event in customer[-RECENT_MESSAGES:]:
        for label, confidence in _ranked_labels(event.get("parse_data") or {}):
            if label in names.intents:
                scores[label] = max(scores.get(label, 0.0), confidence)
    top = sorted(scores, key=lambda label: -scores[label])[:SUGGESTED]
    sent = _unique(str((event.get("metadata") or {}).get("utter_action"))
                   for event in reversed(events) if event.get("event") == "bot")
    answers = [name for name in sent if name in names.answers]
    return {"intents": _first(top, names.intents), "suggested_intents": top,
            "answers": _first(answers, names.answers), "sent_answers": answers}


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _first(first: list[str], every: Iterable[str]) -> list[str]:
    return _unique([*first, *every])
