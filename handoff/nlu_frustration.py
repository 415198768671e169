"""NLU pipeline component that scores each message's frustration into the parse data.

Scoring in the NLU pipeline puts the figures on the `UserUttered` event itself
(`parse_data["frustration"]`), so the policy, the handoff action and anyone reading the tracker later
see the same numbers without scoring the text again.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from handoff.detect import score_message
from handoff.nlu_component import SettingsComponent

FRUSTRATION_KEY = "frustration"


# Registered as an entity extractor because, in the default recipe, a non-trainable component of
# that type runs only at inference, after the message is classified; a featurizer would also be run
# over every training example and story for nothing, and it is not an intent classifier.
@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class FrustrationScorer(SettingsComponent):
    """Adds `{"score": float, "signals": {name: strength}}` under `frustration` to every message."""

    def process(self, messages: list[Message]) -> list[Message]:
        """Scores each message's text; the result is part of the output the tracker stores."""
        for message in messages:
            frustration = score_message(message.get(TEXT), self._settings)
            message.set(FRUSTRATION_KEY, frustration.as_dict(), add_to_output=True)
        return messages
