"""What the plugin's NLU components share: no options of their own, the process-wide handoff settings."""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage

from handoff.settings import HandoffSettings, get_handoff_settings


class SettingsComponent(GraphComponent):
    """A non-trainable component configured by the handoff settings, so a deployment tunes it
    without retraining and the policy, the action and the component read the same values."""

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
    ) -> SettingsComponent:
        """Creates the component with the process-wide handoff settings."""
        return cls(get_handoff_settings())
