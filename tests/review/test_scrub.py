"""Personal data never survives scrubbing (property tests), and ordinary words do."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handoff.review.scrub import scrub

FILLER = st.lists(st.sampled_from(["my", "order", "is", "late", "please", "call", "me", "on", "or", "write",
                                   "to", "thanks", "where", "refund", "email", "number", "phone", "the", "and"]),
                  max_size=6).map(" ".join)
LOCAL = st.text(string.ascii_lowercase + string.digits + "._+-", min_size=1, max_size=12).filter(
    lambda local: local[0].isalnum())
LABEL = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=10)
EMAILS = st.builds(lambda local, labels, tld: f"{local}@{'.'.join(labels)}.{tld}",
                   LOCAL, st.lists(LABEL, min_size=1, max_size=3), st.text(string.ascii_lowercase, min_size=2,
                                                                                    max_size=6))
DIGITS = st.text("0123456789", min_size=12, max_size=12)
ORDERS = st.builds(lambda kl, separator, digits: f"{kl}{separator}{digits[:6]}",
                   st.sampled_from(["KL", "kl", "Kl", "#KL"]), st.sampled_from(["", "-", " ", "_", " - "]), DIGITS)
PHONE_SHAPES = ["+44 20 {0}{1}{2}{3} {4}{5}{6}{7}", "0{0}{1}{2}{3} {4}{5}{6}{7}{8}{9}", "({0}{1}{2}) {3}{4}{5}-{6}{7}{8}{9}",
                "+49 {0}{1} {2}{3}{4}{5}{6}{7}{8}", "07{0}{1}{2} {3}{4}{5}{6}{7}{8}", "+1-{0}{1}{2}-{3}{4}{5}-{6}{7}{8}{9}",
                "{0}{1}{2}.{3}{4}{5}.{6}{7}{8}{9}", "{0}{1}{2}{3}{4}{5}{6}{7}{8}{9}"]
PHONES = st.builds(lambda shape, digits: shape.format(*digits), st.sampled_from(PHONE_SHAPES), DIGITS)
CARDS = st.builds(lambda digits, separator: separator.join([digits[:4], digits[4:8], digits[8:12], digits[:4]]),
                  DIGITS, st.sampled_from(["", " ", "-"]))
SECRETS = st.one_of(EMAILS, ORDERS, PHONES, CARDS)


@settings(max_examples=400, deadline=None)
@given(FILLER, SECRETS, FILLER, st.sampled_from(["", ".", "!", ",", "?"]))
def test_no_email_order_phone_or_card_number_survives(before: str, secret: str, after: str, mark: str) -> None:
    scrubbed = scrub(f"{before} {secret}{mark} {after}")
    assert "@" not in scrubbed and not re.search(r"\d", scrubbed), (secret, scrubbed)


@settings(max_examples=200, deadline=None)
@given(st.lists(SECRETS, min_size=2, max_size=4))
def test_several_in_one_message_all_go(secrets: list[str]) -> None:
    scrubbed = scrub(" and ".join(secrets))
    assert "@" not in scrubbed and not re.search(r"\d", scrubbed), scrubbed


@pytest.mark.parametrize(("text", "scrubbed"), [
    ("my email is ann.berg@example.com", "my email is <email>"),
    ("where is order KL-482913?", "where is order <order>?"),
    ("status of kl 530918", "status of <order>"),
    ("call me on +49 30 1234567", "call me on <phone>"),
    ("ring (555) 123-4567 please", "ring <phone> please"),
    ("IBAN DE89 3704 0044 0532 0130 00", "IBAN <number>"),
    ("my name is Anna Berg", "my name is <name>"),
    ("my name is anna", "my name is <name>"),
    ("I'm Tom, where is my refund", "I'm <name>, where is my refund"),
    ("this is Peter from Leeds", "this is <name> from Leeds"),
    ("where is my refund? thanks, Anna", "where is my refund? thanks, <name>"),
    ("it never came. Regards, Tom Baker", "it never came. Regards, <name>"),
    ("Mrs Smith placed the order", "Mrs <name> placed the order"),
])
def test_each_kind_gets_its_placeholder(text: str, scrubbed: str) -> None:
    assert scrub(text) == scrubbed


@pytest.mark.parametrize("text", [
    "I'm Sorry but this is taking forever", "I am waiting for 3 weeks", "I paid 120 euros on 2024-03-01",
    "where is my order", "this is not what I ordered", "can I pay in 3 instalments", "thanks a lot",
])
def test_ordinary_words_stay(text: str) -> None:
    assert scrub(text) == text
