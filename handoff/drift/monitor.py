"""The drift monitor: every detector, per subject, fed one turn or verdict at a time.

Subjects: each intent (the top-ranked classified intent of a turn; a fallback counts for it) for its
fallback rate, handoff rate and deciding confidence; each answer version for its handoff rate (read in the
conversation's next turn, or not handed off after `follow_up_seconds` of silence: follow_up.py) and for
verdicts calling it stale; and all intents together for the fallback rate and the share of
low-confidence turns (pooled_rise.py: a drift spread thin over many intents). Every detector learns its reference from the turns of one model: a turn of
another model starts them all again, so our own retrain raises nothing. No alarm comes before `warmup_turns` turns of a model, nor a rate alarm before `min_samples` turns of
the subject; after an alarm the subject's detector starts a new reference from the change, and the same
kind of alarm for that subject waits `cooldown_turns`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from handoff.drift.confidence_shift import ConfidenceShift
from handoff.drift.follow_up import FollowUps
from handoff.drift.pooled_rise import PooledRise
from handoff.drift.rate_rise import RateChange, RateRise
from handoff.drift.stale_answers import StaleCounter
from handoff.settings import DriftSettings  # defined with every other setting; imported from here too

FALLBACK_RATE, HANDOFF_RATE, CONFIDENCE_SHIFT, STALE_ANSWER = (
    "fallback_rate", "handoff_rate", "confidence_shift", "stale_answer")
KINDS = (FALLBACK_RATE, HANDOFF_RATE, CONFIDENCE_SHIFT, STALE_ANSWER)
STALE_VERDICTS = frozenset({"outdated", "wrong_answer"})
ANSWER_RATE = "answer_handoff_rate"  # the prior's key for answer versions' handoff rate
RATE_NAMES = {FALLBACK_RATE: "fallback rate", HANDOFF_RATE: "handoff rate"}
ALL_INTENTS = "all intents"  # the pooled tests' subject (pooled_rise.py)
LOW_CONFIDENCE_QUANTILE = 0.2  # a turn is "unsure" below this quantile of the model's first confidences


@dataclass(frozen=True)
class TurnObservation:
    """What the monitor reads of one customer turn."""

    at: datetime
    conversation_id: str
    model_id: str | None
    intent: str | None  # the top-ranked classified intent (for a fallback: the top of the ranking)
    confidence: float | None  # the deciding confidence
    answer_version: str | None  # one version, or several joined by commas (a turn with several answers)
    fallback: bool
    handed_off: bool


@dataclass(frozen=True)
class VerdictObservation:
    """An agent's verdict on a handoff, with the answer version it is about (if any)."""

    at: datetime
    conversation_id: str
    kind: str
    intent: str | None
    answer_version: str | None


@dataclass(frozen=True)
class Alarm:
    """A change the monitor found: what, for which subject, since when, with example conversations."""

    kind: str  # "fallback_rate" | "handoff_rate" | "confidence_shift" | "stale_answer"
    subject: str  # an intent name or an answer version
    since: datetime  # estimated start of the change
    raised_at: datetime
    turn_index: int  # how many turns the monitor had seen when it raised the alarm
    detail: str  # what changed, in words and numbers (no personal data)
    severity: float
    examples: list[str]  # up to 5 conversation ids


