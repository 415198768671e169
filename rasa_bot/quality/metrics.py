"""The quality figures of one evaluation, each against its target (the gates `make test` asserts).

Groups are read from the labels: FAQ topics and look-ups are questions the bot should answer;
requests for a person and judgement intents must be handed off in that turn; out-of-scope messages
must get the out-of-scope or rephrase answer, and so must questions about products we do not have
(counted apart: they are worded like the FAQ and are what the answer's closeness check is for);
near-misses must not be handed off.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sklearn.metrics import f1_score

from handoff.answer_gate import RULE_SOURCES, SOURCE_RESPONSE
from handoff.settings import HandoffSettings
from rasa_bot.quality.evaluate import OUT_OF_SCOPE_ACTION, REPHRASE_ACTION, Outcome
from rasa_bot.quality.examples import NEAR_MISS, UNKNOWN_PRODUCT

LOOKUP_INTENTS = ("check_order_status", "check_refund_status", "check_payment_schedule")
# The look-up each intent starts, by what the customer is then told: domain/shop.yml fills the lookup_type slot
# from the three look-up intents, and a bare order number or email (inform) starts the same form without one,
# which actions/order_lookup.py answers with the order's status.
LOOKUP_ANSWERED = {"check_order_status": "order", "check_refund_status": "refund",
                   "check_payment_schedule": "payment", "inform": "order"}
OUT_OF_SCOPE_INTENT = "out_of_scope"
RETRIEVAL_INTENT = "faq"
# Margin the figures measured where the gates were set keep above each target, so that a model
# trained on another machine still passes.
MARGIN = 0.02
CALIBRATION_BINS = 10


@dataclass(frozen=True)
class Target:
    """A gate: the figure must be at least (or, for `at_most`, at most) `value`."""

    value: float
    at_most: bool = False

    def met(self, figure: float) -> bool:
        return figure <= self.value if self.at_most else figure >= self.value

    def __str__(self) -> str:
        return f"{'<=' if self.at_most else '>='} {self.value:.2f}"


TARGETS: dict[str, Target] = {
    "intent_macro_f1": Target(0.92),
    "response_selector_accuracy": Target(0.92),
    "answered_share": Target(0.85),
    "answered_accuracy": Target(0.97),
    "person_handoff_share": Target(0.97),
    "judgement_share": Target(0.90),
    "out_of_scope_share": Target(0.90),
    # Not in the issue: our own bar for questions about products we do not have (stop 29). An unrelated
    # FAQ answer to them is the confident mistake the issue is about.
    "unknown_product_share": Target(0.85),
    "near_miss_handoff_share": Target(0.03, at_most=True),
}

# What `make test` holds while a target is out of reach (or met by less than the margin): each figure
# no worse than this floor, about 0.03 below the worst of the trainings measured when the floor was set,
# so a model retrained elsewhere passes and a real regression does not. Never lowered.
# Stop 29 (2026-12-01): more FAQ and out-of-scope training data and the answer-closeness check, tuned to
# intent 0.25 / answer 0.60 / closeness 0.60 (docs/quality.md). Seeds 7 / 11 / 23 on the held-out set:
# FAQ answer 0.951 / 0.963 / 0.954 and person requests 1.000 / 0.995 / 0.995 now hold their targets with the
# margin, so their floors are gone. Answered-right 0.984 / 0.981 / 0.981 meets its target on every seed, but
# not with the margin: floor raised from 0.92 to 0.95. Near-misses 0.032 / 0.016 / 0.032: ceiling lowered
# from 0.10 to 0.06. Questions about products we do not have (our own target) 0.923 / 0.846 / 0.872: floor 0.81.
# Stop 30 (2026-12-01): calm cases in the training data (data/calm_cases.yml), re-tuned to intent 0.20 /
# answer 0.55 / closeness 0.60. Seeds 7 / 11 / 23: near-misses 0.016 on each (the target now holds, not
# with the margin): ceiling lowered from 0.06 to 0.05. Answered-right 0.987 / 0.978 / 0.979 and products
# we do not have 0.885 / 0.833 / 0.897 keep their floors.
# Stop 32 (2026-12-02): a second reading of each message from its words (rasa_bot/word_reading.py), re-tuned
# to intent 0.20 / answer 0.60 / closeness 0.60. Seeds 7 / 11 / 23: near-misses 0.000 on each and products
# we do not have 0.910 / 0.910 / 0.897 now hold their targets with the margin, so their floors are gone.
# Answered-right 0.987 / 0.987 / 0.990 is 0.003 short of the margin: floor raised from 0.95 to 0.96.
# Stop 33 (2026-12-02): questions about the customer's own money in the training data
# (data/own_money_cases.yml), and a look-up counted by the answer it gives (LOOKUP_ANSWERED). Seeds 7 / 11 / 23:
# answered-right 0.992 on each, so the last floor is gone; every figure is held at its target.
# A floor holds a figure while its target is out of reach (or met by less than the margin): raise it as the
# model improves, up to its target, and drop it once the target holds with the margin; never lower one.
FLOORS: dict[str, Target] = {}


def gate(name: str) -> Target:
    """The bar `make test` holds a held-out figure to: its floor while the target is out of reach."""
    return FLOORS.get(name, TARGETS[name])


@dataclass(frozen=True)
class Figure:
    """One measured figure: its value, how many messages it counts, and how many missed."""

    name: str
    value: float
    count: int
    misses: int
    target: Target | None = None

    @property
    def passed(self) -> bool:
        return self.target is None or self.target.met(self.value)


@dataclass(frozen=True)
class ShareRule:
    """A share figure: the messages it counts, which of them are hits, and whether a hit is a miss (an
    at-most figure such as near-misses handed off)."""

    counts: Callable[[Outcome], bool]
    hit: Callable[[Outcome], bool]
    misses_are_hits: bool = False

    def missed(self, outcome: Outcome) -> bool:
        """Whether the message is counted and is one of the figure's misses."""
        return self.counts(outcome) and self.hit(outcome) == self.misses_are_hits


