"""`GET /api/insights` on a running service reading a filled insights database: leads only (401
without a token, 403 for an agent), 400 for a bad `since`, 503 when the database cannot be read."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff.insights.reading import utc_now
from tests.agent_service.client import Api, KnownAgent
from tests.agent_service.conftest import StartService, TakeAgents
from tests.insights.known_rows import fill_database

pytestmark = pytest.mark.asyncio


async def test_a_lead_reads_the_figures_and_nobody_else(api: Api, start_service: StartService, tmp_path: Path,
                                                        take_agents: TakeAgents, lead: KnownAgent) -> None:
    database = tmp_path / "insights.sqlite3"
    service = start_service(insights_database_url=fill_database(database, now=utc_now()))
    client = Api(api.session, service.url)
    (agent,) = take_agents(1)

    assert (await client.get("/api/insights?since=7d"))[0] == 401
    status, body = await client.as_agent(agent).get("/api/insights?since=7d")
    assert status == 403 and "lead" in body["error"]

    status, figures = await client.as_agent(lead).get("/api/insights?since=7d")
    assert status == 200, figures
    assert figures["period"]["bucket"] == "day"
    assert (figures["containment"]["n"], figures["containment"]["contained"]) == (20, 2)
    assert [row["trigger"] for row in figures["precision"]] == ["frustration", "explicit_request"]
    assert figures["precision"][0]["look_at"] == ["frustration_threshold"]
    status, day = await client.as_agent(lead).get("/api/insights?since=24h")
    assert status == 200 and day["period"]["bucket"] == "hour" and len(day["period"]["buckets"]) == 25
    status, default = await client.as_agent(lead).get("/api/insights")
    assert status == 200 and default["period"]["since"] == "7d"

    for since in ("7", "0d", "400d", "7d%27"):
        status, body = await client.as_agent(lead).get(f"/api/insights?since={since}")
        assert status == 400 and "since" in body["error"], since


async def test_an_unreadable_database_is_a_503_with_a_reason(api: Api, start_service: StartService,
                                                             tmp_path: Path, lead: KnownAgent) -> None:
    missing = tmp_path / "nowhere" / "insights.sqlite3"
    service = start_service(insights_database_url=f"sqlite:///{missing}")
    status, body = await Api(api.session, service.url).as_agent(lead).get("/api/insights?since=30d")
    assert status == 503 and body["reason"] == "insights_unavailable"
    assert not missing.parent.exists()  # the reader created nothing
