"""Start child services, wait until they answer over HTTP, and stop them cleanly.

Shared by the `make run` launcher and the integration-test fixtures so both start the system the
same way.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import redis

logger = logging.getLogger(__name__)


class ServiceFailed(RuntimeError):
    """A child service exited or did not become ready in time."""


@dataclass
class ManagedProcess:
    """One child service: its command, the URL that answers once it is ready (http:// or
    redis://), and its log file."""

    name: str
    command: Sequence[str]
    ready_url: str
    log_path: Path
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    process: subprocess.Popen | None = None
    _log_file: IO[bytes] | None = None

    def start(self) -> None:
        """Starts the process in its own process group, its output going to `log_path`."""
        # Logs quote customers: only the owner may read them.
        self.log_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.log_path.parent.chmod(0o700)
        self.log_path.touch(mode=0o600, exist_ok=True)
        self.log_path.chmod(0o600)
        self._log_file = self.log_path.open("ab")
        self.process = subprocess.Popen(
            list(self.command),
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env={**os.environ, **self.env},
            cwd=self.cwd,
            start_new_session=True,
        )
        logger.info("started %s (pid %s), log: %s", self.name, self.process.pid, self.log_path)

    def wait_ready(self, timeout: float) -> None:
        """Polls `ready_url` until it answers; fails early if the process dies."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise ServiceFailed(
                    f"{self.name} exited with code {self.process.returncode}; "
                    f"see {self.log_path}:\n{self.tail_log()}"
                )
            if answers(self.ready_url):
                return
            time.sleep(0.2)
        raise ServiceFailed(
            f"{self.name} did not answer {self.ready_url} within {timeout:.0f} s; "
            f"see {self.log_path}:\n{self.tail_log()}"
        )

    def tail_log(self, lines: int = 30) -> str:
        """The last lines of the service's log, for error messages."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, grace: float = 10.0) -> None:
        """Sends SIGTERM to the whole process group, then SIGKILL after `grace` seconds."""
        if self.process is None or self.process.poll() is not None:
            self._close_log()
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=grace)
        except ProcessLookupError:
            pass
        self._close_log()

    def _close_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


def answers(url: str) -> bool:
    """Whether a service answers: HTTP 2xx for http:// URLs, PONG for redis:// URLs (with the
    password the URL carries)."""
    if url.startswith("redis://"):
        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError):
        return False


def start_all(services: list[ManagedProcess], timeout: float) -> None:
    """Starts every service, then waits for each; on failure stops the ones already started."""
    try:
        for service in services:
            service.start()
        for service in services:
            service.wait_ready(timeout)
    except BaseException:
        stop_all(services)
        raise


def stop_all(services: list[ManagedProcess]) -> None:
    """Stops services in reverse start order."""
    for service in reversed(services):
        service.stop()
