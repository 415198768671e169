"""bench/drift.py's own parts: scenario loading and validation, stream sampling, and the figures
computed from a replay, with fake detectors (the real ones are measured by the benchmark)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml

from bench.drift_bound import OUTCOMES, divergence, outcome_shares, rate_bounds
from bench.drift_replay import (
    DriftingSubjects,
    ProposalQuality,
    ProposedCluster,
    RaisedAlarm,
    detection_delays,
    false_alarms,
    proposal_quality,
    replay,
)
from bench.drift_report import SeedResult, summarise
from bench.drift_scenario import AFTER, BEFORE, ESCALATION, NEW_TOPIC, Scenario, ScenarioError, load_scenario
from bench.drift_stream import RecordedOutput, Stream, StreamTurn, StreamVerdict, build_stream
from rasa_bot.settings import PROJECT_ROOT

SHOP = PROJECT_ROOT / "bench" / "scenarios" / "shop"
STALE_VERSION = "v-late-fees"


def write_scenario(directory: Path, **changes: object) -> Path:
    """A small valid scenario in `directory`, with `changes` to scenario.yml's fields."""
    files = {
        "base.yml": {"greet": ["hello", "hi there"], "faq/pay_early": ["can i pay early"],
                     "complaint": ["awful service"]},
        "stale.yml": {"faq/late_fees": ["how much is the late fee", "late fee?"]},
        "new.yml": {"faq/rewards": ["do you have rewards", "points balance", "how do tiers work"]},
        "words.yml": {"check_order_status": ["wheres my stuff"]},
        "escalation.yml": {"request_human": ["wrong, get me a person"]},
    }
    for name, content in files.items():
        (directory / name).write_text(yaml.safe_dump(content))
    scenario = {
        "turns": 400, "drift_point": 100, "no_drift_turns": 500, "seconds_between_turns": 10,
        "verdict_error_rate": 0.05, "verdict_delay_turns": [2, 5],
        "handoff_needed": ["complaint", "request_human"],
        "stale": {"topic": "faq/late_fees", "answer": "utter_faq/late_fees",
                  "escalation_share": {"before": 0.1, "after": 0.5}},
        "new_topic": {"answer": "Rewards: 1 point per euro."},
        "shares": {"before": {"base": 0.8, "stale_topic": 0.2},
                   "after": {"base": 0.4, "stale_topic": 0.2, "new_topic": 0.3, "new_words": 0.1}},
        "messages": {"base": "base.yml", "stale_topic": "stale.yml", "new_topic": "new.yml",
                     "new_words": "words.yml", "escalation": "escalation.yml"},
        "tuning_seeds": [1], "evaluation_seeds": [11, 12],
    }
    scenario.update(changes)
    (directory / "scenario.yml").write_text(yaml.safe_dump(scenario))
    return directory


def output(intent: str, confidence: float, fallback: bool = False, handed_off: bool = False,
           answer: str | None = None, version: str | None = None) -> RecordedOutput:
    ranking = ({"name": "nlu_fallback", "confidence": 0.3}, {"name": intent, "confidence": confidence})
    return RecordedOutput("nlu_fallback" if fallback else intent, confidence, ranking, fallback, handed_off,
                          answer, version, "model-1")


def fake_recording() -> dict[str, RecordedOutput]:
    """The bot of the small scenario: greets, answers FAQs, hands off complaints and escalations,
    falls back on the new topic (ranked faq) and misreads the new words as greetings."""
    late = output("faq", 0.9, answer="utter_faq/late_fees", version=STALE_VERSION)
    return {"hello": output("greet", 0.95), "hi there": output("greet", 0.9),
            "can i pay early": output("faq", 0.9, answer="utter_faq/pay_early", version="v-early"),
            "awful service": output("complaint", 0.9, handed_off=True),
            "how much is the late fee": late, "late fee?": late,
            "do you have rewards": output("faq", 0.4, fallback=True),
            "points balance": output("faq", 0.3, fallback=True, handed_off=True),
            "how do tiers work": output("faq", 0.35, fallback=True),
            "wheres my stuff": output("greet", 0.5),
            "wrong, get me a person": output("request_human", 0.99, handed_off=True)}


