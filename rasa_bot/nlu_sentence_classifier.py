"""Intent classifier fine-tuned from a pretrained sentence encoder (`rasa_bot.sentence_encoder`).

DIET learns every word from our 2,600 examples alone; on held-out customer messages its intent macro F1
stayed near 0.86 whatever features, rules and data were added (docs/quality.md). A transformer
pretrained on a billion sentence pairs already knows that "clear all remaining instalments in one go"
is about paying early and "just curious how pay-in-four works" is no complaint; fine-tuned on our
examples (mean of its token outputs, then one softmax layer over the intents) it reaches about 0.94.

The same sentence vector chooses the answer of a retrieval intent (which FAQ, `rasa_bot.answer_choice`),
written where Rasa's ResponseSelector would write it; one encoder pass serves both.

The fine-tuned encoder, its tokenizer, the label list and the answer layers are stored in the model, so a
trained model needs neither the installed encoder package nor the network. Training is deterministic on
one machine.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers import LABEL_RANKING_LENGTH
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import RESPONSE_SELECTOR_PROPERTY_NAME, RESPONSE_SELECTOR_RETRIEVAL_INTENTS
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.shared.nlu.training_data.util import intent_response_key_to_template_key
from tqdm import tqdm

from rasa_bot.answer_choice import AnswerChoice, selector_output, softmax
from rasa_bot.sentence_encoder import pretrained_encoder_dir, quiet_transformers
from rasa_bot.word_reading import WordReading, combined

ENCODER_DIR = "encoder"
HEAD_FILE = "head.npz"
LABELS_FILE = "labels.json"
RESPONSES_FILE = "responses.json"
ANSWERS_FILE = "answers-{intent}.npz"
WORD_ANSWERS_FILE = "answer-words-{intent}.joblib"
WORD_INTENTS_FILE = "intent-words.joblib"
# Sentence vectors computed per call while fitting the answer layers: bounded memory on any data size.
VECTOR_BATCH = 64

# Rasa's recipe validator warns whenever FAQ examples are trained without its own ResponseSelector class;
# this component answers them, so the warning would only mislead whoever reads the training log.
warnings.filterwarnings("ignore", message="You have defined training data with examples for training a response")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class SentenceEncoderClassifier(IntentClassifier, GraphComponent):
    """Sets `intent` and `intent_ranking` from a fine-tuned sentence encoder, as DIET would."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "epochs": 4,
            "batch_size": 32,
            "learning_rate": 5e-5,
            "weight_decay": 0.01,
            "warmup_fraction": 0.1,
            "label_smoothing": 0.1,
            "dropout": 0.1,
            # Word pieces read per message; customer messages are far shorter, rambling ones included.
            "max_tokens": 128,
            "ranking_length": LABEL_RANKING_LENGTH,
            # Inverse regularisation of the answer layers (sklearn's C): 1 chose the FAQ answer best on the
            # tuning set among 0.1, 1, 10 and 100.
            "answer_regularisation": 1.0,
            # The same for the readings of a message's words (rasa_bot.word_reading): for the FAQ answer 100
            # chose best on the tuning set among 3, 10, 30, 100 and 300; for the intents among 10 and 100.
            "answer_words_regularisation": 100.0,
            "intent_words_regularisation": 100.0,
            "random_seed": 7,
        }

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        for key in ("epochs", "batch_size", "max_tokens", "ranking_length"):
            if not isinstance(config.get(key), int) or config[key] < 1:
                raise InvalidConfigException(f"SentenceEncoderClassifier: `{key}` must be a positive whole number")
        if not 0 < float(config["learning_rate"]) < 1:
            raise InvalidConfigException("SentenceEncoderClassifier: `learning_rate` must be between 0 and 1")
        for key in ("answer_regularisation", "answer_words_regularisation", "intent_words_regularisation"):
            if not float(config[key]) > 0:
                raise InvalidConfigException(f"SentenceEncoderClassifier: `{key}` must be positive")

    def __init__(
        self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
        classifier: _FineTunedEncoder | None = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._classifier = classifier
        self._answers: dict[str, AnswerChoice] = {}
        self._word_answers: dict[str, WordReading] = {}
        self._word_intents: WordReading | None = None  # None in a model trained before the word readings
        self._responses: dict[str, list[dict[str, Any]]] = {}

    @classmethod
    def create(
        cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEncoderClassifier:
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
        execution_context: ExecutionContext, **kwargs: Any,
    ) -> SentenceEncoderClassifier:
        component = cls(config, model_storage, resource)
        with model_storage.read_from(resource) as directory:
            component._classifier = _FineTunedEncoder.load(directory, component._config)
            component._responses = json.loads((directory / RESPONSES_FILE).read_text())
            component._answers = {
                intent: AnswerChoice.load(directory / ANSWERS_FILE.format(intent=intent))
                for intent in component._classifier.labels
                if (directory / ANSWERS_FILE.format(intent=intent)).is_file()
            }
            if (directory / WORD_INTENTS_FILE).is_file():
                component._word_intents = WordReading.load(directory / WORD_INTENTS_FILE)
            component._word_answers = {
                intent: WordReading.load(directory / WORD_ANSWERS_FILE.format(intent=intent))
                for intent in component._answers
                if (directory / WORD_ANSWERS_FILE.format(intent=intent)).is_file()
            }
        return component

    def train(self, training_data: TrainingData) -> Resource:
        examples = [example for example in training_data.intent_examples
                    if example.get(TEXT) and example.get(INTENT)]
        if not examples:
            raise InvalidConfigException("SentenceEncoderClassifier: the training data has no intent examples")
        texts, intents = [example.get(TEXT) for example in examples], [example.get(INTENT) for example in examples]
        classifier = _FineTunedEncoder.pretrained(sorted(set(intents)), self._config)
        classifier.fit(texts, intents)
        self._classifier = classifier
        self._word_intents = WordReading.fit(texts, intents, float(self._config["intent_words_regularisation"]))
        self._answers, self._word_answers = {}, {}
        for intent in sorted(training_data.retrieval_intents):
            self._answers[intent], self._word_answers[intent] = self._fit_answers(classifier, training_data, intent)
        answer_responses = {intent_response_key_to_template_key(answer)
                            for choice in self._answers.values() for answer in choice.keys}
        self._responses = {key: list(responses) for key, responses in training_data.responses.items()
                           if key in answer_responses}
        with self._model_storage.write_to(self._resource) as directory:
            classifier.save(directory)
            for intent, choice in self._answers.items():
                choice.save(directory / ANSWERS_FILE.format(intent=intent))
                self._word_answers[intent].save(directory / WORD_ANSWERS_FILE.format(intent=intent))
            (directory / RESPONSES_FILE).write_text(json.dumps(self._responses))
            self._word_intents.save(directory / WORD_INTENTS_FILE)
        return self._resource

    def _fit_answers(self, classifier: _FineTunedEncoder, training_data: TrainingData,
                     intent: str) -> tuple[AnswerChoice, WordReading]:
        """The answer layers of one retrieval intent: on the fine-tuned vectors of its examples, and on their words."""
        examples = [example for example in training_data.intent_examples
                    if example.get(INTENT) == intent and example.get(INTENT_RESPONSE_KEY) and example.get(TEXT)]
        texts = [example.get(TEXT) for example in examples]
        vectors = np.concatenate([classifier.sentence_vectors(texts[start:start + VECTOR_BATCH])
                                  for start in range(0, len(texts), VECTOR_BATCH)])
        keys = [example.get(INTENT_RESPONSE_KEY) for example in examples]
        return (AnswerChoice.fit(vectors, keys, float(self._config["answer_regularisation"])),
                WordReading.fit(texts, keys, float(self._config["answer_words_regularisation"])))

    def process(self, messages: list[Message]) -> list[Message]:
        readable = [message for message in messages if message.get(TEXT)]
        if not readable or self._classifier is None:
            return messages
        texts = [message.get(TEXT) for message in readable]
        vectors = self._classifier.sentence_vectors(texts)
        probabilities = self._classifier.intent_probabilities(vectors)
        if self._word_intents is not None:
            probabilities = combined(probabilities, self._word_intents.probabilities(texts))
        answers = {intent: self._answer_probabilities(intent, vectors, texts) for intent in self._answers}
        closeness = {intent: choice.closeness(vectors, answers[intent].argmax(axis=1))
                     for intent, choice in self._answers.items()}
        length = int(self._config["ranking_length"])
        for position, (message, row) in enumerate(zip(readable, probabilities, strict=True)):
            order = np.argsort(-row, kind="stable")
            ranking = [{"name": self._classifier.labels[index], "confidence": float(row[index])} for index in order]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking[:length], add_to_output=True)
            if answers:
                selectors: dict[str, Any] = {RESPONSE_SELECTOR_RETRIEVAL_INTENTS: sorted(answers)}
                for intent, rows in answers.items():
                    nearest = closeness[intent]
                    selectors[intent] = selector_output(rows[position], None if nearest is None else nearest[position],
                                                        self._answers[intent].keys, self._responses, length)
                message.set(RESPONSE_SELECTOR_PROPERTY_NAME, selectors, add_to_output=True)
        return messages

    def _answer_probabilities(self, intent: str, vectors: np.ndarray, texts: list[str]) -> np.ndarray:
        """Each message's probability per answer: both readings combined, or the vector's alone in a model
        trained before the word layer existed."""
        by_vector = self._answers[intent].probabilities(vectors)
        if intent not in self._word_answers:
            return by_vector
        return combined(by_vector, self._word_answers[intent].probabilities(texts))


