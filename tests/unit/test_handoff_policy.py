"""HandoffPolicy against real Rasa trackers and domains."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
from rasa.core.policies.policy import PolicyPrediction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.model_training import train
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain, InvalidDomain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    Event,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from handoff.detect import decide, score_message, turns_from_events
from handoff.policy import HANDOFF_POLICY_PRIORITY, HandoffPolicy

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [greet, check_refund_status, inform, complaint, request_human, nlu_fallback]
responses:
  utter_answer:
    - text: "Here is what I know."
  utter_please_rephrase:
    - text: "Could you say that another way?"
  utter_complaint:
    - text: "Sorry to hear that."
actions: [action_handoff]
"""
)
HANDOFF = "action_handoff"


@pytest.fixture
def storage(tmp_path: Path) -> LocalModelStorage:
    return LocalModelStorage(tmp_path)


@pytest.fixture
def policy(storage: LocalModelStorage) -> HandoffPolicy:
    return HandoffPolicy.create(
        HandoffPolicy.get_default_config(), storage, Resource("handoff_policy"), ExecutionContext(GraphSchema({}))
    )


def said(text: str, intent: str, confidence: float = 0.9, scored: bool = True) -> list[Event]:
    """The customer's message as Rasa logs it; `scored` as if FrustrationScorer is in the pipeline."""
    parse_data = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": []}
    if scored:
        parse_data["frustration"] = score_message(text).as_dict()
    return [UserUttered(text, parse_data["intent"], [], parse_data)]


def answered(action: str = "utter_answer") -> list[Event]:
    """The bot's reply, then listening again."""
    return [ActionExecuted(action), BotUttered("..."), ActionExecuted(ACTION_LISTEN_NAME)]


def tracker_of(*parts: list[Event]) -> DialogueStateTracker:
    events = [ActionExecuted(ACTION_LISTEN_NAME)] + [event for part in parts for event in part]
    return DialogueStateTracker.from_events("customer-1", events, slots=DOMAIN.slots)


def predicts_handoff(policy: HandoffPolicy, tracker: DialogueStateTracker) -> bool:
    prediction = policy.predict_action_probabilities(tracker, DOMAIN)
    assert prediction.policy_priority == HANDOFF_POLICY_PRIORITY
    if max(prediction.probabilities) == 0.0:
        return False
    assert prediction.probabilities[DOMAIN.index_for_action(HANDOFF)] == 1.0
    assert sum(prediction.probabilities) == 1.0
    return True


def reason(tracker: DialogueStateTracker) -> str | None:
    """The reason the handoff action will record: the same function on the same events."""
    decision = decide(turns_from_events([event.as_dict() for event in tracker.events]))
    return decision.reason if decision else None


FRUSTRATED = [
    said("where is my refund?", "check_refund_status"), answered(),
    said("I returned the item two weeks ago, where is my refund", "check_refund_status"), answered(),
    said("that's not what I asked. where is my refund??", "check_refund_status"), answered(),
    said("this is useless, WHY IS IT SO HARD TO GET MY MONEY BACK", "check_refund_status"),
]


def test_priority_is_above_rule_policy(policy: HandoffPolicy) -> None:
    assert policy.priority == HANDOFF_POLICY_PRIORITY > RulePolicy.get_default_config()["priority"]


def test_frustrated_conversation_hands_off(policy: HandoffPolicy) -> None:
    tracker = tracker_of(*FRUSTRATED)
    assert predicts_handoff(policy, tracker)
    assert reason(tracker) == "frustration"


def test_frustration_is_scored_from_text_when_nlu_did_not(policy: HandoffPolicy) -> None:
    unscored = [
        said(event.text, event.intent_name, scored=False) if isinstance(event, UserUttered) else [event]
        for part in FRUSTRATED for event in part
    ]
    assert predicts_handoff(policy, tracker_of(*unscored))


def test_frustration_builds_up_before_it_hands_off(policy: HandoffPolicy) -> None:
    assert not predicts_handoff(policy, tracker_of(*FRUSTRATED[:5]))


def test_one_rude_message_abstains(policy: HandoffPolicy) -> None:
    tracker = tracker_of(said("hi", "greet"), answered(), said("where the hell is my refund!!", "check_refund_status"))
    assert not predicts_handoff(policy, tracker)


def test_two_fallbacks_in_a_row_hand_off(policy: HandoffPolicy) -> None:
    tracker = tracker_of(said("blorp", "nlu_fallback", 0.3), answered("utter_please_rephrase"),
                         said("qwzx vvv", "nlu_fallback", 0.2))
    assert predicts_handoff(policy, tracker)
    assert reason(tracker) == "low_nlu_confidence"


def test_one_fallback_abstains(policy: HandoffPolicy) -> None:
    tracker = tracker_of(said("hi", "greet"), answered(), said("blorp", "nlu_fallback", 0.3))
    assert not predicts_handoff(policy, tracker)


def test_complaint_hands_off_for_judgement(policy: HandoffPolicy) -> None:
    tracker = tracker_of(said("I want to make a complaint", "complaint"))
    assert predicts_handoff(policy, tracker)
    assert reason(tracker) == "judgement:complaint"


