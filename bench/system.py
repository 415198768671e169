"""The system a benchmark measures: started here on free loopback ports, or one already running.

Started (the default): like the integration tests (`tests/system_fixtures.py`), a temporary
directory gets a freshly seeded shop database and an agents file with random bench-agent tokens,
then redis-server, the action server, the Rasa server, the agent service and the insights consumer
start on free 127.0.0.1 ports and stop again when the benchmark ends. `extra_channels` adds channels
to a copy of `credentials.yml` that this Rasa server is given instead of the project's file;
`capture=False` leaves the capture out (no event broker in the Rasa server's endpoints, no
insights consumer), to measure what capturing costs.

Already running: pass `--rasa-url` and `--redis-url`, and where the benchmark acts as an agent
also `--agent-url` and an `--agent-token` (every URL must be a loopback address).

Not a script; the benchmarks import it (`from bench.system import ...`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from handoff.store import HandoffStore, StoreConfig
from rasa_bot.processes import ManagedProcess, start_all, stop_all
from rasa_bot.settings import PROJECT_ROOT
from rasa_bot.system import MODEL_PATH, SystemLayout, project_credentials, services

READY_TIMEOUT_SECONDS = 300.0
# A load generator's customers all come from 127.0.0.1 and send faster than people type: benches
# that drive such a load keep the rate limits on but raise them above it (and print that they do).
ONE_ADDRESS_LOAD_LIMITS = {"HANDOFF_ADDRESS_MESSAGE_LIMIT": '{"count": 100000, "seconds": 10}',
                           "HANDOFF_CONVERSATION_MESSAGE_LIMIT": '{"count": 100000, "seconds": 10}',
                           "HANDOFF_ADDRESS_SESSION_LIMIT": '{"count": 10000, "seconds": 60}'}
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class BenchSystem:
    """Where the measured system answers, and the tokens of agents the benchmark may act as."""

    rasa_url: str
    agent_url: str
    redis_url: str
    agent_tokens: tuple[str, ...]
    key_prefix: str = "handoff"
    log_dir: Path | None = None
    insights_database_url: str | None = None  # where a started system's consumer stores captured rows

    def open_store(self) -> HandoffStore:
        """A store on the system's Redis, for setting up state the benchmark does not measure."""
        return HandoffStore(self.redis_url, StoreConfig(prefix=self.key_prefix))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def require_loopback(url: str) -> str:
    """`url` itself, or SystemExit if it points anywhere but this machine's loopback interface."""
    if urlparse(url).hostname not in LOOPBACK_HOSTS:
        raise SystemExit(f"benchmarks only send traffic to loopback addresses, not to {url}")
    return url


def add_system_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every benchmark shares: a running system to use instead of starting one."""
    group = parser.add_argument_group("system under test (default: start one on free loopback ports)")
    group.add_argument("--rasa-url", help="Rasa server of a running system, e.g. http://127.0.0.1:5005")
    group.add_argument("--agent-url", help="agent service of a running system, e.g. http://127.0.0.1:5006")
    group.add_argument("--redis-url", help="Redis of a running system, e.g. redis://127.0.0.1:6379/0")
    group.add_argument("--agent-token", action="append", default=[],
                       help="login token of an agent of the running system (repeat for more agents)")
    group.add_argument("--key-prefix", default="handoff", help="Redis key prefix of the running system")
    group.add_argument("--model", type=Path, default=MODEL_PATH, help="model for a started Rasa server")
    group.add_argument("--keep-logs", action="store_true", help="keep a started system's logs and data")


def write_credentials(path: Path, extra_channels: dict[str, Any]) -> Path:
    """The project's credentials.yml plus `extra_channels`, written to `path`."""
    credentials = project_credentials()
    credentials.update(extra_channels)
    path.write_text(yaml.safe_dump(credentials, sort_keys=False))
    return path


def without_capture(endpoints: Path, path: Path) -> Path:
    """A copy of the Rasa server's `endpoints` without the event broker, written to `path`."""
    config = yaml.safe_load(endpoints.read_text())
    config.pop("event_broker", None)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    path.chmod(0o600)
    return path


