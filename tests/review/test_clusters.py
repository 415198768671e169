"""Proposals: known labels when two readings agree, new topics for dense groups near nothing known,
nothing when unsure."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from sklearn.preprocessing import normalize

from handoff.review import clusters, labels
from handoff.review.clusters import load_known_examples, proposal_key, propose, with_nearest_loose
from handoff.review.utterances import Utterance
from rasa_bot.settings import PROJECT_ROOT
from tests.review.conftest import message

PERSON = ["i want to speak to a real person", "get me a human now!!", "can i talk to someone from your team",
          "let me speak with an agent", "I want to speak to a real person."]
NEW_TOPIC = ["can i pay with bitcoin", "do you accept bitcoin payments", "bitcoin payment possible?",
             "can i use crypto like bitcoin", "pay with ethereum or bitcoin?", "is bitcoin accepted",
             "i want to pay in bitcoin"]


def new_topic_texts(messages: list[Utterance], known: dict[str, list[str]]) -> set[str]:
    """The texts of the one new-topic proposal made of `messages`."""
    [proposal] = [p for p in propose(messages, known) if p.label is None]
    return {u.text for u in proposal.examples}


def topic_with_member(topic: list[str], member: str, member_intent: str) -> list[Utterance]:
    """Fallbacks on one topic near nothing known, and one handed-off message DBSCAN chains to them."""
    return [*(message(text, "out_of_scope", "fallback", f"c{i}") for i, text in enumerate(topic)),
            message(member, member_intent, "handoff", "x")]


def assert_member_stays_out_at(cut_off: float, messages: list[Utterance], known: dict[str, list[str]],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    """With the member rule off the last message is chained into the new topic; at `cut_off` it stays out."""
    topic, member = {m.text for m in messages[:-1]}, messages[-1].text
    monkeypatch.setattr(labels, "KNOWN_MEMBER_SIMILARITY", 1.01)
    assert new_topic_texts(messages, known) == {*topic, member}
    monkeypatch.setattr(labels, "KNOWN_MEMBER_SIMILARITY", cut_off)
    assert new_topic_texts(messages, known) == topic


def test_requests_for_a_person_are_more_examples_of_request_human_once_each(known: dict[str, list[str]]) -> None:
    proposals = propose([message(text, "request_human") for text in PERSON], known)
    [proposal] = proposals
    assert proposal.label == "request_human"
    assert sorted(u.text for u in proposal.examples) == sorted(PERSON[:4])  # the fifth is a duplicate


def test_a_judgement_case_and_an_faq_topic_get_their_labels(known: dict[str, list[str]]) -> None:
    proposals = propose([message("you charged me twice for <order>", "dispute_charge"),
                         message("how much is the fee if i pay late", "faq", "fallback")], known)
    assert {(p.label, p.examples[0].text) for p in proposals} == {
        ("dispute_charge", "you charged me twice for <order>"), ("faq/late_fees", "how much is the fee if i pay late")}


def test_an_faq_topic_is_proposed_only_when_the_bot_chose_its_answer_if_it_recorded_one(
        known: dict[str, list[str]]) -> None:
    text = "how much is the fee if i pay late"  # nearest training examples: faq/late_fees
    assert [p.label for p in propose([message(text, "faq", "fallback", answer="faq/late_fees")], known)] == [
        "faq/late_fees"]
    assert propose([message(text, "faq", "fallback", answer="faq/app_login")], known) == []


def test_a_label_the_bot_ranked_otherwise_is_not_proposed(known: dict[str, list[str]]) -> None:
    """The nearest examples say request_human, the bot's ranking says faq: unsure, so left out."""
    assert propose([message("i want to speak to a real person", "faq")], known) == []


def test_a_dense_group_near_nothing_known_is_a_new_topic(known: dict[str, list[str]]) -> None:
    # Fallbacks: the bot ranked no intent of its own first (a member near a label it did rank first would
    # stay out of the new topic: test_a_member_near_a_label_the_bot_ranked_first_stays_out_of_a_new_topic).
    messages = [message(text, "nlu_fallback", "fallback", f"c{i}") for i, text in enumerate(NEW_TOPIC)]
    proposals = propose([*messages, message("asdfgh", "greet", "fallback")], known)
    [topic] = [p for p in proposals if p.label is None]
    assert {u.text for u in topic.examples} == set(NEW_TOPIC)
    assert all(u.text != "asdfgh" for p in proposals for u in p.examples)


