"""Decides, per message, whether the bot is sure enough to answer, and with which confidence.

The confidence that matters is the one of the answer that would be sent: for a retrieval intent
(`faq`) the response selector's confidence in the chosen answer, otherwise the intent's. Checks run
in order of certainty: a request for a person wins first, then a message made only of details (an
order number, an email: `details_intent`), then a judgement case recognised by its phrases
(`handoff.judgement_cues`), then the intent classifier's own confidence, then the answer's, then
how close the question is to what the answer was taught from (its closeness).
When a rule rules out the classifier's first reading (a judgement case in a message that names no case
of ours, a request for a person in one that names nobody), its next reading may stand instead if it is
small talk (`second_reading_intents`): "the man on your phone line was so patient, thanks" is a
thank-you, not a complaint nor a message to rephrase. A message that fails a check becomes an NLU
fallback, so the bot asks to rephrase (and the second fallback in a row hands off). Pure logic, no
Rasa import, so the NLU component, the quality report and the console read the same decision."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any

from handoff.judgement_cues import cued_judgement_intents, names_no_case_of_ours
from handoff.person_request import asks_for_person, mentions_person
from handoff.settings import HandoffSettings

FALLBACK_INTENT = "nlu_fallback"

# What decided: the person-request detector, a judgement cue, the intent classifier, or the response
# selector.
SOURCE_PERSON_REQUEST = "person_request"
SOURCE_JUDGEMENT_CUE = "judgement_cue"
SOURCE_DETAILS = "details"
# Sources that read the message's own words and win over the classifier.
RULE_SOURCES = (SOURCE_PERSON_REQUEST, SOURCE_JUDGEMENT_CUE, SOURCE_DETAILS)
SOURCE_INTENT = "intent"
SOURCE_RESPONSE = "response"
# The chosen answer was sure but its question unlike every example it was taught from.
SOURCE_CLOSENESS = "closeness"
# Where the answer layer puts the chosen answer's closeness in the response selector's prediction.
ANSWER_CLOSENESS_KEY = "closeness"


@dataclass(frozen=True)
class AnswerDecision:
    """The intent the message is handled as, and the confidence that decided it."""

    intent: str
    confidence: float
    source: str
    sure: bool
    threshold: float | None = None
    answer: str | None = None
    classified_intent: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON form stored in the message's parse data under `decision`."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> AnswerDecision | None:
        """Reads the stored form back; anything malformed gives None."""
        if not isinstance(data, Mapping):
            return None
        try:
            return cls(
                intent=str(data["intent"]),
                confidence=min(1.0, max(0.0, float(data["confidence"]))),
                source=str(data["source"]),
                sure=bool(data["sure"]),
                threshold=None if data.get("threshold") is None else float(data["threshold"]),
                answer=None if data.get("answer") is None else str(data["answer"]),
                classified_intent=None if data.get("classified_intent") is None else str(data["classified_intent"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class SelectedAnswer:
    """The response selector's choice for a retrieval intent: the answer's key, its confidence and,
    when the answer layer measures it, the message's closeness to the answer's nearest training example."""

    key: str
    confidence: float
    closeness: float | None = None


class MessageReading:
    """What the rules read in the message's own words, whatever the classifier says. It depends on the
    text alone, so the threshold tuning keeps one per message and replays every threshold on it. Each
    rule runs when first asked: the bot needs "names a person" and "no case of ours" only when the
    classifier's intent calls for them."""

    def __init__(self, text: str | None, settings: HandoffSettings) -> None:
        self._text = text
        self._settings = settings

    @cached_property
    def asks_for_person(self) -> bool:
        return asks_for_person(self._text, self._settings.max_message_bytes)

    @cached_property
    def mentions_person(self) -> bool:
        return mentions_person(self._text, self._settings.max_message_bytes)

    @cached_property
    def cued_judgements(self) -> tuple[str, ...]:
        return tuple(cued_judgement_intents(self._text, self._settings))

    @cached_property
    def names_no_case_of_ours(self) -> bool:
        return names_no_case_of_ours(self._text, self._settings)


