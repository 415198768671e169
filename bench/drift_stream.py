"""The turn stream of one drift run, sampled from a recording: each distinct scenario message was
sent to the real bot once (`bench/drift.py record`), so a run of thousands of turns replays the
bot's recorded output for the messages the scenario's shares pick, seed by seed.

Simulated agents judge every handoff from the scenario's truth a few turns later, and give a random
other verdict `verdict_error_rate` of the time. A stale-topic turn is followed, at the phase's
escalation share, by the customer's escalation in the same conversation; after the drift point an
agent marks that handoff's answer "outdated".

Not a script; bench/drift.py imports it.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bench.drift_scenario import AFTER, BEFORE, ESCALATION, STALE_TOPIC, Message, Scenario
from handoff.verdicts import KINDS, NEEDED, NOT_NEEDED, OUTDATED, WRONG_ANSWER

NLU_FALLBACK = "nlu_fallback"  # the answer gate's "not understood": a decision, not a classification
FAQ_INTENT, FAQ_RESPONSE_PREFIX = "faq", "utter_"
STREAM_START = datetime(2025, 1, 6, 8, 0, 0)  # naive UTC, like the insights database


@dataclass(frozen=True)
class RecordedOutput:
    """What the bot did with one message as the first of a conversation (from its `turns` row)."""

    intent: str | None
    confidence: float | None
    top_intents: tuple[Mapping[str, Any], ...]
    fallback: bool
    handed_off: bool
    answer: str | None
    answer_version: str | None
    model_id: str | None

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> RecordedOutput:
        return cls(raw.get("intent"), raw.get("confidence"), tuple(raw.get("top_intents") or ()),
                   bool(raw.get("fallback")), bool(raw.get("handed_off")), raw.get("answer"),
                   raw.get("answer_version"), raw.get("model_id"))

    @property
    def monitored_intent(self) -> str | None:
        """The intent production's drift monitor counts the turn for (handoff/drift/observations.py): the
        top-ranked classified intent, `nlu_fallback` skipped; every FAQ answer counts for `faq`."""
        names = [str(entry.get("name")) for entry in self.top_intents if entry.get("name") != NLU_FALLBACK]
        return names[0] if names else (self.intent if self.intent != NLU_FALLBACK else None)

    @property
    def label(self) -> str | None:
        """The top-ranked classified intent, a FAQ answer's topic named in full (`faq/late_fees`); for
        a fallback the top of the classifier's ranking, so a fallback counts for that intent."""
        names = [str(entry.get("name")) for entry in self.top_intents if entry.get("name") != NLU_FALLBACK]
        intent = (names[0] if names else None) if self.fallback or self.intent == NLU_FALLBACK else self.intent
        answer = self.answer or ""
        if intent == FAQ_INTENT and answer.startswith(f"{FAQ_RESPONSE_PREFIX}{FAQ_INTENT}/"):
            return answer.removeprefix(FAQ_RESPONSE_PREFIX)
        return intent


Recording = Mapping[str, RecordedOutput]  # by message text


@dataclass(frozen=True)
class StreamTurn:
    """One customer turn of a run: the message, its truth, and the bot's recorded output."""

    index: int
    at: datetime
    conversation_id: str
    message: Message
    phase: str
    output: RecordedOutput

    @property
    def queued(self) -> bool:
        """Whether the turn reaches the review queue (a fallback or a handoff)."""
        return self.output.fallback or self.output.handed_off


@dataclass(frozen=True)
class StreamVerdict:
    """A simulated agent's verdict on a handoff, delivered after turn `due_index`."""

    due_index: int
    at: datetime
    conversation_id: str
    kind: str
    intent: str | None
    answer_version: str | None
    correct: bool


@dataclass
class Stream:
    turns: list[StreamTurn] = field(default_factory=list)
    verdicts: dict[int, list[StreamVerdict]] = field(default_factory=dict)  # by due turn index
    drift_point: int | None = None  # None: a no-drift run


