"""Decides whether a conversation should go to a person, and why.

Pure logic (no Rasa import) shared by the NLU component, the policy and the handoff action, so that
all of them reach the same decision from the same events. A message's frustration is a weighted sum
of signals, each in [0, 1], capped per message; the conversation's frustration is the sum of its
turns' scores, each multiplied by `frustration_decay` once per later turn. One rude message therefore
never hands off, a conversation that keeps souring does, and anger from long ago fades.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from handoff.settings import HandoffSettings, get_handoff_settings

SENTIMENT = "sentiment"
CAPS = "caps"
PUNCTUATION = "punctuation"
PROFANITY = "profanity"
NEGATIVE_FEEDBACK = "negative_feedback"
REPEATED_QUESTION = "repeated_question"

EXPLICIT_REQUEST = "explicit_request"
JUDGEMENT_PREFIX = "judgement:"
LOW_NLU_CONFIDENCE = "low_nlu_confidence"
FRUSTRATION = "frustration"
LOW_ACTION_CONFIDENCE = "low_action_confidence"

# Events after which the customer starts afresh: the bot handed off, an agent handed back, or a new
# conversation or session began.
_RESET_EVENTS = frozenset({"resume", "restart", "session_started"})

# A turn whose weight (decay ** age) is below this adds under 1% of one message's score: skipping it
# keeps the cost of a decision flat however long the conversation grows.
_NEGLIGIBLE_TURN_WEIGHT = 0.01

# Priority of a reason or judgement intent missing from the priority settings: the middle of 1..5.
_UNLISTED_PRIORITY = 3

# Words shorter than this are too short to tell shouting from an acronym ("OK", "ID").
_MIN_WORD_LETTERS = 3
# A three-letter all-caps word is usually an acronym (FAQ, PIN, ATM); it counts as shouted only when
# the same message has a longer shouted word too.
_MIN_SHOUT_LETTERS = 4

_PUNCTUATION_RUN = re.compile(r"[!?]{2,}")

_MILD_PROFANITY = (
    r"damn\w*", r"dammit", r"crap\w*", r"hell", r"bloody", r"suck(?:s|ed|y)?", r"screw (?:you|this|it)",
    r"freaking", r"frick\w*", r"effing", r"piss(?:ed|es|ing)?", r"heck",
)
_STRONG_PROFANITY = (
    r"fuck\w*", r"f[*#@$]+(?:c?k|ing)\w*", r"motherf\w*", r"shit\w*", r"sh[*#@$]+t\w*", r"bullshit",
    r"asshole\w*", r"arsehole\w*", r"dumbass", r"bastard\w*", r"bitch\w*", r"dickhead\w*", r"cunt\w*",
    r"wtf", r"stfu",
)
_NEGATIVE_FEEDBACK = (
    r"useless", r"pointless", r"hopeless", r"unhelpful", r"(?:no|zero) help",
    r"(?:not|isn'?t|wasn'?t|aren'?t|never) (?:very |really |at all |even )?helpful",
    r"(?:does|did|do)(?:n'?t| not) help",
    r"(?:you|u|bot|it) (?:do|does|did)(?:n'?t| not) (?:understand|get it|listen|read)",
    r"(?:you'?re|you are|ur) not (?:listening|understanding|helping|reading)",
    r"not what i (?:asked|meant|said|wanted?)",
    r"(?:stupid|dumb|useless|idiotic|terrible|worst|silly) (?:bot|robot|machine|assistant|chatbot|ai|thing)",
    r"(?:you'?re|you are|ur) (?:useless|stupid|dumb|an idiot|a joke|rubbish|hopeless|a waste)",
    r"(?:this|that|it) (?:is|was) (?:rubbish|garbage|a joke|nonsense|ridiculous)",
    r"waste of (?:my )?time", r"makes? no sense", r"doesn'?t (?:answer|make sense)", r"wrong answer",
    r"(?:answer|read) my (?:question|message)", r"already (?:told|said|asked)",
    r"just (?:told|said) (?:you|that)",
    r"how many times", r"same (?:answer|thing|reply|response) again", r"talking to a (?:wall|robot|brick)",
)


def _any_of(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One case-insensitive regex matching any pattern as whole words ('hell' never matches 'hello')."""
    return re.compile(r"(?<!\w)(?:" + "|".join(patterns) + r")(?!\w)", re.IGNORECASE)


