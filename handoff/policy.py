"""Dialogue policy that predicts the handoff action when `handoff.detect.decide` says so.

A policy, rather than rules or stories, because the decision depends on the whole conversation since
the last handoff (accumulated frustration, fallback streaks), which rules cannot express. Its priority
is above RulePolicy's, so a due handoff wins even over an active form; otherwise it abstains (all
zeros) and the other policies decide as before.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.core.constants import POLICY_PRIORITY, RULE_POLICY_PRIORITY
from rasa.core.policies.policy import Policy, PolicyPrediction, SupportedData
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain, InvalidDomain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from handoff.detect import decide, turns_from_events
from handoff.settings import HandoffSettings, get_handoff_settings

logger = logging.getLogger(__name__)

HANDOFF_POLICY_PRIORITY = RULE_POLICY_PRIORITY + 1


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False
)
class HandoffPolicy(Policy):
    """Predicts `handoff_action` right after a customer message that calls for a person."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Priority above RulePolicy; detection thresholds live in the handoff settings."""
        return {POLICY_PRIORITY: HANDOFF_POLICY_PRIORITY}

    @staticmethod
    def supported_data() -> SupportedData:
        """Learns nothing, so it takes whatever data the recipe hands it."""
        return SupportedData.ML_AND_RULE_DATA

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> None:
        super().__init__(config, model_storage, resource, execution_context, **kwargs)
        self._settings: HandoffSettings = get_handoff_settings()

    def train(self, training_trackers: list[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        """Nothing to learn; checks at training time that the domain can run the handoff action.

        Raises:
            InvalidDomain: the domain lacks the handoff action, so the policy could never predict it.
        """
        if self._settings.handoff_action not in domain.action_names_or_texts:
            raise InvalidDomain(
                f"HandoffPolicy predicts '{self._settings.handoff_action}', which the domain does not "
                f"list under 'actions'. Add it, or set HANDOFF_HANDOFF_ACTION to the action you use."
            )
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        """Predicts the handoff with confidence 1 when a decision is made, and listening right after
        a handoff (a person answers now, or the bot told the customer live help is unavailable);
        abstains otherwise."""
        probabilities = self._default_predictions(domain)
        if tracker.latest_action_name == self._settings.handoff_action:
            probabilities[domain.index_for_action(ACTION_LISTEN_NAME)] = 1.0
            return self._prediction(probabilities)
        if tracker.is_paused() or not _just_heard_customer(tracker):
            return self._prediction(probabilities)
        events = [event.as_dict() for event in tracker.events]
        decision = decide(turns_from_events(events, self._settings), self._settings)
        if decision is None:
            return self._prediction(probabilities)
        logger.info(
            "Handing off conversation %s: %s (frustration %.2f, priority %d)",
            tracker.sender_id, decision.reason, decision.frustration, decision.priority,
        )
        probabilities[domain.index_for_action(self._settings.handoff_action)] = 1.0
        return self._prediction(probabilities)


def _just_heard_customer(tracker: DialogueStateTracker) -> bool:
    """True when the customer's own message is the newest turn: no action has run since it arrived.

    Messages injected through the API (`/trigger_intent`) are not the customer speaking.
    """
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return not (event.metadata or {}).get("is_external")
        if isinstance(event, ActionExecuted):
            return False
    return False
