"""Who may use the agent service: agents listed in a YAML file with a secret login token each.

The file lives outside the repository (default `var/agents.yml`, mode 600) and looks like

    agents:
      - {id: alice, name: Alice Martin, token: <random secret>}

Command line (tokens are printed once, never written anywhere but the file):

    python -m handoff.agent_service.agents ensure-demo var/agents.yml   # create with a demo agent
    python -m handoff.agent_service.agents add var/agents.yml bob "Bob Stone"

The service reads the file at start; restart it after adding an agent.
"""

from __future__ import annotations

import argparse
import hmac
import os
import re
import secrets
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# Agent ids go into Redis key names (`{agent:<id>}`), so braces and spaces are kept out.
AGENT_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
MIN_TOKEN_LENGTH = 16
DEMO_AGENT_ID = "agent1"
DEMO_AGENT_NAME = "Demo Agent"


class AgentsFileError(Exception):
    """The agents file is missing or malformed; the service must not start without it."""


@dataclass(frozen=True)
class Agent:
    """One human agent; `token` is the secret the console logs in with."""

    id: str
    name: str
    token: str

    def public(self) -> dict[str, str]:
        """What other agents and the console may see (never the token)."""
        return {"id": self.id, "name": self.name}


class AgentRegistry:
    """The configured agents, looked up by id or by login token."""

    def __init__(self, agents: Iterable[Agent]) -> None:
        self._agents = {agent.id: agent for agent in agents}

    def __iter__(self) -> Iterator[Agent]:
        return iter(self._agents.values())

    def __len__(self) -> int:
        return len(self._agents)

    def get(self, agent_id: str) -> Agent | None:
        return self._agents.get(agent_id)

    def authenticate(self, token: str | None) -> Agent | None:
        """The agent owning `token`. Every configured token is compared in constant time, so the
        answer's timing says nothing about how close a guess was or which agent it matched."""
        if not token:
            return None
        offered = token.encode()
        found = None
        for agent in self._agents.values():
            if hmac.compare_digest(offered, agent.token.encode()):
                found = agent
        return found

    @classmethod
    def load(cls, path: Path) -> AgentRegistry:
        """Reads and checks the agents file; every problem becomes an AgentsFileError naming it."""
        return cls(read_agents(path))


def read_agents(path: Path) -> list[Agent]:
    """The agents listed in `path`, validated (ids unique and key-safe, tokens long and unique)."""
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AgentsFileError(
            f"agents file {path} does not exist; create it with "
            f"`python -m handoff.agent_service.agents ensure-demo {path}`") from None
    except (OSError, yaml.YAMLError) as exc:
        raise AgentsFileError(f"agents file {path} cannot be read: {exc}") from exc
    entries = document.get("agents") if isinstance(document, dict) else None
    if not isinstance(entries, list) or not entries:
        raise AgentsFileError(f"agents file {path} must hold `agents:` with a non-empty list of agents")
    agents = [_agent(path, index, entry) for index, entry in enumerate(entries)]
    _check_unique(path, "id", [agent.id for agent in agents])
    _check_unique(path, "token", [agent.token for agent in agents])
    return agents


def _agent(path: Path, index: int, entry: Any) -> Agent:
    if not isinstance(entry, dict):
        raise AgentsFileError(f"{path}: agent #{index + 1} must be a mapping with id, name and token")
    agent_id, name, token = (entry.get(key) for key in ("id", "name", "token"))
    if not isinstance(agent_id, str) or not AGENT_ID_PATTERN.match(agent_id):
        raise AgentsFileError(f"{path}: agent #{index + 1} needs an id of 1-64 letters, digits or _.@-")
    if not isinstance(name, str) or not name.strip():
        raise AgentsFileError(f"{path}: agent {agent_id} needs a name")
    if not isinstance(token, str) or len(token) < MIN_TOKEN_LENGTH:
        raise AgentsFileError(f"{path}: agent {agent_id} needs a token of at least "
                              f"{MIN_TOKEN_LENGTH} characters")
    return Agent(agent_id, name.strip(), token)


def _check_unique(path: Path, what: str, values: Sequence[str]) -> None:
    if len(set(values)) != len(values):
        raise AgentsFileError(f"{path}: two agents share the same {what}")


def new_token() -> str:
    return secrets.token_urlsafe(24)


def write_agents(path: Path, agents: Sequence[Agent]) -> None:
    """Replaces the file atomically, readable by its owner only (it holds secrets)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"agents": [{"id": agent.id, "name": agent.name, "token": agent.token} for agent in agents]}
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        yaml.safe_dump(document, handle, sort_keys=False, allow_unicode=True)
    partial.replace(path)
    path.chmod(0o600)


def add_agent(path: Path, agent_id: str, name: str) -> Agent:
    """Adds an agent with a fresh token (creating the file if needed) and returns it."""
    path = Path(path)
    agents = read_agents(path) if path.exists() else []
    if any(agent.id == agent_id for agent in agents):
        raise AgentsFileError(f"{path}: agent {agent_id} already exists")
    agent = _agent(path, len(agents), {"id": agent_id, "name": name, "token": new_token()})
    write_agents(path, [*agents, agent])
    return agent


def ensure_demo(path: Path) -> tuple[Agent, bool]:
    """The demo agent, created with the file if the file does not exist; True when just created.
    An existing file is left alone (its demo agent is returned if it has one)."""
    path = Path(path)
    if not path.exists():
        return add_agent(path, DEMO_AGENT_ID, DEMO_AGENT_NAME), True
    agents = read_agents(path)
    return next((agent for agent in agents if agent.id == DEMO_AGENT_ID), agents[0]), False


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m handoff.agent_service.agents",
                                     description="Manage the agents file of the agent service.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("ensure-demo", help="create the file with a demo agent unless it exists; "
                                                   "print the agent's login token")
    demo.add_argument("path", type=Path)
    add = commands.add_parser("add", help="add an agent and print its login token")
    add.add_argument("path", type=Path)
    add.add_argument("id")
    add.add_argument("name")
    args = parser.parse_args(argv)
    try:
        if args.command == "ensure-demo":
            agent, created = ensure_demo(args.path)
            note = "created" if created else "already exists"
        else:
            agent, note = add_agent(args.path, args.id, args.name), "updated"
    except AgentsFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.path} {note}; login token of {agent.id} ({agent.name}):", file=sys.stderr)
    print(agent.token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
