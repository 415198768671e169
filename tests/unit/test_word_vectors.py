"""The pretrained word vector table and the featurizer that puts it into the NLU pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from rasa_bot.nlu_word_vectors import WordVectorFeaturizer
from rasa_bot.word_vectors import TABLE, WordVectors, read_wink_json


def _wink_json(path: Path) -> Path:
    """A file in the npm package's format: words by frequency, each vector followed by its norm and row."""
    vectors = {"the": [3.0, 4.0, 5.0, 0], "do": [0.0, 2.0, 2.0, 1], "refund": [1.0, 0.0, 1.0, 2],
               "zero": [0.0, 0.0, 0.0, 3]}
    path.write_text(json.dumps({"dimensions": 2, "words": list(vectors), "vectors": vectors, "size": 4}))
    return path


def test_conversion_keeps_the_most_frequent_words_at_unit_length(tmp_path: Path) -> None:
    table = read_wink_json(_wink_json(tmp_path / "wink.json"), max_words=3)
    assert table.words == ["the", "do", "refund"]
    assert table.vectors.dtype == np.float16
    np.testing.assert_allclose(table.vectors[0], [0.6, 0.8], atol=1e-3)
    np.testing.assert_allclose(np.linalg.norm(table.vectors.astype(np.float32), axis=1), 1.0, atol=1e-3)


def test_a_zero_vector_stays_zero_instead_of_dividing_by_zero(tmp_path: Path) -> None:
    table = read_wink_json(_wink_json(tmp_path / "wink.json"), max_words=10)
    assert not table.vectors[table.index()["zero"]].any()


def test_table_round_trips_through_its_file(tmp_path: Path) -> None:
    table = read_wink_json(_wink_json(tmp_path / "wink.json"), max_words=10)
    table.save(tmp_path / "out" / "table.npz")
    loaded = WordVectors.load(tmp_path / "out" / "table.npz")
    assert loaded.words == table.words
    np.testing.assert_array_equal(loaded.vectors, table.vectors)


def test_mismatched_table_is_refused() -> None:
    with pytest.raises(ValueError, match="2 words but 1 vectors"):
        WordVectors(words=["a", "b"], vectors=np.zeros((1, 3)))


def _featurizer(tmp_path: Path, table: Path) -> tuple[WordVectorFeaturizer, LocalModelStorage, Resource]:
    (tmp_path / "model").mkdir()
    storage, resource = LocalModelStorage(tmp_path / "model"), Resource("word_vectors")
    config = {**WordVectorFeaturizer.get_default_config(), "table": str(table)}
    created = WordVectorFeaturizer.create(config, storage, resource, ExecutionContext(GraphSchema({}), "m"))
    return created, storage, resource


def _tokenized(text: str) -> Message:
    message = Message.build(text=text)
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process([message])
    return message


def test_trained_model_carries_the_table_and_features_follow_the_tokens(tmp_path: Path) -> None:
    table_path = tmp_path / "table.npz"
    read_wink_json(_wink_json(tmp_path / "wink.json"), max_words=10).save(table_path)
    created, storage, resource = _featurizer(tmp_path, table_path)
    created.train(TrainingData([]))
    table_path.unlink()  # the loaded model must not need the set-up file
    loaded = WordVectorFeaturizer.load(created._config, storage, resource, ExecutionContext(GraphSchema({}), "m"))

    (message,) = loaded.process([_tokenized("do REFUND xyzzy")])
    sequence, sentence = message.get_dense_features(TEXT)
    assert sequence.features.shape == (3, 2)
    np.testing.assert_allclose(sequence.features[0], [0.0, 1.0], atol=1e-3)
    np.testing.assert_allclose(sequence.features[1], [1.0, 0.0], atol=1e-3)  # any case
    assert not sequence.features[2].any()  # unknown word: zeros
    # The sentence is the mean of the known words only.
    np.testing.assert_allclose(sentence.features[0], (sequence.features[0] + sequence.features[1]) / 2, atol=1e-6)


def test_missing_table_at_training_says_how_to_make_it(tmp_path: Path) -> None:
    with pytest.raises(InvalidConfigException, match="make setup"):
        _featurizer(tmp_path, tmp_path / "absent.npz")


def test_set_up_table_puts_words_of_like_meaning_close_together() -> None:
    table = WordVectors.load(TABLE)
    rows, vectors = table.index(), table.vectors.astype(np.float32)

    def similarity(a: str, b: str) -> float:
        return float(vectors[rows[a]] @ vectors[rows[b]])

    assert len(table.words) == 100_000 and table.dimensions == 100
    assert similarity("manager", "supervisor") > similarity("manager", "parcel") + 0.2
    assert similarity("refund", "reimbursement") > similarity("refund", "weather") + 0.2