_MILD_RE = _any_of(_MILD_PROFANITY)
_STRONG_RE = _any_of(_STRONG_PROFANITY)
_FEEDBACK_RE = _any_of(_NEGATIVE_FEEDBACK)

# Words that carry no topic: two questions sharing only these are not the same question.
_STOPWORDS = frozenset({
    "the", "and", "for", "you", "your", "are", "was", "were", "this", "that", "with", "have", "has", "had",
    "not", "what", "where", "when", "how", "why", "who", "which", "can", "could", "would", "should", "will",
    "does", "did", "don", "doesn", "didn", "isn", "aren", "wasn", "cant", "wont", "please", "just", "still",
    "again", "there", "here", "about", "from", "into", "any", "some", "get", "got", "want", "need", "know",
    "tell", "asked", "ask", "said", "told", "already", "really", "very", "now", "yet", "thanks", "thank",
    "hello", "they", "them", "its", "mine", "our",
})


@dataclass(frozen=True)
class MessageFrustration:
    """Frustration read from one message alone: the capped weighted score and each signal in [0, 1]."""

    score: float
    signals: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        """The JSON form stored in the message's parse data."""
        return {"score": self.score, "signals": dict(self.signals)}

    @classmethod
    def from_dict(cls, data: Any) -> MessageFrustration | None:
        """Reads the stored form back; anything malformed gives None so the text is scored afresh."""
        if not isinstance(data, Mapping) or not isinstance(data.get("signals"), Mapping):
            return None
        try:
            # Clamped: parse data can be written through the HTTP API, so it is not trusted blindly.
            signals = {str(name): min(1.0, max(0.0, float(value))) for name, value in data["signals"].items()}
            return cls(score=float(data.get("score", 0.0)), signals=signals)
        except (TypeError, ValueError):
            return None


@dataclass(frozen=True)
class Turn:
    """One customer message since the last handoff or resume, with what NLU made of it.

    `intent` is the full retrieval intent ("faq/late_fees") when NLU gives one: two different FAQ
    questions share the intent "faq" but are not the same question asked twice.
    """

    text: str
    intent: str | None = None
    intent_confidence: float = 0.0
    frustration: MessageFrustration | None = None
    bot_answered_before: bool = False
    timestamp: float | None = None


@dataclass(frozen=True)
class ConversationSignals:
    """What the conversation as a whole says: accumulated frustration and the fallback streak."""

    frustration: float
    turn_scores: list[float] = field(default_factory=list)
    latest_signals: dict[str, float] = field(default_factory=dict)
    fallback_streak: int = 0


@dataclass(frozen=True)
class HandoffDecision:
    """Why the conversation goes to a person, the evidence, and how urgent it is (5 = most urgent)."""

    reason: str
    details: dict[str, Any]
    frustration: float
    priority: int


def score_message(text: str | None, settings: HandoffSettings | None = None) -> MessageFrustration:
    """Scores one message without context (no knowledge of the bot's previous answer)."""
    settings = settings or get_handoff_settings()
    clean = normalise_text(text or "", settings.max_message_bytes)
    signals = {
        SENTIMENT: _negative_sentiment(clean, settings.sentiment_neutral_band),
        CAPS: _shouting(clean, settings.shout_min_words),
        PUNCTUATION: _punctuation(clean),
        PROFANITY: _profanity(clean),
        NEGATIVE_FEEDBACK: 1.0 if _FEEDBACK_RE.search(clean) else 0.0,
    }
    return MessageFrustration(score=combine(signals, settings), signals=signals)


def combine(signals: Mapping[str, float], settings: HandoffSettings) -> float:
    """Weighted sum of the signals, capped so that one message alone stays below the threshold."""
    weights = {
        SENTIMENT: settings.sentiment_weight,
        CAPS: settings.caps_weight,
        PUNCTUATION: settings.punctuation_weight,
        PROFANITY: settings.profanity_weight,
        NEGATIVE_FEEDBACK: settings.negative_feedback_weight,
        REPEATED_QUESTION: settings.repeated_question_weight,
    }
    total = sum(weight * signals.get(name, 0.0) for name, weight in weights.items())
    return round(min(settings.single_message_cap, total), 4)


