"""The intent classifier fine-tuned from the pretrained sentence encoder: it learns intents and FAQ answers,
it stores everything it needs in the model, and it refuses weights that are not the pinned ones."""

from __future__ import annotations

import shutil
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

from rasa_bot.answer_choice import AnswerChoice
from rasa_bot.nlu_sentence_classifier import SentenceEncoderClassifier
from rasa_bot.sentence_encoder import EncoderMissing, checked_encoder_dir, pretrained_encoder_dir

EXAMPLES = {
    "greet": ["hello", "hi there", "good morning", "hey", "hiya", "good evening"],
    "check_refund_status": ["where is my refund", "has my refund been paid", "when do i get my money back",
                            "refund status please", "is the refund on its way", "did you send my refund yet"],
    "goodbye": ["bye", "see you later", "goodbye", "have a nice day, bye", "that's all, bye", "talk to you later"],
    "faq/opening_hours": ["when are you open", "what are your opening hours", "are you open on sunday",
                          "what time do you close", "opening times please", "until when can i reach you"],
    "faq/late_fees": ["is there a fee if i pay late", "what does a late payment cost", "do you charge late fees",
                      "how much is the fine for paying late", "penalty for a missed due date?", "late fee amount"],
}
RESPONSES = {"utter_faq/opening_hours": [{"text": "We are open 8-20 on weekdays."}],
             "utter_faq/late_fees": [{"text": "A late payment costs 5 euros."}]}


def _classifier(tmp_path: Path, **config: object) -> tuple[SentenceEncoderClassifier, LocalModelStorage, Resource]:
    (tmp_path / "model").mkdir()
    storage, resource = LocalModelStorage(tmp_path / "model"), Resource("intents")
    full = {**SentenceEncoderClassifier.get_default_config(), "epochs": 6, "batch_size": 8, "learning_rate": 1e-4,
            **config}
    return SentenceEncoderClassifier.create(full, storage, resource, ExecutionContext(GraphSchema({}), "m")), storage, resource


def _training_data() -> TrainingData:
    return TrainingData([Message.build(text=text, intent=intent) for intent, texts in EXAMPLES.items() for text in texts],
                        responses=RESPONSES)


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


def test_faq_answer_is_chosen_where_rasas_response_selector_would_put_it(trained) -> None:
    classifier, _, _ = trained
    messages = [Message.build(text="are you open on saturday evenings?"), Message.build(text="hello there")]
    classifier.process(messages)
    assert messages[0].get(INTENT)["name"] == "faq"
    selector = messages[0].get("response_selector")
    assert selector["all_retrieval_intents"] == ["faq"]
    response = selector["faq"]["response"]
    assert response["intent_response_key"] == "faq/opening_hours"
    assert response["utter_action"] == "utter_faq/opening_hours"
    assert response["responses"] == RESPONSES["utter_faq/opening_hours"]
    ranking = selector["faq"]["ranking"]
    assert [entry["intent_response_key"] for entry in ranking] == ["faq/opening_hours", "faq/late_fees"]
    assert ranking[0]["confidence"] == pytest.approx(response["confidence"])
    # How close the question is to the chosen answer's nearest training example: a taught wording is 1.
    assert 0.0 < response["closeness"] < 1.0
    (taught,) = classifier.process([Message.build(text="what are your opening hours")])
    assert taught.get("response_selector")["faq"]["response"]["closeness"] == pytest.approx(1.0, abs=1e-4)
    assert sum(entry["confidence"] for entry in ranking) == pytest.approx(1.0, abs=1e-4)
    # Every message gets the answer ranking; the answer gate reads it only for a message taken as FAQ.
    assert messages[1].get(INTENT)["name"] == "greet"
    assert "faq" in messages[1].get("response_selector")


def test_loaded_model_gives_the_same_answers_without_the_installed_encoder(trained, monkeypatch) -> None:
    classifier, storage, resource = trained
    monkeypatch.setattr("rasa_bot.nlu_sentence_classifier.pretrained_encoder_dir",
                        lambda: pytest.fail("a trained model needs no installed encoder"))
    loaded = SentenceEncoderClassifier.load(classifier._config, storage, resource, ExecutionContext(GraphSchema({}), "m"))
    texts = ["good evening to you", "where's my refund", "ok bye then", "any charge for paying a week late?"]
    before = classifier.process([Message.build(text=text) for text in texts])
    after = loaded.process([Message.build(text=text) for text in texts])
    for old, new in zip(before, after, strict=True):
        assert new.get(INTENT)["name"] == old.get(INTENT)["name"]
        np.testing.assert_allclose([e["confidence"] for e in new.get(INTENT_RANKING_KEY)],
                                   [e["confidence"] for e in old.get(INTENT_RANKING_KEY)], atol=1e-5)
        old_answer, new_answer = old.get("response_selector")["faq"], new.get("response_selector")["faq"]
        assert new_answer["response"]["intent_response_key"] == old_answer["response"]["intent_response_key"]
        assert new_answer["response"]["confidence"] == pytest.approx(old_answer["response"]["confidence"], abs=1e-5)
        assert new_answer["response"]["closeness"] == pytest.approx(old_answer["response"]["closeness"], abs=1e-5)


