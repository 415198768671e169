"""The FrustrationScorer NLU component, built and run the way Rasa builds and runs it."""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path

import pytest
import yaml
from rasa.core.agent import Agent
from rasa.engine import validation
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.model_training import train_nlu
from rasa.shared.core.events import UserUttered
from rasa.shared.data import TrainingType
from rasa.shared.nlu.training_data.message import Message

from handoff.detect import turns_from_events
from handoff.nlu_frustration import FrustrationScorer

COMPONENT = "handoff.nlu_frustration.FrustrationScorer"


@pytest.fixture
def scorer(tmp_path: Path) -> FrustrationScorer:
    return FrustrationScorer.create(
        FrustrationScorer.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("frustration_scorer"),
        ExecutionContext(GraphSchema({}), "test-model"),
    )


def test_process_adds_frustration_to_the_output(scorer: FrustrationScorer) -> None:
    angry, calm = Message.build(text="THIS IS USELESS!!! WHERE IS MY REFUND"), Message.build(text="hi there")
    scorer.process([angry, calm])
    output = angry.as_dict(only_output_properties=True)["frustration"]
    assert 0.5 < output["score"] <= 0.7
    assert output["signals"]["caps"] == 1.0 and output["signals"]["punctuation"] == 1.0
    assert calm.as_dict(only_output_properties=True)["frustration"]["score"] == 0.0
    assert angry.as_dict_nlu()["frustration"] == output


def test_message_without_text_scores_zero(scorer: FrustrationScorer) -> None:
    (message,) = scorer.process([Message(data={})])
    assert message.get("frustration")["score"] == 0.0


def test_stored_score_survives_the_event_and_is_read_back(scorer: FrustrationScorer) -> None:
    (message,) = scorer.process([Message.build(text="you don't understand!!")])
    parse_data = {"intent": {"name": "nlu_fallback", "confidence": 0.3}, "entities": [],
                  **message.as_dict(only_output_properties=True)}
    event = UserUttered(message.get("text"), parse_data["intent"], [], parse_data)
    (turn,) = turns_from_events([event.as_dict()])
    assert turn.frustration is not None
    assert turn.frustration.as_dict() == message.get("frustration")


CONFIG = {
    "recipe": "default.v1",
    "language": "en",
    "assistant_id": "frustration-test",
    "pipeline": [
        {"name": "WhitespaceTokenizer"},
        {"name": "KeywordIntentClassifier", "case_sensitive": False},
        {"name": COMPONENT},
    ],
    "policies": [],
}


def test_pipeline_line_builds_a_valid_graph_that_runs_only_at_inference() -> None:
    graph = DefaultV1Recipe().graph_config_for_recipe(copy.deepcopy(CONFIG), {}, TrainingType.NLU)
    validation.validate(graph)
    assert not [name for name in graph.train_schema.nodes if COMPONENT in name]
    (node,) = [name for name in graph.predict_schema.nodes if COMPONENT in name]
    assert graph.predict_schema.nodes["run_RegexMessageHandler"].needs["messages"] == node


def test_trained_model_returns_frustration_in_parse_data(tmp_path: Path) -> None:
    (tmp_path / "config.yml").write_text(yaml.safe_dump(CONFIG))
    (tmp_path / "nlu.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hello\n    - hi\n'
        "- intent: check_refund_status\n  examples: |\n    - refund\n    - where is my money\n"
    )
    model = train_nlu(str(tmp_path / "config.yml"), str(tmp_path / "nlu.yml"), str(tmp_path / "models"))
    assert model is not None
    agent = Agent.load(model)
    parsed = asyncio.run(agent.parse_message("WHERE IS MY REFUND?!? this is useless"))
    assert parsed["intent"]["name"] == "check_refund_status"
    assert parsed["frustration"]["score"] > 0.5
    assert asyncio.run(agent.parse_message("hello"))["frustration"]["score"] == 0.0
