"""The agents file: roles, tokens stored only as hashes and shown once (on create or reset), older
files with plain tokens, and the role check routes use. No running service, except to see it refuse
to start without the file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import yaml

from handoff.agent_service import agents as agents_module
from handoff.agent_service.access import require_role
from handoff.agent_service.agents import (
    DEMO_AGENT_ID,
    Agent,
    AgentRegistry,
    AgentsFileError,
    add_agent,
    ensure_demo,
    hash_token,
    main,
    read_agents,
    reset_token,
)
from handoff.agent_service.errors import ApiError
from tests.agent_service.service_process import ServiceProcess

HASH = "0123456789abcdef" * 4


def entries(path: Path) -> list[dict[str, str]]:
    return yaml.safe_load(path.read_text())["agents"]


def test_ensure_demo_creates_a_private_file_and_shows_the_token_only_then(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "var" / "agents.yml"
    assert main(["ensure-demo", str(path)]) == 0
    token = capsys.readouterr().out.strip()
    assert len(token) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert token not in path.read_text()
    assert entries(path) == [{"id": DEMO_AGENT_ID, "name": "Demo Agent", "role": "agent",
                              "token_sha256": hash_token(token)}]
    (agent,) = read_agents(path)
    assert AgentRegistry([agent]).authenticate(token) == agent

    assert main(["ensure-demo", str(path)]) == 0
    again = capsys.readouterr()
    assert again.out == ""  # never shown again
    assert f"reset-token {path} {DEMO_AGENT_ID}" in again.err
    assert ensure_demo(path) == (agent, None)


def test_add_gives_an_agent_a_role_and_their_own_token(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "agents.yml"
    ensure_demo(path)
    assert main(["add", str(path), "alice", "Alice Martin", "--role", "lead"]) == 0
    alice_token = capsys.readouterr().out.strip()
    assert main(["add", str(path), "bob", "Bob Stone"]) == 0
    bob_token = capsys.readouterr().out.strip()
    registry = AgentRegistry.load(path)
    alice, bob = registry.authenticate(alice_token), registry.authenticate(bob_token)
    assert (alice.id, alice.name, alice.role) == ("alice", "Alice Martin", "lead")
    assert (bob.id, bob.role) == ("bob", "agent")
    assert alice_token not in path.read_text() and bob_token not in path.read_text()

    assert main(["add", str(path), "alice", "Alice Again"]) == 2
    refused = capsys.readouterr()
    assert (refused.out, "already exists" in refused.err) == ("", True)
    with pytest.raises(SystemExit):
        main(["add", str(path), "carol", "Carol", "--role", "boss"])
    with pytest.raises(AgentsFileError, match="id"):
        add_agent(path, "has space", "Bad Id")


def test_reset_token_replaces_the_old_token_and_shows_the_new_one_once(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "agents.yml"
    _, old_token = add_agent(path, "alice", "Alice", role="lead")
    bob, bob_token = add_agent(path, "bob", "Bob")
    assert main(["reset-token", str(path), "alice"]) == 0
    new_token = capsys.readouterr().out.strip()
    assert new_token != old_token
    registry = AgentRegistry.load(path)
    assert registry.authenticate(old_token) is None
    assert registry.authenticate(new_token) == Agent("alice", "Alice", hash_token(new_token), "lead")
    assert registry.authenticate(bob_token) == bob
    assert new_token not in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    assert main(["reset-token", str(path), "nobody"]) == 2
    refused = capsys.readouterr()
    assert (refused.out, "no agent nobody" in refused.err) == ("", True)
    with pytest.raises(AgentsFileError, match="does not exist"):
        reset_token(tmp_path / "missing.yml", "alice")


def test_authenticate_matches_whole_tokens_only(tmp_path: Path) -> None:
    path = tmp_path / "agents.yml"
    alice, token = add_agent(path, "alice", "Alice")
    registry = AgentRegistry.load(path)
    assert registry.authenticate(token) == alice
    for wrong in (None, "", token[:-1], token + "x", token.upper(), alice.token_hash):
        assert registry.authenticate(wrong) is None


def test_an_agent_shows_its_role_but_never_its_token_hash() -> None:
    agent = Agent("alice", "Alice", HASH, "lead")
    assert agent.public() == {"id": "alice", "name": "Alice", "role": "lead"}
    assert HASH not in repr(agent)


def test_a_file_without_roles_makes_everyone_an_agent(tmp_path: Path) -> None:
    path = tmp_path / "agents.yml"
    path.write_text(f"agents: [{{id: a, name: A, token_sha256: {HASH}}}]")
    assert read_agents(path) == [Agent("a", "A", HASH, "agent")]


def test_an_older_file_with_plain_tokens_is_hashed_in_place_and_its_tokens_keep_working(
        tmp_path: Path) -> None:
    path = tmp_path / "agents.yml"
    path.write_text("agents:\n  - {id: alice, name: Alice, token: alice-token-0123456789}\n"
                    f"  - {{id: bob, name: Bob, role: lead, token_sha256: {HASH}}}\n")
    path.chmod(0o644)
    registry = AgentRegistry.load(path)
    assert registry.authenticate("alice-token-0123456789").id == "alice"
    assert "alice-token-0123456789" not in path.read_text()
    assert entries(path) == [
        {"id": "alice", "name": "Alice", "role": "agent", "token_sha256": hash_token("alice-token-0123456789")},
        {"id": "bob", "name": "Bob", "role": "lead", "token_sha256": HASH}]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_older_file_that_cannot_be_rewritten_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "agents.yml"
    legacy = "agents: [{id: alice, name: Alice, token: alice-token-0123456789}]\n"
    path.write_text(legacy)

    def read_only(_path: Path, _agents: list[Agent]) -> None:
        raise PermissionError(13, "Read-only file system")

    monkeypatch.setattr(agents_module, "write_agents", read_only)
    with pytest.raises(AgentsFileError, match="plain login token.*cannot be rewritten.*reset-token"):
        read_agents(path)
    assert path.read_text() == legacy


@pytest.mark.parametrize(("content", "message"), [
    (None, "does not exist"),
    ("agents: [", "cannot be read"),
    ("agents: []", "non-empty list"),
    ("- just a list", "non-empty list"),
    ("agents: [{id: a, name: A}]", "needs a token_sha256.*reset-token"),
    ("agents: [{id: a, name: A, token_sha256: not-a-hash}]", "needs a token_sha256"),
    ("agents: [{id: a, name: A, token: short}]", "token of at least"),
    (f"agents: [{{id: a, name: A, token: 0123456789abcdef, token_sha256: {HASH}}}]", "both token"),
    (f"agents: [{{id: a, name: A, role: admin, token_sha256: {HASH}}}]", "roles are agent, lead"),
    (f"agents: [{{id: '{{a}}', name: A, token_sha256: {HASH}}}]", "needs an id"),
    (f"agents: [{{id: a, token_sha256: {HASH}}}]", "needs a name"),
    (f"agents: [{{id: a, name: A, token_sha256: {HASH}}}, {{id: a, name: B, token_sha256: {'f' * 64}}}]",
     "same id"),
    (f"agents: [{{id: a, name: A, token_sha256: {HASH}}}, {{id: b, name: B, token_sha256: {HASH}}}]",
     "same token"),
    ("agents: [{id: a, name: A, token: 0123456789abcdef}, {id: b, name: B, token: 0123456789abcdef}]",
     "same token"),
])
def test_a_bad_agents_file_is_a_clear_error(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "agents.yml"
    if content is not None:
        path.write_text(content)
    with pytest.raises(AgentsFileError, match=message):
        read_agents(path)
    if content is not None:
        assert path.read_text() == content  # a bad file is never rewritten


def test_require_role_lets_a_lead_do_what_an_agent_may_but_not_the_reverse() -> None:
    agent, lead = Agent("a", "A", HASH, "agent"), Agent("l", "L", HASH, "lead")
    require_role(lead, "lead")
    require_role(lead, "agent")
    require_role(agent, "agent")
    with pytest.raises(ApiError) as refused:
        require_role(agent, "lead")
    assert refused.value.status == 403
    assert "lead role" in refused.value.message


def test_the_service_refuses_to_start_without_an_agents_file(
        tmp_path: Path, service_settings: dict[str, str]) -> None:
    process = ServiceProcess(tmp_path, {**service_settings, "agents_file": str(tmp_path / "missing.yml")})
    assert process.launch().wait(timeout=30) == 2
    assert "ensure-demo" in process.log_file.read_text()
