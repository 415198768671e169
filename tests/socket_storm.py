"""Many widget customers connecting to one Rasa process and leaving at once, spoken as raw
engine.io polling requests (light: no client object per socket), and what that process holds
afterwards, read from /proc: its Redis connections and its memory. Loopback only; shared by the
integration test and `bench/socket_storm.py`."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import aiohttp
from typing_extensions import Self

SESSION_REQUEST = '42["session_request",{"session_id":null}]'
ESTABLISHED, LISTEN = "01", "0A"


class SocketStorm:
    """Opens `count` customer sockets (at most `parallel` requests at a time) and drops them all."""

    def __init__(self, rasa_url: str, count: int, parallel: int = 100) -> None:
        self.url = f"{rasa_url}/socket.io/?EIO=4&transport=polling"
        self.count = count
        self.parallel = parallel
        self.sessions: list[str] = []

    async def __aenter__(self) -> Self:
        connector = aiohttp.TCPConnector(limit=self.parallel)
        self._http = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120))
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._http.close()

    async def open_all(self) -> None:
        """Every socket connected and shown a conversation (session_confirm received)."""
        self.sessions = list(await asyncio.gather(*(self._open() for _ in range(self.count))))

    async def drop_all(self) -> None:
        """Every socket closed at once (engine.io's close packet), as when the customers leave."""
        await asyncio.gather(*(self._post(session, "1") for session in self.sessions))
        self.sessions = []

    async def _open(self) -> str:
        async with self._http.get(self.url) as handshake:
            handshake.raise_for_status()
            session = json.loads((await handshake.text())[1:])["sid"]
        await self._post(session, "40")
        await self._post(session, SESSION_REQUEST)
        for _ in range(10):
            async with self._http.get(f"{self.url}&sid={session}") as polled:
                polled.raise_for_status()
                if "session_confirm" in await polled.text():
                    return session
        raise RuntimeError("no session_confirm")

    async def _post(self, session: str, packet: str) -> None:
        async with self._http.post(f"{self.url}&sid={session}", data=packet) as sent:
            sent.raise_for_status()


def _tcp_rows(pid: int) -> list[list[str]]:
    rows: list[list[str]] = []
    for table in ("tcp", "tcp6"):
        path = Path(f"/proc/{pid}/net/{table}")
        if path.exists():
            rows += [line.split() for line in path.read_text().splitlines()[1:]]
    return rows


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _port(address: str) -> int:
    return int(address.rsplit(":", 1)[1], 16)


def pid_listening_on(port: int) -> int:
    """The process (of this user) whose socket listens on TCP `port`."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            listening = {row[9] for row in _tcp_rows(int(entry.name)) if row[3] == LISTEN and _port(row[1]) == port}
            if listening & _socket_inodes(int(entry.name)):
                return int(entry.name)
        except (OSError, IndexError):
            continue  # another user's process, or one that ended
    raise LookupError(f"no process of this user listens on port {port}")


def redis_connections(pid: int, redis_port: int) -> int:
    """How many open TCP connections process `pid` has to the Redis on `redis_port`, whoever opened them."""
    inodes = _socket_inodes(pid)
    return sum(1 for row in _tcp_rows(pid)
               if row[3] == ESTABLISHED and _port(row[2]) == redis_port and row[9] in inodes)


def rss_bytes(pid: int) -> int:
    """The process's resident memory."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise LookupError(f"no VmRSS for process {pid}")
