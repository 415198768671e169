"""The services that make up the running assistant, described once for the launcher and tests."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

from rasa_bot.processes import ManagedProcess
from rasa_bot.settings import PROJECT_ROOT

MODEL_PATH = PROJECT_ROOT / "models" / "paylater.tar.gz"
VENV_BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class SystemLayout:
    """Hosts, ports and files of one running system (the real one or a test's)."""

    host: str
    rasa_port: int
    action_port: int
    log_dir: Path
    env: Dict[str, str]

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://{self.host}:{self.action_port}"


def write_endpoints(layout: SystemLayout, path: Path) -> Path:
    """Writes an endpoints file that points Rasa at this layout's action server."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'action_endpoint:\n  url: "{layout.action_url}/webhook"\n')
    return path


def services(layout: SystemLayout, model: Path = MODEL_PATH) -> List[ManagedProcess]:
    """The action server and the Rasa server, in start order."""
    rasa = str(VENV_BIN / "rasa")
    endpoints = write_endpoints(layout, layout.log_dir / "endpoints.yml")
    return [
        ManagedProcess(
            name="action server",
            command=[rasa, "run", "actions", "--actions", "actions", "--port", str(layout.action_port)],
            ready_url=f"{layout.action_url}/health",
            log_path=layout.log_dir / "actions.log",
            env=layout.env,
            cwd=PROJECT_ROOT,
        ),
        ManagedProcess(
            name="rasa server",
            command=[
                rasa, "run", "--enable-api",
                "--model", str(model),
                "--credentials", str(PROJECT_ROOT / "credentials.yml"),
                "--endpoints", str(endpoints),
                "--interface", layout.host,
                "--port", str(layout.rasa_port),
                "--cors", "*",
            ],
            ready_url=f"{layout.rasa_url}/status",
            log_path=layout.log_dir / "rasa.log",
            env=layout.env,
            cwd=PROJECT_ROOT,
        ),
    ]
