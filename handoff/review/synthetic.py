"""Realistic stand-ins for the placeholders of a scrubbed message, so that an exported training
example has the shapes the bot meets (the regex featurizer and the entity regexes of data/nlu.yml
see an order number, not "<order>"). Values are chosen from the message itself, so an export
repeated gives the same file; none is a real customer's."""

from __future__ import annotations

import hashlib
import random
import re

from handoff.review.scrub import EMAIL, NAME, NUMBER, ORDER, PHONE

ORDER_ENTITY, EMAIL_ENTITY = "order_number", "email"
FIRST_NAMES = ("Anna", "Tom", "Maria", "Jonas", "Lena", "Sam", "Priya", "Omar", "Julia", "Ben")
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")  # reserved for examples (RFC 2606)
_PLACEHOLDER = re.compile("|".join(re.escape(placeholder) for placeholder in (EMAIL, ORDER, PHONE, NUMBER, NAME)))


def fill(text: str, annotate: bool) -> str:
    """`text` with each placeholder replaced by a synthetic value of its shape; with `annotate`, order
    numbers and emails carry their entity annotation as in data/nlu.yml ([KL-123456](order_number))."""
    chooser = random.Random(hashlib.sha256(text.encode("utf-8")).hexdigest())
    return _PLACEHOLDER.sub(lambda found: _value(found[0], chooser, annotate), text)


def _value(placeholder: str, chooser: random.Random, annotate: bool) -> str:
    if placeholder == ORDER:
        value = f"KL-{chooser.randint(100_000, 999_999)}"
        return f"[{value}]({ORDER_ENTITY})" if annotate else value
    if placeholder == EMAIL:
        value = f"{chooser.choice(FIRST_NAMES).lower()}.{chooser.randint(1, 99)}@{chooser.choice(EMAIL_DOMAINS)}"
        return f"[{value}]({EMAIL_ENTITY})" if annotate else value
    if placeholder == PHONE:  # Ofcom's range for drama, never assigned to anyone
        return f"07700 900{chooser.randint(0, 999):03d}"
    if placeholder == NUMBER:
        return " ".join(f"{chooser.randint(0, 9999):04d}" for _ in range(4))
    return chooser.choice(FIRST_NAMES)