def test_a_model_trained_before_the_word_readings_reads_the_vector_alone(trained, tmp_path: Path) -> None:
    """Older models (compared in bench/bot_latency.py) still load: without the word readings' files the
    intent and answer confidences are the sentence vector's own."""
    classifier, storage, resource = trained
    copy = tmp_path / "model"
    with storage.read_from(resource) as directory:
        shutil.copytree(directory, copy / resource.name)
    for name in ("answer-words-faq.joblib", "intent-words.joblib"):
        (copy / resource.name / name).unlink()
    old = SentenceEncoderClassifier.load(classifier._config, LocalModelStorage(copy), resource,
                                         ExecutionContext(GraphSchema({}), "m"))
    texts = ["are you open on saturday evenings?", "any charge for paying a week late?"]
    vectors = old._classifier.sentence_vectors(texts)
    read_old = old.process([Message.build(text=text) for text in texts])
    read_both = classifier.process([Message.build(text=text) for text in texts])
    np.testing.assert_allclose([m.get(INTENT)["confidence"] for m in read_old],
                               old._classifier.intent_probabilities(vectors).max(axis=1), atol=1e-5)
    np.testing.assert_allclose([m.get("response_selector")["faq"]["response"]["confidence"] for m in read_old],
                               old._answers["faq"].probabilities(vectors).max(axis=1), atol=1e-5)
    assert ([m.get(INTENT)["confidence"] for m in read_both]
            != pytest.approx([m.get(INTENT)["confidence"] for m in read_old]))


def test_a_message_without_text_is_left_alone(trained) -> None:
    classifier, _, _ = trained
    (message,) = classifier.process([Message(data={})])
    assert message.get(INTENT) is None


def test_training_data_without_intents_is_refused(tmp_path: Path) -> None:
    classifier, _, _ = _classifier(tmp_path)
    with pytest.raises(InvalidConfigException, match="no intent examples"):
        classifier.train(TrainingData([Message.build(text="hello")]))


@pytest.mark.parametrize("key, value", [("epochs", 0), ("batch_size", "32"), ("learning_rate", 2),
                                        ("answer_regularisation", 0), ("answer_words_regularisation", -1)])
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


def test_a_retrieval_intent_with_one_answer_always_gives_it() -> None:
    choice = AnswerChoice.fit(np.random.default_rng(0).normal(size=(5, 8)), ["faq/only"] * 5, regularisation=1.0)
    assert choice.keys == ["faq/only"]
    np.testing.assert_allclose(choice.probabilities(np.ones((2, 8))), [[1.0], [1.0]])


def test_closeness_is_to_the_nearest_example_of_the_answer_asked_about(tmp_path: Path) -> None:
    vectors = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]])
    choice = AnswerChoice.fit(vectors, ["faq/a", "faq/a", "faq/b"], regularisation=1.0)
    message = np.array([[2.0, 0.0]])  # length does not matter: the direction of the first example
    np.testing.assert_allclose(choice.closeness(message, np.array([0])), [1.0])
    np.testing.assert_allclose(choice.closeness(message, np.array([1])), [0.0], atol=1e-7)
    choice.save(tmp_path / "answers.npz")
    np.testing.assert_allclose(AnswerChoice.load(tmp_path / "answers.npz").closeness(message, np.array([0])), [1.0])


def test_a_model_saved_without_examples_gives_no_closeness(tmp_path: Path) -> None:
    """Models trained before closeness was kept still load; the answer gate then skips that check."""
    np.savez(tmp_path / "answers.npz", weights=np.zeros((2, 2)), bias=np.zeros(2), keys='["faq/a", "faq/b"]')
    assert AnswerChoice.load(tmp_path / "answers.npz").closeness(np.ones((1, 2)), np.array([0])) is None
