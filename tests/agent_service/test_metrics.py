"""The agent service's `/metrics`: behind the metrics token or an agent's, in Prometheus's format, with
the queue and agents online read from Redis at each scrape, claims and resolves with their wait
and handle times, verdicts by kind, and no conversation id anywhere."""

from __future__ import annotations

import math

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.agent_service.client import Api
from tests.agent_service.conftest import METRICS_TOKEN, OwnKeys, StartService, TakeAgents, hand_off

pytestmark = pytest.mark.asyncio

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: Api) -> tuple[Samples, str]:
    """Every sample by name and labels (the parser fails on a malformed text), and the text."""
    status, text = await client.get("/metrics", token=METRICS_TOKEN)
    assert status == 200, text
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}, text


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


async def test_metrics_need_the_metrics_token_or_an_agents(api: Api, take_agents: TakeAgents) -> None:
    for token in (None, "", "wrong-token"):
        status, body = await api.get("/metrics", token=token)
        assert status == 401 and "authentication required" in body["error"]
    (agent,) = take_agents(1)
    status, text = await api.as_agent(agent).get("/metrics")
    assert status == 200 and "handoff_queue_length" in text
    status, _ = await api.get("/metrics", token=METRICS_TOKEN)
    assert status == 200


async def test_metrics_follow_a_handoff_from_queue_to_verdict(
        api: Api, own_keys: OwnKeys, start_service: StartService, take_agents: TakeAgents) -> None:
    prefix, store, _ = own_keys
    service = api.as_agent(None)
    service.base_url = start_service(key_prefix=prefix).url
    (agent,) = take_agents(1)
    client = service.as_agent(agent)
    first, second = await hand_off(store), await hand_off(store)

    queued, text = await scrape(service)
    assert value(queued, "handoff_queue_length") == 2 and value(queued, "handoff_agents_online") == 0
    assert value(queued, "handoff_capture_lag_seconds") >= 0 and value(queued, "handoff_capture_backlog_entries") >= 0
    assert value(queued, "handoff_tickets_claimed_total") == 0

    assert (await client.post("/api/presence", {"status": "online"}))[0] == 200
    assert (await client.post(f"/api/conversations/{first}/claim"))[0] == 200
    claimed, _ = await scrape(service)
    assert value(claimed, "handoff_queue_length") == 1 and value(claimed, "handoff_agents_online") == 1
    assert value(claimed, "handoff_tickets_claimed_total") == 1
    assert value(claimed, "handoff_wait_seconds_count") == 1
    assert value(claimed, "handoff_wait_seconds_bucket", le="3600.0") == 1

    verdict = {"kind": "wrong_answer", "intent": "faq/late_fees"}
    status, body = await client.post(f"/api/conversations/{first}/resolve", {"verdict": verdict})
    assert status == 200, body
    resolved, text = await scrape(service)
    assert value(resolved, "handoff_tickets_resolved_total") == 1
    assert value(resolved, "handoff_handle_seconds_count") == 1
    assert value(resolved, "handoff_verdicts_total", kind="wrong_answer") == 1
    assert value(resolved, "handoff_verdicts_total", kind="needed") == 0
    assert first not in text and second not in text and agent.id not in text and agent.token not in text


async def test_the_queue_is_unknown_while_redis_is_away(own_keys: OwnKeys, start_service: StartService,
                                                        api: Api) -> None:
    prefix, _, _ = own_keys
    service = api.as_agent(None)
    service.base_url = start_service(key_prefix=prefix, redis_url="redis://127.0.0.1:9/0").url
    samples, _ = await scrape(service)
    assert math.isnan(value(samples, "handoff_queue_length")) and math.isnan(value(samples, "handoff_agents_online"))
    assert math.isnan(value(samples, "handoff_capture_lag_seconds"))
    assert value(samples, "handoff_tickets_claimed_total") == 0

