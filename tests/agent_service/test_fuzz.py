"""Property-based fuzzing of the running agent service: whatever an agent's client sends (query
parameters, JSON bodies of every route that takes one, path ids, console WebSocket frames), the
answer is never a 5xx, a refusal is JSON with an `error`, the console socket keeps answering, and
the service logs no traceback."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
import websockets
from hypothesis import given
from hypothesis import strategies as st

from handoff.store import HandoffStore, StoreConfig
from tests.agent_service.client import KnownAgent
from tests.agent_service.conftest import AgentPool, hand_off
from tests.agent_service.service_process import ServiceProcess
from tests.odd_input import (
    FEW_FUZZ_SETTINGS,
    FUZZ_SETTINGS,
    LogWatch,
    any_text,
    field,
    json_body,
    json_values,
    objects_with,
    query_params,
    query_string,
    text_or,
    url_quoted,
)
from tests.redis_server import RedisServer

FUZZ_AGENTS = slice(70, 72)  # of the pool's agents: ones the other tests (taking from the start) leave alone


@dataclass(frozen=True)
class Desk:
    """An agent holding a conversation, another with a queued one in view, and the service's log."""

    agent: KnownAgent
    colleague: KnownAgent
    held: str
    queued: str
    log: LogWatch


@pytest.fixture(scope="module")
def desk(service: ServiceProcess, agent_pool: AgentPool, redis_server: RedisServer, key_prefix: str) -> Desk:
    agent, colleague = agent_pool[1][FUZZ_AGENTS]

    async def open_two() -> tuple[str, str]:
        async with HandoffStore(redis_server.url, StoreConfig(prefix=key_prefix)) as store:
            return await hand_off(store), await hand_off(store)

    held, queued = asyncio.run(open_two())
    claimed = requests.post(f"{service.url}/api/conversations/{held}/claim",
                            headers={"Authorization": f"Bearer {agent.token}"}, timeout=10)
    assert claimed.status_code == 200
    return Desk(agent, colleague, held, queued, LogWatch(service.log_file))


def conversation_ids(desk: Desk) -> st.SearchStrategy[str]:
    """Mostly the held conversation, where a request gets furthest."""
    return st.one_of(st.just(desk.held), st.just(desk.held),
                     text_or(desk.queued, "mine", f"c-{uuid.uuid4().hex[:12]}"))


def assert_answered(reply: requests.Response) -> None:
    """Never a 5xx; always JSON; a 4xx names its reason in `error`."""
    assert reply.status_code < 500, (reply.status_code, reply.text[:500])
    body = reply.json()
    if reply.status_code >= 400:
        assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], body


def call(service: ServiceProcess, token: str, method: str, path: str, query: dict[str, str] | None = None,
         body: bytes | None = None) -> requests.Response:
    url = f"{service.url}{path}" + (f"?{query_string(query)}" if query else "")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    return requests.request(method, url, data=body, headers=headers, timeout=30)


CATCH_UP_PARAMS = {"after": text_or("0-0", "0", "1700000000000-5"), "direction": text_or("inbox", "outbox"),
                   "limit": text_or("1", "1000")}
FRESH_IDS = st.one_of(st.uuids().map(str), st.sampled_from(["m-1", "m-1\n"]))
READS = ("/api/conversations/{id}/messages", "/api/conversations/{id}", "/api/queue", "/api/agents",
         "/api/conversations/mine", "/api/canned-replies", "/api/login")


@FUZZ_SETTINGS
@given(query=query_params(CATCH_UP_PARAMS))
def test_catch_up_query_parameters(service: ServiceProcess, desk: Desk, query: dict[str, str]) -> None:
    assert_answered(call(service, desk.agent.token, "GET", f"/api/conversations/{desk.held}/messages", query))


@FUZZ_SETTINGS
@given(data=st.data(), path=st.sampled_from(READS), query=query_params(CATCH_UP_PARAMS))
def test_path_ids_of_every_read(service: ServiceProcess, desk: Desk, data: st.DataObject, path: str,
                                query: dict[str, str]) -> None:
    conversation_id = data.draw(conversation_ids(desk))
    assert_answered(call(service, desk.agent.token, "GET" if path != "/api/login" else "POST",
                         path.format(id=url_quoted(conversation_id)), query))


# Per route taking a JSON body: objects shaped nearly as it expects (any JSON at all for claim).
bodies_of_routes: dict[str, Callable[[Desk], st.SearchStrategy[Any]]] = {
    "/api/presence": lambda _: objects_with({"status": field("online", "away", "offline")}),
    "/api/conversations/{id}/messages": lambda _: objects_with({"id": field(likely=FRESH_IDS), "text": field("hello"),
                                                                "kind": field("text", "note")}),
    "/api/conversations/{id}/typing": lambda _: objects_with({"typing": field(True, False)}),
    "/api/conversations/{id}/transfer": lambda desk: objects_with({"to_agent": field(desk.colleague.id,
                                                                                      desk.agent.id)}),
    "/api/conversations/{id}/resolve": lambda _: objects_with({"slots": field({}, None, {"order_id": "A-1"})}),
    "/api/conversations/{id}/claim": lambda _: json_values,
}


