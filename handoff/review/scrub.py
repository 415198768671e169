"""Replaces personal data in a customer's message with typed placeholders before the words leave Rasa.

The review queue shows customers' words to the lead and may turn them into training data, so what it
keeps must not identify anyone: emails, the shop's order numbers, phone numbers, long digit runs
(cards, bank accounts) and names a customer gives become `<email>`, `<order>`, `<phone>`, `<number>`
and `<name>`. It errs on the side of scrubbing: a capitalised word after "I'm" that is no common
word is taken for a name.
"""

from __future__ import annotations

import re

import phonenumbers

EMAIL, ORDER, PHONE, NUMBER, NAME = "<email>", "<order>", "<phone>", "<number>", "<name>"
PLACEHOLDERS = (EMAIL, ORDER, PHONE, NUMBER, NAME)

# Regions whose national formats customers use (the shop sells in the UK, the US and Germany); an
# international number (+..) is found whatever the region.
PHONE_REGIONS = ("GB", "US", "DE")
PHONE_MIN_DIGITS = 7  # fewer digits are amounts or quantities, not phone numbers
LONG_DIGITS = 6  # a run of this many digits (spaces and dashes allowed between them) is a number to hide
CARD_DIGITS = 12  # a run this long is a card or account number even where it could pass for a phone number

# Parts bounded as RFC 5321 bounds them, so a long run of letters costs linear time, not quadratic.
_EMAIL = re.compile(r"[\w.%+\-]{1,64}\s?(?:@|\(at\)|\[at\])\s?[\w\-]{1,63}(?:\s?\.\s?[\w\-]{1,63}){1,8}",
                    re.IGNORECASE)
_ORDER = re.compile(r"(?<![a-z0-9])#?kl[\s_\-–—#]{0,3}\d{6}(?!\d)", re.IGNORECASE)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,4})?\b", re.IGNORECASE)
_DIGIT_RUN = re.compile(rf"\+?\d(?:[\s\-./]?\d){{{LONG_DIGITS - 1},}}")
_CARD_RUN = re.compile(rf"(?<!\d)\d(?:[\s\-]?\d){{{CARD_DIGITS - 1},}}")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

# Words that look like a name when capitalised after "I'm" or in a sign-off but are not one.
COMMON_WORDS = frozenset({
    "a", "about", "actually", "afraid", "agent", "all", "already", "also", "always", "an", "and", "angry",
    "annoyed", "any", "asking", "at", "away", "back", "bad", "being", "best", "bot", "both", "busy", "but",
    "calling", "can", "cannot", "checking", "cheers", "confused", "contacting", "curious", "currently",
    "customer", "desperate", "disappointed", "done", "everyone", "fed", "fine", "finished", "for", "from",
    "frustrated", "furious", "getting", "glad", "going", "good", "got", "great", "happy", "having", "hello",
    "here", "hi", "hoping", "how", "human", "i", "in", "interested", "just", "kind", "late", "leaving",
    "less", "looking", "lost", "mad", "more", "new", "not", "now", "ok", "okay", "on", "only", "out",
    "over", "paying", "paylater", "person", "pretty", "quite", "ready", "really", "regards", "returning",
    "right", "sad", "same", "so", "sorry", "still", "stuck", "support", "sure", "team", "thank", "thanks",
    "that", "the", "then", "there", "this", "tired", "to", "trying", "unable", "unhappy", "upset", "using",
    "very", "waiting", "what", "when", "where", "which", "who", "why", "will", "with", "worried", "writing",
    "yes", "you", "your"
})
_NAME_WORD = r"[A-Z][a-zà-ÿ'\-]+"
_CAPITALISED_NAME = rf"{_NAME_WORD}(?:\s+{_NAME_WORD})?"
_NAME_PATTERNS = (
    re.compile(r"(?i:\bmy\s+name\s+is|\bname['’]?s|\bcall\s+me)\s+(?P<name>[A-Za-zà-ÿ'\-]+(?:\s+[A-Z][a-zà-ÿ'\-]+)?)"),
    re.compile(rf"(?i:\bi\s*['’]?\s*a?m|\bthis\s+is|\bit'?s)\s+(?P<name>{_CAPITALISED_NAME})"),
    re.compile(rf"(?i:\b(?:mr|mrs|ms|miss|dr)\.?)\s+(?P<name>{_CAPITALISED_NAME})"),
    re.compile(rf"(?i:\b(?:thanks|thank\s+you|cheers|regards|best|br|kind\s+regards|sincerely|yours)[,!.]?)\s*"
               rf"[,\-–]?\s*(?P<name>{_CAPITALISED_NAME})\W*$"),
)


def scrub(text: str) -> str:
    """The text with every email, order number, phone number, long number and name replaced."""
    text = _EMAIL.sub(EMAIL, text)
    text = _ORDER.sub(ORDER, text)
    text = _IBAN.sub(NUMBER, text)
    text = _CARD_RUN.sub(NUMBER, text)
    text = _scrub_phones(text)
    text = _DIGIT_RUN.sub(_number_replacement, text)
    for pattern in _NAME_PATTERNS:
        text = pattern.sub(_name_replacement, text)
    return text


def _scrub_phones(text: str) -> str:
    for region in PHONE_REGIONS:
        spans = [(match.start, match.end) for match in
                 phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.POSSIBLE)
                 if _is_phone_shaped(match.raw_string)]
        for start, end in reversed(spans):
            text = text[:start] + PHONE + text[end:]
    return text


def _is_phone_shaped(raw: str) -> bool:
    return sum(char.isdigit() for char in raw) >= PHONE_MIN_DIGITS and not _ISO_DATE.fullmatch(raw.strip())


def _number_replacement(match: re.Match[str]) -> str:
    """A long number hidden; a date (2024-03-01) kept: it names no one and tells what happened when."""
    return match[0] if _ISO_DATE.fullmatch(match[0]) else NUMBER


def _name_replacement(match: re.Match[str]) -> str:
    """The match with its name replaced, unless the "name" is a common word ("I'm Sorry")."""
    words = match["name"].split()
    if words[0].lower() in COMMON_WORDS:
        return match[0]
    start, end = match.span("name")
    offset = match.start()
    return match[0][:start - offset] + NAME + match[0][end - offset:]
