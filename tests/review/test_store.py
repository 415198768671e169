"""The review queue's rows: captured messages read back, decisions stored, decided texts not proposed again."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from handoff.insights.database import open_database
from handoff.review.capture import store_utterance, utterance_row
from handoff.review.queue import open_proposals
from handoff.review.store import (
    AlreadyDecided,
    accepted_examples,
    decisions,
    load_utterances,
    new_topic_answers,
    record_decision,
)
from tests.review.test_clusters import PERSON

RANKING = [{"name": "request_human", "confidence": 0.9}]


@pytest.fixture()
def engine(tmp_path: Path) -> Engine:
    engine = open_database(f"sqlite:///{tmp_path / 'insights.sqlite3'}")
    with engine.begin() as connection:
        for i, text in enumerate(PERSON):
            turn = {"event_id": f"1-{i}", "conversation_id": f"c{i}", "at": datetime(2026, 11, i + 1),
                    "top_intents": RANKING, "handoff_trigger": "explicit_request", "fallback": False}
            row = utterance_row(turn, text)
            assert row is not None and store_utterance(connection, row)
            assert not store_utterance(connection, row)  # the same event twice
    return engine


def test_messages_come_back_oldest_first_and_since_a_time(engine: Engine) -> None:
    everything = load_utterances(engine)
    assert [u.text for u in everything] == PERSON and everything[0].top_intents == RANKING
    assert {u.reason for u in everything} == {"handoff"}
    assert [u.conversation_id for u in load_utterances(engine, datetime(2026, 11, 4))] == ["c3", "c4"]


def test_a_turn_the_bot_handled_or_without_words_keeps_nothing() -> None:
    turn = {"event_id": "1-0", "conversation_id": "c", "at": datetime(2026, 11, 1), "fallback": False,
            "handoff_trigger": None}
    assert utterance_row(turn, "what are the fees") is None
    assert utterance_row({**turn, "fallback": True}, "  ") is None
    assert utterance_row({**turn, "fallback": True}, None) is None
    assert (utterance_row({**turn, "fallback": True}, "blorp") or {})["reason"] == "fallback"


def test_decisions_are_stored_and_accepted_texts_are_the_examples(engine: Engine) -> None:
    record_decision(engine, "k1", "accept", "request_human", ["get me a human", "a person please"], "lead-1")
    record_decision(engine, "k2", "relabel", "complaint", ["this is useless"], "lead-1")
    record_decision(engine, "k3", "dismiss", "ignored", ["asdf"], "lead-2")
    record_decision(engine, "k4", "accept", "request_human", ["a person please", "an agent"], "lead-1")
    found = decisions(engine)
    assert (found["k3"].action, found["k3"].label, found["k3"].decided_by) == ("dismiss", None, "lead-2")
    assert found["k1"].texts == ["get me a human", "a person please"] and found["k1"].decided_at.tzinfo is None
    assert accepted_examples(engine) == {"request_human": ["get me a human", "a person please", "an agent"],
                                         "complaint": ["this is useless"]}


def test_a_proposal_is_decided_once(engine: Engine) -> None:
    record_decision(engine, "k1", "accept", "request_human", ["get me a human"], "lead-1")
    with pytest.raises(AlreadyDecided):
        record_decision(engine, "k1", "dismiss", None, ["get me a human"], "lead-2")
    found = decisions(engine)
    assert list(found) == ["k1"] and (found["k1"].action, found["k1"].decided_by) == ("accept", "lead-1")


@pytest.mark.parametrize(("action", "label", "texts"), [("delete", "x", ["a"]), ("accept", None, ["a"]),
                                                        ("relabel", "", ["a"]), ("dismiss", None, [])])
def test_a_malformed_decision_is_refused(engine: Engine, action: str, label: str | None, texts: list[str]) -> None:
    with pytest.raises(ValueError):
        record_decision(engine, "k", action, label, texts, "lead-1")
    assert decisions(engine) == {}


def test_a_new_topic_is_a_relabel_that_keeps_its_answer(engine: Engine) -> None:
    record_decision(engine, "k1", "relabel", "faq/gift_cards", ["gift cards?"], "lead-1", answer=" We sell none. ")
    record_decision(engine, "k2", "relabel", "faq/gift_cards", ["a gift card"], "lead-1")
    record_decision(engine, "k3", "relabel", "complaint", ["this is useless"], "lead-1")
    found = decisions(engine)
    assert (found["k1"].action, found["k1"].answer, found["k2"].answer) == ("relabel", "We sell none.", None)
    assert new_topic_answers(engine) == {"faq/gift_cards": "We sell none."}
    assert accepted_examples(engine)["faq/gift_cards"] == ["gift cards?", "a gift card"]


@pytest.mark.parametrize(("action", "label", "answer"), [("accept", "faq/gift_cards", "Yes."), ("dismiss", None, "Yes."),
                                                         ("relabel", "complaint", "Yes."),
                                                         ("relabel", "faq/gift_cards", "  ")])
def test_an_answer_belongs_to_a_relabel_to_an_faq_topic_only(engine: Engine, action: str, label: str | None,
                                                            answer: str) -> None:
    with pytest.raises(ValueError):
        record_decision(engine, "k", action, label, ["gift cards?"], "lead-1", answer=answer)
    assert decisions(engine) == {}


def test_what_was_decided_is_not_proposed_again(engine: Engine, known: dict[str, list[str]]) -> None:
    [proposal] = open_proposals(engine, known)
    assert proposal.label == "request_human" and len(proposal.examples) == 4
    record_decision(engine, "other", "dismiss", None, [proposal.examples[0].text.upper()], "lead-1")
    [smaller] = open_proposals(engine, known)
    assert len(smaller.examples) == 3 and smaller.key != proposal.key
    record_decision(engine, smaller.key, "accept", "request_human", [smaller.examples[0].text], "lead-1")
    [rest] = open_proposals(engine, known)
    assert len(rest.examples) == 2
    record_decision(engine, rest.key, "dismiss", None, [u.text for u in rest.examples], "lead-1")
    assert open_proposals(engine, known) == []
