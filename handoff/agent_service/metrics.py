"""The agent service's metrics at `/metrics`: the queue and the agents online (read from Redis at
each scrape), tickets claimed and resolved, how long customers waited for an agent and how long
agents took, and the agents' verdicts on handoffs.

Each process has its own registry (a test runs several apps in one process). Counters and
histograms count what this process did, so Prometheus sums them over the processes; the queue
and the agents online are the same for every process (Redis holds them), so take their max.
`/metrics` takes the `metrics_token` or an agent's token (`auth.py`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence

import redis.exceptions
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff.agent_service.auth import METRICS
from handoff.agent_service.errors import ApiError
from handoff.agent_service.insights_access import guarded, in_thread, read_engine
from handoff.agent_service.review_queue import DEFAULT_SINCE as DEFAULT_REVIEW_SINCE
from handoff.agent_service.review_queue import ReviewQueue, counts_by_kind
from handoff.drift.alarms import open_alarms
from handoff.insights.lag import capture_lag
from handoff.metrics.exposition import METRICS_PATH, metrics_response
from handoff.metrics.labels import DRIFT_ALARM_KINDS, OTHER, REVIEW_LABEL_KINDS, VERDICT_KINDS, one_of
from handoff.models import ConversationState
from handoff.store import HandoffStore, StoreUnavailable

# A chat's waits run from seconds to an hour; agents' handling up to two hours.
WAIT_BUCKETS = (5, 15, 30, 60, 120, 300, 600, 900, 1800, 2700, 3600)
HANDLE_BUCKETS = (30, 60, 120, 300, 600, 900, 1200, 1800, 2700, 3600, 5400, 7200)


class ServiceMetrics:
    """One agent-service process's metrics."""

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
        self.queue_length = Gauge(
            "handoff_queue_length", "Conversations waiting in the queue for an agent now (NaN while Redis "
            "is unavailable).", registry=registry)
        self.agents_online = Gauge(
            "handoff_agents_online", "Agents online now, with a live heartbeat (NaN while Redis is unavailable).",
            registry=registry)
        self.claimed = Counter("handoff_tickets_claimed", "Queued conversations an agent claimed.",
                               registry=registry)
        self.resolved = Counter("handoff_tickets_resolved", "Conversations an agent resolved (handed back "
                                "to the bot).", registry=registry)
        self.wait = Histogram(
            "handoff_wait_seconds", "Seconds from the handoff request to the claim (time waiting offline "
            "included).", buckets=WAIT_BUCKETS, registry=registry)
        self.handle = Histogram(
            "handoff_handle_seconds", "Seconds from the claim (or the latest transfer) to the resolve.",
            buckets=HANDLE_BUCKETS, registry=registry)
        self.verdicts = Counter(
            "handoff_verdicts", "Agents' verdicts given when resolving, by kind: needed, not_needed, "
            "wrong_answer, outdated.", ["kind"], registry=registry)
        for kind in (*VERDICT_KINDS, OTHER):
            self.verdicts.labels(kind)
        self.capture_lag = Gauge(
            "handoff_capture_lag_seconds", "Age of the oldest captured event not yet stored in the insights "
            "database (0 when none waits; NaN while Redis is unavailable).", registry=registry)
        self.drift_alarms_open = Gauge(
            "handoff_drift_alarms_open", "Drift alarms open now (raised, not yet cleared by a lead), by kind: "
            "fallback_rate, handoff_rate, confidence_shift, stale_answer (NaN while the insights database "
            "cannot be read).", ["kind"], registry=registry)
        self.review_proposals = Gauge(
            "handoff_review_proposals", "Clusters waiting in the lead's review queue (the last 30 days), by "
            "label_kind: known (more examples for an intent) or new_topic (NaN while the insights database "
            "cannot be read).", ["label_kind"], registry=registry)
        self.capture_backlog = Gauge(
            "handoff_capture_backlog_entries", "Captured events the insights consumer has not stored yet (NaN "
            "while Redis is unavailable).", registry=registry)

    def set_drift_alarms(self, kinds: Sequence[str] | None) -> None:
        """The open alarms' kinds; None when they cannot be read."""
        for kind in (*DRIFT_ALARM_KINDS, OTHER):
            self.drift_alarms_open.labels(kind).set(
                math.nan if kinds is None else sum(one_of(k, DRIFT_ALARM_KINDS) == kind for k in kinds))

    def set_review_proposals(self, counts: Mapping[str, int] | None) -> None:
        """The review queue's clusters per label kind; None when they cannot be read."""
        for label_kind in REVIEW_LABEL_KINDS:
            self.review_proposals.labels(label_kind).set(math.nan if counts is None else counts.get(label_kind, 0))

    def ticket_claimed(self, state: ConversationState) -> None:
        """An agent claimed the conversation; `state` is its state after the claim."""
        self.claimed.inc()
        if state.queued_at is not None and state.assigned_at is not None:
            self.wait.observe(max(0.0, state.assigned_at - state.queued_at))

    def ticket_resolved(self, state: ConversationState) -> None:
        """An agent resolved the conversation; `state` is its state before."""
        self.resolved.inc()
        if state.assigned_at is not None:
            self.handle.observe(max(0.0, time.time() - state.assigned_at))

    def verdict_given(self, kind: str) -> None:
        """An agent's verdict on a handoff was stored (at resolve or after it)."""
        self.verdicts.labels(one_of(kind, VERDICT_KINDS)).inc()

    async def read_store(self, store: HandoffStore) -> None:
        """Sets the gauges Redis holds the truth of; NaN (unknown) while it is unavailable."""
        queued: float
        online: float
        try:
            queued, online = len(await store.list_queue()), len(await store.online_agents())
        except StoreUnavailable:
            queued = online = math.nan
        self.queue_length.set(queued)
        self.agents_online.set(online)
        try:
            lag = await capture_lag(store.connections.commands, store.keys.insights, int(time.time() * 1000))
            self.capture_lag.set(lag.seconds)
            self.capture_backlog.set(lag.entries)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
            self.capture_lag.set(math.nan)
            self.capture_backlog.set(math.nan)


def blueprint() -> Blueprint:
    bp = Blueprint("metrics")
    bp.add_route(metrics, METRICS_PATH, methods=["GET"], ctx_auth=METRICS)
    return bp


async def metrics(request: Request) -> HTTPResponse:
    service_metrics: ServiceMetrics = request.app.ctx.metrics
    await service_metrics.read_store(request.app.ctx.store)
    service_metrics.set_drift_alarms(await open_alarm_kinds(request))
    service_metrics.set_review_proposals(await review_counts(request))
    return metrics_response(service_metrics.registry)


async def open_alarm_kinds(request: Request) -> list[str] | None:
    """The kinds of the open drift alarms; None when the insights database cannot be read."""
    try:
        return [alarm.kind for alarm in await in_thread(open_alarms, read_engine(request))]
    except ApiError:
        return None


async def review_counts(request: Request) -> dict[str, int] | None:
    """The review queue's open clusters (default period) per label kind; None when unreadable."""
    queue: ReviewQueue = request.app.ctx.review_queue
    try:
        return counts_by_kind(await guarded(queue.open_proposals(read_engine(request), DEFAULT_REVIEW_SINCE)))
    except ApiError:
        return None
