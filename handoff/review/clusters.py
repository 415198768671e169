"""Groups reviewable messages into proposals for the lead: "more examples for intent X" or "new topic".

Messages are de-duplicated by their normalised form and turned into TF-IDF vectors of character
n-grams (within words, so typos and word endings still match). A message whose nearest known label
is clear and agrees with the bot's own ranking is labelled on its own (handoff.review.labels); the
messages of one label make one proposal. The other messages are clustered with DBSCAN on cosine
distance, among themselves only (with the known material in, DBSCAN chains neighbouring intents
into one blob), on the character n-grams stacked with word TF-IDF: a new topic's own words
("points", "cashback") hold its messages together more than shared letters do. A dense cluster
whose centroid is near nothing known is a new topic, made of the members that are not themselves
near a label the bot ranked first too, or clearly near one whatever the bot ranked (those stay
unproposed), if enough remain; one whose centroid is clearly near a label that most of its members'
bot rankings agree with gives those members as more examples of that label. A message DBSCAN left
alone (no dense neighbourhood) then joins the new topic it is nearest, when that topic is nearer
than every known label: a new topic counts as one more label there. Anything unsure stays
unproposed.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix, hstack, spmatrix
from sklearn.cluster import DBSCAN
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from handoff.review.labels import (
    LabelIndex,
    agrees,
    belongs_to_known,
    bot_label,
    decide,
    is_clear,
    is_unknown,
)
from handoff.review.scrub import scrub
from handoff.review.training_data import labelled_texts
from handoff.review.utterances import Utterance, normalise

TRAINING_DATA = "data"  # under the project root; the held-out sets under tests/ are never read
NGRAMS = (2, 4)  # character n-gram lengths
CLUSTER_DISTANCE = 0.65  # DBSCAN's eps: cosine distance within which two messages are neighbours
CLUSTER_MIN_SAMPLES = 3  # DBSCAN's min_samples: a dense core needs this many messages (itself included)
CLUSTER_MIN_MESSAGES = 5  # distinct messages a cluster needs to be proposed
WORD_WEIGHT = 1.0  # weight of the word TF-IDF beside the character n-grams in the vectors DBSCAN clusters
AGREEING_SHARE = 0.5  # a cluster is more of its centroid's label when more than this share of its bot rankings agree


@dataclass(frozen=True)
class Proposal:
    """A group of messages the lead may accept as training examples of `label`."""

    label: str | None         # "more examples for intent X": X (an intent, or "faq/<topic>"); None = new topic
    examples: list[Utterance] # de-duplicated members, most typical first
    key: str                  # stable id of the cluster (hash of its sorted texts' normalised forms)


def load_known_examples(project_root: Path) -> dict[str, list[str]]:
    """The training texts of data/*.yml by label (an intent, or "faq/<topic>"), entity annotations stripped."""
    known: dict[str, list[str]] = defaultdict(list)
    for label, text in labelled_texts(project_root / TRAINING_DATA):
        known[label].append(text)
    return dict(known)


def proposal_key(texts: Sequence[str]) -> str:
    """The stable id of a group of texts: the same texts give the same key, in any order."""
    joined = "\n".join(sorted(normalise(text) for text in texts))
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:32]


def propose(utterances: Sequence[Utterance], known_examples: Mapping[str, Sequence[str]]) -> list[Proposal]:
    """The proposals for `utterances`, biggest first (see the module docstring)."""
    unique = _deduplicated(utterances)
    if not unique or not known_examples:
        return []
    labels = [label for label, texts in known_examples.items() for _ in texts]
    known_texts = [scrub(text) for texts in known_examples.values() for text in texts]
    texts = [u.text for u in unique]
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=NGRAMS, sublinear_tf=True)
    vectorizer.fit([*known_texts, *texts])
    vectors = vectorizer.transform(texts)
    index = LabelIndex(labels, vectorizer.transform(known_texts))
    groups: dict[str | None, list[int]] = defaultdict(list)
    undecided = []
    nearest = index.nearest(vectors)
    bot_labels = [bot_label(utterance.top_intents) for utterance in unique]
    for i, (near, bot_ranked_first) in enumerate(zip(nearest, bot_labels, strict=True)):
        label = decide(near, bot_ranked_first)
        if label is None:
            undecided.append(i)
        else:
            groups[label].append(i)
    known_members = {i for i in undecided if belongs_to_known(nearest[i], bot_labels[i])}
    clusters = dense_clusters(undecided, clustering_vectors(vectors, [*known_texts, *texts], texts))
    proposals = [_proposal(label, members, unique, vectors) for label, members in groups.items()]
    new_topics = []
    for cluster in clusters:
        label, members = _cluster_label(cluster, vectors, index, known_members, bot_labels)
        if label is None and len(members) >= CLUSTER_MIN_MESSAGES:
            new_topics.append(members)
        elif label is not None and members:
            proposals.append(_proposal(label, members, unique, vectors))
    clustered = {i for cluster in clusters for i in cluster}
    loose = [i for i in undecided if i not in clustered and i not in known_members]
    new_topics = with_nearest_loose(new_topics, loose, vectors, [nearest[i].similarity for i in loose])
    proposals.extend(_proposal(None, members, unique, vectors) for members in new_topics)
    return sorted(proposals, key=lambda proposal: (-len(proposal.examples), proposal.key))


def _deduplicated(utterances: Sequence[Utterance]) -> list[Utterance]:
    """The first of each normalised form, in order."""
    seen: dict[str, Utterance] = {}
    for utterance in utterances:
        form = normalise(utterance.text)
        if form and form not in seen:
            seen[form] = utterance
    return list(seen.values())


def clustering_vectors(char_vectors: spmatrix, fit_texts: Sequence[str], texts: Sequence[str]) -> csr_matrix:
    """`char_vectors` (of `texts`) stacked with the texts' word TF-IDF (weights fitted on `fit_texts`,
    English stop words left out) weighted `WORD_WEIGHT`, each row L2-normalised."""
    words = TfidfVectorizer(analyzer="word", stop_words="english", sublinear_tf=True).fit(fit_texts)
    word_vectors = words.transform(texts)
    return csr_matrix(normalize(hstack([char_vectors, WORD_WEIGHT * word_vectors]).tocsr()))


def dense_clusters(members: Sequence[int], vectors: spmatrix) -> list[list[int]]:
    """DBSCAN's dense clusters among `members` (rows of `vectors`), those big enough."""
    if len(members) < CLUSTER_MIN_MESSAGES:
        return []
    found = DBSCAN(eps=CLUSTER_DISTANCE, min_samples=CLUSTER_MIN_SAMPLES, metric="cosine").fit_predict(
        vectors[list(members)])
    clusters: dict[int, list[int]] = defaultdict(list)
    for index, cluster in zip(members, found, strict=True):
        if cluster >= 0:  # -1: DBSCAN's noise
            clusters[int(cluster)].append(index)
    return [cluster for cluster in clusters.values() if len(cluster) >= CLUSTER_MIN_MESSAGES]


def with_nearest_loose(new_topics: list[list[int]], loose: Sequence[int], vectors: spmatrix,
                       nearest_known: Sequence[float]) -> list[list[int]]:
    """`new_topics` (lists of rows of `vectors`), each grown by the `loose` rows nearer to it than to any
    other new topic and than to every known label (`nearest_known`, each loose row's nearest label's
    closeness): the same closeness as a label's, the mean of the nearest members' similarities."""
    if not new_topics or not loose:
        return new_topics
    names = [str(topic) for topic, members in enumerate(new_topics) for _ in members]
    topic_index = LabelIndex(names, vectors[[i for members in new_topics for i in members]])
    grown = [list(members) for members in new_topics]
    for row, near, known in zip(loose, topic_index.nearest(vectors[list(loose)]), nearest_known, strict=True):
        if near.similarity > known:
            grown[int(near.label)].append(row)
    return grown


def _cluster_label(cluster: list[int], vectors: spmatrix, index: LabelIndex, known_members: set[int],
                   bot_labels: list[str | None]) -> tuple[str | None, list[int]]:
    """(None, its members not in `known_members`) when the cluster's centroid is near nothing known (a
    new topic); (the centroid's label, its agreeing members) when that label is clear and most members'
    bot rankings agree; else no members."""
    centroid = csr_matrix(normalize(np.asarray(vectors[cluster].mean(axis=0))))
    [near] = index.nearest(centroid)
    if is_unknown(near):
        return None, [i for i in cluster if i not in known_members]
    agreeing = [i for i in cluster if agrees(near.label, bot_labels[i])]
    if is_clear(near) and len(agreeing) > AGREEING_SHARE * len(cluster):
        return near.label, agreeing
    return near.label, []


def _proposal(label: str | None, members: list[int], unique: list[Utterance], vectors: spmatrix) -> Proposal:
    """A proposal of `members`, the one nearest their centroid first."""
    rows = vectors[members]
    centroid = np.asarray(rows.mean(axis=0)).ravel()
    typical = np.asarray(rows @ centroid).ravel()
    ordered = [unique[members[i]] for i in np.argsort(-typical, kind="stable")]
    return Proposal(label=label, examples=ordered, key=proposal_key([u.text for u in ordered]))
