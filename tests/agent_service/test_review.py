"""The lead's review queue and drift alarms over HTTP, on a running service reading a real SQLite
insights database: leads only (401 without a token, 403 for an agent), clusters listed with their
scrubbed texts, decisions validated against the bot's domain and recorded once, alarms cleared."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from handoff.drift.alarms import store_alarms
from handoff.drift.monitor import Alarm
from handoff.insights.database import open_database
from handoff.insights.reading import utc_now
from handoff.insights.schema import review_decisions, review_utterances
from handoff.review.utterances import normalise
from rasa_bot.settings import PROJECT_ROOT
from tests.agent_service.client import Api, KnownAgent
from tests.agent_service.conftest import StartService, TakeAgents
from tests.agent_service.test_metrics import scrape, value

pytestmark = pytest.mark.asyncio

# Three topics the bot handed off, each asked in several wordings (already scrubbed), with the bot's
# top intent for them: two it knows (the nearest training examples agree), one it never learned.
TOPICS = {
    "crypto": ["can I pay with bitcoin", "do you take bitcoin payments", "is paying in bitcoin possible",
               "bitcoin accepted as payment?", "pay my bill with bitcoin please"],
    "fees": ["why was I charged a late fee", "what is this late fee on my bill", "late fee charged again?",
             "how much is the late fee", "what happens with late fees"],
    "xss": ["<img src=x onerror=alert(1)> where is my order, has it shipped yet",
            "<img src=x onerror=alert(1)> what is the status of my order",
            "<img src=x onerror=alert(1)> has my order been shipped yet",
            "<img src=x onerror=alert(1)> can you track my order for me",
            "<img src=x onerror=alert(1)> where is my order right now"],
}
TOP_INTENT = {"crypto": "nlu_fallback", "fees": "faq", "xss": "check_order_status"}


def fill_utterances(path: Path) -> str:
    """A migrated insights database holding the topics' messages as handed off a day ago."""
    url = f"sqlite:///{path}"
    engine = open_database(url)
    at = utc_now() - timedelta(days=1)
    rows = [{"event_id": f"{topic}-{index}", "conversation_id": f"conv-{topic}-{index}",
             "at": at + timedelta(minutes=index), "text": text, "normalised": normalise(text),
             "top_intents": [{"name": TOP_INTENT[topic], "confidence": 0.6}], "reason": "handoff", "model_id": "m1"}
            for topic, texts in TOPICS.items() for index, text in enumerate(texts)]
    with engine.begin() as connection:
        connection.execute(review_utterances.insert(), rows)
    engine.dispose()
    return url


async def lead_with_queue(api: Api, start_service: StartService, database: Path,
                          lead: KnownAgent) -> tuple[Api, dict]:
    """The lead's client of a service whose insights database holds the topics' messages, and the review
    queue the lead sees there."""
    service = start_service(insights_database_url=fill_utterances(database), review_project_root=str(PROJECT_ROOT))
    client = Api(api.session, service.url).as_agent(lead)
    status, queue = await client.get("/api/review?since=7d")
    assert status == 200, queue
    return client, queue


async def test_only_leads_see_and_decide(api: Api, start_service: StartService, tmp_path: Path,
                                         take_agents: TakeAgents, lead: KnownAgent) -> None:
    service = start_service(insights_database_url=fill_utterances(tmp_path / "insights.sqlite3"),
                            review_project_root=str(PROJECT_ROOT))
    client = Api(api.session, service.url)
    (agent,) = take_agents(1)
    for method, path in (("GET", "/api/review"), ("POST", "/api/review/k1"), ("GET", "/api/alarms"),
                         ("POST", "/api/alarms/1/clear")):
        assert (await client.call(method, path, body={"action": "dismiss"}))[0] == 401, path
        status, body = await client.as_agent(agent).call(method, path, body={"action": "dismiss"})
        assert status == 403 and "lead" in body["error"], path


