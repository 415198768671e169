"""The answer gate's thresholds are replayed from recorded confidences and chosen for the worst training."""

from handoff.answer_gate import (
    SOURCE_CLOSENESS,
    SOURCE_INTENT,
    SOURCE_JUDGEMENT_CUE,
    SOURCE_PERSON_REQUEST,
    AnswerDecision,
)
from handoff.settings import HandoffSettings
from rasa_bot.quality.evaluate import REPHRASE_ACTION, Outcome
from rasa_bot.quality.examples import LabelledExample
from rasa_bot.quality.metrics import TARGETS, Figure
from rasa_bot.quality.tune import Point, choose, replay, worst_of

SETTINGS = HandoffSettings()


def outcome(text: str, label: str, intent: str, intent_confidence: float, answer_confidence: float | None = None,
            source: str = SOURCE_INTENT, closeness: float | None = None) -> Outcome:
    """What a run with every threshold at zero recorded for one message."""
    decision = AnswerDecision(intent=label if source != SOURCE_INTENT else intent, confidence=intent_confidence,
                              source=source, sure=True, classified_intent=intent)
    return Outcome(LabelledExample(text, label), "utter_something", intent, decision, intent_confidence,
                   label if answer_confidence is not None else None, answer_confidence, closeness)


def point(intent_threshold: float, answer_threshold: float, closeness_threshold: float = 0.0,
          **values: float) -> Point:
    figures = {name: Figure(name, values.get(name, 0.0 if target.at_most else 1.0), 100, 0, target)
               for name, target in TARGETS.items()}
    return Point(intent_threshold, answer_threshold, closeness_threshold, figures)


def test_a_message_under_either_threshold_becomes_a_fallback_unless_a_rule_decides_it() -> None:
    outcomes = [
        outcome("hello there", "greet", "greet", 0.6),
        outcome("what are late fees", "faq/late_fees", "faq", 0.9, answer_confidence=0.3),
        outcome("how much is a late fee", "faq/late_fees", "faq", 0.9, answer_confidence=0.8),
        outcome("can I talk to a person", "request_human", "request_human", 0.2, source=SOURCE_PERSON_REQUEST),
    ]
    replayed = replay(outcomes, 0.7, 0.5, 0.0, SETTINGS)
    assert [o.action for o in replayed] == [REPHRASE_ACTION, REPHRASE_ACTION, "utter_something", "utter_something"]
    assert [o.action for o in replay(outcomes, 0.5, 0.2, 0.0, SETTINGS)] == ["utter_something"] * 4


def test_a_confident_answer_far_from_its_training_examples_becomes_a_fallback() -> None:
    taught = outcome("how much is a late fee", "faq/late_fees", "faq", 0.9, answer_confidence=0.8, closeness=0.8)
    foreign = outcome("do you sell travel insurance", "out_of_scope", "faq", 0.9, answer_confidence=0.8, closeness=0.4)
    unmeasured = outcome("what are late fees", "faq/late_fees", "faq", 0.9, answer_confidence=0.8)
    replayed = replay([taught, foreign, unmeasured], 0.2, 0.5, 0.6, SETTINGS)
    assert [o.action for o in replayed] == ["utter_something", REPHRASE_ACTION, "utter_something"]
    assert (replayed[1].decision.source, replayed[1].decision.confidence) == (SOURCE_CLOSENESS, 0.4)
    assert [o.action for o in replay([taught, foreign], 0.2, 0.5, 0.0, SETTINGS)] == ["utter_something"] * 2


def test_the_closeness_threshold_is_chosen_where_it_keeps_out_what_the_answers_cannot() -> None:
    # Without the closeness check questions about products we lack get FAQ answers: out of scope fails.
    points = [point(0.2, 0.4, 0.0, answered_share=0.95, out_of_scope_share=0.80),
              point(0.2, 0.4, 0.6, answered_share=0.93, out_of_scope_share=0.95),
              point(0.2, 0.4, 0.7, answered_share=0.84, out_of_scope_share=0.97)]
    assert choose(points).closeness_threshold == 0.6


def test_a_judgement_case_the_classifier_was_unsure_of_reaches_its_cue_as_in_the_bot() -> None:
    # With the gates open the classifier's own reading stood; under the threshold the cue decides.
    unsure = outcome("you charged me twice for one order", "dispute_charge", "complaint", 0.55)
    [replayed] = replay([unsure], 0.7, 0.5, 0.0, SETTINGS)
    assert (replayed.action, replayed.intent, replayed.decision.source) == (
        SETTINGS.handoff_action, "dispute_charge", SOURCE_JUDGEMENT_CUE)
    [no_cue] = replay([outcome("that shop was awful", "complaint", "complaint", 0.55)], 0.7, 0.5, 0.0, SETTINGS)
    assert no_cue.action == REPHRASE_ACTION


def test_a_person_request_the_rules_read_now_is_handed_off_though_recorded_as_answered() -> None:
    # Recorded before the rules read "go through ... with me" as asking for a person: the FAQ was answered.
    recorded = outcome("my bill confuses me, can a staff member go through the charges with me", "request_human",
                       "faq", 0.9, answer_confidence=0.8)
    [replayed] = replay([recorded], 0.2, 0.5, 0.0, SETTINGS)
    assert (replayed.action, replayed.intent, replayed.decision.source) == (
        SETTINGS.handoff_action, "request_human", SOURCE_PERSON_REQUEST)


def test_each_figure_is_taken_at_its_worst_over_the_trainings() -> None:
    lucky = [point(0.5, 0.3, answered_share=0.90, near_miss_handoff_share=0.05)]
    unlucky = [point(0.5, 0.3, answered_share=0.80, near_miss_handoff_share=0.02)]
    [worst] = worst_of([lucky, unlucky])
    assert (worst.intent_threshold, worst.answer_threshold) == (0.5, 0.3)
    assert worst.figures["answered_share"].value == 0.80
    assert worst.figures["near_miss_handoff_share"].value == 0.05


def test_the_pair_chosen_for_the_worst_training_is_not_the_one_the_luckiest_alone_would_choose() -> None:
    # Lower thresholds answer more; on the second training they also hand off too many near-misses.
    first = [point(0.4, 0.2, answered_share=0.95), point(0.6, 0.4, answered_share=0.90)]
    second = [point(0.4, 0.2, answered_share=0.94, near_miss_handoff_share=0.10),
              point(0.6, 0.4, answered_share=0.88)]
    assert (choose(first).intent_threshold, choose(first).answer_threshold) == (0.4, 0.2)
    chosen = choose(worst_of([first, second]))
    assert (chosen.intent_threshold, chosen.answer_threshold) == (0.6, 0.4)
    assert chosen.figures["answered_share"].value == 0.88


def test_among_pairs_with_the_same_figures_the_stricter_gate_is_chosen() -> None:
    same = {"answered_share": 0.90, "judgement_share": 0.95}
    points = [point(0.0, 0.3, **same), point(0.15, 0.3, **same), point(0.2, 0.3, answered_share=0.89)]
    chosen = choose(points)
    assert (chosen.intent_threshold, chosen.answer_threshold) == (0.15, 0.3)
