"""Groups reviewable messages into proposals for the lead: "more examples for intent X" or "new topic".

Messages are de-duplicated by their normalised form and turned into TF-IDF vectors of character
n-grams (within words, so typos and word endings still match). A message whose nearest known label
is clear and agrees with the bot's own ranking is labelled on its own (handoff.review.labels); the
messages of one label make one proposal. The other messages are clustered with DBSCAN on cosine
distance, among themselves only (with the known material in, DBSCAN chains neighbouring intents
into one blob). A dense cluster whose centroid is near nothing known is a new topic, made of the
members that are not themselves near a label the bot ranked first too, or clearly near one whatever
the bot ranked (those stay unproposed), if enough remain; one whose centroid is clearly near a label
that most of its members' bot rankings agree with gives those members as more examples of that
label. Anything unsure stays unproposed.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix, spmatrix
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
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=NGRAMS, sublinear_tf=True)
    vectorizer.fit([*known_texts, *(u.text for u in unique)])
    vectors = vectorizer.transform([u.text for u in unique])
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
    proposals = [_proposal(label, members, unique, vectors) for label, members in groups.items()]
    known_members = {i for i in undecided if belongs_to_known(nearest[i], bot_labels[i])}
    for cluster in _clusters(undecided, vectors):
        proposals.extend(_cluster_proposal(cluster, unique, vectors, index, known_members, bot_labels))
    return sorted(proposals, key=lambda proposal: (-len(proposal.examples), proposal.key))


def _deduplicated(utterances: Sequence[Utterance]) -> list[Utterance]:
    """The first of each normalised form, in order."""
    seen: dict[str, Utterance] = {}
    for utterance in utterances:
        form = normalise(utterance.text)
        if form and form not in seen:
            seen[form] = utterance
    return list(seen.values())


def _clusters(members: list[int], vectors: spmatrix) -> list[list[int]]:
    """DBSCAN's dense clusters among `members`, those big enough."""
    if len(members) < CLUSTER_MIN_MESSAGES:
        return []
    found = DBSCAN(eps=CLUSTER_DISTANCE, min_samples=CLUSTER_MIN_SAMPLES, metric="cosine").fit_predict(
        vectors[members])
    clusters: dict[int, list[int]] = defaultdict(list)
    for index, cluster in zip(members, found, strict=True):
        if cluster >= 0:  # -1: DBSCAN's noise
            clusters[int(cluster)].append(index)
    return [cluster for cluster in clusters.values() if len(cluster) >= CLUSTER_MIN_MESSAGES]


def _cluster_proposal(cluster: list[int], unique: list[Utterance], vectors: spmatrix, index: LabelIndex,
                      known_members: set[int], bot_labels: list[str | None]) -> list[Proposal]:
    """A new topic of the members not in `known_members` when the cluster's centroid is near nothing
    known (and enough remain); more examples of the centroid's label (its agreeing members) when that
    label is clear and most members' bot rankings agree."""
    centroid = csr_matrix(normalize(np.asarray(vectors[cluster].mean(axis=0))))
    [near] = index.nearest(centroid)
    if is_unknown(near):
        new = [i for i in cluster if i not in known_members]
        return [_proposal(None, new, unique, vectors)] if len(new) >= CLUSTER_MIN_MESSAGES else []
    agreeing = [i for i in cluster if agrees(near.label, bot_labels[i])]
    if is_clear(near) and len(agreeing) > AGREEING_SHARE * len(cluster):
        return [_proposal(near.label, agreeing, unique, vectors)]
    return []


def _proposal(label: str | None, members: list[int], unique: list[Utterance], vectors: spmatrix) -> Proposal:
    """A proposal of `members`, the one nearest their centroid first."""
    rows = vectors[members]
    centroid = np.asarray(rows.mean(axis=0)).ravel()
    typical = np.asarray(rows @ centroid).ravel()
    ordered = [unique[members[i]] for i in np.argsort(-typical, kind="stable")]
    return Proposal(label=label, examples=ordered, key=proposal_key([u.text for u in ordered]))
