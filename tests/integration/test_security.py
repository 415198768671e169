"""The running system as an attacker meets it: Rasa's HTTP API wants a JWT signed with the system's
secret and names only the shop's origin in CORS; the action server and Redis listen on loopback only;
Redis wants its password, which no command line shows."""

from __future__ import annotations

import os
import re
import socket
import stat
from pathlib import Path

import jwt
import pytest
import redis
import requests

from handoff.log_redaction import SIGNED_CONVERSATION_ID
from handoff.models import CLOSED_MODES
from handoff.rasa_api_auth import rasa_api_headers
from handoff.web_origins import normalise_origin
from rasa_bot.processes import ManagedProcess
from rasa_bot.system import SystemLayout
from tests.integration.rest_client import RestCustomer
from tests.system_fixtures import AGENTS, SLACK_SIGNING_SECRET, SLACK_TOKEN

pytestmark = pytest.mark.model

FOREIGN_ORIGIN = "https://attacker.example"


def forged_headers(secret: str) -> dict[str, str]:
    token = jwt.encode({"user": {"username": "x", "role": "admin"}}, secret, algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("method, path", [
    ("GET", "/status"),
    ("GET", "/conversations/someone/tracker"),
    ("POST", "/conversations/someone/tracker/events"),
    ("POST", "/conversations/someone/trigger_intent"),
    ("PUT", "/model"),
    ("DELETE", "/model"),
])
def test_rasas_api_refuses_calls_without_the_systems_jwt(bot_system: SystemLayout, method: str, path: str) -> None:
    url = f"{bot_system.rasa_url}{path}"
    body = {"name": "greet"} if path.endswith("trigger_intent") else []
    for headers in ({}, forged_headers("not-the-secret-of-this-system-but-long-enough"), {"Authorization": "Bearer not-a-jwt"}):
        reply = requests.request(method, url, json=body, headers=headers, timeout=30)
        assert reply.status_code == 401, (method, path, headers, reply.text)
    query_token = requests.request(method, url, params={"token": bot_system.rasa_jwt_secret}, json=body, timeout=30)
    assert query_token.status_code == 401


def test_rasas_api_answers_a_jwt_signed_with_the_systems_secret(bot_system: SystemLayout) -> None:
    headers = rasa_api_headers(bot_system.rasa_jwt_secret, 60)
    assert requests.get(f"{bot_system.rasa_url}/status", headers=headers, timeout=30).status_code == 200
    tracker = requests.get(f"{bot_system.rasa_url}/conversations/nobody-yet/tracker", headers=headers, timeout=30)
    assert tracker.status_code == 200


def test_cors_names_only_the_shops_origin(bot_system: SystemLayout) -> None:
    shop = normalise_origin(bot_system.agent_url)
    allowed = requests.get(f"{bot_system.rasa_url}/", headers={"Origin": shop}, timeout=30)
    assert allowed.headers.get("Access-Control-Allow-Origin") == shop
    foreign = requests.get(f"{bot_system.rasa_url}/", headers={"Origin": FOREIGN_ORIGIN}, timeout=30)
    assert "Access-Control-Allow-Origin" not in foreign.headers
    preflight = requests.options(f"{bot_system.rasa_url}/conversations/x/tracker/events", timeout=30, headers={
        "Origin": FOREIGN_ORIGIN, "Access-Control-Request-Method": "POST"})
    assert preflight.headers.get("Access-Control-Allow-Origin") in (None, "")


def listening_addresses(port: int) -> set[str]:
    """The local addresses with a TCP socket listening on `port` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.partition(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def non_loopback_ipv4_addresses() -> list[str]:
    """This machine's own IPv4 addresses other than 127.x (from the host name and the default route)."""
    addresses = set()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
            addresses.add(probe.getsockname()[0])
        except OSError:
            pass
    return sorted(a for a in addresses if not a.startswith("127.") and a != "0.0.0.0")


@pytest.mark.parametrize("service", ["action server", "redis-server", "rasa server", "agent service"])
def test_every_service_listens_on_loopback_only(bot_system: SystemLayout, service: str) -> None:
    port = {"action server": bot_system.action_port, "redis-server": bot_system.redis_port,
            "rasa server": bot_system.rasa_port, "agent service": bot_system.agent_port}[service]
    loopback_v4 = "0100007F"  # 127.0.0.1 as /proc/net/tcp writes it
    assert listening_addresses(port) == {loopback_v4}
    for address in non_loopback_ipv4_addresses():
        with pytest.raises(OSError):
            socket.create_connection((address, port), timeout=2).close()


def test_redis_refuses_a_client_without_the_password(bot_system: SystemLayout) -> None:
    anonymous = redis.Redis(host=bot_system.host, port=bot_system.redis_port, socket_timeout=5)
    with pytest.raises(redis.AuthenticationError):
        anonymous.ping()
    wrong = redis.Redis(host=bot_system.host, port=bot_system.redis_port, password="guess", socket_timeout=5)
    with pytest.raises(redis.AuthenticationError):
        wrong.ping()
    assert redis.Redis.from_url(bot_system.redis_url, socket_timeout=5).ping()


def test_redis_caps_its_memory_and_never_evicts(bot_system: SystemLayout) -> None:
    client = redis.Redis.from_url(bot_system.redis_url, socket_timeout=5)
    config = client.config_get("maxmemory*")
    assert int(config["maxmemory"]) > 0
    assert config["maxmemory-policy"] == b"noeviction" or config["maxmemory-policy"] == "noeviction"


def test_no_command_line_shows_a_secret(bot_system: SystemLayout, system_processes: dict[str, ManagedProcess]) -> None:
    secrets_of_the_system = [bot_system.redis_password, bot_system.rasa_jwt_secret, bot_system.metrics_token]
    for name, process in system_processes.items():
        assert process.process is not None
        for pid in [process.process.pid, *children_of(process.process.pid)]:
            command_line = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            for secret in secrets_of_the_system:
                assert secret not in command_line, f"{name} (pid {pid}) shows a secret on its command line"


def children_of(pid: int) -> list[int]:
    """Every descendant of a process (from /proc/*/stat), so a wrapper's child is checked too."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        kids = [child for child, owner in parents.items() if owner == parent]
        found += kids
        frontier += kids
    return found


def test_secret_files_are_private(bot_system: SystemLayout) -> None:
    for name in ("redis_password", "rasa_jwt_secret", "session_secret", "metrics_token", "redis.conf",
                 "endpoints.yml"):
        mode = stat.S_IMODE(os.stat(bot_system.data_dir / name).st_mode)
        assert mode == 0o600, f"{name} has mode {oct(mode)}"


@pytest.mark.runs_last
def test_no_log_holds_a_credential_or_a_conversation_id(bot_system: SystemLayout) -> None:
    """After every other test has run the system through handoffs, resolves and Slack: no secret,
    token, signed JWT or conversation id in any log file. It hands one customer off itself, so the
    logs hold a handoff even when it runs alone."""
    customer = RestCustomer(bot_system)
    customer.say("I want to talk to a person")
    credentials = {"redis password": bot_system.redis_password, "Rasa JWT secret": bot_system.rasa_jwt_secret,
                   "session secret": (bot_system.data_dir / "session_secret").read_text().strip(),
                   "metrics token": bot_system.metrics_token, "Slack bot token": SLACK_TOKEN, "Slack signing secret": SLACK_SIGNING_SECRET,
                   **{f"token of {agent['id']}": agent["token"] for agent in AGENTS}}
    logs = sorted(bot_system.log_dir.glob("*.log"))
    assert logs
    for log in logs:
        text = log.read_text(errors="replace")
        for name, credential in credentials.items():
            assert credential not in text, f"{log.name} holds the {name}"
        assert not re.search(r"eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+", text), f"{log.name} holds a JWT"
        leaked = SIGNED_CONVERSATION_ID.search(text)
        assert leaked is None, f"{log.name} holds a conversation id in clear: {text[leaked.start() - 80:leaked.end()]}"
        assert customer.conversation_id not in text
    handoffs = "".join(log.read_text(errors="replace") for log in logs)
    assert re.search(r"conv-[0-9a-f]{12}", handoffs), "the logs should still follow conversations by their log ids"


def test_the_data_directory_and_the_logs_are_private(bot_system: SystemLayout) -> None:
    for directory in (bot_system.data_dir, bot_system.log_dir):
        assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700, directory
    logs = list(bot_system.log_dir.glob("*.log"))
    assert logs
    for log in logs:
        assert stat.S_IMODE(os.stat(log).st_mode) == 0o600, log


# Keys that live as long as the system, each holding no conversation's data for longer than the
# conversation's own keys do (docs/security.md "Retention"): placeholders stand for ids.
KEYS_WITHOUT_EXPIRY = {
    "handoff:{queue}:waiting",  # conversations waiting now; each leaves on claim or abandon
    "handoff:{queue}:departed",  # queued customers who left, until abandoned
    "handoff:{events}:agents",  # capped stream of queue events
    "handoff:{events}:outbox",  # capped stream of outbox wake-ups
    "handoff:{agents}:presence", "handoff:{agents}:presence_expiry",  # one entry per agent online
    "handoff:{agents}:names",  # the configured agents' names, replaced at each start
    "handoff:{agent:<id>}:chats",  # an agent's open chats; each leaves on resolve, abandon or transfer
    "handoff:{pending_sync}:due",  # resolves whose Rasa sync is still to retry; dropped with the marker
    "handoff:{slack_tail:<id>}:cursor",  # one per Slack event tail
}


def key_pattern(key: str) -> str:
    """A key with the id inside its hash tag replaced by `<id>` (global tags kept)."""
    return re.sub(r"\{(agent:|slack_tail:|slack_event:|wake:)?[^}]*\}",
                  lambda tag: tag[0] if tag[0][1:-1] in ("queue", "events", "agents", "pending_sync")
                  else "{" + (tag[1] or "") + "<id>}", key)


def conversations_with_a_person(client: redis.Redis) -> set[str]:
    """Conversations whose handoff is not over yet (neither resolved nor abandoned): their records
    are kept while it lasts."""
    open_ones = set()
    for key in client.scan_iter(match="handoff:{*}:state", count=1000):
        mode = client.hget(key, "mode")
        if mode is not None and mode.decode() not in CLOSED_MODES:
            open_ones.add(key.decode().split("{", 1)[1].split("}", 1)[0])
    return open_ones


@pytest.mark.runs_last
def test_every_key_of_a_closed_conversation_expires(bot_system: SystemLayout) -> None:
    """After every other test has run handoffs, resolves, ratings, Slack and abandoned chats: each key
    without an expiry is on the short list above or belongs to a conversation a person still has."""
    client = redis.Redis.from_url(bot_system.redis_url, socket_timeout=10)
    keep = conversations_with_a_person(client)
    forever = set()
    for key in client.scan_iter(count=1000):
        name = key.decode(errors="replace")
        if client.ttl(key) != -1 or any(f"{{{conversation}}}" in name for conversation in keep):
            continue
        forever.add(key_pattern(name))
    assert forever <= KEYS_WITHOUT_EXPIRY, sorted(forever - KEYS_WITHOUT_EXPIRY)
