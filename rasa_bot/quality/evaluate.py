"""Runs labelled messages through the trained model in-process: NLU, then the policies.

Each message is the first of a new conversation, as a customer would start one; nothing is sent to
the action server (only the next action is predicted). The outcome keeps the raw confidences too, so
the threshold tuning can replay other thresholds without running the model again.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

import structlog
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from tqdm import tqdm

from handoff.answer_gate import (
    ANSWER_CLOSENESS_KEY,
    FALLBACK_INTENT,
    RULE_SOURCES,
    SOURCE_INTENT,
    AnswerDecision,
)
from handoff.nlu_answer_gate import DECISION_KEY
from rasa_bot.quality.examples import LabelledExample

# Actions that answer the customer's request neither with an answer nor with a look-up.
REPHRASE_ACTION = "utter_please_rephrase"
OUT_OF_SCOPE_ACTION = "utter_out_of_scope"


@dataclass(frozen=True)
class Outcome:
    """What the model made of one labelled message."""

    example: LabelledExample
    action: str
    intent: str
    decision: AnswerDecision
    intent_confidence: float
    answer: str | None
    answer_confidence: float | None
    answer_closeness: float | None = None

    @property
    def classified(self) -> str:
        """The intent NLU settled on before the confidence gate (a detected request for a person or a
        judgement cue counts)."""
        if self.decision.source in RULE_SOURCES:
            return self.decision.intent
        return self.decision.classified_intent or self.intent


def evaluate(model: Path, examples: list[LabelledExample], progress: bool = True) -> list[Outcome]:
    """The outcome of every example, in order, each as the first message of a new conversation."""
    logging.getLogger("rasa").setLevel(logging.WARNING)
    # Rasa's structured debug lines (one per policy per message) would drown the report.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    return asyncio.run(_evaluate(model, examples, progress))


async def _evaluate(model: Path, examples: list[LabelledExample], progress: bool) -> list[Outcome]:
    agent = Agent.load(str(model))
    processor = agent.processor
    outcomes = []
    for index, example in enumerate(tqdm(examples, desc="messages", unit="msg", disable=not progress)):
        message = UserMessage(example.text, sender_id=f"quality-{index}")
        tracker = await processor.log_message(message, should_save_tracker=False)
        action, _prediction = processor.predict_next_with_tracker_if_should(tracker)
        outcomes.append(_outcome(example, action.name(), tracker.latest_message.parse_data))
    return outcomes


def _outcome(example: LabelledExample, action: str, parse_data: dict) -> Outcome:
    ranking = {entry["name"]: entry["confidence"] for entry in parse_data.get("intent_ranking") or []}
    decision = AnswerDecision.from_dict(parse_data.get(DECISION_KEY)) or _decision_without_gate(parse_data)
    classified = decision.classified_intent or parse_data["intent"]["name"]
    selectors = parse_data.get("response_selector") or {}
    # The answer the selector would give to this question, for the label's retrieval intent if it has one.
    retrieval = example.intent if example.intent in (selectors.get("all_retrieval_intents") or []) else classified
    selector = selectors.get(retrieval) or {}
    response = selector.get("response") or {}
    return Outcome(
        example=example,
        action=action,
        intent=parse_data["intent"]["name"],
        decision=decision,
        intent_confidence=float(ranking.get(classified, 0.0)),
        answer=response.get("intent_response_key"),
        answer_confidence=None if not response else float(response.get("confidence") or 0.0),
        answer_closeness=response.get(ANSWER_CLOSENESS_KEY),
    )


def _decision_without_gate(parse_data: dict) -> AnswerDecision:
    """What a model trained without the AnswerGate (Rasa's FallbackClassifier) decided, read from its
    intent: so that an older model can be measured the same way."""
    intent = parse_data["intent"]
    classified = next((entry for entry in parse_data.get("intent_ranking") or []
                       if entry["name"] != FALLBACK_INTENT), intent)
    return AnswerDecision(intent=intent["name"], confidence=float(intent.get("confidence") or 0.0),
                          source=SOURCE_INTENT, sure=intent["name"] != FALLBACK_INTENT,
                          classified_intent=classified["name"])
