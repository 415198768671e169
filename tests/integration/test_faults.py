"""Faults: Redis going away and the agent service killed mid-conversation lose nothing and crash
nothing. These tests stop and restart processes of the shared test system, and leave it running."""

from __future__ import annotations

import os
import signal
import uuid

import pytest

from rasa_bot.processes import ManagedProcess
from rasa_bot.system import SystemLayout
from tests.integration.agent_client import AgentClient
from tests.integration.domain_texts import response_text
from tests.integration.rest_client import RestCustomer
from tests.system_fixtures import AGENTS

pytestmark = pytest.mark.model
RESTART_TIMEOUT_SECONDS = 60.0


def restart(process: ManagedProcess) -> None:
    process.start()
    process.wait_ready(RESTART_TIMEOUT_SECONDS)


def test_redis_down_bot_keeps_answering_and_handoff_says_agents_unavailable(
        bot_system: SystemLayout, system_processes: dict[str, ManagedProcess]) -> None:
    customer = RestCustomer(bot_system)
    # Seen with the bot before the outage: only then may the bot answer while Redis is away.
    assert customer.say("hello") == [response_text("utter_greet")]
    redis = system_processes["redis-server"]
    redis.stop()
    try:
        assert customer.say("how much is the late fee if I miss a payment?") == [
            response_text("utter_faq/late_fees")]
        replies = customer.say("I want to talk to a real person")
        assert replies[-1] == response_text("utter_handoff_unavailable")
        assert customer.say("hello") == [response_text("utter_greet")]
    finally:
        restart(redis)
    agent = AgentClient(bot_system, AGENTS[0]["token"])
    agent.go_online()
    customer.say("I want to talk to a real person")
    assert agent.wait_for_ticket(customer.conversation_id)["reason"] == "explicit_request"


def test_agent_service_killed_mid_conversation_loses_and_doubles_nothing(
        bot_system: SystemLayout, system_processes: dict[str, ManagedProcess]) -> None:
    service = system_processes["agent service"]
    agent = AgentClient(bot_system, AGENTS[1]["token"])
    agent.go_online()
    customer = RestCustomer(bot_system)
    customer.say("connect me with a human agent")
    agent.wait_for_ticket(customer.conversation_id)
    assert agent.claim(customer.conversation_id).status_code == 200

    acknowledged = []
    for number in range(5):
        message_id = uuid.uuid4().hex
        reply = agent.send(customer.conversation_id, f"message {number}", message_id=message_id)
        assert reply.status_code == 201
        acknowledged.append((message_id, f"message {number}"))
    os.kill(service.process.pid, signal.SIGKILL)
    service.process.wait(timeout=10)
    service.stop()
    restart(service)

    last_id, last_text = acknowledged[-1]
    retry = agent.send(customer.conversation_id, last_text, message_id=last_id)
    assert retry.status_code == 200 and retry.json()["duplicate"] is True
    assert agent.send(customer.conversation_id, "message 5").status_code == 201
    received = [message["text"] for message in customer.agent_messages()]
    assert received == [f"message {number}" for number in range(6)]
    assert agent.resolve(customer.conversation_id).status_code == 200
