"""How the quality report counts a look-up as right: by the look-up the customer is then answered with."""

from __future__ import annotations

from pathlib import Path

import yaml

from handoff.answer_gate import SOURCE_INTENT, AnswerDecision
from handoff.settings import HandoffSettings
from rasa_bot.quality.evaluate import Outcome
from rasa_bot.quality.examples import LabelledExample
from rasa_bot.quality.metrics import LOOKUP_ANSWERED, LOOKUP_INTENTS, QualityMeasure

PROJECT = Path(__file__).resolve().parents[2]


def started(label: str, intent: str) -> Outcome:
    """A look-up question the classifier read as `intent`, which started the look-up form."""
    decision = AnswerDecision(intent=intent, confidence=0.9, source=SOURCE_INTENT, sure=True, classified_intent=intent)
    return Outcome(LabelledExample("tracking for KL-760425, email ella.f@example.com", label), "order_lookup_form",
                   intent, decision, 0.9, None, None)


def test_a_look_up_counts_by_the_answer_it_gives() -> None:
    measure = QualityMeasure(HandoffSettings())
    assert measure.correct(started("check_order_status", "check_order_status"))
    assert measure.correct(started("check_order_status", "inform"))  # the form then tells the order's status
    assert not measure.correct(started("check_refund_status", "inform"))
    assert not measure.correct(started("check_payment_schedule", "check_order_status"))


def test_the_look_ups_are_the_domains() -> None:
    """The three look-up intents fill the look-up's kind (domain/shop.yml), and a bare order number or email
    starts the form without one (data/rules.yml); the action answers that with the order's status
    (tests/unit/test_order_lookup_actions.py)."""
    slot = yaml.safe_load((PROJECT / "domain" / "shop.yml").read_text())["slots"]["lookup_type"]
    kinds = {mapping["intent"]: mapping["value"] for mapping in slot["mappings"] if mapping["type"] == "from_intent"}
    assert kinds == {intent: LOOKUP_ANSWERED[intent] for intent in LOOKUP_INTENTS}
    rules = yaml.safe_load((PROJECT / "data" / "rules.yml").read_text())["rules"]
    started_by = {rule["steps"][0]["intent"] for rule in rules
                  if rule["steps"][1:2] == [{"action": "order_lookup_form"}] and "intent" in rule["steps"][0]}
    assert started_by == set(LOOKUP_ANSWERED)
    assert LOOKUP_ANSWERED["inform"] == "order"