def test_the_shipped_scenario_loads_with_the_messages_the_issue_asks_for() -> None:
    scenario = load_scenario(SHOP)
    base_labels = {message.label for message in scenario.messages["base"]}
    assert len(scenario.messages["base"]) >= 300 and len(base_labels) >= 30
    assert len(scenario.messages[NEW_TOPIC]) >= 80 and len(scenario.messages["new_words"]) >= 50
    assert scenario.verdict_error_rate == 0.05 and scenario.turns >= 3000
    assert len(scenario.evaluation_seeds) >= 5 and not set(scenario.tuning_seeds) & set(scenario.evaluation_seeds)
    assert scenario.shares[AFTER][NEW_TOPIC] >= 0.1


@pytest.mark.parametrize(("changes", "complaint"), [
    ({"drift_point": 400}, "drift_point 400 must lie inside the run"),
    ({"shares": {"before": {"base": 0.5}, "after": {"base": 1.0}}}, "add up to 0.5000, not 1"),
    ({"shares": {"before": {"base": 0.9, "new_topic": 0.1}, "after": {"base": 1.0}}}, "no share before it"),
    ({"shares": {"before": {"base": 1.0}, "after": {"base": 0.5, "gossip": 0.5}}}, "unknown sources ['gossip']"),
    ({"verdict_error_rate": 1.5}, "verdict_error_rate must be a number from 0 to 1"),
    ({"turns": "many"}, "field 'turns' must be int"),
    ({"evaluation_seeds": [1, 2]}, "seeds [1] are both tuning and evaluation seeds"),
    ({"messages": {"base": "base.yml"}}, "missing field 'stale_topic'"),
    ({"stale": {"topic": "faq/pay_early", "answer": "utter_faq/pay_early",
                "escalation_share": {"before": 0, "after": 0.5}}}, "must be labelled faq/pay_early"),
])
def test_a_malformed_scenario_is_refused_with_the_reason(tmp_path: Path, changes: dict, complaint: str) -> None:
    with pytest.raises(ScenarioError) as refused:
        load_scenario(write_scenario(tmp_path, **changes))
    assert complaint in str(refused.value)


def test_a_message_under_two_labels_and_a_missing_file_are_refused(tmp_path: Path) -> None:
    write_scenario(tmp_path)
    (tmp_path / "words.yml").write_text(yaml.safe_dump({"check_order_status": ["Hello "]}))
    with pytest.raises(ScenarioError, match="appears twice"):
        load_scenario(tmp_path)
    (tmp_path / "words.yml").unlink()
    with pytest.raises(ScenarioError, match="message file not found"):
        load_scenario(tmp_path)


def test_the_stream_is_the_same_for_a_seed_and_follows_the_shares_and_the_drift_point(tmp_path: Path) -> None:
    scenario = load_scenario(write_scenario(tmp_path))
    stream = build_stream(scenario, fake_recording(), 11, 4000, 1000)
    again = build_stream(scenario, fake_recording(), 11, 4000, 1000)
    other = build_stream(scenario, fake_recording(), 12, 4000, 1000)
    assert stream == again and stream.turns != other.turns and len(stream.turns) == 4000
    assert {turn.phase for turn in stream.turns[:1000]} == {BEFORE}
    assert {turn.phase for turn in stream.turns[1000:]} == {AFTER}
    sampled = [turn for turn in stream.turns[1000:] if turn.message.source != ESCALATION]
    sources = Counter(turn.message.source for turn in sampled)
    assert sources[NEW_TOPIC] / len(sampled) == pytest.approx(0.3, abs=0.03)
    assert not any(turn.message.source in (NEW_TOPIC, "new_words") for turn in stream.turns[:1000])


def test_escalations_follow_stale_turns_and_agents_judge_handoffs_late_and_sometimes_wrong(tmp_path: Path) -> None:
    scenario = load_scenario(write_scenario(tmp_path))
    stream = build_stream(scenario, fake_recording(), 11, 4000, 1000)
    by_index = {turn.index: turn for turn in stream.turns}
    escalations = [turn for turn in stream.turns if turn.message.source == ESCALATION]
    assert escalations and all(by_index[turn.index - 1].message.label == "faq/late_fees"
                               and by_index[turn.index - 1].conversation_id == turn.conversation_id
                               for turn in escalations)
    verdicts = [verdict for due in stream.verdicts.values() for verdict in due]
    handed_off = {turn.conversation_id: turn for turn in stream.turns if turn.output.handed_off}
    assert len(verdicts) == sum(1 for turn in stream.turns if turn.output.handed_off)
    assert all(2 <= verdict.due_index - handed_off[verdict.conversation_id].index <= 5 for verdict in verdicts)
    assert 0.02 <= sum(not verdict.correct for verdict in verdicts) / len(verdicts) <= 0.08
    outdated = [v for v in verdicts if v.correct and v.kind == "outdated"]
    assert outdated and all(v.answer_version == STALE_VERSION and v.due_index > 1000 for v in outdated)


