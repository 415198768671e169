"""The monitor's own rules: a model change resets every reference (a retrain raises nothing), the state
survives a round trip, a subject alarms once per cool-down, verdicts find stale answers (recent ones)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import datetime, timedelta

import numpy as np

from handoff.drift.confidence_shift import population_stability_index
from handoff.drift.monitor import Alarm, DriftMonitor, TurnObservation, VerdictObservation
from handoff.settings import DriftSettings
from tests.drift.simulation import DRIFTING, FALLBACK, Stream, replay, simulate

START = datetime(2026, 3, 1)


def test_a_model_change_that_moves_every_confidence_raises_nothing() -> None:
    stream = simulate(7, 6000, model_change_at=3000)
    assert replay(stream, DriftMonitor(DriftSettings())) == []
    # the same confidence change without a new model id is an alarm: the reset is what keeps it quiet
    same_model = Stream([TurnObservation(**{**event.__dict__, "model_id": "m-1"})
                         if isinstance(event, TurnObservation) else event for event in stream.events])
    assert any(alarm.kind == "confidence_shift" for alarm in replay(same_model, DriftMonitor(DriftSettings())))


def test_a_monitor_restored_from_its_state_raises_what_the_original_would() -> None:
    stream = simulate(0, 4500, FALLBACK, 3000)
    whole = replay(stream, DriftMonitor(DriftSettings()))
    first = DriftMonitor(DriftSettings())
    replay(Stream(stream.events[:3050]), first)
    restored = DriftMonitor.from_state(DriftSettings(), json.loads(json.dumps(first.to_state())))
    assert replay(Stream(stream.events[3050:]), restored) == [alarm for alarm in whole if alarm.turn_index > 3050]
    assert any(alarm.subject == DRIFTING for alarm in whole)


def turn(index: int, fallback: bool) -> TurnObservation:
    return TurnObservation(START + timedelta(seconds=index), f"c{index}", "m-1", "check_balance", 0.9, None,
                           fallback, False)


def test_a_lasting_rise_alarms_once_per_cool_down() -> None:
    monitor = DriftMonitor(DriftSettings(warmup_turns=0, cooldown_turns=10_000))
    alarms = [alarm for index in range(400) for alarm in monitor.observe_turn(turn(index, False))]
    alarms += [alarm for index in range(400, 1400) for alarm in monitor.observe_turn(turn(index, index % 2 == 0))]
    assert [(alarm.kind, alarm.subject) for alarm in alarms] == [("fallback_rate", "check_balance")]
    assert alarms[0].turn_index < 420 and alarms[0].since >= START + timedelta(seconds=400)


def test_three_outdated_verdicts_about_one_answer_version_are_a_stale_answer() -> None:
    monitor = DriftMonitor(DriftSettings(stale_pair_turns=0))  # the count alone (pairs: the next test)
    verdicts = [VerdictObservation(START, f"c{n}", kind, None, "abc123")
                for n, kind in enumerate(["needed", "outdated", "needed", "wrong_answer", "outdated"])]
    alarms = [alarm for verdict in verdicts for alarm in monitor.observe_verdict(verdict)]
    assert [(alarm.kind, alarm.subject, alarm.examples) for alarm in alarms] == [
        ("stale_answer", "abc123", ["c4", "c3", "c1"])]
    assert monitor.observe_verdict(VerdictObservation(START, "c9", "outdated", None, None)) == []


def test_outdated_verdicts_further_apart_than_the_horizon_are_no_stale_answer() -> None:
    monitor = DriftMonitor(DriftSettings(stale_horizon_turns=100, stale_pair_turns=0))  # the count alone
    alarms = []
    for n in range(3):  # an agent's slip about this answer every 60 turns: never 3 within 100 turns
        alarms += [alarm for index in range(60) for alarm in monitor.observe_turn(turn(60 * n + index, False))]
        alarms += monitor.observe_verdict(VerdictObservation(START, f"c{n}", "outdated", None, "abc123"))
    assert alarms == []
    alarms = [alarm for n in range(3, 6)
              for alarm in monitor.observe_verdict(VerdictObservation(START, f"c{n}", "outdated", None, "abc123"))]
    assert [(alarm.kind, alarm.subject) for alarm in alarms] == [("stale_answer", "abc123")]


def test_two_outdated_verdicts_close_together_are_a_stale_answer_and_far_apart_are_not() -> None:
    monitor = DriftMonitor(DriftSettings(stale_pair_turns=40, stale_min_count=5))  # the pair alone
    alarms = monitor.observe_verdict(VerdictObservation(START, "c1", "outdated", None, "abc123"))
    alarms += [alarm for index in range(41) for alarm in monitor.observe_turn(turn(index, False))]
    alarms += monitor.observe_verdict(VerdictObservation(START, "c2", "outdated", None, "abc123"))
    assert alarms == []  # 41 turns apart
    alarms += [alarm for index in range(41, 81) for alarm in monitor.observe_turn(turn(index, False))]
    alarms += monitor.observe_verdict(VerdictObservation(START, "c2", "outdated", None, "abc123"))
    assert alarms == []  # 40 turns apart, but the same conversation twice
    alarms += monitor.observe_verdict(VerdictObservation(START, "c3", "outdated", None, "abc123"))
    assert [(alarm.kind, alarm.subject, alarm.examples) for alarm in alarms] == [
        ("stale_answer", "abc123", ["c3", "c2", "c1"])]


def test_population_stability_index_is_zero_for_equal_windows_and_grows_with_the_shift() -> None:
    rng = np.random.default_rng(1)
    same = population_stability_index(rng.beta(8, 2, 2000), rng.beta(8, 2, 2000))
    shifted = population_stability_index(rng.beta(8, 2, 2000), rng.beta(4, 3, 2000))
    assert same < 0.05 and shifted > 0.25

def answered(index: int, conversation: str, version: str | None, handed_off: bool) -> TurnObservation:
    """A single-intent turn 20 s after the previous one (180 turns an hour)."""
    return TurnObservation(START + timedelta(seconds=20 * index), conversation, "m-1", "faq", 0.9, version,
                           False, handed_off)


def test_an_answer_followed_by_silence_counts_as_not_handed_off_after_follow_up_seconds() -> None:
    follow_ups = DriftMonitor(DriftSettings(follow_up_seconds=600)).follow_ups
    assert follow_ups.turn("a", ["v1"], START, False) == []
    assert follow_ups.turn("b", [], START + timedelta(seconds=599), False) == []
    [outcome] = follow_ups.turn("c", [], START + timedelta(seconds=600), False)
    assert (outcome.version, outcome.handed_off, outcome.conversation_id) == ("v1", False, "a")
    # a conversation that writes again in time settles its answer by that turn, handed off or not
    follow_ups.turn("d", ["v2"], START + timedelta(seconds=700), False)
    [outcome] = follow_ups.turn("d", [], START + timedelta(seconds=720), True)
    assert (outcome.version, outcome.handed_off) == ("v2", True)
    assert follow_ups.waiting == {}


def test_an_answer_that_sends_customers_to_a_person_raises_a_handoff_rate_alarm_on_its_version() -> None:
    """Single-turn conversations (answered, never heard from again) until turn 1,000; from then on a
    third of the customers given answer version "late" ask for a person in their next turn."""
    monitor = DriftMonitor(DriftSettings())
    alarms, index = [], 0
    while index < 1600:
        version = "late" if index % 10 == 0 else f"other{index % 7}"
        alarms += monitor.observe_turn(answered(index, f"c{index}", version, False))
        if version == "late" and index >= 1000 and index % 30 == 0:
            index += 1
            alarms += monitor.observe_turn(answered(index, f"c{index - 1}", None, True))
        index += 1
    assert [(alarm.kind, alarm.subject) for alarm in alarms] == [("handoff_rate", "late")]
    assert 1000 < alarms[0].turn_index < 1300


TWELVE = [f"intent_{index:02d}" for index in range(12)]
DRIFTING_HALF = set(TWELVE[:6])


def first_alarm_of_a_spread_drift(seed: int, turns: int, drift_at: int,
                                  turn_of: Callable[[random.Random, bool], tuple[float, bool]]) -> Alarm:
    """Twelve intents with equal traffic; from `drift_at` on half of them drift: `turn_of(rng, drifting)`
    gives a turn's (confidence, fallback)."""
    rng = random.Random(seed)
    monitor = DriftMonitor(DriftSettings())
    alarms: list[Alarm] = []
    for index in range(turns):
        intent = rng.choice(TWELVE)
        confidence, fallback = turn_of(rng, index >= drift_at and intent in DRIFTING_HALF)
        alarms += monitor.observe_turn(TurnObservation(START + timedelta(seconds=index), f"c{index}", "m-1", intent,
                                                       confidence, None, fallback, False))
    return alarms[0]