def bench_services(layout: SystemLayout, credentials: Path, model: Path, capture: bool = True) -> list[ManagedProcess]:
    """`rasa_bot.system.services`, with the Rasa server reading `credentials` instead of the
    project's credentials.yml; without `capture`, with no event broker and no insights consumer."""
    children = services(layout, model)
    if not capture:
        children = [child for child in children if child.name != "insights consumer"]
    for child in children:
        if child.name == "rasa server":
            command = list(child.command)
            command[command.index("--credentials") + 1] = str(credentials)
            if not capture:
                endpoints = command.index("--endpoints") + 1
                command[endpoints] = str(without_capture(Path(command[endpoints]),
                                                         layout.data_dir / "endpoints-no-capture.yml"))
            child.command = command
    return children


@contextlib.contextmanager
def bench_system(args: argparse.Namespace, extra_channels: dict[str, Any] | None = None,
                 agents: int = 2, env: dict[str, str] | None = None,
                 needs_agent: bool = True, capture: bool = True) -> Iterator[BenchSystem]:
    """The system to measure: the running one named by `args` (its agent service and agent
    tokens only if `needs_agent`), or one started for this run with `agents` bench agents,
    `env` added to every service's environment, and the capture only if `capture`."""
    if args.rasa_url or args.agent_url or args.redis_url:
        needed = {"--rasa-url": args.rasa_url, "--redis-url": args.redis_url}
        if needs_agent:
            needed.update({"--agent-url": args.agent_url, "--agent-token": args.agent_token})
        if not all(needed.values()):
            raise SystemExit(f"a running system needs {', '.join(needed)}")
        if extra_channels:
            print("note: the running Rasa server must serve these channels too:", sorted(extra_channels))
        for url in (args.rasa_url, args.redis_url, args.agent_url):
            if url:
                require_loopback(url)
        yield BenchSystem(args.rasa_url.rstrip("/"), (args.agent_url or "").rstrip("/"), args.redis_url,
                          tuple(args.agent_token), args.key_prefix)
        return
    yield from _started_system(args.model, extra_channels or {}, agents, env or {}, args.keep_logs, capture)


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _started_system(model: Path, extra_channels: dict[str, Any], agents: int, env: dict[str, str],
                    keep_logs: bool, capture: bool = True) -> Iterator[BenchSystem]:
    if not model.exists():
        raise SystemExit(f"no trained model at {model}; run `make model` first")
    work = Path(tempfile.mkdtemp(prefix="bench-system-"))
    env = {"PAYLATER_DATABASE_URL": f"sqlite:///{work / 'shop.sqlite3'}", **env}
    subprocess.run([sys.executable, "-m", "actions.shop.seed"], cwd=PROJECT_ROOT, check=True, timeout=120,
                   env={**os.environ, **env, "PYTHONPATH": str(PROJECT_ROOT)}, stdout=subprocess.DEVNULL)
    tokens = tuple(secrets.token_urlsafe(24) for _ in range(agents))
    agents_file = work / "agents.yml"
    agents_file.write_text(yaml.safe_dump({"agents": [
        {"id": f"bench{number}", "name": f"Bench Agent {number}", "token": token}
        for number, token in enumerate(tokens, start=1)]}))
    agents_file.chmod(0o600)
    layout = SystemLayout(host="127.0.0.1", rasa_port=free_port(), action_port=free_port(),
                          agent_port=free_port(), redis_port=free_port(), data_dir=work,
                          log_dir=work / "log", env=env)
    # Not credentials.yml: the launcher writes that one into the data directory, over ours.
    credentials = write_credentials(work / "bench-credentials.yml", extra_channels)
    children = bench_services(layout, credentials, model, capture)
    print(f"starting the system (logs in {layout.log_dir}) ...", flush=True)
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)  # so `finally` stops the children
    failed = True
    try:
        start_all(children, READY_TIMEOUT_SECONDS)
        yield BenchSystem(layout.rasa_url, layout.agent_url, layout.redis_url, tokens, log_dir=layout.log_dir,
                          insights_database_url=layout.insights_database_url if capture else None)
        failed = False
    finally:
        stop_all(children)
        signal.signal(signal.SIGTERM, previous)
        if failed or keep_logs:
            print(f"logs kept in {layout.log_dir}")
        else:
            shutil.rmtree(work, ignore_errors=True)
