"""Agents' verdicts: given with the resolve or right after it, checked against the bot's domain,
stored once with the resolved handoff's record and shown with the conversation's closed tickets;
the choices a console offers come first from the tracker (ranked intents, answers sent)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.agent_service.client import Api, KnownAgent
from tests.agent_service.conftest import OpenTicket, StartService, TakeAgents
from tests.agent_service.fake_rasa import FakeRasa
from tests.free_port import free_port

pytestmark = pytest.mark.asyncio


async def claimed(client: Api, open_ticket: OpenTicket) -> str:
    conversation_id = await open_ticket()
    assert (await client.post(f"/api/conversations/{conversation_id}/claim"))[0] == 200
    return conversation_id


async def closed_verdicts(client: Api, conversation_id: str) -> list[Any]:
    status, body = await client.get(f"/api/conversations/{conversation_id}")
    assert status == 200, body
    return [record.get("verdict") for record in body["closed_tickets"]]


@pytest.mark.parametrize("verdict", [
    {"kind": "needed"}, {"kind": "not_needed"}, {"kind": "wrong_answer", "intent": "order_status"},
    {"kind": "wrong_answer", "intent": "faq/late_fees"}, {"kind": "outdated", "answer": "utter_faq/late_fees"}])
async def test_a_resolve_stores_each_kind_of_verdict_with_the_handoff(
        api: Api, take_agents: TakeAgents, open_ticket: OpenTicket, verdict: dict[str, str]) -> None:
    (agent,) = take_agents(1)
    client = api.as_agent(agent)
    conversation_id = await claimed(client, open_ticket)
    status, body = await client.post(f"/api/conversations/{conversation_id}/resolve", {"verdict": verdict})
    assert status == 200, body
    assert body["conversation"]["mode"] == "bot"
    stored = body["verdict"]
    assert {key: stored[key] for key in verdict} == verdict
    assert stored["agent_id"] == agent.id and stored["given_at"] > 0
    assert set(stored) == {*verdict, "agent_id", "given_at"}
    assert await closed_verdicts(client, conversation_id) == [stored]


async def test_a_resolve_without_verdict_is_unchanged(
        api: Api, take_agents: TakeAgents, open_ticket: OpenTicket) -> None:
    (agent,) = take_agents(1)
    client = api.as_agent(agent)
    conversation_id = await claimed(client, open_ticket)
    status, body = await client.post(f"/api/conversations/{conversation_id}/resolve")
    assert status == 200, body
    assert set(body) == {"conversation", "handoff_id", "rasa_sync", "welcome_messages"}
    assert await closed_verdicts(client, conversation_id) == [None]


@pytest.mark.parametrize(("verdict", "message"), [
    ("needed", "must be an object"),
    ({"kind": "great"}, "kind must be one of needed, not_needed, wrong_answer, outdated"),
    ({"kind": "needed", "note": "x"}, "unknown fields: note"),
    ({"kind": "wrong_answer"}, "'intent' is required with kind wrong_answer"),
    ({"kind": "needed", "intent": "greet"}, "'intent' is required with kind wrong_answer and only then"),
    ({"kind": "outdated"}, "'answer' is required with kind outdated"),
    ({"kind": "outdated", "answer": 7}, "answer must be a non-empty name"),
    ({"kind": "wrong_answer", "intent": "book_flight"}, "'book_flight' is no intent or FAQ topic"),
    ({"kind": "wrong_answer", "intent": "faq/unknown_topic"}, "no intent or FAQ topic"),
    ({"kind": "outdated", "answer": "utter_nothing"}, "'utter_nothing' is no response of the bot's domain"),
])
async def test_an_invalid_verdict_is_refused_and_the_conversation_stays_with_the_agent(
        api: Api, take_agents: TakeAgents, open_ticket: OpenTicket, verdict: Any, message: str) -> None:
    (agent,) = take_agents(1)
    client = api.as_agent(agent)
    conversation_id = await claimed(client, open_ticket)
    status, body = await client.post(f"/api/conversations/{conversation_id}/resolve", {"verdict": verdict})
    assert status == 400, body
    assert message in body["error"]
    status, body = await client.get(f"/api/conversations/{conversation_id}")
    assert (body["state"]["mode"], body["closed_tickets"]) == ("assigned", [])


async def test_a_verdict_after_the_resolve_is_stored_once_by_the_resolver_or_a_lead(
        api: Api, take_agents: TakeAgents, open_ticket: OpenTicket, lead: KnownAgent) -> None:
    first, other = take_agents(2)
    client = api.as_agent(first)
    conversation_id = await claimed(client, open_ticket)
    status, resolved = await client.post(f"/api/conversations/{conversation_id}/resolve")
    assert status == 200, resolved
    path = f"/api/conversations/{conversation_id}/verdict"
    status, body = await api.as_agent(other).post(path, {"kind": "needed"})
    assert status == 403, body
    status, body = await client.post(path, {"kind": "wrong_answer", "intent": "nope"})
    assert status == 400 and "'nope'" in body["error"]
    status, body = await client.post(path, {"kind": "outdated", "answer": "utter_faq/payment_methods",
                                            "handoff_id": resolved["handoff_id"]})
    assert status == 200, body
    assert (body["handoff_id"], body["verdict"]["answer"]) == (resolved["handoff_id"], "utter_faq/payment_methods")
    status, again = await api.as_agent(lead).post(path, {"kind": "needed"})
    assert (status, again["reason"]) == (409, "verdict_given")
    assert await closed_verdicts(client, conversation_id) == [body["verdict"]]
    status, missing = await client.post(path, {"kind": "needed", "handoff_id": "v999"})
    assert status == 404, missing


async def test_a_lead_gives_the_verdict_on_a_handoff_another_agent_resolved(
        api: Api, take_agents: TakeAgents, open_ticket: OpenTicket, lead: KnownAgent) -> None:
    (agent,) = take_agents(1)
    conversation_id = await claimed(api.as_agent(agent), open_ticket)
    assert (await api.as_agent(agent).post(f"/api/conversations/{conversation_id}/resolve"))[0] == 200
    status, body = await api.as_agent(lead).post(f"/api/conversations/{conversation_id}/verdict",
                                                 {"kind": "not_needed"})
    assert status == 200, body
    assert body["verdict"]["agent_id"] == lead.id


async def test_the_options_put_the_ranked_intents_and_the_answers_sent_first(
        api: Api, take_agents: TakeAgents, open_ticket: OpenTicket, fake_rasa: FakeRasa) -> None:
    (agent,) = take_agents(1)
    client = api.as_agent(agent)
    conversation_id = await claimed(client, open_ticket)
    faq_ranking = {"ranking": [{"intent_response_key": "faq/payment_methods", "confidence": 0.9},
                               {"intent_response_key": "faq/late_fees", "confidence": 0.1}]}
    fake_rasa.trackers[conversation_id] = [
        {"event": "user", "text": "hi", "parse_data": {"intent_ranking": [{"name": "greet", "confidence": 0.99}]}},
        {"event": "bot", "text": "Hi!", "metadata": {"utter_action": "utter_greet"}},
        {"event": "user", "text": "can I pay later",
         "parse_data": {"intent_ranking": [{"name": "faq", "confidence": 0.6}, {"name": "order_status",
                                                                                 "confidence": 0.3},
                                           {"name": "unknown_intent", "confidence": 0.05}],
                        "response_selector": {"faq": faq_ranking}}},
        {"event": "bot", "text": "A late fee is 5 EUR.", "metadata": {"utter_action": "utter_faq/late_fees"}},
        {"event": "user", "text": "a person please", "parse_data": {"intent_ranking": [
            {"name": "goodbye", "confidence": 0.2}]}},
        {"event": "user", "text": "agent's chat", "metadata": {"handoff": True},
         "parse_data": {"intent_ranking": [{"name": "greet", "confidence": 1.0}]}},
    ]
    status, options = await client.get(f"/api/conversations/{conversation_id}/verdict_options")
    assert status == 200, options
    assert options["suggested_intents"] == ["faq/payment_methods", "order_status", "goodbye"]
    assert options["intents"][:3] == options["suggested_intents"]
    assert sorted(options["intents"]) == ["faq", "faq/late_fees", "faq/payment_methods", "goodbye", "greet",
                                          "order_status"]
    assert options["sent_answers"] == ["utter_faq/late_fees", "utter_greet"]
    assert options["answers"] == ["utter_faq/late_fees", "utter_greet", "utter_faq/payment_methods",
                                  "utter_goodbye"]


async def test_without_rasa_the_resolve_goes_on_and_says_the_verdict_was_not_stored(
        start_service: StartService, api: Api, take_agents: TakeAgents, open_ticket: OpenTicket) -> None:
    service = start_service(rasa_url=f"http://127.0.0.1:{free_port()}", rasa_timeout_seconds="1")
    (agent,) = take_agents(1)
    client = Api(api.session, service.url, agent)
    conversation_id = await claimed(client, open_ticket)
    status, body = await client.post(f"/api/conversations/{conversation_id}/resolve",
                                     {"verdict": {"kind": "wrong_answer", "intent": "greet"}})
    assert status == 200, body
    assert body["conversation"]["mode"] == "bot"
    assert "verdict" not in body and body["verdict_warning"].startswith("verdict not stored")
    status, body = await client.get(f"/api/conversations/{conversation_id}/verdict_options")
    assert (status, body["reason"]) == (503, "rasa_unavailable")