def conversation_signals(turns: list[Turn], settings: HandoffSettings | None = None) -> ConversationSignals:
    """Scores every recent turn in its context and accumulates the scores with decay."""
    settings = settings or get_handoff_settings()
    relevant = 1 + int(math.log(_NEGLIGIBLE_TURN_WEIGHT) / math.log(settings.frustration_decay))
    first = max(0, len(turns) - relevant)
    contextual = [_turn_signals(turns, index, settings) for index in range(first, len(turns))]
    scores = [combine(signals, settings) for signals in contextual]
    accumulated = sum(score * settings.frustration_decay ** age for age, score in enumerate(reversed(scores)))
    return ConversationSignals(
        frustration=round(accumulated, 4),
        turn_scores=scores,
        latest_signals=contextual[-1] if contextual else {},
        fallback_streak=_fallback_streak(turns, settings.fallback_intents),
    )


def decide(turns: list[Turn], settings: HandoffSettings | None = None) -> HandoffDecision | None:
    """Hands off for the first reason that holds, checked in order of certainty; None keeps the bot."""
    if not turns:
        return None
    settings = settings or get_handoff_settings()
    signals = conversation_signals(turns, settings)
    latest = turns[-1]
    intent_details = {"intent": latest.intent, "confidence": latest.intent_confidence}
    details: dict[str, Any]
    if _intent_in(latest.intent, settings.human_request_intents):
        reason, details = EXPLICIT_REQUEST, intent_details
    elif _intent_in(latest.intent, settings.judgement_intents):
        reason, details = f"{JUDGEMENT_PREFIX}{latest.intent}", intent_details
    elif signals.frustration >= settings.frustration_threshold:
        # Before the fallback streak: a customer the bot misunderstood twice who is also angry needs the
        # apology and the agent the warning that frustration gives.
        reason = FRUSTRATION
        details = {
            "threshold": settings.frustration_threshold,
            "turn_scores": signals.turn_scores,
            "latest_signals": signals.latest_signals,
        }
    elif signals.fallback_streak >= settings.fallback_streak:
        reason, details = LOW_NLU_CONFIDENCE, {"fallback_streak": signals.fallback_streak}
    else:
        return None
    details = {**details, "turns": len(turns), "since": turns[0].timestamp}
    priority = priority_for(reason, signals.frustration, settings)
    return HandoffDecision(reason=reason, details=details, frustration=signals.frustration, priority=priority)


def priority_for(reason: str, frustration: float, settings: HandoffSettings | None = None) -> int:
    """Base priority of the reason, one level higher per frustration step reached, within 1..5."""
    settings = settings or get_handoff_settings()
    if reason.startswith(JUDGEMENT_PREFIX):
        base = settings.judgement_priorities.get(reason[len(JUDGEMENT_PREFIX):], _UNLISTED_PRIORITY)
    else:
        base = settings.reason_priorities.get(reason, _UNLISTED_PRIORITY)
    steps = sum(
        1 for step in settings.priority_frustration_steps if frustration >= step * settings.frustration_threshold
    )
    return max(1, min(5, base + steps))


def turns_from_events(
    events: list[dict[str, Any]], settings: HandoffSettings | None = None
) -> list[Turn]:
    """Customer turns since the conversation last started afresh, from events in their dict form.

    The dict form is what both Rasa (`Event.as_dict()`) and the action server (`tracker.events`) see,
    so the policy and the action build the same turns. Messages injected through the API
    (`is_external`) are not the customer's words and are left out.
    """
    settings = settings or get_handoff_settings()
    turns: list[Turn] = []
    bot_answered = False
    for event in events:
        kind = event.get("event")
        if kind in _RESET_EVENTS or (kind == "action" and event.get("name") == settings.handoff_action):
            turns, bot_answered = [], False
        elif kind == "bot":
            bot_answered = True
        elif kind == "user" and not (event.get("metadata") or {}).get("is_external"):
            turns.append(_turn_from_user_event(event, bot_answered))
            bot_answered = False
    return turns


def _turn_from_user_event(event: dict[str, Any], bot_answered: bool) -> Turn:
    parse_data = event.get("parse_data") or {}
    intent = parse_data.get("intent") or {}
    return Turn(
        text=event.get("text") or "",
        intent=intent.get("full_retrieval_intent_name") or intent.get("name"),
        intent_confidence=float(intent.get("confidence") or 0.0),
        frustration=MessageFrustration.from_dict(parse_data.get("frustration")),
        bot_answered_before=bot_answered,
        timestamp=event.get("timestamp"),
    )