class FakeDetectors:
    """Raises a stale-answer alarm on the first outdated verdict after `wait` of them, a fallback-rate
    alarm for "faq" once `fallbacks` new-topic fallbacks were seen, a rate alarm for "greet" at turn
    30 (a false alarm), a handoff-rate alarm for the stale answer's version at turn 150 after the drift
    point, and once all three new-topic texts are queued proposes two of them with a
    complaint as a new topic, the rest as "complaint"."""

    def __init__(self, fallbacks: int = 5) -> None:
        self.fallbacks, self.seen_fallbacks, self.turns = fallbacks, 0, 0
        self.outdated = 0

    def observe_turn(self, turn: StreamTurn) -> list[RaisedAlarm]:
        self.turns += 1
        if turn.output.fallback:
            self.seen_fallbacks += 1
            if self.seen_fallbacks == self.fallbacks:
                return [RaisedAlarm("fallback_rate", "faq")]
        if turn.phase == AFTER and self.turns == 150:
            return [RaisedAlarm("handoff_rate", STALE_VERSION)]
        return [RaisedAlarm("handoff_rate", "greet")] if self.turns == 30 else []

    def observe_verdict(self, verdict: StreamVerdict) -> list[RaisedAlarm]:
        if verdict.kind == "outdated" and verdict.answer_version == STALE_VERSION:
            self.outdated += 1
            if self.outdated == 2:
                return [RaisedAlarm("stale_answer", STALE_VERSION)]
        return []

    def propose(self, queued: Sequence[StreamTurn]) -> list[ProposedCluster]:
        texts = {turn.message.text for turn in queued}
        if not {"do you have rewards", "points balance", "how do tiers work"} <= texts:
            return []
        new = ("do you have rewards", "points balance", "awful service")
        return [ProposedCluster(None, new), ProposedCluster("complaint", tuple(sorted(texts - set(new))))]


def hand_made_stream(tmp_path: Path) -> tuple[Scenario, Stream]:
    scenario = load_scenario(write_scenario(tmp_path))
    return scenario, build_stream(scenario, fake_recording(), 11, 600, 100)


def test_the_rate_bound_weighs_each_phase_by_its_shares_with_escalations_as_turns_of_their_own(
        tmp_path: Path) -> None:
    scenario = load_scenario(write_scenario(tmp_path))
    recording = fake_recording()
    handed_off = OUTCOMES["handoff (yes/no)"]
    # Before: a complaint (0.8 / 4) and escalations after stale turns (0.2 * 0.1) among 1.02 turns per draw;
    # after: a complaint (0.4 / 4), "points balance" (0.3 / 3) and escalations (0.2 * 0.5) among 1.1.
    before = outcome_shares(scenario, recording, BEFORE, handed_off)
    after = outcome_shares(scenario, recording, AFTER, handed_off)
    assert before[True] == pytest.approx(0.22 / 1.02) and after[True] == pytest.approx(0.3 / 1.1)
    assert sum(before.values()) == pytest.approx(1.0)
    p, q = before[True], after[True]
    kl = q * math.log(q / p) + (1 - q) * math.log((1 - q) / (1 - p))
    bounds = {bound.observed: bound for bound in rate_bounds(scenario, recording, 20_000)}
    assert bounds["handoff (yes/no)"].divergence == pytest.approx(kl)
    assert bounds["handoff (yes/no)"].turns_on_average == pytest.approx(math.log(20_000) / kl)
    # Nothing fell back before the drift: one fallback after it is proof enough, so no turns are needed.
    assert bounds["fallback (yes/no)"].before == 0.0 and bounds["fallback (yes/no)"].turns_on_average == 0.0
    assert divergence(before, before) == 0.0