class DriftMonitor:
    """Runs the detectors of every subject (see the module docstring); state round-trips as JSON."""

    def __init__(self, settings: DriftSettings) -> None:
        self.settings = settings
        self.turns = 0  # every turn seen, across model changes (an alarm's turn_index)
        self.model_id: str | None = None
        self.last_alarm: dict[str, int] = {}  # "kind|subject" -> turn index of its last alarm
        self.reset()

    def reset(self) -> None:
        """Forgets every reference and detector state (a new model)."""
        settings = self.settings
        self.model_turns = 0
        self.hits: Counter[str] = Counter()  # per rate kind over all subjects: the reference rates' prior
        self.counts: Counter[str] = Counter()
        self.intent_rates: dict[tuple[str, str], RateRise] = {}
        self.answer_rates: dict[str, RateRise] = {}
        self.confidences: dict[str, ConfidenceShift] = {}
        self.pooled_fallbacks = PooledRise()
        self.first_confidences: list[float] = []  # until they fix `low_confidence`
        self.low_confidence: float | None = None
        self.pooled_unsure = PooledRise()
        self.stale: dict[str, StaleCounter] = {}
        self.follow_ups = FollowUps(settings.follow_up_conversations, timedelta(seconds=settings.follow_up_seconds))

    def observe_turn(self, turn: TurnObservation) -> list[Alarm]:
        """Feeds one turn; returns the alarms it raises."""
        if turn.model_id is not None and turn.model_id != self.model_id:
            if self.model_id is not None:
                self.reset()
            self.model_id = turn.model_id
        self.turns += 1
        self.model_turns += 1
        alarms: list[Alarm] = []
        if turn.intent is not None:
            for kind, hit in ((FALLBACK_RATE, turn.fallback), (HANDOFF_RATE, turn.handed_off)):
                detector = self.intent_rates.setdefault((kind, turn.intent), RateRise())
                alarms += self._rate(kind, kind, turn.intent, detector, hit, turn.at, turn.conversation_id)
            alarms += self._pooled(FALLBACK_RATE, self.pooled_fallbacks, turn, turn.fallback,
                                   self._prior_rate(FALLBACK_RATE))
            if turn.confidence is not None:
                alarms += self._confidence(turn)
                alarms += self._pooled_confidence(turn, turn.confidence)
        versions = list(dict.fromkeys(v for v in (turn.answer_version or "").split(",") if v))
        for outcome in self.follow_ups.turn(turn.conversation_id, versions, turn.at, turn.handed_off):
            detector = self.answer_rates.setdefault(outcome.version, RateRise())
            alarms += self._rate(ANSWER_RATE, HANDOFF_RATE, outcome.version, detector, outcome.handed_off,
                                 turn.at, outcome.conversation_id)
        return alarms

    def observe_verdict(self, verdict: VerdictObservation) -> list[Alarm]:
        """Feeds one verdict; returns the alarms it raises."""
        if verdict.answer_version is None:
            return []
        counter = self.stale.setdefault(verdict.answer_version, StaleCounter(self.settings.stale_window))
        counter.observe(verdict.kind in STALE_VERDICTS, verdict.at, self.turns, verdict.conversation_id)
        counter.forget_before(self.turns - self.settings.stale_horizon_turns)
        change = counter.change(self.settings.stale_min_count, self.settings.stale_min_share,
                                self.settings.stale_pair_turns)
        if change is None or not self._may_alarm(STALE_ANSWER, verdict.answer_version, warmed_up=True):
            return []
        counter.restart()
        detail = (f"{change.stale} of the last {change.verdicts} verdicts about answer version "
                  f"{verdict.answer_version} call it outdated or wrong")
        return [self._alarm(STALE_ANSWER, verdict.answer_version, change.since, verdict.at, detail,
                            change.stale / change.verdicts, change.examples)]

    def _rate(self, prior: str, kind: str, subject: str, detector: RateRise, hit: bool, at: datetime,
              conversation_id: str) -> list[Alarm]:
        settings = self.settings
        prior_rate = self._prior_rate(prior)
        detector.observe(hit, at, self.turns, conversation_id, prior_rate=prior_rate,
                         prior_weight=settings.rate_prior_weight, rise=settings.rate_rise)
        self.hits[prior] += hit
        self.counts[prior] += 1
        change = detector.change(settings.rate_threshold, settings.min_samples, prior_rate,
                                 settings.rate_prior_weight)
        if change is None or not self._may_alarm(kind, subject):
            return []
        detector.restart_from_change()
        return [self._alarm(kind, subject, change.since, at, _rate_detail(kind, subject, prior, change),
                            change.recent_rate - change.reference_rate, change.examples)]

    def _prior_rate(self, prior: str) -> float:
        """The rate over all subjects of one rate kind so far (Laplace-smoothed): a new subject's reference."""
        return (self.hits[prior] + 1) / (self.counts[prior] + 2)

    def _pooled_confidence(self, turn: TurnObservation, confidence: float) -> list[Alarm]:
        """The share of all turns decided with a confidence below the lowest fifth of the model's first ones
        (its first `warmup_turns` confidences, at least `confidence_reference_size`)."""
        if self.low_confidence is None:
            self.first_confidences.append(confidence)
            if len(self.first_confidences) >= max(self.settings.warmup_turns, self.settings.confidence_reference_size):
                ranked = sorted(self.first_confidences)
                self.low_confidence = ranked[int(LOW_CONFIDENCE_QUANTILE * len(ranked))]
                self.first_confidences = []
            return []
        return self._pooled(CONFIDENCE_SHIFT, self.pooled_unsure, turn, confidence < self.low_confidence,
                            LOW_CONFIDENCE_QUANTILE)

    def _pooled(self, kind: str, pooled: PooledRise, turn: TurnObservation, hit: bool, prior_rate: float) -> list[Alarm]:
        """One pooled test (pooled_rise.py); its alarm names the intents the rise falls on, and also counts
        as their own alarm of that kind for the cool-down."""
        assert turn.intent is not None
        settings = self.settings
        pooled.observe(turn.intent, hit, turn.at, self.turns, turn.conversation_id, prior_rate=prior_rate,
                       prior_weight=settings.rate_prior_weight, rise=settings.rate_rise)
        change = pooled.change(settings.rate_threshold, settings.min_samples, prior_rate, settings.rate_prior_weight)
        if change is None or not self._may_alarm(kind, ALL_INTENTS):
            return []
        named = pooled.risen_intents(change)
        pooled.restart_from_change()
        self.last_alarm[f"{kind}|{ALL_INTENTS}"] = self.turns
        if not named or not self._may_alarm(kind, named[0][0]):
            return []  # no intent to name, or its own test has just reported the change
        for name, _ in named:
            self.last_alarm[f"{kind}|{name}"] = self.turns
        falls_on = ", ".join(f"{name} ({share:.0%})" for name, share in named)
        what = (f"fallback rate of {ALL_INTENTS}" if kind == FALLBACK_RATE else
                f"share of {ALL_INTENTS}' turns decided with a confidence below {self.low_confidence:.2f} (the "
                f"lowest {LOW_CONFIDENCE_QUANTILE:.0%} of this model's first turns)")
        detail = (f"{what} rose from {change.reference_rate:.0%} to {change.recent_rate:.0%} over the last "
                  f"{change.observations_since} turns (Page-Hinkley statistic {change.statistic:.1f}); the rise "
                  f"falls on {falls_on}")
        return [self._alarm(kind, named[0][0], change.since, turn.at, detail,
                            change.recent_rate - change.reference_rate, change.examples)]

    def _confidence(self, turn: TurnObservation) -> list[Alarm]:
        settings = self.settings
        assert turn.intent is not None and turn.confidence is not None
        shift = self.confidences.setdefault(
            turn.intent, ConfidenceShift(settings.confidence_reference_size, settings.confidence_window))
        shift.observe(turn.confidence, turn.at, self.turns, turn.conversation_id)
        if not shift.ready(settings.confidence_test_every):
            return []
        tested = sum(len(other.reference) >= other.reference_size for other in self.confidences.values())
        change = shift.test(settings.confidence_alpha / tested, settings.confidence_min_psi)
        if change is None or not self._may_alarm(CONFIDENCE_SHIFT, turn.intent):
            return []
        shift.restart_from(change.since_index)
        detail = (f"deciding confidence of intent {turn.intent} moved from a mean of {change.reference_mean:.2f} "
                  f"to {change.recent_mean:.2f} (Kolmogorov-Smirnov p={change.p_value:.1e} against "
                  f"{settings.confidence_alpha / tested:.1e}; PSI {change.psi:.2f})")
        return [self._alarm(CONFIDENCE_SHIFT, turn.intent, change.since, turn.at, detail, change.psi,
                            change.examples)]

    def _may_alarm(self, kind: str, subject: str, warmed_up: bool = False) -> bool:
        """Past the warm-up and the subject's cool-down for this kind."""
        if not warmed_up and self.model_turns < self.settings.warmup_turns:
            return False
        last = self.last_alarm.get(f"{kind}|{subject}")
        return last is None or self.turns - last >= self.settings.cooldown_turns

    def _alarm(self, kind: str, subject: str, since: datetime, at: datetime, detail: str, severity: float,
               examples: list[str]) -> Alarm:
        self.last_alarm[f"{kind}|{subject}"] = self.turns
        return Alarm(kind, subject, since, at, self.turns, detail, round(float(severity), 4), examples[:5])

    def to_state(self) -> dict[str, Any]:
        """Everything the monitor knows, as JSON-able data (stored by the runner, see runner.py)."""
        return {
            "turns": self.turns, "model_id": self.model_id, "model_turns": self.model_turns,
            "last_alarm": self.last_alarm, "hits": dict(self.hits), "counts": dict(self.counts),
            "intent_rates": [[kind, intent, rate.to_state()] for (kind, intent), rate in self.intent_rates.items()],
            "answer_rates": {version: rate.to_state() for version, rate in self.answer_rates.items()},
            "confidences": {intent: shift.to_state() for intent, shift in self.confidences.items()},
            "pooled_fallbacks": self.pooled_fallbacks.to_state(), "pooled_unsure": self.pooled_unsure.to_state(),
            "first_confidences": self.first_confidences, "low_confidence": self.low_confidence,
            "stale": {version: counter.to_state() for version, counter in self.stale.items()},
            "follow_ups": self.follow_ups.to_state(),
        }

    @classmethod
    def from_state(cls, settings: DriftSettings, state: dict[str, Any]) -> DriftMonitor:
        """A monitor that goes on where the one that wrote `state` stopped."""
        monitor = cls(settings)
        monitor.turns, monitor.model_id = int(state["turns"]), state.get("model_id")
        monitor.model_turns = int(state["model_turns"])
        monitor.last_alarm = {key: int(value) for key, value in state["last_alarm"].items()}
        monitor.hits, monitor.counts = Counter(state["hits"]), Counter(state["counts"])
        monitor.intent_rates = {(kind, intent): RateRise.from_state(rate)
                                for kind, intent, rate in state["intent_rates"]}
        monitor.answer_rates = {version: RateRise.from_state(rate) for version, rate in state["answer_rates"].items()}
        monitor.confidences = {
            intent: ConfidenceShift.from_state(shift, settings.confidence_reference_size, settings.confidence_window)
            for intent, shift in state["confidences"].items()}
        if "pooled_fallbacks" in state:  # a state saved before the pooled tests starts them afresh
            monitor.pooled_fallbacks = PooledRise.from_state(state["pooled_fallbacks"])
            monitor.pooled_unsure = PooledRise.from_state(state["pooled_unsure"])
            monitor.first_confidences = [float(c) for c in state["first_confidences"]]
            low = state["low_confidence"]
            monitor.low_confidence = None if low is None else float(low)
        monitor.stale = {version: StaleCounter.from_state(counter, settings.stale_window)
                         for version, counter in state["stale"].items()}
        monitor.follow_ups = FollowUps.from_state(state["follow_ups"], settings.follow_up_conversations,
                                                   timedelta(seconds=settings.follow_up_seconds))
        return monitor


def _rate_detail(kind: str, subject: str, prior: str, change: RateChange) -> str:
    """E.g. "fallback rate of intent check_balance rose from 6% to 52% over its last 27 turns"."""
    what = "answer version" if prior == ANSWER_RATE else "intent"
    turns = "answers" if prior == ANSWER_RATE else "turns"
    return (f"{RATE_NAMES[kind]} of {what} {subject} rose from {change.reference_rate:.0%} to "
            f"{change.recent_rate:.0%} over its last {change.observations_since} {turns} "
            f"(Page-Hinkley statistic {change.statistic:.1f})")
