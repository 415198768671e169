"""A stand-in for the two endpoints of Rasa's HTTP API that a resolve calls, on loopback, recording
every request so tests can check what the agent service sent."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

WELCOME_BACK = [
    {"text": "Welcome back! I'm the assistant again."},
    {"text": "Anything else I can help with?", "buttons": [{"title": "No", "payload": "/deny"}]},
]


@dataclass
class RecordedCall:
    conversation_id: str
    endpoint: str  # "tracker/events" or "trigger_intent"
    query: dict[str, list[str]]
    body: Any


class FakeRasa:
    """Answers POST /conversations/<id>/tracker/events and /trigger_intent like Rasa 3.6 does."""

    def __init__(self, port: int = 0) -> None:
        self.calls: list[RecordedCall] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeRasa:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def calls_for(self, conversation_id: str) -> list[RecordedCall]:
        with self._lock:
            return [call for call in self.calls if call.conversation_id == conversation_id]

    def _record(self, call: RecordedCall) -> None:
        with self._lock:
            self.calls.append(call)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                parts = urlsplit(self.path)
                prefix, _, rest = parts.path.partition("/conversations/")
                conversation_id, _, endpoint = rest.partition("/")
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")
                fake._record(RecordedCall(unquote(conversation_id), endpoint, parse_qs(parts.query), body))
                if prefix or endpoint not in ("tracker/events", "trigger_intent"):
                    self._reply(404, {"status": "failure", "message": "not found"})
                elif endpoint == "trigger_intent":
                    messages = [{"recipient_id": unquote(conversation_id), **m} for m in WELCOME_BACK]
                    self._reply(200, {"tracker": {}, "messages": messages})
                else:
                    self._reply(200, {"sender_id": unquote(conversation_id), "events": None})

            def _reply(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: object) -> None:
                """Quiet: the test output is not the place for access logs."""

        return Handler
