"""A socket.io connection attempt spoken by hand over the polling transport, so a test sees the
server's answer to the CONNECT packet at once (python-socketio's client waits out a poll first
when the server refuses)."""

from __future__ import annotations

import json

import aiohttp

CONNECTED = "40"
REFUSED = "44"


async def connect_reply(base_url: str, headers: dict[str, str], path: str = "/socket.io") -> tuple[str, dict]:
    """The socket.io packet type ("40" connected, "44" refused) and its data for a client sending
    `headers` (e.g. an Origin) on every request, as a browser does."""
    url = f"{base_url}{path}/?EIO=4&transport=polling"
    async with aiohttp.ClientSession(headers=headers, timeout=aiohttp.ClientTimeout(total=30)) as http:
        async with http.get(url) as handshake:
            handshake.raise_for_status()
            session = json.loads((await handshake.text())[1:])["sid"]
        async with http.post(f"{url}&sid={session}", data=CONNECTED) as sent:
            sent.raise_for_status()
        async with http.get(f"{url}&sid={session}") as answer:
            answer.raise_for_status()
            packet = await answer.text()
    return packet[:2], json.loads(packet[2:] or "{}")