class QualityMeasure:
    """Computes the figures of one evaluation for the handoff settings it ran with."""

    def __init__(self, settings: HandoffSettings) -> None:
        self._settings = settings

    def figures(self, outcomes: list[Outcome]) -> dict[str, Figure]:
        """Every figure, keyed by name (the target names, plus calibration)."""
        shares = [_share(name, outcomes, rule) for name, rule in self.share_rules().items()]
        figures = [self._macro_f1(outcomes), *shares, self._calibration_error(outcomes)]
        return {figure.name: figure for figure in figures}

    def share_rules(self) -> dict[str, ShareRule]:
        """The share figures, in report order: which messages each counts and which of them are hits."""
        settings = self._settings
        return {
            "response_selector_accuracy": ShareRule(lambda o: o.example.intent == RETRIEVAL_INTENT,
                                                    lambda o: o.answer == o.example.label),
            "answered_share": ShareRule(self.answerable, self.answered),
            "answered_accuracy": ShareRule(lambda o: self.answerable(o) and self.answered(o), self.correct),
            "person_handoff_share": ShareRule(lambda o: o.example.label in settings.human_request_intents,
                                              self.handed_off),
            "judgement_share": ShareRule(lambda o: o.example.label in settings.judgement_intents,
                                         lambda o: o.intent == o.example.label and self.handed_off(o)),
            "out_of_scope_share": ShareRule(
                lambda o: o.example.label == OUT_OF_SCOPE_INTENT and o.example.kind != UNKNOWN_PRODUCT,
                self.not_answered),
            "unknown_product_share": ShareRule(lambda o: o.example.kind == UNKNOWN_PRODUCT, self.not_answered),
            "near_miss_handoff_share": ShareRule(lambda o: o.example.kind == NEAR_MISS, self.handed_off,
                                                 misses_are_hits=True),
        }

    def answerable(self, outcome: Outcome) -> bool:
        """An FAQ or look-up question: one the bot should answer itself."""
        return outcome.example.intent == RETRIEVAL_INTENT or outcome.example.label in LOOKUP_INTENTS

    def answered(self, outcome: Outcome) -> bool:
        """The bot answered (or started the look-up) rather than asking to rephrase or handing off."""
        return outcome.action not in (REPHRASE_ACTION, OUT_OF_SCOPE_ACTION, self._settings.handoff_action)

    def correct(self, outcome: Outcome) -> bool:
        """The answer, or the look-up the bot started, is the one the customer asked for. A look-up counts by
        what it answers: "tracking for KL-760425, email ..." read as a bare order number and email (inform)
        gets the order's status, which is right for an order-status question and wrong for a refund's."""
        if outcome.example.intent == RETRIEVAL_INTENT:
            return outcome.intent == RETRIEVAL_INTENT and outcome.answer == outcome.example.label
        return LOOKUP_ANSWERED.get(outcome.intent) == LOOKUP_ANSWERED[outcome.example.label]

    def not_answered(self, outcome: Outcome) -> bool:
        """The bot gave the out-of-scope or the rephrase answer: what a message it cannot help with gets."""
        return outcome.action in (OUT_OF_SCOPE_ACTION, REPHRASE_ACTION)

    def handed_off(self, outcome: Outcome) -> bool:
        return outcome.action == self._settings.handoff_action

    def decision_right(self, outcome: Outcome) -> bool:
        """Whether what the deciding confidence was about (person, answer or intent) was right."""
        if outcome.decision.source in RULE_SOURCES:
            return outcome.example.label == outcome.decision.intent
        if outcome.decision.source == SOURCE_RESPONSE:
            return outcome.answer == outcome.example.label
        return outcome.classified.split("/")[0] == outcome.example.intent

    def _macro_f1(self, outcomes: list[Outcome]) -> Figure:
        truth = [o.example.intent for o in outcomes]
        predicted = [o.classified.split("/")[0] for o in outcomes]
        value = f1_score(truth, predicted, labels=sorted(set(truth)), average="macro", zero_division=0)
        misses = sum(t != p for t, p in zip(truth, predicted, strict=True))
        return Figure("intent_macro_f1", float(value), len(outcomes), misses, TARGETS["intent_macro_f1"])

    def _calibration_error(self, outcomes: list[Outcome]) -> Figure:
        """Expected calibration error of the deciding confidence (equal-width bins); report only."""
        bins: dict[int, list[tuple[float, bool]]] = {}
        for outcome in outcomes:
            confidence = outcome.decision.confidence
            index = min(CALIBRATION_BINS - 1, int(confidence * CALIBRATION_BINS))
            bins.setdefault(index, []).append((confidence, self.decision_right(outcome)))
        error = sum(
            len(entries) * abs(sum(c for c, _ in entries) / len(entries) - sum(r for _, r in entries) / len(entries))
            for entries in bins.values()
        ) / max(1, len(outcomes))
        wrong = sum(not self.decision_right(o) for o in outcomes)
        return Figure("calibration_error", error, len(outcomes), wrong)


def _share(name: str, outcomes: Iterable[Outcome], rule: ShareRule) -> Figure:
    """Share of the outcomes `rule` counts for which its hit holds; misses are the failures (or, for an
    at-most figure, the hits)."""
    counted = [outcome for outcome in outcomes if rule.counts(outcome)]
    hits = sum(1 for outcome in counted if rule.hit(outcome))
    value = hits / len(counted) if counted else 0.0
    misses = hits if rule.misses_are_hits else len(counted) - hits
    return Figure(name, value, len(counted), misses, TARGETS.get(name))
