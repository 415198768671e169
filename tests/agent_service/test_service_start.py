"""The agent service refuses to start without what it cannot work without, naming it."""

from __future__ import annotations

from pathlib import Path

from tests.agent_service.service_process import ServiceProcess


def test_the_service_refuses_to_start_without_a_secret_for_rasas_api(
        tmp_path: Path, service_settings: dict[str, str]) -> None:
    process = ServiceProcess(tmp_path, {**service_settings, "rasa_jwt_secret": ""})
    assert process.launch().wait(timeout=30) == 2
    assert "HANDOFF_RASA_JWT_SECRET" in process.log_file.read_text()