def test_request_for_a_person_hands_off(policy: HandoffPolicy) -> None:
    tracker = tracker_of(said("let me talk to a person", "request_human"))
    assert predicts_handoff(policy, tracker)
    assert reason(tracker) == "explicit_request"


@pytest.mark.parametrize(
    "boundary",
    [[ActionExecuted(HANDOFF)], [ConversationResumed()]],
    ids=["after action_handoff", "after resume"],
)
def test_counters_restart_after_a_handoff(policy: HandoffPolicy, boundary: list[Event]) -> None:
    fallback_then_boundary = [said("blorp", "nlu_fallback", 0.3), boundary, answered()]
    assert not predicts_handoff(policy, tracker_of(*fallback_then_boundary, said("qwzx", "nlu_fallback", 0.2)))
    angry_then_boundary = [*FRUSTRATED[:5], boundary, answered()]
    assert not predicts_handoff(policy, tracker_of(*angry_then_boundary, FRUSTRATED[-1]))


def test_paused_conversation_abstains(policy: HandoffPolicy) -> None:
    tracker = tracker_of([ConversationPaused()], said("let me talk to a person", "request_human"))
    assert tracker.is_paused()
    assert not predicts_handoff(policy, tracker)


def test_abstains_once_an_action_has_run_after_the_message(policy: HandoffPolicy) -> None:
    tracker = tracker_of(said("let me talk to a person", "request_human"), [ActionExecuted("utter_answer")])
    assert not predicts_handoff(policy, tracker)


def test_abstains_on_intents_injected_through_the_api(policy: HandoffPolicy) -> None:
    tracker = tracker_of([UserUttered.create_external("request_human")])
    assert not predicts_handoff(policy, tracker)


def test_wins_over_a_rule_in_the_ensemble(policy: HandoffPolicy) -> None:
    tracker = tracker_of(said("I want to make a complaint", "complaint"))
    rule = [0.0] * DOMAIN.num_actions
    rule[DOMAIN.index_for_action("utter_complaint")] = 1.0
    rule_prediction = PolicyPrediction(rule, "RulePolicy", RulePolicy.get_default_config()["priority"])
    ours = policy.predict_action_probabilities(tracker, DOMAIN)
    best = DefaultPolicyPredictionEnsemble().combine_predictions(
        [rule_prediction, ours], tracker=tracker, domain=DOMAIN
    )
    assert best.policy_name == "HandoffPolicy"
    assert DOMAIN.action_names_or_texts[best.max_confidence_index] == HANDOFF


def test_train_checks_the_domain_and_load_needs_no_files(policy: HandoffPolicy, storage: LocalModelStorage) -> None:
    resource = policy.train([], DOMAIN)
    loaded = HandoffPolicy.load(
        HandoffPolicy.get_default_config(), storage, resource, ExecutionContext(GraphSchema({}))
    )
    assert predicts_handoff(loaded, tracker_of(said("let me talk to a person", "request_human")))
    with pytest.raises(InvalidDomain, match="action_handoff"):
        policy.train([], Domain.from_yaml('version: "3.1"\nintents: [greet]\n'))


ASSISTANT = {
    "config.yml": """
recipe: default.v1
language: en
assistant_id: handoff-policy-test
pipeline:
  - name: WhitespaceTokenizer
  - name: KeywordIntentClassifier
    case_sensitive: false
  - name: handoff.nlu_frustration.FrustrationScorer
policies:
  - name: RulePolicy
  - name: handoff.policy.HandoffPolicy
""",
    "domain.yml": """
version: "3.1"
intents: [greet, request_human]
responses:
  utter_greet:
    - text: "Hi!"
actions: [action_handoff]
""",
    "data.yml": """
version: "3.1"
nlu:
- intent: greet
  examples: |
    - hello
    - hi
- intent: request_human
  examples: |
    - human
    - person
rules:
- rule: a rule that a due handoff must override
  steps:
  - intent: request_human
  - action: utter_greet
- rule: greet
  steps:
  - intent: greet
  - action: utter_greet
""",
}


def test_trained_assistant_hands_off_over_its_own_rules(tmp_path: Path) -> None:
    for name, text in ASSISTANT.items():
        (tmp_path / name).write_text(text)
    result = train(str(tmp_path / "domain.yml"), str(tmp_path / "config.yml"), [str(tmp_path / "data.yml")],
                   str(tmp_path / "models"))
    agent = Agent.load(result.model)

    async def next_action(sender: str, text: str) -> tuple[str, str]:
        tracker = await agent.processor.log_message(UserMessage(text, sender_id=sender))
        prediction = agent.processor.predict_next_with_tracker(tracker)
        best = max(prediction["scores"], key=lambda score: score["score"])
        return best["action"], prediction["policy"]

    assert asyncio.run(next_action("a", "hello")) == ("utter_greet", "RulePolicy")
    assert asyncio.run(next_action("b", "a human please")) == (HANDOFF, "HandoffPolicy")



def test_listens_right_after_a_handoff(policy: HandoffPolicy) -> None:
    tracker = tracker_of(said("get me a human", "request_human"), [ActionExecuted("action_handoff"), BotUttered("...")])
    prediction = policy.predict_action_probabilities(tracker, DOMAIN)
    assert prediction.probabilities[DOMAIN.index_for_action(ACTION_LISTEN_NAME)] == 1.0
