"""How the review queue's labelling thresholds (handoff/review/labels.py) behave on the training data
itself, the only labelled data they may be tuned on (the held-out sets under tests/ are not read).

1. Labelling, leave one out: each training example in turn is a "new" message and the rest are the
   known examples. For each (similarity, margin) pair it prints the share of examples that get a
   label (coverage) and the share of those whose label is right (precision): for the nearest label
   alone, and when the label's intent must also be the one the bot ranked first (here assumed the
   true intent: the FAQ topic is then what can still be wrong).
2. New topics, leave one label out: all of a label's examples are removed from the known ones and
   are then "a topic the bot never learned". For each threshold it prints the share of them that
   count as near nothing known (new-topic recall) against the share of examples of known labels that
   would count so too (false new-topic rate, leave one out). Then, per DBSCAN setting, the left-out
   label's far-off examples are clustered with every other label's far-off examples (all nearer than
   `NEW_TOPIC_SIMILARITY` to every label they may see), on the vectors `propose` clusters (character
   n-grams, or with the word TF-IDF) and with or without the messages DBSCAN leaves alone joining the
   cluster they are nearest when it is nearer than every label they may see: the median, over labels,
   of the share of the left-out label in its best cluster (of all its examples) and of that cluster's
   purity.
3. New-topic members: for each cut-off of `KNOWN_MEMBER_SIMILARITY`, the share of a left-out label's
   examples at least that near some other label (a new topic's messages a cluster would lose, if the
   bot ranked that label first too), of those the share lost whatever the bot ranked (that label is
   clearly their nearest: `LABEL_SIMILARITY` and `LABEL_MARGIN`), against the share of the known examples left unlabelled (not
   near or clear enough) that are that near their nearest label, and how often that label is right.

    PYTHONPATH=. .venv/bin/python bench/review_thresholds.py
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import spmatrix
from sklearn.cluster import DBSCAN
from sklearn.feature_extraction.text import TfidfVectorizer

from handoff.review.clusters import NGRAMS, clustering_vectors, load_known_examples, with_nearest_loose
from handoff.review.labels import LABEL_MARGIN, LABEL_SIMILARITY, NEIGHBOURS, NEW_TOPIC_SIMILARITY
from handoff.review.scrub import scrub
from rasa_bot.settings import PROJECT_ROOT

SIMILARITIES = (0.30, 0.35, 0.40, 0.45, 0.50)
MARGINS = (0.0, 0.02, 0.04, 0.06, 0.08)
NEW_TOPIC = (0.20, 0.25, 0.30, 0.35, 0.40)
KNOWN_MEMBER_CUTOFFS = (0.35, 0.40, 0.45, 0.50, 0.55, 0.60)
DBSCAN_SETTINGS = ((0.60, 3), (0.65, 3), (0.70, 3), (0.75, 3), (0.65, 4))  # (eps, min_samples)


def label_scores(similarities: np.ndarray, labels: np.ndarray, names: list[str]) -> np.ndarray:
    """Per row, the mean of the NEIGHBOURS largest similarities to each label's examples."""
    columns = []
    for name in names:
        block = similarities[:, labels == name]
        count = min(NEIGHBOURS, block.shape[1])
        columns.append(np.sort(block, axis=1)[:, -count:].mean(axis=1) if count else np.full(len(block), -1.0))
    return np.column_stack(columns)


