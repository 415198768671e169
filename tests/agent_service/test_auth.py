"""Every endpoint needs the agent's bearer token; the WebSocket takes it as `?token=` and only from
pages of the console's origins. The login answer carries the agent's role."""

from __future__ import annotations

import re

import pytest
import websockets
import yaml

from handoff.agent_service.app import OPENAPI_FILE
from tests.agent_service.client import Api, KnownAgent, console, of_type
from tests.agent_service.conftest import StartService, TakeAgents
from tests.agent_service.service_process import ServiceProcess

pytestmark = pytest.mark.asyncio

SPEC = yaml.safe_load(OPENAPI_FILE.read_text(encoding="utf-8"))
PRIVATE_HTTP = sorted(
    (method.upper(), path) for path, item in SPEC["paths"].items() for method, operation in item.items()
    if method in ("get", "post") and operation.get("security") != [] and path != "/api/ws")


# A value of the right shape for each path parameter, so the route matches and the token is what fails.
SAMPLE_PATH_VALUES = {"conversation_id": "c-any", "alarm_id": "1"}


@pytest.mark.parametrize(("method", "path"), PRIVATE_HTTP)
@pytest.mark.parametrize("token", [None, "not-the-token-of-anyone"])
async def test_every_endpoint_refuses_a_missing_or_wrong_token(
        api: Api, method: str, path: str, token: str | None) -> None:
    path = re.sub(r"\{(\w+)\}", lambda found: SAMPLE_PATH_VALUES.get(found[1], "any"), path)
    status, body = await api.call(method, path, body={}, token=token or "")
    assert status == 401
    assert "token" in body["error"]


async def test_health_and_spec_are_public(api: Api) -> None:
    assert await api.get("/health") == (200, {"status": "ok", "redis": True})
    status, text = await api.get("/api/openapi.yaml")
    assert status == 200
    assert yaml.safe_load(text)["openapi"].startswith("3.0")


async def test_login_returns_the_agent(api: Api, take_agents: TakeAgents) -> None:
    (agent,) = take_agents(1)
    status, body = await api.as_agent(agent).post("/api/login")
    assert status == 200
    assert (body["id"], body["name"], body["role"]) == (agent.id, agent.name, "agent")
    assert not any(key.startswith("token") for key in body)


async def test_login_tells_a_lead_their_role(api: Api, lead: KnownAgent) -> None:
    status, body = await api.as_agent(lead).post("/api/login")
    assert (status, body["id"], body["role"]) == (200, lead.id, "lead")


async def test_a_token_of_another_scheme_is_refused(api: Api, take_agents: TakeAgents) -> None:
    (agent,) = take_agents(1)
    headers = {"Authorization": f"Basic {agent.token}"}
    async with api.session.post(f"{api.base_url}/api/login", headers=headers) as response:
        assert response.status == 401


@pytest.mark.parametrize("query", ["", "?token=wrong-token-value"])
async def test_websocket_is_refused_without_a_valid_token(service: ServiceProcess, query: str) -> None:
    with pytest.raises(websockets.exceptions.InvalidStatusCode) as refused:
        async with websockets.connect(f"{service.ws_url}{query}", open_timeout=5):
            pass
    assert refused.value.status_code == 401


async def test_websocket_accepts_the_token_and_answers_ping(
        service: ServiceProcess, take_agents: TakeAgents) -> None:
    (agent,) = take_agents(1)
    async with console(service.ws_url, agent.token) as live:
        hello = await live.expect(of_type("hello"))
        assert hello["agent"] == {"id": agent.id, "name": agent.name, "role": "agent"}
        await live.send({"type": "ping"})
        await live.expect(of_type("pong"))
        await live.send({"type": "shout"})
        assert "ping" in (await live.expect(of_type("error")))["error"]


async def refused_status(ws_url: str, token: str, origin: str) -> int:
    """The HTTP status a WebSocket handshake from a page of `origin` is refused with."""
    with pytest.raises(websockets.exceptions.InvalidStatusCode) as refused:
        async with console(ws_url, token, origin=origin):
            pass
    return refused.value.status_code


async def test_websocket_opens_for_the_services_own_pages_and_for_clients_without_origin(
        service: ServiceProcess, take_agents: TakeAgents) -> None:
    (agent,) = take_agents(1)
    for origin in (service.url, service.url.upper() + "/", None):
        async with console(service.ws_url, agent.token, origin=origin) as live:
            assert (await live.expect(of_type("hello")))["agent"]["id"] == agent.id


@pytest.mark.parametrize("origin", ["http://evil.example", "http://localhost:{port}", "https://127.0.0.1:{port}",
                                    "http://127.0.0.1:{port}.evil.example", "null", ""])
async def test_websocket_from_a_foreign_page_is_refused_before_it_opens(
        service: ServiceProcess, take_agents: TakeAgents, origin: str) -> None:
    (agent,) = take_agents(1)
    assert await refused_status(service.ws_url, agent.token, origin.format(port=service.port)) == 403


async def test_a_foreign_page_learns_nothing_about_the_token(service: ServiceProcess) -> None:
    assert await refused_status(service.ws_url, "wrong-token-value", "http://evil.example") == 403
    assert await refused_status(service.ws_url, "wrong-token-value", service.url) == 401


async def test_console_origins_replace_the_default(
        start_service: StartService, take_agents: TakeAgents) -> None:
    (agent,) = take_agents(1)
    other = start_service(console_origins='["https://Agents.Example.com:443", "http://127.0.0.1:8080"]')
    for origin in ("https://agents.example.com", "http://127.0.0.1:8080"):
        async with console(other.ws_url, agent.token, origin=origin) as live:
            await live.expect(of_type("hello"))
    assert await refused_status(other.ws_url, agent.token, other.url) == 403