def assert_names_only_drifting_intents(alarm: Alarm) -> None:
    named = alarm.detail.split("the rise falls on ")[1]
    assert all(name not in named for name in set(TWELVE) - DRIFTING_HALF), alarm.detail


def test_a_rise_spread_over_many_intents_is_found_on_all_of_them_and_names_where_it_fell() -> None:
    # Half of twelve intents fall back 23 % of the time instead of 8 %: each one's own test needs about a
    # thousand turns (a twelfth of the traffic), the fallback rate over all turns (8 % -> 15.5 %) fewer.
    first = first_alarm_of_a_spread_drift(5, 2500, 1500, lambda rng, drifting: (
        0.9, rng.random() < (0.23 if drifting else 0.08)))
    assert first.kind == "fallback_rate" and first.subject in DRIFTING_HALF and 1500 < first.turn_index < 2100
    assert first.detail.startswith("fallback rate of all intents rose from ")
    assert_names_only_drifting_intents(first)


def test_a_confidence_drop_spread_over_many_intents_is_a_confidence_shift_naming_them() -> None:
    # New phrasings under half of twelve intents: their confidences fall from about 0.9 to about 0.6, each
    # intent's own reference (150 of its turns) takes some 1,800 turns to fill.
    first = first_alarm_of_a_spread_drift(11, 1500, 800, lambda rng, drifting: (
        rng.betavariate(3, 2) if drifting and rng.random() < 0.5 else rng.betavariate(12, 1.5), False))
    assert first.kind == "confidence_shift" and first.subject in DRIFTING_HALF and 800 < first.turn_index < 1100
    assert first.detail.startswith("share of all intents' turns decided with a confidence below ")
    assert_names_only_drifting_intents(first)


def test_a_subject_that_always_hands_off_never_looks_like_a_rise() -> None:
    # Its reference rate sits at the ceiling, where a rise of `rate_rise` is impossible: scored anyway, each
    # turn added a sliver of evidence and the subject alarmed after some 9,000 turns.
    monitor = DriftMonitor(DriftSettings())
    alarms = [alarm for index in range(12_000) for alarm in monitor.observe_turn(
        TurnObservation(START + timedelta(seconds=index), f"c{index}", "m-1", "request_human", 1.0, None, False, True))]
    assert alarms == []