class _FineTunedEncoder:
    """The encoder, its tokenizer and the softmax layer over the labels, trained and run together."""

    def __init__(self, encoder: Any, tokenizer: Any, labels: list[str], config: dict[str, Any]) -> None:
        self.labels = labels
        self._encoder = encoder
        self._tokenizer = tokenizer
        self._config = config
        self._head = tf.keras.layers.Dense(len(labels), name="intent_head")
        self._dropout = tf.keras.layers.Dropout(float(config["dropout"]))
        self._head_arrays: tuple[np.ndarray, ...] | None = None
        self._vectors = tf.function(
            lambda token_ids, attention: self._sentence(token_ids, attention, training=False),
            input_signature=[tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None, None], tf.int32)],
        )

    @classmethod
    def pretrained(cls, labels: list[str], config: dict[str, Any]) -> _FineTunedEncoder:
        """The pretrained encoder with a fresh softmax layer, ready to be fine-tuned."""
        tf.keras.utils.set_random_seed(int(config["random_seed"]))
        return cls(*_load_encoder(pretrained_encoder_dir()), labels, config)

    @classmethod
    def load(cls, directory: Path, config: dict[str, Any]) -> _FineTunedEncoder:
        """A fine-tuned classifier as `save` stored it in the model."""
        encoder, tokenizer = _load_encoder(directory / ENCODER_DIR)
        classifier = cls(encoder, tokenizer, json.loads((directory / LABELS_FILE).read_text()), config)
        head = np.load(directory / HEAD_FILE)
        classifier._head.build((None, encoder.config.hidden_size))
        classifier._head.set_weights([head["kernel"], head["bias"]])
        classifier._head_arrays = (head["kernel"], head["bias"])
        return classifier

    def save(self, directory: Path) -> None:
        self._encoder.save_pretrained(directory / ENCODER_DIR)
        self._tokenizer.save_pretrained(directory / ENCODER_DIR)
        kernel, bias = self._head.get_weights()
        np.savez(directory / HEAD_FILE, kernel=kernel, bias=bias)
        (directory / LABELS_FILE).write_text(json.dumps(self.labels))

    def fit(self, texts: list[str], labels: list[str]) -> None:
        """Fine-tunes encoder and softmax layer together: AdamW, linear warm-up then linear decay."""
        from transformers import create_optimizer

        config = self._config
        targets = np.array([self.labels.index(label) for label in labels])
        batch_size, epochs = int(config["batch_size"]), int(config["epochs"])
        batches_per_epoch = -(-len(texts) // batch_size)
        total_steps = epochs * batches_per_epoch
        optimizer, _ = create_optimizer(
            init_lr=float(config["learning_rate"]), num_train_steps=total_steps,
            num_warmup_steps=int(total_steps * float(config["warmup_fraction"])),
            weight_decay_rate=float(config["weight_decay"]),
        )
        loss = tf.keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=float(config["label_smoothing"]))

        @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None, None], tf.int32),
                                      tf.TensorSpec([None], tf.int32)])
        def step(token_ids: tf.Tensor, attention: tf.Tensor, target: tf.Tensor) -> tf.Tensor:
            with tf.GradientTape() as tape:
                logits = self._logits(token_ids, attention, training=True)
                value = loss(tf.one_hot(target, len(self.labels)), logits)
            variables = self._encoder.trainable_variables + self._head.trainable_variables
            optimizer.apply_gradients(zip(tape.gradient(value, variables), variables))  # noqa: B905 (autograph)
            return value

        shuffle = np.random.default_rng(int(config["random_seed"]))
        with tqdm(range(epochs), desc="Epochs") as progress:
            for _ in progress:
                order = shuffle.permutation(len(texts))
                losses = []
                for start in range(0, len(order), batch_size):
                    batch = order[start:start + batch_size]
                    token_ids, attention = self._tokenize([texts[index] for index in batch])
                    losses.append(float(step(token_ids, attention, tf.constant(targets[batch], tf.int32))))
                progress.set_postfix(loss=f"{np.mean(losses):.3f}")
        self._head_arrays = None

    def sentence_vectors(self, texts: list[str]) -> np.ndarray:
        """Each text's sentence vector: the mean of the fine-tuned encoder's token outputs."""
        token_ids, attention = self._tokenize(texts)
        return self._vectors(token_ids, attention).numpy()

    def intent_probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """Each sentence vector's probability per label, in `labels` order."""
        if self._head_arrays is None:  # Keras' get_weights costs 0.6 ms a call: read once
            self._head_arrays = tuple(self._head.get_weights())
        kernel, bias = self._head_arrays
        return softmax(vectors @ kernel + bias)

    def _tokenize(self, texts: list[str]) -> tuple[tf.Tensor, tf.Tensor]:
        encoded = self._tokenizer(texts, padding=True, truncation=True, max_length=int(self._config["max_tokens"]),
                                  return_tensors="np")
        return tf.constant(encoded["input_ids"], tf.int32), tf.constant(encoded["attention_mask"], tf.int32)

    def _logits(self, token_ids: tf.Tensor, attention: tf.Tensor, training: bool) -> tf.Tensor:
        return self._head(self._dropout(self._sentence(token_ids, attention, training), training=training))

    def _sentence(self, token_ids: tf.Tensor, attention: tf.Tensor, training: bool) -> tf.Tensor:
        """Mean of the token outputs over the real (unpadded) tokens, as the encoder was pretrained."""
        tokens = self._encoder(input_ids=token_ids, attention_mask=attention, training=training).last_hidden_state
        mask = tf.cast(attention, tokens.dtype)[:, :, None]
        return tf.reduce_sum(tokens * mask, axis=1) / tf.maximum(tf.reduce_sum(mask, axis=1), 1.0)


def _load_encoder(directory: Path) -> tuple[Any, Any]:
    """The TensorFlow encoder and its tokenizer from a folder (the weights may be PyTorch's safetensors)."""
    from transformers import AutoTokenizer, TFAutoModel

    quiet_transformers()
    return TFAutoModel.from_pretrained(str(directory)), AutoTokenizer.from_pretrained(str(directory), clean_up_tokenization_spaces=False)
