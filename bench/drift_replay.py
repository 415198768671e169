"""Replays a run's turn stream to drift detectors and measures them against the scenario's truth:
turns from the drift point to the first alarm that names a drifting subject, false alarms, and how
well the review queue's proposals find the new topic and label handed-off messages.

The detectors come in through `Detectors` (bench/drift_detectors.py wraps the real ones), so the
accounting here can be tested with small fakes. Not a script; bench/drift.py imports it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bench.drift_scenario import ESCALATION, NEW_TOPIC, NEW_WORDS, Scenario
from bench.drift_stream import Recording, Stream, StreamTurn, StreamVerdict, stale_version

RATE_KINDS = ("fallback_rate", "handoff_rate")
CONFIDENCE_KIND, STALE_KIND = "confidence_shift", "stale_answer"
HANDOFF_RATE_KIND = "handoff_rate"
# Drift kinds measured, with the most turns from the drift point to detection the issue allows. A stale
# answer is detected by either of two alarms on its version (agents' stale verdicts, or customers asking
# for a person right after it); each is also reported alone.
TARGETS = {"stale_answer": 150, "stale_answer_by_verdicts": 150, "stale_answer_by_handoff_rate": 150,
           "rate": 150, "confidence_shift": 500, "new_topic": 600}
PROPOSE_EVERY = 50  # turns between two runs of the review queue's clustering
SUBJECT_SHARE = 0.05  # a subject drifts if it gets at least this share of the drifting turns


@dataclass(frozen=True)
class RaisedAlarm:
    kind: str
    subject: str


@dataclass(frozen=True)
class ProposedCluster:
    label: str | None  # None: a new topic
    texts: tuple[str, ...]


class Detectors(Protocol):
    """A drift monitor and the review queue's clustering, fed one run."""

    def observe_turn(self, turn: StreamTurn) -> list[RaisedAlarm]: ...

    def observe_verdict(self, verdict: StreamVerdict) -> list[RaisedAlarm]: ...

    def propose(self, queued: Sequence[StreamTurn]) -> list[ProposedCluster]: ...


@dataclass(frozen=True)
class SeenAlarm:
    kind: str
    subject: str
    turn_index: int  # turns the detectors had seen when it was raised


@dataclass
class RunResult:
    turns: int
    alarms: list[SeenAlarm] = field(default_factory=list)
    new_topic_found_at: int | None = None  # turns seen when a new-topic proposal first appeared
    proposals: list[ProposedCluster] = field(default_factory=list)  # the last clustering, over the whole run
    queued: list[StreamTurn] = field(default_factory=list)


def new_topic_cluster(proposals: Sequence[ProposedCluster], truth: dict[str, str | None]) -> ProposedCluster | None:
    """The proposal labelled "new topic" holding the most new-topic messages (the truth None)."""
    candidates = [(sum(1 for text in p.texts if text in truth and truth[text] is None), p)
                  for p in proposals if p.label is None]
    best = max(candidates, key=lambda pair: pair[0], default=(0, None))
    return best[1] if best[0] else None


def _finds_new_topic(proposals: Sequence[ProposedCluster], truth: dict[str, str | None]) -> bool:
    """A new-topic proposal mostly made of the new topic's messages."""
    cluster = new_topic_cluster(proposals, truth)
    return cluster is not None and 2 * sum(1 for text in cluster.texts if truth.get(text, "") is None) > len(
        cluster.texts)


def replay(stream: Stream, detectors: Detectors, cluster: bool = True, propose_every: int = PROPOSE_EVERY) -> RunResult:
    """Feeds the stream's turns and verdicts in time order; with `cluster` and a drift point, clusters
    the queue every `propose_every` turns after it until a new topic is proposed, and once at the end."""
    result = RunResult(turns=len(stream.turns))
    truth = {turn.message.text: turn.message.truth for turn in stream.turns}
    for turn in stream.turns:
        seen = turn.index + 1
        result.alarms += [SeenAlarm(a.kind, a.subject, seen) for a in detectors.observe_turn(turn)]
        if turn.queued:
            result.queued.append(turn)
        for verdict in stream.verdicts.get(turn.index, []):
            result.alarms += [SeenAlarm(a.kind, a.subject, seen) for a in detectors.observe_verdict(verdict)]
        if (cluster and stream.drift_point is not None and result.new_topic_found_at is None and seen > stream.drift_point
                and seen % propose_every == 0 and _finds_new_topic(detectors.propose(result.queued), truth)):
            result.new_topic_found_at = seen
    if cluster:
        result.proposals = detectors.propose(result.queued)
    return result


