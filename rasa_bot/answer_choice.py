"""Chooses a retrieval intent's answer (which FAQ) from the fine-tuned encoder's sentence vector.

A logistic regression over the sentence vectors of the intent's examples, fitted once the encoder is
fine-tuned. Measured on the tuning and held-out sets (docs/quality.md, stop 28):
- it picks the right FAQ answer more often than Rasa's ResponseSelector did (held-out 0.936 against
  0.927) and its confidence means something: the ResponseSelector gave 0.86-0.94 to wrong answers;
- training the answer layer together with the encoder instead pulled the FAQ questions apart inside
  the encoder and cost the intents 0.06 macro F1; a layer on the frozen vectors trained at the
  fine-tuning rate barely moved. A regression solved to convergence on the vectors costs neither.
It reuses the one encoder pass the intent classifier makes, so choosing an answer costs a matrix product.
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


class AnswerChoice:
    """The answers of one retrieval intent ("faq/late_fees", ...) and the layer that ranks them."""

    def __init__(self, keys: list[str], weights: np.ndarray, bias: np.ndarray) -> None:
        self.keys = keys
        self._weights = weights
        self._bias = bias

    @classmethod
    def fit(cls, vectors: np.ndarray, keys: list[str], regularisation: float) -> AnswerChoice:
        """Fits the layer; `regularisation` is the inverse strength (sklearn's C), chosen on the tuning set."""
        answers = sorted(set(keys))
        if len(answers) == 1:  # nothing to choose: the one answer, with confidence 1
            return cls(answers, np.zeros((vectors.shape[1], 1), np.float32), np.zeros(1, np.float32))
        regression = LogisticRegression(C=regularisation, max_iter=5000)
        regression.fit(vectors, [answers.index(key) for key in keys])
        weights, bias = regression.coef_.T, regression.intercept_
        if len(answers) == 2:  # sklearn keeps one column for two classes: the second's logit against a zero
            weights, bias = np.hstack([np.zeros_like(weights), weights]), np.concatenate([[0.0], bias])
        return cls(answers, weights.astype(np.float32), bias.astype(np.float32))

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """Each vector's probability per answer, in `keys` order."""
        return softmax(vectors @ self._weights + self._bias)

    def save(self, path: Path) -> None:
        np.savez(path, weights=self._weights, bias=self._bias, keys=json.dumps(self.keys))

    @classmethod
    def load(cls, path: Path) -> AnswerChoice:
        stored = np.load(path)
        return cls(json.loads(str(stored["keys"])), stored["weights"], stored["bias"])


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in numpy: for one message a Keras layer call costs 40 times the arithmetic."""
    exponentials = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exponentials / exponentials.sum(axis=1, keepdims=True)


def selector_output(probabilities: np.ndarray, keys: list[str], responses: dict[str, list[dict[str, Any]]],
                    ranking_length: int) -> dict[str, Any]:
    """One retrieval intent's entry of the message's `response_selector`, shaped as Rasa's ResponseSelector
    writes it, so Rasa's retrieval action, the answer gate and the console read it unchanged."""
    order = np.argsort(-probabilities, kind="stable")
    best = keys[order[0]]
    utter_action = intent_response_key_to_template_key(best)
    return {
        RESPONSE_SELECTOR_PREDICTION_KEY: {
            RESPONSE_SELECTOR_RESPONSES_KEY: responses.get(utter_action, []),
            PREDICTED_CONFIDENCE_KEY: float(probabilities[order[0]]),
            INTENT_RESPONSE_KEY: best,
            RESPONSE_SELECTOR_UTTER_ACTION_KEY: utter_action,
        },
        RESPONSE_SELECTOR_RANKING_KEY: [
            {"id": int(index), PREDICTED_CONFIDENCE_KEY: float(probabilities[index]), INTENT_RESPONSE_KEY: keys[index]}
            for index in order[:ranking_length]
        ],
    }
