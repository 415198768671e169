"""NLU pipeline component that scores each message's frustration into the parse data.

Scoring in the NLU pipeline puts the figures on the `UserUttered` event itself
(`parse_data["frustration"]`), so the policy, the handoff action and anyone reading the tracker later
see the same numbers without scoring the text again.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from handoff.detect import score_message
from handoff.settings import HandoffSettings, get_handoff_settings

FRUSTRATION_KEY = "frustration"


# Registered as an entity extractor because, in the default recipe, a non-trainable component of
# that type runs only at inference, after the message is classified; a featurizer would also be run
# over every training example and story for nothing, and it is not an intent classifier.
@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class FrustrationScorer(GraphComponent):
    """Adds `{"score": float, "signals": {name: strength}}` under `frustration` to every message."""

    def __init__(self, settings: HandoffSettings) -> None:
        self._settings = settings

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """No component options: thresholds and weights live in the handoff settings."""
        return {}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> FrustrationScorer:
        """Creates the component with the process-wide handoff settings."""
        return cls(get_handoff_settings())

    def process(self, messages: list[Message]) -> list[Message]:
        """Scores each message's text; the result is part of the output the tracker stores."""
        for message in messages:
            frustration = score_message(message.get(TEXT), self._settings)
            message.set(FRUSTRATION_KEY, frustration.as_dict(), add_to_output=True)
        return messages