def decide_answer(
    text: str | None,
    intent: str | None,
    intent_confidence: float,
    selected: SelectedAnswer | None,
    settings: HandoffSettings,
    details_only: bool = False,
    ranking: Sequence[tuple[str, float]] = (),
    reading: MessageReading | None = None,
) -> AnswerDecision:
    """The decision for one message, from the classifier's top intent and the selected answer;
    `details_only` says the message is nothing but extracted entities (`only_details`); `ranking` is the
    classifier's (intent, confidence) ranking, for its next reading; `reading` is the message's
    `MessageReading`, when already made."""
    classified = intent or FALLBACK_INTENT
    reading = reading or MessageReading(text, settings)
    person_intent = settings.human_request_intents[0] if settings.human_request_intents else None
    if person_intent and reading.asks_for_person:
        return AnswerDecision(
            intent=person_intent, confidence=1.0, source=SOURCE_PERSON_REQUEST, sure=True,
            classified_intent=classified,
        )
    if details_only and settings.details_intent:
        # "anna.berg@example.com" alone is the customer giving a detail, however the classifier reads it.
        return AnswerDecision(
            intent=settings.details_intent, confidence=1.0, source=SOURCE_DETAILS, sure=True,
            classified_intent=classified,
        )
    cued = reading.cued_judgements
    classifier_judged = classified in settings.judgement_intents and intent_confidence >= settings.intent_threshold
    if cued and not (classifier_judged and classified in cued):
        return AnswerDecision(
            intent=cued[0], confidence=1.0, source=SOURCE_JUDGEMENT_CUE, sure=True, classified_intent=classified,
        )
    # A classifier that hears a request for a person in a message naming nobody of ours ("who is the
    # manager of ...", "no human needed") is guessing, as is one that reads a judgement case into someone
    # else's ("my netflix account is locked") and one below the intent threshold.
    guessed_person = classified == person_intent and not reading.mentions_person
    guessed_judgement = classified in settings.judgement_intents and reading.names_no_case_of_ours
    guessed = guessed_person or guessed_judgement
    if guessed and intent_confidence >= settings.intent_threshold:
        second = _second_reading(ranking, settings)
        if second is not None:
            return second
    if guessed or intent_confidence < settings.intent_threshold:
        return AnswerDecision(
            intent=FALLBACK_INTENT, confidence=round(intent_confidence, 4), source=SOURCE_INTENT, sure=False,
            threshold=settings.intent_threshold, classified_intent=classified,
        )
    if selected is not None:
        sure = selected.confidence >= settings.answer_threshold
        if sure and selected.closeness is not None and selected.closeness < settings.answer_closeness_threshold:
            # A confident answer to a question unlike anything it was taught from: a topic the bot never
            # learned ("do you have a loyalty programme") is a fallback, so a person sees it.
            return AnswerDecision(
                intent=FALLBACK_INTENT, confidence=round(selected.closeness, 4), source=SOURCE_CLOSENESS, sure=False,
                threshold=settings.answer_closeness_threshold, answer=selected.key, classified_intent=classified,
            )
        return AnswerDecision(
            intent=classified if sure else FALLBACK_INTENT, confidence=round(selected.confidence, 4),
            source=SOURCE_RESPONSE, sure=sure, threshold=settings.answer_threshold, answer=selected.key,
            classified_intent=classified,
        )
    return AnswerDecision(
        intent=classified, confidence=round(intent_confidence, 4), source=SOURCE_INTENT, sure=True,
        threshold=settings.intent_threshold, classified_intent=classified,
    )


def _second_reading(ranking: Sequence[tuple[str, float]], settings: HandoffSettings) -> AnswerDecision | None:
    """The classifier's best reading once judgement and person intents are ruled out, if it is one of
    `second_reading_intents` and its confidence among the readings left clears `second_reading_threshold`."""
    ruled_out = {*settings.judgement_intents, *settings.human_request_intents, FALLBACK_INTENT}
    left = [(name, confidence) for name, confidence in ranking if name not in ruled_out]
    remaining = 1.0 - sum(confidence for name, confidence in ranking if name in ruled_out)
    if not left or remaining <= 0 or left[0][0] not in settings.second_reading_intents:
        return None
    name, confidence = left[0]
    share = confidence / remaining
    if share < settings.second_reading_threshold:
        return None
    return AnswerDecision(
        intent=name, confidence=round(share, 4), source=SOURCE_INTENT, sure=True,
        threshold=settings.second_reading_threshold, classified_intent=name,
    )


def only_details(text: str | None, entities: Any) -> bool:
    """Whether the message is nothing but entities (Rasa's `entities` list, with character spans) and
    the spaces and punctuation between them."""
    if not text or not isinstance(entities, list) or not entities:
        return False
    rest = list(text)
    for entity in entities:
        start, end = (entity.get("start"), entity.get("end")) if isinstance(entity, Mapping) else (None, None)
        if not isinstance(start, int) or not isinstance(end, int):
            return False
        rest[start:end] = " " * (end - start)
    return not any(character.isalnum() for character in rest)


def selected_answer(response_selector: Any, intent: str | None) -> SelectedAnswer | None:
    """The answer the response selector chose for `intent`, from Rasa's `response_selector` output.

    Rasa keys the output by retrieval intent, or by "default" when the selector was trained on all
    of them; an intent the selector does not answer gives None.
    """
    if not isinstance(response_selector, Mapping) or not intent:
        return None
    output = response_selector.get(intent)
    if output is None and intent in (response_selector.get("all_retrieval_intents") or []):
        output = response_selector.get("default")
    response = (output or {}).get("response") if isinstance(output, Mapping) else None
    if not isinstance(response, Mapping) or not response.get("intent_response_key"):
        return None
    closeness = response.get(ANSWER_CLOSENESS_KEY)
    return SelectedAnswer(key=str(response["intent_response_key"]), confidence=float(response.get("confidence") or 0.0),
                          closeness=float(closeness) if isinstance(closeness, int | float) else None)
