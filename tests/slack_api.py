"""A loopback stand-in for Slack's Web API: the `slack_sdk` client is pointed at it with
`base_url`, and it records every call so tests can see what would have been posted.

It answers chat.postMessage (with a fresh, increasing `ts` and the channel's id: a `#name` gets a
made-up id, as Slack resolves names) and chat.update, checks the bot token, and can be told to
fail the next calls with a given HTTP status to imitate an outage or a rate limit.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from tests.free_port import free_port


@dataclass
class SlackCall:
    """One Web API call as it arrived."""

    method: str
    args: dict[str, Any]
    token: str
    reply: dict[str, Any] = field(default_factory=dict)


def channel_id(channel: str) -> str:
    """The id Slack would resolve a `#name` to (made up here); ids stay as they are."""
    return "C" + channel[1:].upper().replace("-", "")[:10] if channel.startswith("#") else channel


class FakeSlackApi:
    """The recorded calls (thread-safe) and the server's behaviour."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.calls: list[SlackCall] = []
        self._lock = threading.Condition()
        self._next_ts = int(time.time()) * 1_000_000
        self._failures: list[int] = []
        self.port = free_port()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def fail_next(self, count: int, status: int = 503) -> None:
        """The next `count` calls get HTTP `status` instead of an answer."""
        with self._lock:
            self._failures += [status] * count

    def answer(self, method: str, args: dict[str, Any], token: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            if self._failures:
                return self._failures.pop(0), {"ok": False, "error": "service_unavailable"}
            if token != self.token:
                return 200, {"ok": False, "error": "invalid_auth"}
            status, reply = self._reply(method, args)
            self.calls.append(SlackCall(method, args, token, reply))
            self._lock.notify_all()
            return status, reply

    def _reply(self, method: str, args: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method == "chat.postMessage":
            self._next_ts += 100
            ts = f"{self._next_ts // 1_000_000}.{self._next_ts % 1_000_000:06d}"
            return 200, {"ok": True, "channel": channel_id(str(args.get("channel", ""))), "ts": ts,
                         "message": {"text": args.get("text")}}
        if method == "chat.update":
            return 200, {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}
        return 200, {"ok": False, "error": "unknown_method"}

    def posts(self, method: str = "chat.postMessage", **matching: Any) -> list[SlackCall]:
        """Calls of `method` whose arguments include `matching`."""
        with self._lock:
            return [call for call in self.calls if call.method == method
                    and all(call.args.get(key) == value for key, value in matching.items())]

    def wait_for(self, found: Callable[[], list[SlackCall]], count: int = 1,
                 timeout: float = 30.0) -> list[SlackCall]:
        """Waits until `found()` returns at least `count` calls; returns them."""
        deadline = time.monotonic() + timeout
        with self._lock:  # re-entrant: found() may take it again
            while len(calls := found()) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} Slack calls, got {len(calls)}: {calls}")
                self._lock.wait(min(remaining, 0.2))
            return calls


def _handler(api: FakeSlackApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            if self.headers.get("Content-Type", "").startswith("application/json"):
                args = json.loads(body or "{}")
            else:
                args = {key: values[0] for key, values in parse_qs(body).items()}
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            status, reply = api.answer(self.path.removeprefix("/api/"), args, token)
            data = json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: Any) -> None:
            pass

    return Handler


@contextmanager
def running_slack_api(token: str) -> Iterator[FakeSlackApi]:
    """Serves a FakeSlackApi on a free loopback port until the block ends."""
    api = FakeSlackApi(token)
    server = ThreadingHTTPServer(("127.0.0.1", api.port), _handler(api))
    thread = threading.Thread(target=server.serve_forever, name="fake-slack-api", daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
