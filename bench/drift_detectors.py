"""The real detectors behind bench/drift.py's `Detectors`: the drift monitor of handoff/drift/ and the
review queue's clustering of handoff/review/, fed what production would feed them. The one module of
the benchmark that knows their interfaces.

Not a script; bench/drift.py imports it when it replays.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import SimpleNamespace

from bench.drift_replay import ProposedCluster, RaisedAlarm
from bench.drift_stream import StreamTurn, StreamVerdict
from handoff.drift.monitor import Alarm, DriftMonitor, VerdictObservation
from handoff.drift.observations import turn_observation
from handoff.review.clusters import load_known_examples, propose
from handoff.review.utterances import Utterance
from handoff.settings import DriftSettings
from rasa_bot.settings import PROJECT_ROOT

FALLBACK, HANDOFF = "fallback", "handoff"


def _raised(alarms: Sequence[Alarm]) -> list[RaisedAlarm]:
    return [RaisedAlarm(alarm.kind, alarm.subject) for alarm in alarms]


def turns_row(turn: StreamTurn) -> SimpleNamespace:
    """The turn as the `turns` row the capture wrote for it, so production's own reading of a row
    (handoff.drift.observations.turn_observation) makes the monitor's observation."""
    output = turn.output
    return SimpleNamespace(at=turn.at, conversation_id=turn.conversation_id, model_id=output.model_id,
                           intent=output.intent, top_intents=[dict(entry) for entry in output.top_intents],
                           confidence=output.confidence, answer_version=output.answer_version,
                           fallback=output.fallback, handoff_trigger=HANDOFF if output.handed_off else None)


def utterance(turn: StreamTurn) -> Utterance:
    """The review queue's entry for a fallback or handed-off turn (scenario messages hold no personal data)."""
    return Utterance(text=turn.message.text, conversation_id=turn.conversation_id, at=turn.at,
                     top_intents=[dict(entry) for entry in turn.output.top_intents],
                     reason=HANDOFF if turn.output.handed_off else FALLBACK)


class RealDetectors:
    """A fresh DriftMonitor (default drift settings) and `propose` against the training data."""

    def __init__(self, known_examples: Mapping[str, Sequence[str]], settings: DriftSettings | None = None) -> None:
        self.monitor = DriftMonitor(settings or DriftSettings())
        self.known_examples = known_examples

    def observe_turn(self, turn: StreamTurn) -> list[RaisedAlarm]:
        return _raised(self.monitor.observe_turn(turn_observation(turns_row(turn))))

    def observe_verdict(self, verdict: StreamVerdict) -> list[RaisedAlarm]:
        return _raised(self.monitor.observe_verdict(VerdictObservation(
            at=verdict.at, conversation_id=verdict.conversation_id, kind=verdict.kind, intent=verdict.intent,
            answer_version=verdict.answer_version)))

    def propose(self, queued: Sequence[StreamTurn]) -> list[ProposedCluster]:
        proposals = propose([utterance(turn) for turn in queued], self.known_examples)
        return [ProposedCluster(p.label, tuple(example.text for example in p.examples)) for p in proposals]


def real_detectors(settings: DriftSettings | None = None) -> Callable[[], RealDetectors]:
    """Makes fresh real detectors per run; the training examples are read once."""
    known = load_known_examples(PROJECT_ROOT)
    return lambda: RealDetectors(known, settings)
