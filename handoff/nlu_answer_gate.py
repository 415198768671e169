"""NLU pipeline component that lets the bot answer only what it is sure of (`handoff.answer_gate`).

It replaces Rasa's `FallbackClassifier`, which reads only the intent's confidence: this one also
reads the confidence of the FAQ answer the response selector chose, and turns a request for a person
or an unmistakable judgement case into its intent whatever else the message says. It runs last in the pipeline, after
the response selector, and writes its decision under `decision` in the parse data, so the policy,
the console and the quality report see the confidence that decided.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.constants import RESPONSE_SELECTOR_PROPERTY_NAME
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from handoff.answer_gate import AnswerDecision, decide_answer, only_details, selected_answer
from handoff.nlu_component import SettingsComponent

DECISION_KEY = "decision"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class AnswerGate(SettingsComponent):
    """Sets the intent to the person-request intent, the fallback intent, or leaves it."""

    def process(self, messages: list[Message]) -> list[Message]:
        """Decides each message and records the decision in its parse data."""
        for message in messages:
            intent = message.get(INTENT) or {}
            name = intent.get(INTENT_NAME_KEY)
            decision = decide_answer(
                message.get(TEXT),
                name,
                float(intent.get(PREDICTED_CONFIDENCE_KEY) or 0.0),
                selected_answer(message.get(RESPONSE_SELECTOR_PROPERTY_NAME), name),
                self._settings,
                details_only=only_details(message.get(TEXT), message.get(ENTITIES)),
                ranking=[(entry.get(INTENT_NAME_KEY), float(entry.get(PREDICTED_CONFIDENCE_KEY) or 0.0))
                         for entry in message.get(INTENT_RANKING_KEY) or []],
            )
            if decision.intent != name:
                _replace_intent(message, decision)
            message.set(DECISION_KEY, decision.as_dict(), add_to_output=True)
        return messages


def _replace_intent(message: Message, decision: AnswerDecision) -> None:
    """Puts the decided intent first, as Rasa's FallbackClassifier does, keeping the ranking below."""
    replaced = {INTENT_NAME_KEY: decision.intent, PREDICTED_CONFIDENCE_KEY: decision.confidence}
    message.data[INTENT] = replaced
    ranking = [entry for entry in message.data.get(INTENT_RANKING_KEY) or []
               if entry.get(INTENT_NAME_KEY) != decision.intent]
    message.data[INTENT_RANKING_KEY] = [replaced, *ranking]
