"""How origins are compared and configured for the console WebSocket (the handshakes themselves are
tried in test_auth.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff.agent_service.origins import console_origins
from handoff.settings import HandoffSettings
from handoff.web_origins import OriginsSettingError, normalise_origin
from tests.agent_service.service_process import ServiceProcess


@pytest.mark.parametrize(("value", "origin"), [
    ("http://127.0.0.1:5006", "http://127.0.0.1:5006"),
    ("HTTPS://Agents.Example.COM:443/", "https://agents.example.com"),
    ("http://shop.example:80/console?x=1", "http://shop.example"),
    ("http://[::1]:5006", "http://[::1]:5006"),
    ("null", None),
    ("", None),
    ("agents.example.com", None),
    ("ftp://agents.example.com", None),
    ("http://127.0.0.1:99999", None),
])
def test_origins_are_compared_as_browsers_write_them(value: str, origin: str | None) -> None:
    assert normalise_origin(value) == origin


def test_the_default_is_the_services_own_url() -> None:
    settings = HandoffSettings(agent_service_url="http://Agents.Example.com:5006/")
    assert console_origins(settings) == {"http://agents.example.com:5006"}
    listed = HandoffSettings(agent_service_url="http://127.0.0.1:5006",
                             console_origins=["https://agents.example.com", "http://127.0.0.1:8080"])
    assert console_origins(listed) == {"https://agents.example.com", "http://127.0.0.1:8080"}
    assert console_origins(HandoffSettings(console_origins=[])) == frozenset()
    with pytest.raises(OriginsSettingError, match="agent_service_url"):
        console_origins(HandoffSettings(agent_service_url="127.0.0.1:5006"))


def test_a_console_origin_that_is_no_origin_stops_the_service(
        tmp_path: Path, service_settings: dict[str, str]) -> None:
    process = ServiceProcess(tmp_path, {**service_settings, "console_origins": '["agents.example.com"]'})
    assert process.launch().wait(timeout=30) == 2
    assert "console_origins: 'agents.example.com' is not an origin" in process.log_file.read_text()
