"""A stand-in for the endpoints of Rasa's HTTP API that a resolve calls, on loopback: it records
every request so tests can check what the agent service sent, keeps each conversation's events
as a tracker that can be read back, and can apply a call but lose its answer (as when Rasa's
reply times out)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import jwt

WELCOME_BACK = [
    {"text": "Welcome back! I'm the assistant again."},
    {"text": "Anything else I can help with?", "buttons": [{"title": "No", "payload": "/deny"}]},
]

# What GET /domain answers (the JSON shape of Rasa 3.6's domain, cut to what verdicts read).
DOMAIN = {
    "intents": ["greet", "goodbye", "order_status", {"faq": {"use_entities": True, "is_retrieval_intent": True}}],
    "responses": {"utter_greet": [{"text": "Hi!"}], "utter_goodbye": [{"text": "Bye!"}],
                  "utter_faq/late_fees": [{"text": "A late fee is 5 EUR."}],
                  "utter_faq/payment_methods": [{"text": "Cards and PayPal."}]},
}


@dataclass
class RecordedCall:
    conversation_id: str
    endpoint: str  # "tracker/events" or "trigger_intent"
    query: dict[str, list[str]]
    body: Any
    authorised: bool


class FakeRasa:
    """Answers POST /conversations/<id>/tracker/events and /trigger_intent, GET .../tracker and
    GET /domain like Rasa 3.6 does."""

    def __init__(self, jwt_secret: str, port: int = 0) -> None:
        self.jwt_secret = jwt_secret
        self.calls: list[RecordedCall] = []
        self.trackers: dict[str, list[dict[str, Any]]] = {}
        self._answers_to_lose: dict[tuple[str, str], int] = {}  # applied, left unanswered
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _FakeRasaHandler)
        self._server.fake = self  # type: ignore[attr-defined]
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

    def lose_answers(self, conversation_id: str, endpoint: str, count: int = 1) -> None:
        """The conversation's next `count` calls of `endpoint` take effect, but the connection
        closes unanswered."""
        with self._lock:
            self._answers_to_lose[conversation_id, endpoint] = count

    def _record(self, call: RecordedCall) -> None:
        with self._lock:
            self.calls.append(call)

    def _apply(self, call: RecordedCall) -> bool:
        """Applies a POST to the conversation's tracker; False if its answer is to be lost."""
        with self._lock:
            tracker = self.trackers.setdefault(call.conversation_id, [])
            if call.endpoint == "tracker/events":
                tracker.extend(call.body)
            else:
                tracker.append({"event": "user", "text": f"EXTERNAL: {call.body['name']}",
                                "parse_data": {"intent": {"name": call.body["name"]}, "entities": []},
                                "metadata": {"is_external": True}})
                tracker.extend({"event": "bot", "text": message["text"],
                                "data": {"buttons": message.get("buttons"), "image": None}}
                               for message in WELCOME_BACK)
            key = (call.conversation_id, call.endpoint)
            left = self._answers_to_lose.get(key, 0)
            self._answers_to_lose[key] = max(0, left - 1)
            return left == 0

    def _tracker(self, conversation_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.trackers.get(conversation_id, []))

    def authorised(self, authorization: str | None) -> bool:
        """Whether a request carries a bearer JWT signed with the secret, unexpired, for an admin
        (what `rasa run --jwt-secret` demands)."""
        scheme, _, token = (authorization or "").partition(" ")
        try:
            claims = jwt.decode(token, self.jwt_secret, algorithms=["HS256"], options={"require": ["exp"]})
        except jwt.InvalidTokenError:
            return False
        return scheme == "Bearer" and claims.get("user", {}).get("role") == "admin"


class _FakeRasaHandler(BaseHTTPRequestHandler):
    """Serves one request of the FakeRasa that owns the server (`server.fake`)."""

    @property
    def fake(self) -> FakeRasa:
        return self.server.fake  # type: ignore[attr-defined]

    def do_POST(self) -> None:
        call = self._call(lambda endpoint: endpoint,
                          json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null"))
        if call is None or call.endpoint not in ("tracker/events", "trigger_intent"):
            return
        if not self.fake._apply(call):
            self.close_connection = True  # applied, but the caller never hears back
        elif call.endpoint == "trigger_intent":
            messages = [{"recipient_id": call.conversation_id, **m} for m in WELCOME_BACK]
            self._reply(200, {"tracker": {}, "messages": messages})
        else:
            self._reply(200, {"sender_id": call.conversation_id, "events": None})

    def do_GET(self) -> None:
        if urlsplit(self.path).path == "/domain":
            authorised = self.fake.authorised(self.headers.get("Authorization"))
            self._reply(200 if authorised else 401, DOMAIN if authorised else {"status": "failure"})
            return
        call = self._call(lambda endpoint: "GET " + endpoint, None)
        if call is not None and call.endpoint == "GET tracker":
            self._reply(200, {"sender_id": call.conversation_id, "events": self.fake._tracker(call.conversation_id)})

    def _call(self, name: Callable[[str], str], body: Any) -> RecordedCall | None:
        """Records the request; answers 401 without a valid token and 404 for other paths
        (then returns None, or the call with an endpoint the caller does not serve)."""
        parts = urlsplit(self.path)
        prefix, _, rest = parts.path.partition("/conversations/")
        conversation_id, _, endpoint = rest.partition("/")
        call = RecordedCall(unquote(conversation_id), name(endpoint), parse_qs(parts.query), body,
                            self.fake.authorised(self.headers.get("Authorization")))
        self.fake._record(call)
        if not call.authorised:
            self._reply(401, {"status": "failure", "reason": "NotAuthenticated"})
            return None
        if prefix or call.endpoint not in ("tracker/events", "trigger_intent", "GET tracker"):
            self._reply(404, {"status": "failure", "message": "not found"})
            return None
        return call

    def _reply(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args: object) -> None:
        """Quiet: the test output is not the place for access logs."""
