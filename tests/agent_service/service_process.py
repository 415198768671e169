"""The agent service as a real process (`python -m handoff.agent_service`) on a free port, which a
test can SIGKILL and start again on the same port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.free_port import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_SECONDS = 20.0


class ServiceProcess:
    """One agent-service process configured through HANDOFF_* environment variables only."""

    def __init__(self, log_dir: Path, settings: dict[str, str]) -> None:
        self.port = free_port()
        self.log_file = Path(log_dir) / f"agent-service-{self.port}.log"
        self._settings = settings
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/api/ws"

    def _environment(self) -> dict[str, str]:
        inherited = {key: value for key, value in os.environ.items() if not key.startswith("HANDOFF_")}
        # Its own URL, as the launcher gives it (the console's WebSocket origin by default).
        return {**inherited, "PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": "1",
                "HANDOFF_AGENT_SERVICE_URL": self.url,
                **{f"HANDOFF_{key.upper()}": value for key, value in self._settings.items()}}

    def launch(self) -> subprocess.Popen[bytes]:
        """Starts the process without waiting for it (for tests of failed starts)."""
        with self.log_file.open("ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "handoff.agent_service", "--host", "127.0.0.1",
                 "--port", str(self.port)],
                cwd=REPO_ROOT, env=self._environment(), stdout=log, stderr=subprocess.STDOUT)
        return self._process

    def start(self) -> ServiceProcess:
        """Starts the service and returns once /health answers."""
        process = self.launch()
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            try:
                if requests.get(f"{self.url}/health", timeout=0.5).status_code == 200:
                    return self
            except requests.ConnectionError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"agent service did not come up:\n{self.log_file.read_text(errors='replace')}")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        if self._process is not None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait()
            self._process = None

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None
