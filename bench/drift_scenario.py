"""A drift scenario for bench/drift.py: what traffic the bot sees before and after the drift point,
and how simulated agents judge its handoffs. Read from `bench/scenarios/<name>/` (docs/drift_bench.md,
"Scenarios"), so an unseen scenario runs without a code change.

Not a script; bench/drift.py imports it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

BEFORE, AFTER = "before", "after"
PHASES = (BEFORE, AFTER)
# Where scenario messages come from: ordinary traffic, the stale answer's topic, a topic the bot
# never learned, an existing intent in new words, and the follow-up a customer sends to a wrong answer.
BASE, STALE_TOPIC, NEW_TOPIC, NEW_WORDS, ESCALATION = "base", "stale_topic", "new_topic", "new_words", "escalation"
SOURCES = (BASE, STALE_TOPIC, NEW_TOPIC, NEW_WORDS, ESCALATION)
SAMPLED_SOURCES = (BASE, STALE_TOPIC, NEW_TOPIC, NEW_WORDS)  # escalations only follow a stale-topic turn


class ScenarioError(ValueError):
    """A scenario that cannot run: the message names the file and the field."""


@dataclass(frozen=True)
class Message:
    """One distinct customer message and its truth: the intent or FAQ topic it means."""

    text: str
    label: str
    source: str

    @property
    def truth(self) -> str | None:
        """The label a review proposal should give it: None (a new topic) for the topic the bot never learned."""
        return None if self.source == NEW_TOPIC else self.label


@dataclass(frozen=True)
class Scenario:
    name: str
    directory: Path
    turns: int                                    # customer turns per drift run
    drift_point: int                              # turn index where the drift starts
    no_drift_turns: int                           # turns per no-drift run (false alarms)
    seconds_between_turns: float
    verdict_error_rate: float                     # share of verdicts that are a random other verdict
    verdict_delay_turns: tuple[int, int]          # a verdict arrives this many turns after its handoff
    stale_topic: str                              # the FAQ topic whose answer went stale, e.g. faq/late_fees
    stale_answer: str                             # that answer's response name, e.g. utter_faq/late_fees
    escalation_share: Mapping[str, float]         # per phase: stale-topic turns a customer escalates
    handoff_needed: frozenset[str]                # labels whose handoff an agent calls needed
    shares: Mapping[str, Mapping[str, float]]     # per phase: share of turns per sampled source
    messages: Mapping[str, tuple[Message, ...]]   # per source
    tuning_seeds: tuple[int, ...]
    evaluation_seeds: tuple[int, ...]
    new_topic_label: str                          # what --retrain teaches the new topic as
    new_topic_answer: str | None                  # its answer, when it is taught as a FAQ topic

    def distinct_messages(self) -> list[Message]:
        """Every message of every source, each text once (what a recording sends)."""
        return [message for source in SOURCES for message in self.messages[source]]


def _require(raw: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = raw.get(key)
    if value is None:
        raise ScenarioError(f"{where}: missing field '{key}'")
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ScenarioError(f"{where}: field '{key}' must be {getattr(kind, '__name__', kind)}, not {value!r}")
    return value


def _share(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ScenarioError(f"{where} must be a number from 0 to 1, not {value!r}")
    return float(value)


def _read_messages(path: Path, source: str, seen: dict[str, Message]) -> tuple[Message, ...]:
    """A message file: a mapping from label (intent or faq/<topic>) to a list of customer messages."""
    if not path.is_file():
        raise ScenarioError(f"{path}: message file not found")
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not raw:
        raise ScenarioError(f"{path}: must map labels to lists of messages")
    messages = []
    for label, texts in raw.items():
        if not isinstance(label, str) or not isinstance(texts, list) or not texts:
            raise ScenarioError(f"{path}: label {label!r} must have a non-empty list of messages")
        for text in texts:
            if not isinstance(text, str) or not text.strip():
                raise ScenarioError(f"{path}: label {label}: every message must be non-empty text, not {text!r}")
            key = text.strip().lower()
            if key in seen:
                raise ScenarioError(f"{path}: message {text!r} appears twice (also under {seen[key].label} "
                                    f"in {seen[key].source}): its truth would be ambiguous")
            seen[key] = Message(text.strip(), label, source)
            messages.append(seen[key])
    return tuple(messages)


def _phase_shares(raw: Mapping[str, Any], where: str) -> dict[str, dict[str, float]]:
    shares: dict[str, dict[str, float]] = {}
    for phase in PHASES:
        by_source = _require(raw, phase, dict, where)
        unknown = sorted(set(by_source) - set(SAMPLED_SOURCES))
        if unknown:
            raise ScenarioError(f"{where}.{phase}: unknown sources {unknown}; known: {list(SAMPLED_SOURCES)}")
        shares[phase] = {source: _share(value, f"{where}.{phase}.{source}") for source, value in by_source.items()}
        if not math.isclose(sum(shares[phase].values()), 1.0, abs_tol=1e-6):
            raise ScenarioError(f"{where}.{phase}: shares add up to {sum(shares[phase].values()):.4f}, not 1")
        if shares[phase].get(BASE, 0.0) == 0.0:
            raise ScenarioError(f"{where}.{phase}: needs some base traffic")
    if shares[BEFORE].get(NEW_TOPIC, 0.0) or shares[BEFORE].get(NEW_WORDS, 0.0):
        raise ScenarioError(f"{where}.{BEFORE}: the new topic and the new words are the drift: no share before it")
    return shares


def _seeds(raw: Mapping[str, Any], key: str, where: str) -> tuple[int, ...]:
    seeds = _require(raw, key, list, where)
    if not seeds or not all(isinstance(seed, int) and not isinstance(seed, bool) for seed in seeds):
        raise ScenarioError(f"{where}.{key}: must be a non-empty list of integers")
    return tuple(seeds)


def load_scenario(directory: Path) -> Scenario:
    """The scenario in `directory` (its scenario.yml and message files), or ScenarioError."""
    path = directory / "scenario.yml"
    if not path.is_file():
        raise ScenarioError(f"{path}: not found")
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path}: must be a mapping")
    where = str(path)
    turns = _require(raw, "turns", int, where)
    drift_point = _require(raw, "drift_point", int, where)
    if not 0 < drift_point < turns:
        raise ScenarioError(f"{where}: drift_point {drift_point} must lie inside the run (1 .. {turns - 1})")
    delay = _require(raw, "verdict_delay_turns", list, where)
    if len(delay) != 2 or not all(isinstance(d, int) for d in delay) or not 1 <= delay[0] <= delay[1]:
        raise ScenarioError(f"{where}: verdict_delay_turns must be [least, most] turns, 1 <= least <= most")
    stale = _require(raw, "stale", dict, where)
    escalation = _require(stale, "escalation_share", dict, f"{where}: stale")
    files = _require(raw, "messages", dict, where)
    seen: dict[str, Message] = {}
    messages = {source: _read_messages(directory / _require(files, source, str, f"{where}: messages"), source, seen)
                for source in SOURCES}
    shares = _phase_shares(_require(raw, "shares", dict, where), f"{where}: shares")
    stale_topic = _require(stale, "topic", str, f"{where}: stale")
    if {message.label for message in messages[STALE_TOPIC]} != {stale_topic}:
        raise ScenarioError(f"{where}: every message of the stale topic's file must be labelled {stale_topic}")
    if len({message.label for message in messages[NEW_TOPIC]}) != 1:
        raise ScenarioError(f"{where}: the new topic's file must use one label (the one --retrain teaches)")
    new_topic = raw.get("new_topic") or {}
    tuning, evaluation = _seeds(raw, "tuning_seeds", where), _seeds(raw, "evaluation_seeds", where)
    if set(tuning) & set(evaluation):
        raise ScenarioError(f"{where}: seeds {sorted(set(tuning) & set(evaluation))} are both tuning and "
                            "evaluation seeds")
    return Scenario(
        name=directory.name, directory=directory, turns=turns, drift_point=drift_point,
        no_drift_turns=_require(raw, "no_drift_turns", int, where),
        seconds_between_turns=float(_require(raw, "seconds_between_turns", (int, float), where)),
        verdict_error_rate=_share(_require(raw, "verdict_error_rate", (int, float), where),
                                  f"{where}: verdict_error_rate"),
        verdict_delay_turns=(delay[0], delay[1]), stale_topic=stale_topic,
        stale_answer=_require(stale, "answer", str, f"{where}: stale"),
        escalation_share={phase: _share(_require(escalation, phase, (int, float), f"{where}: stale.escalation_share"),
                                        f"{where}: stale.escalation_share.{phase}") for phase in PHASES},
        handoff_needed=frozenset(_require(raw, "handoff_needed", list, where)),
        shares=shares, messages=messages, tuning_seeds=tuning, evaluation_seeds=evaluation,
        new_topic_label=messages[NEW_TOPIC][0].label, new_topic_answer=new_topic.get("answer"),
    )
