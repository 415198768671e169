"""Turns capture events into one row per customer turn.

A turn starts with the customer's message (a `user` event) and ends when the bot listens again
(`action_listen`); between them come the actions the bot ran and the answers it sent. Events of a
conversation arrive in order (one tracker save per turn); a turn stays open, its stream entries
unacknowledged, until it ends, so a consumer that dies mid-turn reads them again. An intent
triggered through Rasa's API (the hand-back after a handoff) is no customer turn: it ends the open
turn and starts none.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from handoff.insights.events import ACTION, BOT, USER
from handoff.review.capture import utterance_row

LISTEN_ACTION = "action_listen"
FALLBACK_ACTIONS = frozenset({"action_default_fallback", "action_two_stage_fallback"})


def utc(timestamp: float) -> datetime:
    """A naive UTC datetime (as the database stores them) from epoch seconds."""
    return datetime.fromtimestamp(float(timestamp), tz=timezone.utc).replace(tzinfo=None)


@dataclass
class OpenTurn:
    """A customer turn still being read: its message and what the bot has done so far."""

    event_id: str
    user: Mapping[str, Any]
    entry_ids: list[str]
    answers: list[tuple[str, str]] = field(default_factory=list)  # (response name, text version)
    actions: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TurnRules:
    """What makes a turn a fallback or a handoff (from the plugin's settings)."""

    fallback_intents: frozenset[str]
    handoff_action: str


def ranking_with_answer(ranking: Iterable[Mapping[str, Any]], decision: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The intent ranking, the retrieval intent's entry carrying the answer the answer gate chose for it
    (`"answer": "faq/fees"`, also when it then fell back), so the review queue can tell which FAQ topic
    the bot read, not only that it read `faq`."""
    answer = decision.get("answer") if decision is not None else None
    retrieval_intent = str(answer).split("/", 1)[0] if answer else None
    return [{**entry, "answer": answer} if retrieval_intent and entry.get("name") == retrieval_intent else dict(entry)
            for entry in ranking]


def turn_row(turn: OpenTurn, rules: TurnRules) -> dict[str, Any]:
    """The `turns` row of a finished turn (its handoff trigger, if any, is filled in by the writer)."""
    user = turn.user
    intent = user.get("intent") or {}
    decision = user.get("decision") if isinstance(user.get("decision"), Mapping) else None
    name = intent.get("name")
    if decision is not None:
        confidence, source = decision.get("confidence"), decision.get("source")
    else:
        confidence, source = intent.get("confidence"), "intent"
    names = [answer for answer, _ in turn.answers if answer]
    versions = [version for _, version in turn.answers]
    return {
        "event_id": turn.event_id,
        "conversation_id": str(user.get("sender_id")),
        "at": utc(user.get("timestamp") or 0),
        "channel": user.get("input_channel"),
        "model_id": user.get("model_id"),
        "intent": name,
        "confidence": None if confidence is None else float(confidence),
        "confidence_source": source,
        "top_intents": ranking_with_answer(user.get("intent_ranking") or [], decision),
        "answer": ",".join(names)[:255] or None,
        "answer_version": ",".join(versions)[:64] or None,
        "fallback": name in rules.fallback_intents or any(action in FALLBACK_ACTIONS for action in turn.actions),
        "handoff_trigger": rules.handoff_action if rules.handoff_action in turn.actions else None,
    }


@dataclass
class Finished:
    """What reading some events gave: finished turn rows, and entries that need no row."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    utterances: list[dict[str, Any]] = field(default_factory=list)  # review_utterances rows (handoff/review)
    done_ids: list[str] = field(default_factory=list)  # entries to acknowledge once the rows are stored


class TurnAssembler:
    """Keeps each conversation's open turn and finishes it when the bot listens again."""

    def __init__(self, rules: TurnRules) -> None:
        self.rules = rules
        self.open: dict[str, OpenTurn] = {}

    def read(self, entries: Iterable[tuple[str, Mapping[str, Any]]]) -> Finished:
        """Feeds (stream id, event) pairs of tracker events, in stream order."""
        finished = Finished()
        for entry_id, event in entries:
            self._read_one(entry_id, event, finished)
        return finished

    def _read_one(self, entry_id: str, event: Mapping[str, Any], finished: Finished) -> None:
        conversation = str(event.get("sender_id"))
        kind = event.get("event")
        turn = self.open.get(conversation)
        if kind == USER:
            if turn is not None:  # a message before the bot listened again: the earlier turn is over
                self._finish(conversation, finished)
            if event.get("external"):
                finished.done_ids.append(entry_id)
            else:
                self.open[conversation] = OpenTurn(entry_id, event, [entry_id])
            return
        if turn is None:  # the bot acting on its own (a session start, a greeting): no customer turn
            finished.done_ids.append(entry_id)
            return
        turn.entry_ids.append(entry_id)
        if kind == BOT:
            turn.answers.append((str(event.get("response") or ""), str(event.get("version") or "")))
        elif kind == ACTION:
            name = str(event.get("name") or "")
            if name == LISTEN_ACTION:
                self._finish(conversation, finished)
            else:
                turn.actions.append(name)

    def _finish(self, conversation: str, finished: Finished) -> None:
        turn = self.open.pop(conversation)
        row = turn_row(turn, self.rules)
        finished.rows.append(row)
        utterance = utterance_row(row, turn.user.get("text"))
        if utterance is not None:
            finished.utterances.append(utterance)
        finished.done_ids.extend(turn.entry_ids)

    def finish_all(self) -> Finished:
        """Finishes every open turn as it stands (the bot never listened again: a crash, or idle)."""
        finished = Finished()
        for conversation in list(self.open):
            self._finish(conversation, finished)
        return finished