@dataclass(frozen=True)
class DriftingSubjects:
    """What an alarm must name to count as detecting each drift kind."""

    rate: frozenset[str]        # labels the drift's fallbacks and handoffs count for
    confidence: frozenset[str]  # labels the drift's turns are classified as
    stale: str                  # the stale answer's version


def _common(labels: Sequence[str | None]) -> frozenset[str]:
    counts = Counter(label for label in labels if label)
    return frozenset(label for label, count in counts.items() if count >= SUBJECT_SHARE * len(labels))


def drifting_subjects(scenario: Scenario, recording: Recording) -> DriftingSubjects:
    """The subjects the drift moves, from the recording: the intents the monitor counts new-topic,
    new-words and escalation messages for (top of the ranking), each with >= SUBJECT_SHARE of them."""
    drifting = [recording[m.text] for source in (NEW_TOPIC, NEW_WORDS) for m in scenario.messages[source]]
    escalations = [recording[m.text] for m in scenario.messages[ESCALATION]]
    queued = [output.monitored_intent for output in drifting + escalations if output.fallback or output.handed_off]
    return DriftingSubjects(_common(queued), _common([output.monitored_intent for output in drifting]),
                            stale_version(scenario, recording))


def detection_delays(result: RunResult, drift_point: int, subjects: DriftingSubjects) -> dict[str, int | None]:
    """Turns from the drift point to the first alarm naming a drifting subject, per drift kind
    (None: never detected); a stale answer by a stale-answer or a handoff-rate alarm on its version
    (and by each alone); a new topic counts from the first proposal check that found it."""
    def first(matches: Callable[[SeenAlarm], bool]) -> int | None:
        hits = [a.turn_index - drift_point for a in result.alarms if a.turn_index > drift_point and matches(a)]
        return min(hits, default=None)

    found = result.new_topic_found_at
    stale_kinds = (STALE_KIND, HANDOFF_RATE_KIND)
    return {
        "stale_answer": first(lambda a: a.kind in stale_kinds and a.subject == subjects.stale),
        "stale_answer_by_verdicts": first(lambda a: a.kind == STALE_KIND and a.subject == subjects.stale),
        "stale_answer_by_handoff_rate": first(lambda a: a.kind == HANDOFF_RATE_KIND and a.subject == subjects.stale),
        "rate": first(lambda a: a.kind in RATE_KINDS and a.subject in subjects.rate),
        "confidence_shift": first(lambda a: a.kind == CONFIDENCE_KIND and a.subject in subjects.confidence),
        "new_topic": None if found is None else found - drift_point,
    }


def false_alarms(result: RunResult, drift_point: int | None) -> list[SeenAlarm]:
    """Alarms raised before any drift (every alarm of a no-drift run)."""
    return [a for a in result.alarms if drift_point is None or a.turn_index <= drift_point]


@dataclass(frozen=True)
class ProposalQuality:
    new_topic_purity: float | None         # share of the new-topic cluster's messages that are the new topic's
    new_topic_coverage: float | None       # share of the new topic's distinct messages sent that it holds
    handed_off_proposed: float | None      # share of distinct handed-off messages in some proposal
    proposed_labelled_right: float | None  # of those, the share whose proposal has their true label
    fallbacks_labelled_right: float | None = None  # of distinct fallbacks (not handed off) in a labelled
    # proposal, the share whose label is their truth (reported; the issue sets no target)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def proposal_quality(result: RunResult, stream: Stream) -> ProposalQuality:
    """How the run's last clustering did against the scenario's truth (before any lead action)."""
    truth = {turn.message.text: turn.message.truth for turn in stream.turns}
    cluster = new_topic_cluster(result.proposals, truth)
    new_topic_sent = {text for text, label in truth.items() if label is None}
    in_cluster = [text for text in cluster.texts if truth.get(text, "") is None] if cluster else []
    label_of = {text: proposal.label for proposal in result.proposals for text in proposal.texts}
    handed_off = {turn.message.text for turn in result.queued if turn.output.handed_off}
    proposed = [text for text in handed_off if text in label_of]
    fallbacks = {turn.message.text for turn in result.queued if not turn.output.handed_off}
    labelled_fallbacks = [text for text in fallbacks if label_of.get(text) is not None]
    return ProposalQuality(
        new_topic_purity=_share(len(in_cluster), len(cluster.texts)) if cluster else None,
        new_topic_coverage=_share(len(set(in_cluster)), len(new_topic_sent)),
        handed_off_proposed=_share(len(proposed), len(handed_off)),
        proposed_labelled_right=_share(sum(1 for text in proposed if label_of[text] == truth[text]), len(proposed)),
        fallbacks_labelled_right=_share(sum(1 for text in labelled_fallbacks if label_of[text] == truth[text]),
                                        len(labelled_fallbacks)),
    )