def main() -> None:
    known = load_known_examples(PROJECT_ROOT)
    texts = [scrub(text) for examples in known.values() for text in examples]
    labels = np.array([label for label, examples in known.items() for _ in examples])
    names = sorted(known)
    vectors = TfidfVectorizer(analyzer="char_wb", ngram_range=NGRAMS, sublinear_tf=True).fit_transform(texts)
    similarities = (vectors @ vectors.T).toarray()
    np.fill_diagonal(similarities, -1.0)  # leave one out
    scores = label_scores(similarities, labels, names)
    order = np.argsort(-scores, axis=1)
    best = scores[np.arange(len(texts)), order[:, 0]]
    margin = best - scores[np.arange(len(texts)), order[:, 1]]
    right = np.array(names)[order[:, 0]] == labels
    print(f"{len(texts)} training examples, {len(names)} labels; labelling, leave one out:")
    intent_right = np.array([name.split("/")[0] for name in np.array(names)[order[:, 0]]]) == np.array(
        [label.split("/")[0] for label in labels])
    print("similarity  margin  coverage  precision  agreed coverage  agreed precision")
    for similarity in SIMILARITIES:
        for least in MARGINS:
            taken = (best >= similarity) & (margin >= least)
            agreed = taken & intent_right
            print(f"{similarity:10.2f}  {least:6.2f}  {taken.mean():8.3f}  {right[taken].mean():9.3f}  "
                  f"{agreed.mean():15.3f}  {right[agreed].mean():16.3f}")
    unknown_best, unknown_margin = np.empty(len(texts)), np.empty(len(texts))
    for name in names:
        inside = labels == name
        remaining = np.sort(scores[np.ix_(inside, [i for i, other in enumerate(names) if other != name])], axis=1)
        unknown_best[inside] = remaining[:, -1]
        unknown_margin[inside] = remaining[:, -1] - remaining[:, -2]
    print("\nnew topics, leave one label out:")
    print("threshold  new-topic recall  false new-topic rate")
    for threshold in NEW_TOPIC:
        print(f"{threshold:9.2f}  {(unknown_best < threshold).mean():16.3f}  {(best < threshold).mean():19.3f}")

    print("\nnew-topic members, leave one label out: a member at least this near its nearest label is kept out")
    print("cut-off  new topic kept out  of it clear  unclear known kept out  of those, nearest label right")
    unclear = (best < LABEL_SIMILARITY) | (margin < LABEL_MARGIN)
    clear_elsewhere = (unknown_best >= LABEL_SIMILARITY) & (unknown_margin >= LABEL_MARGIN)
    for cut in KNOWN_MEMBER_CUTOFFS:
        kept_out = unclear & (best >= cut)
        print(f"{cut:7.2f}  {(unknown_best >= cut).mean():18.3f}  {((unknown_best >= cut) & clear_elsewhere).mean():11.3f}  "
              f"{kept_out.sum() / unclear.sum():22.3f}  "
              f"{right[kept_out].mean() if kept_out.any() else float('nan'):29.3f}")

    print(f"\nnew-topic clusters (messages nearer than {NEW_TOPIC_SIMILARITY} to every label they may see):")
    print("eps   min_samples  words  loose join  median share  median purity")
    with_words = clustering_vectors(vectors, texts, texts)
    for eps, min_samples in DBSCAN_SETTINGS:
        for words, clustered in ((False, vectors), (True, with_words)):
            for loose_join in (False, True):
                share, purity = new_topic_clusters(clustered, vectors, labels, names, scores, best, eps, min_samples,
                                                   loose_join)
                print(f"{eps:4.2f}  {min_samples:11d}  {'yes' if words else 'no':>5}  {'yes' if loose_join else 'no':>10}"
                      f"  {share:12.2f}  {purity:13.2f}")


def new_topic_clusters(clustered: spmatrix, vectors: spmatrix, labels: np.ndarray, names: list[str],
                       scores: np.ndarray, best: np.ndarray, eps: float, min_samples: int,
                       loose_join: bool) -> tuple[float, float]:
    """Median over left-out labels of (its share in its best cluster, that cluster's purity): DBSCAN on
    `clustered`, loose messages joining by `vectors` (the character n-grams labels are compared in)."""
    shares, purities = [], []
    for index, name in enumerate(names):
        inside = labels == name
        others = [i for i in range(len(names)) if i != index]
        seen_best = np.where(inside, scores[:, others].max(axis=1), best)
        far = np.where(seen_best < NEW_TOPIC_SIMILARITY)[0]
        found = DBSCAN(eps=eps, min_samples=min_samples, metric="cosine").fit_predict(clustered[far])
        groups = [list(far[found == cluster]) for cluster in sorted(set(found) - {-1})]
        if loose_join:
            loose = list(far[found == -1])
            groups = with_nearest_loose(groups, loose, vectors, list(seen_best[loose]))
        share, purity = 0.0, 0.0
        for group in groups:
            ours = int((labels[group] == name).sum())
            if ours / inside.sum() > share:
                share, purity = ours / inside.sum(), ours / len(group)
        shares.append(share)
        purities.append(purity)
    return float(np.median(shares)), float(np.median(purities))


if __name__ == "__main__":
    main()
