"""Small async clients for the agent service: JSON over HTTP (aiohttp) and the console WebSocket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import websockets

from handoff.agent_service.agents import AGENT_ROLE, Agent, hash_token

WAIT_SECONDS = 10.0


@dataclass(frozen=True)
class KnownAgent:
    """An agent as a test knows them: with the login token, of which the service has only the hash."""

    id: str
    name: str
    token: str
    role: str = AGENT_ROLE

    def stored(self) -> Agent:
        """The entry the agents file holds for this agent."""
        return Agent(self.id, self.name, hash_token(self.token), self.role)


class Api:
    """Calls the service as one agent (or anonymously); every call returns (status, JSON body)."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, agent: KnownAgent | None = None) -> None:
        self.session = session
        self.base_url = base_url
        self.agent = agent

    def as_agent(self, agent: KnownAgent | None) -> Api:
        return Api(self.session, self.base_url, agent)

    async def call(self, method: str, path: str, *, body: Any = None, raw: bytes | None = None,
                   token: str | None = None, params: dict[str, str] | None = None) -> tuple[int, Any]:
        token = token if token is not None else (self.agent.token if self.agent else None)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if data is not None:
            headers["Content-Type"] = "application/json"
        async with self.session.request(method, self.base_url + path, data=data, headers=headers,
                                         params=params) as response:
            text = await response.text()
            return response.status, json.loads(text) if "json" in response.content_type else text

    async def get(self, path: str, **options: Any) -> tuple[int, Any]:
        return await self.call("GET", path, **options)

    async def post(self, path: str, body: Any = None, **options: Any) -> tuple[int, Any]:
        return await self.call("POST", path, body=body, **options)


class Console:
    """A console's WebSocket: collects everything pushed and waits for what a test expects."""

    def __init__(self, socket: websockets.WebSocketClientProtocol) -> None:
        self.socket = socket
        self.received: list[dict[str, Any]] = []

    async def send(self, payload: dict[str, Any]) -> None:
        await self.socket.send(json.dumps(payload))

    async def expect(self, predicate: Callable[[dict[str, Any]], bool],
                     timeout: float = WAIT_SECONDS) -> dict[str, Any]:
        """The first push (already received or arriving within `timeout`) matching `predicate`."""
        for message in self.received:
            if predicate(message):
                return message

        async def wait() -> dict[str, Any]:
            while True:
                message = json.loads(await self.socket.recv())
                self.received.append(message)
                if predicate(message):
                    return message

        return await asyncio.wait_for(wait(), timeout)


@asynccontextmanager
async def console(ws_url: str, token: str, origin: str | None = None) -> AsyncIterator[Console]:
    """The console's WebSocket; `origin` is the Origin header a browser page would send (none without)."""
    async with websockets.connect(f"{ws_url}?token={token}", origin=origin, open_timeout=WAIT_SECONDS) as socket:
        yield Console(socket)


def of_type(kind: str, **fields: Any) -> Callable[[dict[str, Any]], bool]:
    """A predicate: push of `kind` whose top-level fields equal `fields`."""
    return lambda message: message.get("type") == kind and all(message.get(k) == v for k, v in fields.items())


def queue_has(conversation_id: str, present: bool = True) -> Callable[[dict[str, Any]], bool]:
    def check(message: dict[str, Any]) -> bool:
        if message.get("type") not in ("queue", "hello"):
            return False
        listed = any(item["conversation_id"] == conversation_id for item in message["queue"])
        return listed == present
    return check


async def poll(check: Callable[[], Any], timeout: float = WAIT_SECONDS, interval: float = 0.05) -> Any:
    """Calls async `check` until it returns something truthy; fails after `timeout`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last result: {result!r})")
        await asyncio.sleep(interval)
