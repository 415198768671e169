"""A real `redis-server` for tests, on a free loopback port, with its files in a temp directory."""

from __future__ import annotations

import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from tests.free_port import free_port

READY_TIMEOUT_SECONDS = 10.0


class RedisServer:
    """One redis-server process that a test can stop and start again (on the same port, so clients
    reconnect to the same URL)."""

    def __init__(self, data_dir: Path, *, appendonly: bool = False, key_load_delay_us: int = 0) -> None:
        self.data_dir = Path(data_dir)
        self.appendonly = appendonly
        # Redis's own testing knob: each key takes this long to load at start, so a test can meet
        # the LOADING replies a restarted Redis gives while it reads its data back.
        self.key_load_delay_us = key_load_delay_us
        self.port = free_port()
        self.password = secrets.token_urlsafe(24)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The URL every client of the tests uses: the server wants its password, as in production."""
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("redis-server is not running")
        return self._process.pid

    def start(self, *, while_loading: bool = False) -> str:
        """Starts the server and returns its URL once it answers PING (or, `while_loading`, once it
        answers at all, if only LOADING)."""
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        persistence = ["appendonly yes", "appendfsync everysec"] if self.appendonly else ["appendonly no"]
        config = [f"port {self.port}", "bind 127.0.0.1", 'save ""', *persistence, f'dir "{self.data_dir}"',
                  f'logfile "{self.data_dir / "redis.log"}"', f"requirepass {self.password}"]
        if self.key_load_delay_us:
            config += [f"key-load-delay {self.key_load_delay_us}", "loading-process-events-interval-bytes 1024"]
        # The password goes in a private file: on the command line `ps` would show it.
        config_file = self.data_dir / "redis.conf"
        config_file.touch(mode=0o600, exist_ok=True)
        config_file.write_text("\n".join(config) + "\n")
        self._process = subprocess.Popen([binary, str(config_file)], stdout=subprocess.DEVNULL,
                                         stderr=subprocess.STDOUT)
        self._wait_until_ready(while_loading)
        return self.url

    def _wait_until_ready(self, while_loading: bool = False) -> None:
        client = redis.Redis.from_url(self.url, socket_timeout=0.5, socket_connect_timeout=0.5)
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        try:
            while time.monotonic() < deadline:
                if self._process is None or self._process.poll() is not None:
                    break
                try:
                    if client.ping():
                        return
                except redis.exceptions.BusyLoadingError:
                    if while_loading:
                        return
                    time.sleep(0.05)
                except redis.exceptions.ConnectionError:
                    time.sleep(0.05)
        finally:
            client.close()
        log = self.data_dir / "redis.log"
        self.stop()
        raise RuntimeError(f"redis-server on port {self.port} did not come up:\n"
                           f"{log.read_text() if log.exists() else '(no log)'}")

    def stop(self) -> None:
        """Stops the server (SIGTERM, then SIGKILL if it lingers); safe to call twice."""
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None


@contextmanager
def running_redis(tmp_dir: Path, *, appendonly: bool = False) -> Iterator[str]:
    """Yields the URL of a fresh redis-server (no persistence unless `appendonly`) and stops it."""
    server = RedisServer(tmp_dir, appendonly=appendonly)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()
