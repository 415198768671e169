"""Who may use the agent service: agents listed in a YAML file, each with a role and the SHA-256 of a
secret login token.

The file lives outside the repository (default `var/agents.yml`, mode 600) and looks like

    agents:
      - {id: alice, name: Alice Martin, role: lead, token_sha256: <64 hex digits>}

`role` is `agent` (the default when absent) or `lead`. A token is random, so a plain SHA-256 of it is
as hard to reverse as the token is to guess: the file no longer gives anyone a login. The token itself
is shown once, when it is created, and kept nowhere.

Command line (a new token goes to stdout, once; notes go to stderr):

    python -m handoff.agent_service.agents ensure-demo var/agents.yml   # create with a demo agent
    python -m handoff.agent_service.agents add var/agents.yml bob "Bob Stone" [--role lead]
    python -m handoff.agent_service.agents reset-token var/agents.yml bob   # a lost or leaked token

A file written before tokens were hashed (entries with a plain `token:`) keeps working: the first
read hashes those tokens and rewrites the file (mode 600), so agents keep their tokens and the plain
ones leave the disk. A file that cannot be rewritten is refused with an error saying so.

The service reads the file at start; restart it after adding an agent or resetting a token.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import logging
import re
import secrets
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from handoff.private_files import write_private_file

logger = logging.getLogger(__name__)

# Agent ids go into Redis key names (`{agent:<id>}`), so braces and spaces are kept out.
AGENT_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
TOKEN_HASH_PATTERN = re.compile(r"^[0-9a-f]{64}$")
MIN_TOKEN_LENGTH = 16
AGENT_ROLE = "agent"
LEAD_ROLE = "lead"
# From least to most trusted: a role may do what every role before it may.
ROLES = (AGENT_ROLE, LEAD_ROLE)
DEMO_AGENT_ID = "agent1"
DEMO_AGENT_NAME = "Demo Agent"
COMMAND = "python -m handoff.agent_service.agents"


class AgentsFileError(Exception):
    """The agents file is missing or malformed; the service must not start without it."""


def hash_token(token: str) -> str:
    """What the agents file stores instead of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class Agent:
    """One human agent as the service knows them; `token_hash` is the SHA-256 of their login token."""

    id: str
    name: str
    token_hash: str = field(repr=False)
    role: str = AGENT_ROLE

    def public(self) -> dict[str, str]:
        """What other agents and the console may see (never the token's hash)."""
        return {"id": self.id, "name": self.name, "role": self.role}

    def has_role(self, role: str) -> bool:
        """True when this agent's role is `role` or a more trusted one."""
        return ROLES.index(self.role) >= ROLES.index(role)


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
        """The agent owning `token`. Every stored hash is compared in constant time, so the answer's
        timing says nothing about which agent a guess matched."""
        if not token:
            return None
        offered = hash_token(token).encode()
        found = None
        for agent in self._agents.values():
            if hmac.compare_digest(offered, agent.token_hash.encode()):
                found = agent
        return found

    @classmethod
    def load(cls, path: Path) -> AgentRegistry:
        """Reads and checks the agents file; every problem becomes an AgentsFileError naming it."""
        return cls(read_agents(path))


def read_agents(path: Path) -> list[Agent]:
    """The agents listed in `path`, validated (ids unique and key-safe, roles known, token hashes
    unique). Plain tokens of an older file are hashed and the file rewritten without them."""
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AgentsFileError(
            f"agents file {path} does not exist; create it with `{COMMAND} ensure-demo {path}`") from None
    except (OSError, yaml.YAMLError) as exc:
        raise AgentsFileError(f"agents file {path} cannot be read: {exc}") from exc
    entries = document.get("agents") if isinstance(document, dict) else None
    if not isinstance(entries, list) or not entries:
        raise AgentsFileError(f"agents file {path} must hold `agents:` with a non-empty list of agents")
    agents = [_agent(path, index, entry) for index, entry in enumerate(entries)]
    _check_unique(path, "id", [agent.id for agent in agents])
    _check_unique(path, "token", [agent.token_hash for agent in agents])
    plain = sum(1 for entry in entries if "token" in entry)
    if plain:
        _rewrite_hashed(path, agents, plain)
    return agents


def _agent(path: Path, index: int, entry: Any) -> Agent:
    if not isinstance(entry, dict):
        raise AgentsFileError(f"{path}: agent #{index + 1} must be a mapping with id, name and token_sha256")
    agent_id, name, role = entry.get("id"), entry.get("name"), entry.get("role", AGENT_ROLE)
    if not isinstance(agent_id, str) or not AGENT_ID_PATTERN.match(agent_id):
        raise AgentsFileError(f"{path}: agent #{index + 1} needs an id of 1-64 letters, digits or _.@-")
    if not isinstance(name, str) or not name.strip():
        raise AgentsFileError(f"{path}: agent {agent_id} needs a name")
    if role not in ROLES:
        raise AgentsFileError(f"{path}: agent {agent_id} has role {role!r}; roles are {', '.join(ROLES)}")
    return Agent(agent_id, name.strip(), _token_hash(path, agent_id, entry), role)


