"""Simulated traffic for the drift detectors: about twenty intents with realistic fallback and handoff
rates (2-20 %) and beta-distributed confidences, conversations of a few turns, agents' verdicts that are
wrong 5 % of the time; from `drift_at` one intent (a tenth of the traffic) changes in one way."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from handoff.drift.monitor import Alarm, DriftMonitor, TurnObservation, VerdictObservation

START = datetime(2026, 3, 1)
INTENTS = 20
DRIFTING = "intent_00"  # the subject that drifts: a tenth of the traffic
DRIFTING_SHARE = 0.10
ACTIVE_CONVERSATIONS = 10
VERDICT_ERROR = 0.05
VERDICT_LAG_TURNS = 20  # an agent's verdict comes this many turns after the handoff
KINDS = ("needed", "not_needed", "wrong_answer", "outdated")
FALLBACK, HANDOFF, CONFIDENCE, STALE = "fallback", "handoff", "confidence", "stale"


@dataclass
class IntentTraffic:
    name: str
    share: float
    fallback: float
    handoff: float
    beta: tuple[float, float]

    @property
    def version(self) -> str:
        return f"v-{self.name}"


@dataclass
class Stream:
    """Turns and verdicts in the order they happen (a verdict after the turn it follows)."""

    events: list[TurnObservation | VerdictObservation] = field(default_factory=list)


def intents(rng: random.Random) -> list[IntentTraffic]:
    weights = [rng.uniform(0.5, 2.0) for _ in range(INTENTS - 1)]
    total = sum(weights)
    shares = [DRIFTING_SHARE] + [(1 - DRIFTING_SHARE) * weight / total for weight in weights]
    return [IntentTraffic(f"intent_{index:02d}", share, rng.uniform(0.02, 0.2), rng.uniform(0.02, 0.2),
                          (rng.uniform(6, 12), rng.uniform(1.5, 3))) for index, share in enumerate(shares)]


def simulate(seed: int, turns: int, drift: str | None = None, drift_at: int = 0, jump: float = 0.5,
             model_change_at: int | None = None) -> Stream:
    """`drift`: FALLBACK or HANDOFF (the intent's rate jumps to `jump`), CONFIDENCE (its confidences
    drop: new phrasings), STALE (its answer is outdated: half its customers ask for a person next and
    agents call it outdated), or None."""
    rng = random.Random(seed)
    traffic = intents(rng)
    shares = [intent.share for intent in traffic]
    stream = Stream()
    conversations: dict[str, str | None] = {}  # conversation -> last answer version
    due: list[tuple[int, VerdictObservation]] = []
    next_id = 0
    for index in range(turns):
        at = START + timedelta(seconds=10 * index)
        while due and due[0][0] <= index:
            stream.events.append(due.pop(0)[1])
        if len(conversations) < ACTIVE_CONVERSATIONS:
            conversations[f"c{seed}-{next_id}"] = None
            next_id += 1
        conversation = rng.choice(list(conversations))
        intent = rng.choices(traffic, shares)[0]
        drifting = drift is not None and index >= drift_at and intent.name == DRIFTING
        previous = conversations[conversation]
        a, b = intent.beta
        if drifting and drift == CONFIDENCE:
            a, b = a * 0.45, b * 1.3
        fallback = rng.random() < (jump if drifting and drift == FALLBACK else intent.fallback)
        handoff_rate = jump if drifting and drift == HANDOFF else intent.handoff
        stale_before = drift == STALE and index >= drift_at and previous == f"v-{DRIFTING}"
        handed_off = rng.random() < (0.5 if stale_before else handoff_rate)
        model = "m-2" if model_change_at is not None and index >= model_change_at else "m-1"
        confidence = rng.betavariate(a, b)
        if model_change_at is not None and index >= model_change_at:
            confidence = rng.betavariate(b, a)  # the new model's confidences all differ
        stream.events.append(TurnObservation(at, conversation, model, intent.name, confidence,
                                             None if handed_off else intent.version, fallback, handed_off))
        conversations[conversation] = None if handed_off else intent.version
        if handed_off:
            truth = "outdated" if stale_before else "needed"
            kind = truth if rng.random() >= VERDICT_ERROR else rng.choice([k for k in KINDS if k != truth])
            due.append((index + VERDICT_LAG_TURNS, VerdictObservation(
                at + timedelta(seconds=10 * VERDICT_LAG_TURNS), conversation, kind, None, previous)))
        if handed_off or rng.random() < 0.3:
            del conversations[conversation]
    return stream


def replay(stream: Stream, monitor: DriftMonitor) -> list[Alarm]:
    alarms: list[Alarm] = []
    for event in stream.events:
        if isinstance(event, TurnObservation):
            alarms += monitor.observe_turn(event)
        else:
            alarms += monitor.observe_verdict(event)
    return alarms