def test_delays_count_from_the_drift_point_to_the_first_alarm_naming_a_drifting_subject(tmp_path: Path) -> None:
    _, stream = hand_made_stream(tmp_path)
    result = replay(stream, FakeDetectors(), propose_every=10)
    subjects = DriftingSubjects(rate=frozenset({"faq"}), confidence=frozenset({"greet"}), stale=STALE_VERSION)
    delays = detection_delays(result, 100, subjects)
    fallbacks = [turn.index + 1 for turn in stream.turns if turn.output.fallback]
    assert delays["rate"] == fallbacks[4] - 100
    assert delays["confidence_shift"] is None
    outdated_due = sorted(v.due_index + 1 for due in stream.verdicts.values() for v in due
                          if v.kind == "outdated" and v.answer_version == STALE_VERSION)
    assert delays["stale_answer_by_verdicts"] == outdated_due[1] - 100
    assert delays["stale_answer_by_handoff_rate"] == 150 - 100
    assert delays["stale_answer"] == min(outdated_due[1], 150) - 100
    all_three = max(next(t.index + 1 for t in stream.turns if t.message.text == text)
                    for text in ("do you have rewards", "points balance", "how do tiers work"))
    assert delays["new_topic"] == -(-all_three // 10) * 10 - 100
    assert [alarm.turn_index for alarm in false_alarms(result, 100)] == [30]


def test_purity_coverage_and_labelling_of_the_proposals(tmp_path: Path) -> None:
    _, stream = hand_made_stream(tmp_path)
    result = replay(stream, FakeDetectors(), propose_every=10)
    quality = proposal_quality(result, stream)
    # The new-topic cluster: two of the three new-topic texts that reached the queue plus a complaint.
    assert quality.new_topic_purity == pytest.approx(2 / 3)
    assert quality.new_topic_coverage == pytest.approx(2 / 3)
    # Handed off: "awful service" (in the new-topic cluster: wrongly labelled), "points balance"
    # (new topic: right) and the escalation (in "complaint", truth request_human: wrong).
    assert quality.handed_off_proposed == 1.0
    assert quality.proposed_labelled_right == pytest.approx(1 / 3)
    # The fallback "how do tiers work" (new topic) sits in the "complaint" proposal: labelled wrong.
    assert quality.fallbacks_labelled_right == 0.0


def test_a_no_drift_run_counts_every_alarm_and_clusters_nothing(tmp_path: Path) -> None:
    scenario = load_scenario(write_scenario(tmp_path, verdict_error_rate=0))
    calm = build_stream(scenario, fake_recording(), 12, 500, None)
    assert {turn.phase for turn in calm.turns} == {BEFORE}
    assert "outdated" not in {verdict.kind for due in calm.verdicts.values() for verdict in due}
    result = replay(calm, FakeDetectors(), cluster=False)
    assert result.proposals == [] and result.new_topic_found_at is None
    assert [alarm.kind for alarm in false_alarms(result, None)] == ["handoff_rate"]


def test_the_summary_takes_median_and_worst_and_a_missed_detection_fails() -> None:
    good = ProposalQuality(0.9, 0.6, 0.7, 0.96)
    results = [SeedResult(seed, {"stale_answer": delay, "rate": 40, "confidence_shift": 300, "new_topic": 200},
                          good, 0, 20_000, alarms)
               for seed, delay, alarms in ((1, 50, 0), (2, 120, 1), (3, 90, 0))]
    summary = summarise(results)
    assert summary["delays"]["stale_answer"] == {"median": 90, "worst": 120, "missed": 0, "target": 150,
                                                 "pass": True}
    assert summary["false_alarms"]["per_20000"] == pytest.approx(1 / 3) and summary["false_alarms"]["pass"]
    missed = summarise([*results, SeedResult(4, {"stale_answer": None}, good, 0, 20_000, 0)])
    assert missed["delays"]["stale_answer"]["worst"] is None and not missed["delays"]["stale_answer"]["pass"]
    assert missed["quality"]["new_topic_purity"]["pass"]
    assert summary["quality"]["fallbacks_labelled_right"] == {"median": None, "worst": None, "target": None,
                                                             "pass": True}  # reported only, none measured