def _token_hash(path: Path, agent_id: str, entry: dict[str, Any]) -> str:
    """The entry's token hash; a plain `token` (an older file) is hashed here."""
    if "token" in entry and "token_sha256" in entry:
        raise AgentsFileError(f"{path}: agent {agent_id} has both token and token_sha256; keep one")
    if "token" in entry:
        token = entry["token"]
        if not isinstance(token, str) or len(token) < MIN_TOKEN_LENGTH:
            raise AgentsFileError(f"{path}: agent {agent_id} needs a token of at least "
                                  f"{MIN_TOKEN_LENGTH} characters")
        return hash_token(token)
    token_hash = entry.get("token_sha256")
    if not isinstance(token_hash, str) or not TOKEN_HASH_PATTERN.match(token_hash):
        raise AgentsFileError(f"{path}: agent {agent_id} needs a token_sha256 of 64 hex digits; give them a "
                              f"token with `{COMMAND} reset-token {path} {agent_id}`")
    return token_hash


def _check_unique(path: Path, what: str, values: Sequence[str]) -> None:
    if len(set(values)) != len(values):
        raise AgentsFileError(f"{path}: two agents share the same {what}")


def _rewrite_hashed(path: Path, agents: Sequence[Agent], plain: int) -> None:
    """Replaces the plain tokens of an older file by their hashes; the agents keep their tokens."""
    try:
        write_agents(path, agents)
    except OSError as exc:
        raise AgentsFileError(
            f"{path} holds {plain} plain login token(s) and cannot be rewritten with their hashes ({exc}); "
            "make it writable by the service for one start, or give each agent a new token with "
            f"`{COMMAND} reset-token`") from exc
    logger.warning("%s: replaced %d plain login token(s) by their SHA-256 (the tokens still work)", path, plain)


def write_agents(path: Path, agents: Sequence[Agent]) -> None:
    """Replaces the file atomically, readable by its owner only."""
    document = {"agents": [{"id": agent.id, "name": agent.name, "role": agent.role,
                            "token_sha256": agent.token_hash} for agent in agents]}
    write_private_file(path, yaml.safe_dump(document, sort_keys=False, allow_unicode=True))


def add_agent(path: Path, agent_id: str, name: str, role: str = AGENT_ROLE) -> tuple[Agent, str]:
    """Adds an agent with a fresh token (creating the file if needed); returns the agent and the token,
    which exists nowhere else."""
    path = Path(path)
    agents = read_agents(path) if path.exists() else []
    if any(agent.id == agent_id for agent in agents):
        raise AgentsFileError(f"{path}: agent {agent_id} already exists")
    token = new_token()
    agent = _agent(path, len(agents), {"id": agent_id, "name": name, "role": role,
                                       "token_sha256": hash_token(token)})
    write_agents(path, [*agents, agent])
    return agent, token


def reset_token(path: Path, agent_id: str) -> tuple[Agent, str]:
    """Gives an agent a fresh token (the old one stops working once the service restarts)."""
    path = Path(path)
    agents = read_agents(path)
    if not any(agent.id == agent_id for agent in agents):
        raise AgentsFileError(f"{path}: no agent {agent_id}")
    token = new_token()
    renewed = [replace(agent, token_hash=hash_token(token)) if agent.id == agent_id else agent
               for agent in agents]
    write_agents(path, renewed)
    return next(agent for agent in renewed if agent.id == agent_id), token


def ensure_demo(path: Path) -> tuple[Agent, str | None]:
    """The demo agent, created with the file if the file does not exist, with its token then (None
    otherwise: an existing file is left alone and its demo agent, or first agent, returned)."""
    path = Path(path)
    if not path.exists():
        return add_agent(path, DEMO_AGENT_ID, DEMO_AGENT_NAME)
    agents = read_agents(path)
    return next((agent for agent in agents if agent.id == DEMO_AGENT_ID), agents[0]), None


def reset_hint(path: Path, agent_id: str) -> str:
    """How to get a new token for an agent whose token is no longer shown."""
    return f"{COMMAND} reset-token {path} {agent_id}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=COMMAND, description="Manage the agents file of the agent service.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("ensure-demo", help="create the file with a demo agent unless it exists; "
                                                   "print the demo agent's token if it was created")
    demo.add_argument("path", type=Path)
    add = commands.add_parser("add", help="add an agent and print their new login token")
    add.add_argument("path", type=Path)
    add.add_argument("id")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, default=AGENT_ROLE)
    reset = commands.add_parser("reset-token", help="give an agent a new login token and print it")
    reset.add_argument("path", type=Path)
    reset.add_argument("id")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "ensure-demo":
            agent, token = ensure_demo(args.path)
            note = "created"
        elif args.command == "add":
            (agent, token), note = add_agent(args.path, args.id, args.name, args.role), "updated"
        else:
            (agent, token), note = reset_token(args.path, args.id), "updated"
    except AgentsFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if token is None:
        print(f"{args.path} already exists; tokens are shown only when created. A new token for "
              f"{agent.id}: {reset_hint(args.path, agent.id)}", file=sys.stderr)
        return 0
    print(f"{args.path} {note}; login token of {agent.id} ({agent.name}, {agent.role}), shown this once:",
          file=sys.stderr)
    print(token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