@pytest.mark.parametrize("path", sorted(bodies_of_routes))
@FEW_FUZZ_SETTINGS
@given(data=st.data())
def test_json_bodies_of_every_route(service: ServiceProcess, desk: Desk, path: str, data: st.DataObject) -> None:
    conversation_id = data.draw(conversation_ids(desk))
    body = data.draw(bodies_of_routes[path](desk))
    assert_answered(call(service, desk.agent.token, "POST", path.format(id=url_quoted(conversation_id)),
                         body=json_body(body)))


@FEW_FUZZ_SETTINGS
@given(body=objects_with({"email": field("nobody@example.invalid"), "slack_user": field("T0:U0"),
                          "conversation_id": field("c-never-seen"), "dry_run": field(True),
                          "force": field(False)}))
def test_erase_bodies(service: ServiceProcess, lead: KnownAgent, body: dict[str, Any]) -> None:
    """A lead's erase requests; `dry_run` is forced where the fields would erase for real."""
    assert_answered(call(service, lead.token, "POST", "/api/erase", body=json_body({**body, "dry_run": True})))


@FEW_FUZZ_SETTINGS
@given(raw=st.one_of(st.binary(max_size=64), any_text.map(lambda text: text.encode("utf-8", "surrogatepass"))))
def test_bodies_that_are_not_json(service: ServiceProcess, desk: Desk, raw: bytes) -> None:
    assert_answered(call(service, desk.agent.token, "POST", f"/api/conversations/{desk.held}/messages", body=raw))


@dataclass
class LiveConsole:
    """A console's WebSocket driven from synchronous Hypothesis tests through its own event loop."""

    loop: asyncio.AbstractEventLoop
    socket: Any

    def run(self, step: Any) -> Any:
        return self.loop.run_until_complete(asyncio.wait_for(step, 15))

    async def reply(self, wanted: Any) -> dict[str, Any]:
        """The next push for which `wanted(push)` holds (queue and message pushes pass by)."""
        while True:
            push = json.loads(await self.socket.recv())
            if wanted(push):
                return push


@pytest.fixture(scope="module")
def live_console(service: ServiceProcess, desk: Desk) -> Iterator[LiveConsole]:
    async def connect() -> Any:
        return await websockets.connect(f"{service.ws_url}?token={desk.agent.token}")

    loop = asyncio.new_event_loop()
    socket = loop.run_until_complete(connect())
    live = LiveConsole(loop, socket)
    assert live.run(live.reply(lambda push: push.get("type") == "hello"))
    yield live
    loop.run_until_complete(socket.close())
    loop.close()


def same_json(left: Any, right: Any) -> bool:
    return json.dumps(left, sort_keys=True) == json.dumps(right, sort_keys=True)


def console_frames(desk: Desk) -> st.SearchStrategy[Any]:
    sends = objects_with({"type": st.just("send"), "conversation_id": field(desk.held, desk.queued),
                          "id": field(likely=FRESH_IDS), "text": field("hello"), "kind": field("text", "note")})
    sends = sends.map(lambda frame: {**frame, "type": "send"})
    return st.one_of(sends, sends, sends, objects_with({"type": field("ping")}), json_values,
                     any_text.map(lambda text: ("raw", text)))


@FUZZ_SETTINGS
@given(data=st.data())
def test_console_websocket_messages(live_console: LiveConsole, desk: Desk, data: st.DataObject) -> None:
    """Every frame is answered: a send with `sent` or `error` carrying its id, anything else with an
    error (or a pong); then a ping still gets its pong."""
    frame = data.draw(console_frames(desk))
    raw = frame[1] if isinstance(frame, tuple) else json.dumps(frame)
    is_send = isinstance(frame, dict) and frame.get("type") == "send"

    def answers(push: dict[str, Any]) -> bool:
        if is_send:
            return push.get("type") in ("sent", "error") and same_json(push.get("id"), frame.get("id"))
        return push.get("type") in ("error", "pong")

    async def exchange() -> dict[str, Any]:
        # A text frame must be UTF-8: a lone surrogate can only arrive inside a JSON escape.
        await live_console.socket.send(raw.encode("utf-8", "surrogatepass").decode("utf-8", "replace"))
        answer = await live_console.reply(answers)
        await live_console.socket.send(json.dumps({"type": "ping"}))
        await live_console.reply(lambda push: push.get("type") == "pong")
        return answer

    answer = live_console.run(exchange())
    if answer["type"] == "error":
        assert isinstance(answer["error"], str) and answer["error"]
        assert answer.get("status", 400) < 500, answer


def test_the_fuzzing_logged_no_traceback(desk: Desk) -> None:
    """Runs after the fuzz tests of this module (pytest keeps the file's order)."""
    desk.log.assert_no_traceback()