def _turn_signals(turns: list[Turn], index: int, settings: HandoffSettings) -> dict[str, float]:
    """A turn's signals in context: feedback counts only as a reply to the bot; rephrasing is added."""
    turn = turns[index]
    own = turn.frustration or score_message(turn.text, settings)
    signals = dict(own.signals)
    if not turn.bot_answered_before:
        signals[NEGATIVE_FEEDBACK] = 0.0
    signals[REPEATED_QUESTION] = 1.0 if _is_rephrase(turns, index, settings) else 0.0
    return signals


def _is_rephrase(turns: list[Turn], index: int, settings: HandoffSettings) -> bool:
    """Asked again: similar words to a recent question, or the same intent right after the bot's answer."""
    turn = turns[index]
    earlier = turns[max(0, index - settings.repeat_window):index]
    if not earlier or _intent_in(turn.intent, settings.repeat_ignore_intents):
        return False
    words = _content_words(turn.text, settings.max_message_bytes)
    for previous in earlier:
        if _jaccard(words, _content_words(previous.text, settings.max_message_bytes)) >= settings.repeat_similarity:
            return True
    same_intent = turn.intent is not None and turn.intent == earlier[-1].intent
    return same_intent and turn.bot_answered_before and turn.intent not in settings.fallback_intents


def _intent_in(intent: str | None, names: list[str]) -> bool:
    """Whether the intent, or the retrieval intent it belongs to ("faq" for "faq/late_fees"), is listed."""
    return intent is not None and (intent in names or intent.split("/", 1)[0] in names)


def _fallback_streak(turns: list[Turn], fallback_intents: list[str]) -> int:
    streak = 0
    for turn in reversed(turns):
        if turn.intent not in fallback_intents:
            break
        streak += 1
    return streak


def normalise_text(text: str, max_bytes: int) -> str:
    """Cuts to `max_bytes` (a flood must not stall the bot), folds look-alike characters and quotes."""
    cut = text.encode("utf-8", "ignore")[:max_bytes].decode("utf-8", "ignore")
    return unicodedata.normalize("NFKC", cut).replace("\u2019", "'").replace("\u2018", "'")


@lru_cache(maxsize=1)
def _analyzer() -> SentimentIntensityAnalyzer:
    """VADER reads its lexicon from disk on creation; one instance serves the process."""
    return SentimentIntensityAnalyzer()


def _negative_sentiment(text: str, neutral_band: float) -> float:
    """Only negative sentiment counts: a happy customer cancels nothing."""
    if not text.strip():
        return 0.0
    compound = _analyzer().polarity_scores(text)["compound"]
    return round(-compound, 4) if compound < -neutral_band else 0.0


def _shouting(text: str, min_words: int) -> float:
    """Share of all-caps words; tokens with digits, '@' or '/' (order numbers, emails, links) are skipped."""
    words = []
    for token in text.split():
        if any(char.isdigit() or char in "@/" for char in token):
            continue
        word = token.strip("'\"()[]{}.,;:!?-_*")
        if "." in word:  # a domain such as PAYLATER.COM names something, it does not shout
            continue
        if sum(char.isalpha() for char in word) >= _MIN_WORD_LETTERS:
            words.append(word)
    caps = [word for word in words if word.isupper()]
    if not any(sum(char.isalpha() for char in word) >= _MIN_SHOUT_LETTERS for word in caps):
        return 0.0
    if len(caps) < min_words:
        return 0.0
    return round(len(caps) / len(words), 4)


def _punctuation(text: str) -> float:
    """'!!' or '?!' is impatience (0.5); three or more in a row is anger (1.0)."""
    longest = max((len(run) for run in _PUNCTUATION_RUN.findall(text)), default=0)
    if longest >= 3:
        return 1.0
    return 0.5 if longest == 2 else 0.0


def _profanity(text: str) -> float:
    if _STRONG_RE.search(text):
        return 1.0
    return 0.5 if _MILD_RE.search(text) else 0.0


def _content_words(text: str, max_bytes: int) -> frozenset[str]:
    words = re.findall(r"\w+", normalise_text(text, max_bytes).lower())
    return frozenset(word for word in words if len(word) >= _MIN_WORD_LETTERS and word not in _STOPWORDS)


def _jaccard(first: frozenset[str], second: frozenset[str]) -> float:
    """Shared topic words over all topic words; two messages without topic words are not alike."""
    if not first or not second:
        return 0.0
    return len(first & second) / len(first | second)
