"""Chooses a retrieval intent's answer (which FAQ) from the fine-tuned encoder's sentence vector.

A logistic regression over the sentence vectors of the intent's examples, fitted once the encoder is
fine-tuned. Measured on the tuning and held-out sets (docs/quality.md, stop 28):
- it picks the right FAQ answer more often than Rasa's ResponseSelector did (held-out 0.936 against
  0.927) and its confidence means something: the ResponseSelector gave 0.86-0.94 to wrong answers;
- training the answer layer together with the encoder instead pulled the FAQ questions apart inside
  the encoder and cost the intents 0.06 macro F1; a layer on the frozen vectors trained at the
  fine-tuning rate barely moved. A regression solved to convergence on the vectors costs neither.
It reuses the one encoder pass the intent classifier makes, so choosing an answer costs a matrix product.

A softmax always names some answer, however foreign the question ("do you have a loyalty programme"
got a confident FAQ answer). So each answer also keeps the unit vectors of its training examples,
and the chosen answer's closeness (cosine similarity of the message to its nearest example) tells
a question it was taught from one it was not; the answer gate asks for both (`answer_closeness_threshold`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from rasa.nlu.constants import (
    RESPONSE_SELECTOR_PREDICTION_KEY,
    RESPONSE_SELECTOR_RANKING_KEY,
    RESPONSE_SELECTOR_RESPONSES_KEY,
    RESPONSE_SELECTOR_UTTER_ACTION_KEY,
)
from rasa.shared.nlu.constants import INTENT_RESPONSE_KEY, PREDICTED_CONFIDENCE_KEY
from rasa.shared.nlu.training_data.util import intent_response_key_to_template_key
from sklearn.linear_model import LogisticRegression

from handoff.answer_gate import ANSWER_CLOSENESS_KEY


class AnswerChoice:
    """The answers of one retrieval intent ("faq/late_fees", ...) and the layer that ranks them."""

    def __init__(self, keys: list[str], weights: np.ndarray, bias: np.ndarray,
                 examples: np.ndarray | None = None, example_answers: np.ndarray | None = None) -> None:
        self.keys = keys
        self._weights = weights
        self._bias = bias
        # Unit vectors of the training examples and the index of each one's answer; None in a model
        # trained before closeness was kept, whose answers then carry no closeness.
        self._examples = examples
        self._example_answers = example_answers

    @classmethod
    def fit(cls, vectors: np.ndarray, keys: list[str], regularisation: float) -> AnswerChoice:
        """Fits the layer; `regularisation` is the inverse strength (sklearn's C), chosen on the tuning set."""
        answers = sorted(set(keys))
        indices = np.array([answers.index(key) for key in keys], np.int32)
        examples = unit_rows(vectors).astype(np.float32)
        if len(answers) == 1:  # nothing to choose: the one answer, with confidence 1
            return cls(answers, np.zeros((vectors.shape[1], 1), np.float32), np.zeros(1, np.float32), examples, indices)
        regression = LogisticRegression(C=regularisation, max_iter=5000)
        regression.fit(vectors, indices)
        weights, bias = regression.coef_.T, regression.intercept_
        if len(answers) == 2:  # sklearn keeps one column for two classes: the second's logit against a zero
            weights, bias = np.hstack([np.zeros_like(weights), weights]), np.concatenate([[0.0], bias])
        return cls(answers, weights.astype(np.float32), bias.astype(np.float32), examples, indices)

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """Each vector's probability per answer, in `keys` order."""
        return softmax(vectors @ self._weights + self._bias)

    def closeness(self, vectors: np.ndarray, answers: np.ndarray) -> np.ndarray | None:
        """For each vector, its cosine similarity to the nearest training example of the answer at the
        same row of `answers` (indices into `keys`); None when the model kept no examples."""
        if self._examples is None or self._example_answers is None:
            return None
        similarities = unit_rows(vectors) @ self._examples.T
        same_answer = self._example_answers[None, :] == answers[:, None]
        return np.where(same_answer, similarities, -1.0).max(axis=1)

    def save(self, path: Path) -> None:
        kept: dict[str, np.ndarray] = {}
        if self._examples is not None and self._example_answers is not None:
            kept = {"examples": self._examples, "example_answers": self._example_answers}
        np.savez(path, weights=self._weights, bias=self._bias, keys=json.dumps(self.keys), **kept)

    @classmethod
    def load(cls, path: Path) -> AnswerChoice:
        stored = np.load(path)
        kept = "examples" in stored.files
        return cls(json.loads(str(stored["keys"])), stored["weights"], stored["bias"],
                   stored["examples"] if kept else None, stored["example_answers"] if kept else None)


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Each row scaled to length 1 (a zero row stays zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in numpy: for one message a Keras layer call costs 40 times the arithmetic."""
    exponentials = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exponentials / exponentials.sum(axis=1, keepdims=True)


def selector_output(probabilities: np.ndarray, closeness: float | None, keys: list[str],
                    responses: dict[str, list[dict[str, Any]]], ranking_length: int) -> dict[str, Any]:
    """One retrieval intent's entry of the message's `response_selector`, shaped as Rasa's ResponseSelector
    writes it, so Rasa's retrieval action, the answer gate and the console read it unchanged; the chosen
    answer's `closeness` rides along in the prediction (None: the model kept no examples)."""
    order = np.argsort(-probabilities, kind="stable")
    best = keys[order[0]]
    utter_action = intent_response_key_to_template_key(best)
    prediction: dict[str, Any] = {
        RESPONSE_SELECTOR_RESPONSES_KEY: responses.get(utter_action, []),
        PREDICTED_CONFIDENCE_KEY: float(probabilities[order[0]]),
        INTENT_RESPONSE_KEY: best,
        RESPONSE_SELECTOR_UTTER_ACTION_KEY: utter_action,
    }
    if closeness is not None:
        prediction[ANSWER_CLOSENESS_KEY] = float(closeness)
    return {
        RESPONSE_SELECTOR_PREDICTION_KEY: prediction,
        RESPONSE_SELECTOR_RANKING_KEY: [
            {"id": int(index), PREDICTED_CONFIDENCE_KEY: float(probabilities[index]), INTENT_RESPONSE_KEY: keys[index]}
            for index in order[:ranking_length]
        ],
    }