async def test_a_lead_accepts_relabels_and_dismisses_once(api: Api, start_service: StartService, tmp_path: Path,
                                                           lead: KnownAgent) -> None:
    database = tmp_path / "insights.sqlite3"
    client, queue = await lead_with_queue(api, start_service, database, lead)
    assert "faq/late_fees" in queue["labels"] and "faq" not in queue["labels"]  # topics, not the retrieval intent
    proposals = queue["proposals"]
    assert len(proposals) >= 3 and all(proposal["count"] >= 1 for proposal in proposals)
    texts = {text for proposal in proposals for text in proposal["examples"]}
    assert texts <= {text for wordings in TOPICS.values() for text in wordings} and len(texts) >= 10
    for proposal in proposals:
        assert proposal["label_kind"] == ("new_topic" if proposal["label"] is None else "known")
        assert all(conversation.startswith("conv-") for conversation in proposal["conversations"])

    for body in ({"action": "approve"}, {"action": "relabel"}, {"action": "dismiss", "label": "greet"},
                 {"action": "relabel", "label": "no_such_intent"}, {"action": "relabel", "label": "faq"},
                 {"action": "dismiss", "extra": 1}):
        status, error = await client.post(f"/api/review/{proposals[0]['key']}", body)
        assert status == 400, (body, error)
    assert (await client.post("/api/review/no-such-key", {"action": "dismiss"}))[0] == 404
    assert (await client.get("/api/review?since=7x"))[0] == 400

    first, second, third = proposals[:3]
    accept = first if first["label"] is not None else None
    if accept is not None:
        status, body = await client.post(f"/api/review/{accept['key']}", {"action": "accept", "since": "7d"})
        assert status == 200 and body["label"] == accept["label"], body
    else:
        status, body = await client.post(f"/api/review/{first['key']}", {"action": "accept", "since": "7d"})
        assert status == 400 and "relabel" in body["error"]  # a new topic has no intent to accept for
        status, body = await client.post(f"/api/review/{first['key']}",
                                         {"action": "relabel", "label": "faq/payment_methods", "since": "7d"})
        assert status == 200, body
    status, body = await client.post(f"/api/review/{second['key']}",
                                     {"action": "relabel", "label": "faq/late_fees", "since": "7d"})
    assert status == 200 and body == {"key": second["key"], "action": "relabel", "label": "faq/late_fees",
                                      "count": second["count"]}
    status, body = await client.post(f"/api/review/{third['key']}", {"action": "dismiss", "since": "7d"})
    assert status == 200 and body["label"] is None
    status, body = await client.post(f"/api/review/{third['key']}", {"action": "dismiss", "since": "7d"})
    assert status == 409 and body["reason"] == "decided"

    status, queue = await client.get("/api/review?since=7d")
    decided = {first["key"], second["key"], third["key"]}
    assert status == 200 and not decided & {proposal["key"] for proposal in queue["proposals"]}
    engine = open_database(f"sqlite:///{database}")
    with engine.connect() as connection:
        rows = connection.execute(select(review_decisions.c.proposal_key, review_decisions.c.action,
                                         review_decisions.c.decided_by)).all()
    engine.dispose()
    assert sorted(rows) == sorted([(first["key"], "accept" if accept else "relabel", lead.id),
                                   (second["key"], "relabel", lead.id), (third["key"], "dismiss", lead.id)])


async def test_a_cluster_decided_twice_at_once_is_recorded_once(api: Api, start_service: StartService,
                                                                tmp_path: Path, lead: KnownAgent) -> None:
    database = tmp_path / "insights.sqlite3"
    client, queue = await lead_with_queue(api, start_service, database, lead)
    key = queue["proposals"][0]["key"]
    answers = await asyncio.gather(client.post(f"/api/review/{key}", {"action": "dismiss", "since": "7d"}),
                                   client.post(f"/api/review/{key}", {"action": "dismiss", "since": "7d"}))
    assert sorted(status for status, _ in answers) == [200, 409], answers
    assert [body["reason"] for status, body in answers if status == 409] == ["decided"]
    engine = open_database(f"sqlite:///{database}")
    with engine.connect() as connection:
        keys = connection.execute(select(review_decisions.c.proposal_key)).scalars().all()
    engine.dispose()
    assert keys == [key]


