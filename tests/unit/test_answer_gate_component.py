"""The AnswerGate component hands the classifier's ranking to the decision and rewrites the intent."""

from rasa.shared.nlu.training_data.message import Message

from handoff.nlu_answer_gate import DECISION_KEY, AnswerGate
from handoff.settings import HandoffSettings


def _classified(text: str, ranking: list[tuple[str, float]]) -> Message:
    entries = [{"name": name, "confidence": confidence} for name, confidence in ranking]
    return Message(data={"text": text, "intent": entries[0], "intent_ranking": entries})


def test_a_thank_you_read_as_a_settled_case_is_answered_as_a_thank_you() -> None:
    gate = AnswerGate(HandoffSettings(intent_threshold=0.7))
    message = _classified("thanks, turns out the double charge was only a pending authorisation",
                          [("dispute_charge", 0.9), ("thanks", 0.09), ("faq", 0.01)])
    gate.process([message])
    assert message.get("intent")["name"] == "thanks"
    assert message.get("intent_ranking")[0]["name"] == "thanks"
    decision = message.get(DECISION_KEY)
    assert (decision["intent"], decision["sure"], decision["confidence"]) == ("thanks", True, 0.9)


def test_without_small_talk_below_the_ruled_out_reading_the_bot_asks_to_rephrase() -> None:
    gate = AnswerGate(HandoffSettings(intent_threshold=0.7, second_reading_intents=[]))
    message = _classified("thanks, turns out the double charge was only a pending authorisation",
                          [("dispute_charge", 0.9), ("thanks", 0.09), ("faq", 0.01)])
    gate.process([message])
    assert message.get("intent")["name"] == "nlu_fallback"
