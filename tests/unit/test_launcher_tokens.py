"""`make run` shows the demo agent's token on the run that creates it, and never again."""

from __future__ import annotations

from pathlib import Path

from handoff.agent_service.agents import DEMO_AGENT_ID, AgentRegistry
from rasa_bot.launcher import agent_token_line
from rasa_bot.system import SystemLayout


def test_the_banner_shows_the_demo_token_once_then_how_to_get_a_new_one(tmp_path: Path) -> None:
    layout = SystemLayout(host="127.0.0.1", rasa_port=1, action_port=2, agent_port=3, redis_port=4,
                          data_dir=tmp_path / "var", log_dir=tmp_path / "var" / "log")
    first = agent_token_line(layout)
    assert first.startswith("  Demo agent token:  ")
    token = first.split()[3]
    assert AgentRegistry.load(layout.agents_file).authenticate(token).id == DEMO_AGENT_ID
    later = agent_token_line(layout)
    assert token not in later
    assert f"reset-token {layout.agents_file} {DEMO_AGENT_ID}" in later
