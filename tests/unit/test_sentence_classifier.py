"""The intent classifier fine-tuned from the pretrained sentence encoder: it learns, it stores everything it
needs in the model, and it refuses weights that are not the pinned ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from rasa_bot.nlu_sentence_classifier import SentenceEncoderClassifier
from rasa_bot.sentence_encoder import EncoderMissing, checked_encoder_dir, pretrained_encoder_dir

EXAMPLES = {
    "greet": ["hello", "hi there", "good morning", "hey", "hiya", "good evening"],
    "check_refund_status": ["where is my refund", "has my refund been paid", "when do i get my money back",
                            "refund status please", "is the refund on its way", "did you send my refund yet"],
    "goodbye": ["bye", "see you later", "goodbye", "have a nice day, bye", "that's all, bye", "talk to you later"],
}


def _classifier(tmp_path: Path, **config: object) -> tuple[SentenceEncoderClassifier, LocalModelStorage, Resource]:
    (tmp_path / "model").mkdir()
    storage, resource = LocalModelStorage(tmp_path / "model"), Resource("intents")
    full = {**SentenceEncoderClassifier.get_default_config(), "epochs": 6, "batch_size": 8, "learning_rate": 1e-4,
            **config}
    return SentenceEncoderClassifier.create(full, storage, resource, ExecutionContext(GraphSchema({}), "m")), storage, resource


def _training_data() -> TrainingData:
    return TrainingData([Message.build(text=text, intent=intent) for intent, texts in EXAMPLES.items() for text in texts])


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[SentenceEncoderClassifier, LocalModelStorage, Resource]:
    classifier, storage, resource = _classifier(tmp_path_factory.mktemp("classifier"))
    classifier.train(_training_data())
    return classifier, storage, resource


def test_fine_tuned_classifier_ranks_unseen_wordings_under_their_intent(trained) -> None:
    classifier, _, _ = trained
    messages = [Message.build(text="heyo, morning!"), Message.build(text="any news on the money you owe me back?")]
    classifier.process(messages)
    assert [message.get(INTENT)["name"] for message in messages] == ["greet", "check_refund_status"]
    ranking = messages[1].get(INTENT_RANKING_KEY)
    assert ranking[0]["name"] == "check_refund_status"
    assert sum(entry["confidence"] for entry in ranking) == pytest.approx(1.0, abs=1e-4)
    assert ranking == sorted(ranking, key=lambda entry: -entry["confidence"])


def test_loaded_model_gives_the_same_probabilities_without_the_installed_encoder(trained, monkeypatch) -> None:
    classifier, storage, resource = trained
    monkeypatch.setattr("rasa_bot.nlu_sentence_classifier.pretrained_encoder_dir",
                        lambda: pytest.fail("a trained model needs no installed encoder"))
    loaded = SentenceEncoderClassifier.load(classifier._config, storage, resource, ExecutionContext(GraphSchema({}), "m"))
    texts = ["good evening to you", "where's my refund", "ok bye then"]
    before = classifier._classifier.predict(texts)
    np.testing.assert_allclose(loaded._classifier.predict(texts), before, atol=1e-5)


def test_a_message_without_text_is_left_alone(trained) -> None:
    classifier, _, _ = trained
    (message,) = classifier.process([Message(data={})])
    assert message.get(INTENT) is None


def test_training_data_without_intents_is_refused(tmp_path: Path) -> None:
    classifier, _, _ = _classifier(tmp_path)
    with pytest.raises(InvalidConfigException, match="no intent examples"):
        classifier.train(TrainingData([Message.build(text="hello")]))


@pytest.mark.parametrize("key, value", [("epochs", 0), ("batch_size", "32"), ("learning_rate", 2)])
def test_invalid_settings_are_refused(key: str, value: object) -> None:
    with pytest.raises(InvalidConfigException, match=key):
        SentenceEncoderClassifier.validate_config({**SentenceEncoderClassifier.get_default_config(), key: value})


def test_installed_weights_are_the_pinned_ones() -> None:
    assert (pretrained_encoder_dir() / "model.safetensors").stat().st_size > 80_000_000


def test_other_or_missing_weights_are_refused(tmp_path: Path) -> None:
    with pytest.raises(EncoderMissing, match="missing"):
        checked_encoder_dir(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"not the weights")
    with pytest.raises(EncoderMissing, match="expected"):
        checked_encoder_dir(tmp_path)
