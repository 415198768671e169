"""About how many turns the best detector of the fallback or handoff rate needs, on average, to notice a
scenario's drift within a false-alarm budget: the information limit to read the rate alarm's delays
against.

A sequential test that raises at most one false alarm per N turns needs, as N grows, about
ln(N) / KL turns after a change on average, KL being the Kullback-Leibler divergence (nats per turn)
of what it observes after the change from what it observed before (Lorden, 1971). Page's CUSUM test,
which handoff/drift/rate_rise.py implements, reaches it when it is told the size of the rise, and no
test does better as N grows; at a finite N the figure is an approximation, not a hard floor. The two
distributions come from the scenario and its recording: each phase's shares of message sources, each
message's recorded outcome, and the escalations that follow stale-topic turns (turns of their own).

Not a script; bench/drift.py imports it for its `bound` command.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass

from bench.drift_scenario import AFTER, BEFORE, ESCALATION, STALE_TOPIC, Scenario
from bench.drift_stream import RecordedOutput, Recording

Outcome = Callable[[RecordedOutput], Hashable]

# What a rate detector may observe of a turn: one yes/no, or the three ways a turn can end.
OUTCOMES: dict[str, Outcome] = {
    "fallback (yes/no)": lambda output: output.fallback,
    "handoff (yes/no)": lambda output: output.handed_off,
    "fallback, handoff or answered": lambda output: "fallback" if output.fallback else (
        "handoff" if output.handed_off else "answered"),
}


@dataclass(frozen=True)
class RateBound:
    observed: str
    before: float | None    # the share of turns with a "yes" before the drift (None: not a yes/no)
    after: float | None     # ... and after it
    divergence: float       # KL(after || before), nats per turn
    turns_on_average: float  # ln(turns per false alarm) / divergence (inf: the drift does not change it)


def outcome_shares(scenario: Scenario, recording: Recording, phase: str, outcome: Outcome) -> dict[Hashable, float]:
    """The share of a phase's turns with each outcome: sampled turns by their sources' shares (a message
    of a source uniformly), and an escalation turn after a stale-topic turn at the phase's share."""
    weights: dict[Hashable, float] = defaultdict(float)
    for source, share in scenario.shares[phase].items():
        messages = scenario.messages[source]
        for message in messages:
            weights[outcome(recording[message.text])] += share / len(messages)
    escalating = scenario.shares[phase].get(STALE_TOPIC, 0.0) * scenario.escalation_share[phase]
    escalations = scenario.messages[ESCALATION]
    for message in escalations:
        weights[outcome(recording[message.text])] += escalating / len(escalations)
    total = sum(weights.values())
    return {key: weight / total for key, weight in weights.items()}


def divergence(after: Mapping[Hashable, float], before: Mapping[Hashable, float]) -> float:
    """KL(after || before) in nats; infinite when `after` has an outcome `before` never has."""
    total = 0.0
    for key, share in after.items():
        if share <= 0.0:
            continue
        if before.get(key, 0.0) <= 0.0:
            return math.inf
        total += share * math.log(share / before[key])
    return total


def rate_bounds(scenario: Scenario, recording: Recording, turns_per_false_alarm: int) -> list[RateBound]:
    """The bound for each way of observing a turn in OUTCOMES."""
    bounds = []
    for name, outcome in OUTCOMES.items():
        before = outcome_shares(scenario, recording, BEFORE, outcome)
        after = outcome_shares(scenario, recording, AFTER, outcome)
        kl = divergence(after, before)
        yes_no = set(before) | set(after) <= {True, False}
        bounds.append(RateBound(name, before.get(True, 0.0) if yes_no else None,
                                after.get(True, 0.0) if yes_no else None, kl,
                                math.log(turns_per_false_alarm) / kl if kl > 0 else math.inf))
    return bounds
