"""The review queue in the insights database: the captured messages to review and the lead's decisions.

A decision is final for its proposal (its key) and for the texts it names: the queue proposes
neither again (handoff.review.queue). Accepted and relabelled texts are what the export writes to
data/reviewed.yml. A new FAQ topic is a relabel to `faq/<topic>` that carries the topic's answer, which
the export writes to domain/reviewed.yml.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from handoff.insights.schema import review_decisions, review_utterances
from handoff.insights.turns import utc
from handoff.review.new_topics import FAQ_INTENT, clean_answer
from handoff.review.utterances import Utterance

ACCEPT, RELABEL, DISMISS = "accept", "relabel", "dismiss"
ACTIONS = (ACCEPT, RELABEL, DISMISS)
TEACHING_ACTIONS = (ACCEPT, RELABEL)  # decisions whose texts become training examples


class AlreadyDecided(Exception):
    """The proposal has a decision already (the database keeps one per key, however close two come)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"the proposal {key[:16]} was decided already")
        self.key = key


@dataclass(frozen=True)
class Decision:
    """What the lead did with one proposal."""

    key: str
    action: str
    label: str | None
    texts: list[str]
    decided_by: str
    decided_at: datetime
    answer: str | None = None  # a new FAQ topic's answer (its label `faq/<topic>` is new to the bot)


def load_utterances(engine: Engine, since: datetime | None = None) -> list[Utterance]:
    """The captured messages (scrubbed), oldest first; only those at or after `since` when given."""
    query = select(review_utterances).order_by(review_utterances.c.at, review_utterances.c.id)
    if since is not None:
        query = query.where(review_utterances.c.at >= since)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [Utterance(text=row.text, conversation_id=row.conversation_id, at=row.at,
                      top_intents=list(row.top_intents or []), reason=row.reason) for row in rows]


def record_decision(engine: Engine, key: str, action: str, label: str | None, texts: Sequence[str],
                    decided_by: str, answer: str | None = None) -> Decision:
    """Stores the lead's decision on a proposal; `answer` makes a relabel to `faq/<topic>` a new FAQ
    topic with that answer (the caller has checked that the bot does not know the topic yet).

    Raises:
        ValueError: an unknown action, an accept or relabel without a label, no texts, or an answer
            with anything but a relabel to an FAQ topic (or an empty or over-long one).
        AlreadyDecided: the proposal was decided before, or by a concurrent call that stored first.
    """
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {ACTIONS}, not {action!r}")
    if action in TEACHING_ACTIONS and not label:
        raise ValueError(f"{action} needs a label")
    if not texts:
        raise ValueError("a decision names the texts it is about")
    if answer is not None:
        if action != RELABEL or not (label or "").startswith(f"{FAQ_INTENT}/"):
            raise ValueError(f"only a relabel to an FAQ topic ({FAQ_INTENT}/<topic>) takes an answer")
        answer = clean_answer(answer)
    decision = Decision(key=key, action=action, label=label if action in TEACHING_ACTIONS else None,
                        texts=list(texts), decided_by=decided_by, decided_at=utc_now(), answer=answer)
    try:
        with engine.begin() as connection:
            connection.execute(review_decisions.insert().values(
                proposal_key=decision.key, action=decision.action, label=decision.label, texts=decision.texts,
                decided_by=decision.decided_by, decided_at=decision.decided_at, answer=decision.answer))
    except IntegrityError as error:  # the unique proposal key: only one of concurrent decisions stores
        raise AlreadyDecided(key) from error
    return decision


def decisions(engine: Engine) -> dict[str, Decision]:
    """Every proposal's decision by its key (one each: the key is unique)."""
    with engine.connect() as connection:
        rows = connection.execute(select(review_decisions).order_by(review_decisions.c.id)).all()
    return {row.proposal_key: Decision(key=row.proposal_key, action=row.action, label=row.label,
                                       texts=list(row.texts or []), decided_by=row.decided_by,
                                       decided_at=row.decided_at, answer=row.answer) for row in rows}


def accepted_examples(engine: Engine) -> dict[str, list[str]]:
    """The texts accepted or relabelled, by label, each once, in the order they were decided."""
    accepted: dict[str, list[str]] = {}
    for decision in decisions(engine).values():
        if decision.action in TEACHING_ACTIONS and decision.label:
            texts = accepted.setdefault(decision.label, [])
            texts.extend(text for text in decision.texts if text not in texts)
    return accepted


def new_topic_answers(engine: Engine) -> dict[str, str]:
    """The new FAQ topics' answers by label (`faq/<topic>`); the first decision's answer when a label
    was created twice."""
    answers: dict[str, str] = {}
    for decision in decisions(engine).values():
        if decision.answer is not None and decision.label:
            answers.setdefault(decision.label, decision.answer)
    return answers


def utc_now() -> datetime:
    """Now, as the database stores times (naive UTC)."""
    return utc(datetime.now().timestamp())