def stale_version(scenario: Scenario, recording: Recording) -> str:
    """The recorded version of the answer the scenario makes stale (the bot must have sent it)."""
    versions = {output.answer_version for output in recording.values()
                if output.answer == scenario.stale_answer and output.answer_version}
    if len(versions) != 1:
        raise SystemExit(f"the recording holds {len(versions)} versions of {scenario.stale_answer}, not one: "
                         "did the bot answer the stale topic's messages with it?")
    return versions.pop()


class VerdictGiver:
    """Simulated agents: the true verdict on a handoff, or a random other one at the error rate."""

    def __init__(self, scenario: Scenario, recording: Recording, rng: random.Random) -> None:
        self.scenario, self.rng = scenario, rng
        self.stale_version = stale_version(scenario, recording)
        self.labels = sorted({message.label for message in scenario.distinct_messages()})
        self.versions = sorted({output.answer_version for output in recording.values() if output.answer_version})

    def true_verdict(self, turn: StreamTurn, escalated_from: StreamTurn | None) -> tuple[str, str | None, str | None]:
        """(kind, intent, answer version) an agent who knows the truth gives."""
        if escalated_from is not None:
            return (OUTDATED, None, self.stale_version) if escalated_from.phase == AFTER else (NOT_NEEDED, None, None)
        truth = turn.message.truth
        if truth is None or truth in self.scenario.handoff_needed:
            return NEEDED, None, None
        if turn.output.label == truth:
            return NOT_NEEDED, None, None
        return WRONG_ANSWER, truth, None

    def give(self, turn: StreamTurn, escalated_from: StreamTurn | None) -> StreamVerdict:
        kind, intent, version = self.true_verdict(turn, escalated_from)
        correct = self.rng.random() >= self.scenario.verdict_error_rate
        if not correct:
            kind = self.rng.choice([other for other in KINDS if other != kind])
            intent = self.rng.choice(self.labels) if kind == WRONG_ANSWER else None
            version = self.rng.choice(self.versions) if kind == OUTDATED else None
        least, most = self.scenario.verdict_delay_turns
        due = turn.index + self.rng.randint(least, most)
        at = STREAM_START + timedelta(seconds=(due + 0.5) * self.scenario.seconds_between_turns)
        return StreamVerdict(due, at, turn.conversation_id, kind, intent, version, correct)


def build_stream(scenario: Scenario, recording: Recording, seed: int, turns: int,
                 drift_point: int | None) -> Stream:
    """`turns` customer turns sampled by the scenario's shares (the drift phase's from `drift_point`
    on; None: no drift), with the agents' verdicts; the same for the same seed."""
    rng = random.Random(seed)
    agents = VerdictGiver(scenario, recording, random.Random(seed * 7919 + 1))
    stream = Stream(drift_point=drift_point)
    escalate_next: StreamTurn | None = None
    while len(stream.turns) < turns:
        index = len(stream.turns)
        phase = AFTER if drift_point is not None and index >= drift_point else BEFORE
        if escalate_next is not None:
            message, conversation = rng.choice(scenario.messages[ESCALATION]), escalate_next.conversation_id
        else:
            sources, weights = zip(*scenario.shares[phase].items(), strict=True)
            source = rng.choices(sources, weights)[0]
            message, conversation = rng.choice(scenario.messages[source]), f"run{seed}-c{index}"
        at = STREAM_START + timedelta(seconds=index * scenario.seconds_between_turns)
        turn = StreamTurn(index, at, conversation, message, phase, recording_of(recording, message))
        stream.turns.append(turn)
        if turn.output.handed_off:
            verdict = agents.give(turn, escalate_next)
            stream.verdicts.setdefault(verdict.due_index, []).append(verdict)
        escalates = message.source == STALE_TOPIC and rng.random() < scenario.escalation_share[phase]
        escalate_next = turn if escalates else None
    return stream


def recording_of(recording: Recording, message: Message) -> RecordedOutput:
    try:
        return recording[message.text]
    except KeyError:
        raise SystemExit(f"message {message.text!r} is not in the recording: record the scenario again") from None
