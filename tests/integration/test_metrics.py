"""`/metrics` on the running Rasa process and agent service: behind the metrics token, in Prometheus's
format, a customer's turn and a handoff move the counters, and no conversation id appears."""

from __future__ import annotations

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from rasa_bot.system import SystemLayout
from tests.integration.rest_client import RestCustomer

pytestmark = pytest.mark.model

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
REST = "handoff_rest"


def scrape(url: str, token: str) -> tuple[Samples, str]:
    """Every sample by name and labels (the parser fails on a malformed text), and the text."""
    reply = requests.get(f"{url}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert reply.status_code == 200, reply.text
    assert reply.headers["Content-Type"].startswith("text/plain")
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(reply.text) for sample in family.samples}, reply.text


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(value for (sample, sample_labels), value in samples.items()
               if sample == name and wanted <= sample_labels)


@pytest.mark.parametrize("service", ["rasa", "agent service"])
def test_metrics_without_the_token_get_401_json(bot_system: SystemLayout, service: str) -> None:
    url = bot_system.rasa_url if service == "rasa" else bot_system.agent_url
    for headers in ({}, {"Authorization": "Bearer not-the-token"}):
        reply = requests.get(f"{url}/metrics", headers=headers, timeout=10)
        assert reply.status_code == 401
        assert "authentication required" in reply.json()["error"]


def test_a_customer_turn_and_a_handoff_move_the_counters(bot_system: SystemLayout) -> None:
    token = bot_system.metrics_token
    before, _ = scrape(bot_system.rasa_url, token)
    customer = RestCustomer(bot_system)
    assert customer.say("hello")
    customer.say("can I speak to a human please")
    customer.send("are you there?")  # now with a person: goes to the agent, not the bot
    after, text = scrape(bot_system.rasa_url, token)
    _, agent_text = scrape(bot_system.agent_url, token)

    def moved(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert moved("handoff_customer_messages_total", channel=REST, route="bot") == 2
    assert moved("handoff_customer_messages_total", channel=REST, route="human") == 1
    assert moved("handoff_bot_turns_total", channel=REST, outcome="answered") == 1
    assert moved("handoff_bot_turns_total", channel=REST, outcome="handoff") == 1
    assert moved("handoff_handoffs_total", trigger="explicit_request") == 1
    assert moved("handoff_handoffs_total") == 1
    assert "handoff_queue_length" in agent_text
    for scraped in (text, agent_text):
        assert customer.conversation_id not in scraped
        assert customer.conversation_id.split(".")[0] not in scraped
