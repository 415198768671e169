"""What the lead's review queue shows: the proposals for the captured messages not yet decided on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy.engine import Engine

from handoff.review.clusters import Proposal, propose
from handoff.review.store import decisions, load_utterances
from handoff.review.utterances import normalise


def open_proposals(engine: Engine, known_examples: Mapping[str, Sequence[str]],
                   since: datetime | None = None) -> list[Proposal]:
    """The proposals for the messages captured since `since`, without any text a decision already
    named (accepted, relabelled or dismissed) and without any proposal whose key was decided."""
    decided = decisions(engine)
    decided_texts = {normalise(text) for decision in decided.values() for text in decision.texts}
    fresh = [utterance for utterance in load_utterances(engine, since)
             if normalise(utterance.text) not in decided_texts]
    return [proposal for proposal in propose(fresh, known_examples) if proposal.key not in decided]