def test_a_message_with_no_dense_neighbourhood_joins_the_new_topic_it_is_nearest(
        known: dict[str, list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    """"dogecoin maybe?" shares little with any one bitcoin question, so DBSCAN leaves it alone; it is
    still nearer to the bitcoin questions than to any training example, so it joins their topic."""
    messages = [*(message(text, "nlu_fallback", "fallback", f"c{i}") for i, text in enumerate(NEW_TOPIC)),
                message("dogecoin maybe?", "nlu_fallback", "fallback", "d")]
    assert new_topic_texts(messages, known) == {*NEW_TOPIC, "dogecoin maybe?"}
    monkeypatch.setattr(clusters, "with_nearest_loose", lambda new_topics, *_: new_topics)
    assert new_topic_texts(messages, known) == set(NEW_TOPIC)


def test_a_loose_message_joins_the_nearest_new_topic_only_when_no_known_label_is_nearer() -> None:
    vectors = csr_matrix(normalize(np.array([
        [1.0, 0.0, 0.0], [0.9, 0.1, 0.0],  # new topic 0
        [0.0, 0.0, 1.0], [0.0, 0.1, 0.9],  # new topic 1
        [0.8, 0.2, 0.0],                   # 4: near topic 0
        [0.1, 0.0, 0.9],                   # 5: near topic 1, but a known label is nearer
        [0.0, 1.0, 0.0],                   # 6: near neither
    ])))
    grown = with_nearest_loose([[0, 1], [2, 3]], [4, 5, 6], vectors, nearest_known=[0.5, 0.999, 0.2])
    assert grown == [[0, 1, 4], [2, 3]]
    assert with_nearest_loose([], [4], vectors, [0.0]) == []


def test_too_few_messages_near_nothing_known_make_no_topic(known: dict[str, list[str]]) -> None:
    assert propose([message(text, "out_of_scope", "fallback") for text in NEW_TOPIC[:3]], known) == []


def test_the_key_is_the_same_for_the_same_texts_in_any_order(known: dict[str, list[str]]) -> None:
    forward = propose([message(text, "request_human") for text in PERSON[:4]], known)
    backward = propose([message(text, "request_human") for text in reversed(PERSON[:4])], known)
    assert [p.key for p in forward] == [p.key for p in backward]
    assert proposal_key(["A b!", "c"]) == proposal_key(["c", "a b"]) != proposal_key(["c"])


def test_known_examples_come_from_the_training_data_only() -> None:
    known = load_known_examples(PROJECT_ROOT)
    assert "request_human" in known and "faq/late_fees" in known
    assert all("](" not in text for texts in known.values() for text in texts)  # entity annotations stripped
    assert propose([], known) == [] and propose([message("hi", "greet")], {}) == []


def test_a_member_near_a_label_the_bot_ranked_first_stays_out_of_a_new_topic(monkeypatch: pytest.MonkeyPatch) -> None:
    """DBSCAN chains "transfer me to service" into a group of bitcoin transfers near nothing known; the
    message itself is near complaint (the bot's first intent too), though not clearly enough to be
    labelled: with the cut-off under its closeness it is no example of the new topic."""
    known = {"greet": ["hello there", "hi", "good morning"],
             "request_human": ["transfer me to customer service", "transfer me to an agent", "put me through to a person"],
             "complaint": ["transfer me to customer service now", "transfer me to an agent now", "your service is awful"]}
    topic = ["can i transfer bitcoin", "bitcoin transfer fees", "transfer crypto like bitcoin", "bitcoin wallet transfer",
             "send a bitcoin transfer", "is a bitcoin transfer possible", "transfer me bitcoin"]
    member = "transfer me to service"
    messages = topic_with_member(topic, member, "complaint")

    assert_member_stays_out_at(0.3, messages, known, monkeypatch)
    messages[-1] = message(member, "request_human", "handoff", "x")  # the bot disagrees with the nearest label
    assert new_topic_texts(messages, known) == {*topic, member}


def test_a_member_clearly_near_a_label_stays_out_of_a_new_topic_whatever_the_bot_ranked(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A late-fee question the bot handed off as a disputed charge (a judgement case) is chained into a
    group of bitcoin wallet questions near nothing known; its own nearest label, faq/late_fees, is near
    and clear (far ahead of the runner-up), so it is no example of the new topic though the bot
    disagrees."""
    known = {"greet": ["hello there", "hi", "good morning"],
             "faq/late_fees": ["how much is the late fee", "what is the late fee", "late fee amount"],
             "complaint": ["your service is awful", "this is a disgrace", "i am very unhappy"]}
    topic = ["can i use my bitcoin wallet", "bitcoin wallet top up", "link a bitcoin wallet", "bitcoin wallet possible",
             "is a bitcoin wallet accepted", "which bitcoin wallet works", "my bitcoin wallet is late"]
    member = "what is the late fee for bitcoin"
    assert_member_stays_out_at(0.50, topic_with_member(topic, member, "dispute_charge"), known, monkeypatch)
