"""The review queue as the console shows it: the clusters `handoff.review.queue.open_proposals` makes
of the handed-off and fallback utterances of a period that no decision named yet.

Clustering takes up to a few seconds, so it runs in a worker thread and its result is reused for
`review_cache_seconds` per period; a decision empties the cache, and the decided keys are read
afresh on every call, so a decided cluster leaves the queue at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from handoff.insights.period import parse_since
from handoff.insights.reading import utc_now
from handoff.review.clusters import Proposal, load_known_examples
from handoff.review.queue import open_proposals
from handoff.review.store import decisions

DEFAULT_SINCE = "30d"  # the period the console opens with, and the metrics count
SHOWN_EXAMPLES = 10  # example texts per cluster in the console
SHOWN_CONVERSATIONS = 5  # conversations per cluster the lead can open
NEW_TOPIC, KNOWN = "new_topic", "known"


def label_kind(proposal: Proposal) -> str:
    """"known" for more examples of an intent or FAQ topic, "new_topic" otherwise (a metrics label)."""
    return KNOWN if proposal.label is not None else NEW_TOPIC


def decided_keys(engine: Engine) -> set[str]:
    """The keys of the clusters a lead accepted, relabelled or dismissed."""
    return set(decisions(engine))


def compute_proposals(engine: Engine, project_root: Path, since: str, now: datetime) -> list[Proposal]:
    """The undecided clusters of the utterances of the period `since` back from `now` (blocking)."""
    return open_proposals(engine, load_known_examples(project_root), now - parse_since(since))


def describe(proposal: Proposal) -> dict[str, Any]:
    """A cluster as `GET /api/review` shows it: scrubbed texts, when, and some conversations."""
    seen = [example.at for example in proposal.examples]
    conversations = list(dict.fromkeys(example.conversation_id for example in proposal.examples))
    return {
        "key": proposal.key,
        "label": proposal.label,
        "label_kind": label_kind(proposal),
        "count": len(proposal.examples),
        "examples": [example.text for example in proposal.examples[:SHOWN_EXAMPLES]],
        "first_seen": min(seen).isoformat() if seen else None,
        "last_seen": max(seen).isoformat() if seen else None,
        "conversations": conversations[:SHOWN_CONVERSATIONS],
    }


@dataclass
class _Computed:
    at: float
    proposals: list[Proposal]


@dataclass
class ReviewQueue:
    """The clusters per period, recomputed when older than `cache_seconds`."""

    project_root: Path
    cache_seconds: float
    _computed: dict[str, _Computed] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def proposals(self, engine: Engine, since: str) -> list[Proposal]:
        """The clusters of the period as last computed (SQLAlchemy's errors when the database cannot
        be read)."""
        async with self._lock:  # one clustering at a time: concurrent consoles share its result
            cached = self._computed.get(since)
            if cached is None or time.monotonic() - cached.at > self.cache_seconds:
                proposals = await asyncio.to_thread(compute_proposals, engine, self.project_root, since, utc_now())
                cached = self._computed[since] = _Computed(time.monotonic(), proposals)
            return cached.proposals

    def forget(self) -> None:
        """Drops every computed period: a decision changes which texts are left to cluster."""
        self._computed.clear()

    async def open_proposals(self, engine: Engine, since: str) -> list[Proposal]:
        """The clusters no lead has decided on yet."""
        proposals = await self.proposals(engine, since)
        decided = await asyncio.to_thread(decided_keys, engine)
        return [proposal for proposal in proposals if proposal.key not in decided]


def counts_by_kind(proposals: Sequence[Proposal]) -> dict[str, int]:
    """How many clusters add to a known intent and how many are new topics."""
    counts = {KNOWN: 0, NEW_TOPIC: 0}
    for proposal in proposals:
        counts[label_kind(proposal)] += 1
    return counts