async def test_alarms_and_clusters_are_listed_counted_and_cleared(api: Api, start_service: StartService, tmp_path: Path,
                                                      lead: KnownAgent) -> None:
    url = fill_utterances(tmp_path / "insights.sqlite3")
    raised = utc_now().replace(microsecond=0)
    engine = open_database(url)
    with engine.begin() as connection:
        store_alarms(connection, [Alarm("stale_answer", "utter_faq/late_fees@3f2a", raised - timedelta(hours=2),
                                        raised, 120, "4 of 6 verdicts say out of date", 4.0, ["conv-fees-1"])], "m1")
    engine.dispose()
    client = Api(api.session, start_service(insights_database_url=url, review_project_root=str(PROJECT_ROOT)).url)
    samples, text = await scrape(client)  # the metrics token's view
    assert value(samples, "handoff_drift_alarms_open", kind="stale_answer") == 1
    assert value(samples, "handoff_drift_alarms_open", kind="fallback_rate") == 0
    assert value(samples, "handoff_review_proposals", label_kind="new_topic") == 1  # the bitcoin messages
    assert value(samples, "handoff_review_proposals", label_kind="known") >= 2
    assert "conv-" not in text and "bitcoin" not in text
    client = client.as_agent(lead)

    status, body = await client.get("/api/alarms")
    assert status == 200, body
    (alarm,) = body["alarms"]
    assert (alarm["kind"], alarm["subject"], alarm["examples"]) == ("stale_answer", "utter_faq/late_fees@3f2a",
                                                                     ["conv-fees-1"])
    assert alarm["since"] == (raised - timedelta(hours=2)).isoformat() and alarm["severity"] == 4.0
    status, body = await client.post(f"/api/alarms/{alarm['id']}/clear")
    assert status == 200 and body == {"id": alarm["id"], "cleared_by": lead.id}
    assert (await client.post(f"/api/alarms/{alarm['id']}/clear"))[0] == 404  # cleared already
    assert (await client.post("/api/alarms/999/clear"))[0] == 404
    assert (await client.get("/api/alarms"))[1] == {"alarms": []}
    samples, _ = await scrape(client.as_agent(None))
    assert value(samples, "handoff_drift_alarms_open", kind="stale_answer") == 0


async def test_a_lead_makes_a_new_topic_cluster_a_new_faq_topic(api: Api, start_service: StartService,
                                                                 tmp_path: Path, lead: KnownAgent) -> None:
    database = tmp_path / "insights.sqlite3"
    client, queue = await lead_with_queue(api, start_service, database, lead)
    [crypto] = [proposal for proposal in queue["proposals"] if proposal["label"] is None]
    others = [proposal for proposal in queue["proposals"] if proposal["label"] is not None]
    path = f"/api/review/{crypto['key']}"
    answer = "We do not take bitcoin; cards and PayPal work."
    for topic in ("Bitcoin", "pay-bitcoin", "ab", "b" * 41, "late_fees", "greet", "faq", None, 7):
        status, body = await client.post(path, {"action": "new_topic", "topic": topic, "answer": answer})
        assert status == 400 and body["reason"] == "bad_topic", (topic, body)
    for wrong in (" \n ", "a" * 1001, None, ["text"]):
        status, body = await client.post(path, {"action": "new_topic", "topic": "pay_with_bitcoin", "answer": wrong})
        assert status == 400 and body["reason"] == "bad_answer", (wrong, body)
    for body in ({"action": "new_topic", "topic": "pay_with_bitcoin", "answer": answer, "label": "faq/x"},
                 {"action": "relabel", "label": "faq/late_fees", "answer": answer},
                 {"action": "dismiss", "topic": "pay_with_bitcoin"}):
        status, error = await client.post(path, body)
        assert status == 400 and error["reason"] == "bad_decision", (body, error)

    decision = {"action": "new_topic", "topic": "pay_with_bitcoin", "answer": f"  {answer}\n", "since": "7d"}
    status, body = await client.post(path, decision)
    assert status == 200 and body == {"key": crypto["key"], "action": "new_topic", "label": "faq/pay_with_bitcoin",
                                      "count": crypto["count"]}, body
    status, body = await client.post(path, decision)
    assert status == 409 and body["reason"] == "decided"
    engine = open_database(f"sqlite:///{database}")
    with engine.connect() as connection:
        rows = connection.execute(select(review_decisions.c.proposal_key, review_decisions.c.action,
                                         review_decisions.c.label, review_decisions.c.answer)).all()
    engine.dispose()
    assert rows == [(crypto["key"], "relabel", "faq/pay_with_bitcoin", answer)]

    status, queue = await client.get("/api/review?since=7d")  # the new topic can take more clusters now
    assert status == 200 and "faq/pay_with_bitcoin" in queue["labels"]
    other = others[0]
    status, body = await client.post(f"/api/review/{other['key']}",
                                     {"action": "new_topic", "topic": "pay_with_bitcoin", "answer": "Again."})
    assert status == 400 and body["reason"] == "bad_topic" and "relabel" in body["error"]
    status, body = await client.post(f"/api/review/{other['key']}",
                                     {"action": "relabel", "label": "faq/pay_with_bitcoin", "since": "7d"})
    assert status == 200 and body["label"] == "faq/pay_with_bitcoin"
