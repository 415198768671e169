"""A second reading of each message, from its words, beside the fine-tuned sentence vector's.

The fine-tuned sentence vector knows language but blurs labels that differ in a word or two: "is paying
everything off early free" got the interest-and-fees answer, "how much can I owe you in total" the
payment-schedule look-up. A logistic regression over the message's letter sequences and words (TF-IDF)
keeps exactly those words. The two readings err on different messages, so the intent and the FAQ answer
are each chosen from their normalised geometric mean (`combined`). On the tuning set (docs/quality.md,
stop 32) the FAQ answer was wrong for 24 of 428 questions with the sentence vector alone, 16 with the
words alone and 5 with both, and the intent's macro F1 rose from 0.943 to 0.953.

scikit-learn fits the layer and stores it, but reading one message through its pipeline costs about 1.9 ms,
nearly all of it the checks and dispatch around each step (the letter sequences themselves take 0.04 ms).
`_FastReading` does the same arithmetic with the fitted vocabularies, weights and coefficients, in about
0.2 ms (docs/quality.md, stop 33); a test holds it to scikit-learn's probabilities.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import joblib
import numpy as np
from scipy.special import expit, softmax
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline


class WordReading:
    """Labels (intents, or one retrieval intent's answers) ranked from a message's letter sequences and words."""

    def __init__(self, labels: list[str], pipeline: Pipeline | None) -> None:
        self.labels = labels
        self._pipeline = pipeline  # None when there is only one label to choose; kept for `save`
        self._fast = None if pipeline is None else _FastReading(pipeline)

    @classmethod
    def fit(cls, texts: list[str], labels: list[str], regularisation: float) -> WordReading:
        """Fits the layer; `regularisation` is the inverse strength (sklearn's C), chosen on the tuning set."""
        distinct = sorted(set(labels))
        if len(distinct) == 1:
            return cls(distinct, None)
        pipeline = Pipeline([
            ("features", FeatureUnion([
                ("letters", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
                ("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True)),
            ])),
            ("regression", LogisticRegression(C=regularisation, max_iter=5000)),
        ])
        pipeline.fit(texts, labels)
        return cls(distinct, pipeline)

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """Each text's probability per label, in `labels` order (sorted, as sklearn sorts its classes)."""
        if self._fast is None:
            return np.ones((len(texts), 1))
        return self._fast.probabilities(texts)

    def save(self, path: Path) -> None:
        joblib.dump({"labels": self.labels, "pipeline": self._pipeline}, path)

    @classmethod
    def load(cls, path: Path) -> WordReading:
        """The layer `save` stored inside a trained model (a file of the model, trusted as the model is)."""
        stored = joblib.load(path)
        return cls(stored["labels"], stored["pipeline"])


def combined(vector_probabilities: np.ndarray, word_probabilities: np.ndarray) -> np.ndarray:
    """Row-wise normalised geometric mean of the two readings: a label either reading finds unlikely stays
    unlikely, and the confidence is high only where both agree."""
    mean = np.sqrt(vector_probabilities * word_probabilities)
    return mean / np.maximum(mean.sum(axis=1, keepdims=True), 1e-12)


class _TfidfPart:
    """One fitted TfidfVectorizer of the feature union, as plain data: its analyzer, vocabulary and weights."""

    def __init__(self, vectorizer: TfidfVectorizer, offset: int) -> None:
        if not (vectorizer.sublinear_tf and vectorizer.use_idf and vectorizer.norm == "l2"):
            raise ValueError("the word reading expects sublinear, idf-weighted, l2-normalised TF-IDF features")
        self.analyze: Callable[[str], list[str]] = vectorizer.build_analyzer()
        self.vocabulary: dict[str, int] = {term: offset + index for term, index in vectorizer.vocabulary_.items()}
        self.idf: np.ndarray = np.asarray(vectorizer.idf_)
        self.offset = offset

    def features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The text's nonzero columns (in the union's numbering) and their l2-normalised TF-IDF values."""
        counts = Counter(self.vocabulary[term] for term in self.analyze(text) if term in self.vocabulary)
        if not counts:
            return np.empty(0, dtype=np.int64), np.empty(0)
        columns = np.fromiter(counts, dtype=np.int64, count=len(counts))
        values = (np.log(np.fromiter(counts.values(), dtype=float, count=len(counts))) + 1.0) \
            * self.idf[columns - self.offset]
        return columns, values / np.linalg.norm(values)


class _FastReading:
    """A fitted pipeline's `predict_proba`, without scikit-learn's per-call overhead."""

    def __init__(self, pipeline: Pipeline) -> None:
        parts, offset = [], 0
        for _, vectorizer in pipeline.named_steps["features"].transformer_list:
            parts.append(_TfidfPart(vectorizer, offset))
            offset += len(vectorizer.vocabulary_)
        self._parts = parts
        regression: LogisticRegression = pipeline.named_steps["regression"]
        if regression.multi_class != "auto":
            raise ValueError("the word reading expects the regression's default multi_class='auto'")
        self._weights = np.ascontiguousarray(regression.coef_.T)  # a row per feature: gathered per message
        self._intercept = regression.intercept_
        self._binary = regression.coef_.shape[0] == 1

    def probabilities(self, texts: list[str]) -> np.ndarray:
        scores = np.tile(self._intercept, (len(texts), 1))
        for row, text in enumerate(texts):
            for part in self._parts:
                columns, values = part.features(text)
                scores[row] += values @ self._weights[columns]
        if self._binary:
            positive = expit(scores[:, 0])
            return np.column_stack([1.0 - positive, positive])
        return softmax(scores, axis=1)
