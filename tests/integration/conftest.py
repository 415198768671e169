"""Starts the real system (action server + Rasa server with the trained model) on free loopback
ports, against a freshly seeded SQLite shop database, once per test session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from rasa_bot.processes import start_all, stop_all
from rasa_bot.settings import PROJECT_ROOT
from rasa_bot.system import MODEL_PATH, SystemLayout, services
from tests.free_port import free_port

READY_TIMEOUT_SECONDS = 240.0


@pytest.fixture(scope="session")
def bot_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SystemLayout]:
    """The running assistant; yields its layout (URLs) and stops it after the session."""
    if not MODEL_PATH.exists():
        pytest.fail(f"no trained model at {MODEL_PATH}; run the tests through `make test`")
    work = tmp_path_factory.mktemp("system")
    env = {"PAYLATER_DATABASE_URL": f"sqlite:///{work / 'shop.sqlite3'}", "PYTHONPATH": str(PROJECT_ROOT)}
    subprocess.run([sys.executable, "-m", "rasa_bot.seed"], cwd=PROJECT_ROOT, env={**os.environ, **env},
                   check=True, timeout=120)
    layout = SystemLayout(host="127.0.0.1", rasa_port=free_port(), action_port=free_port(),
                          log_dir=Path(work) / "log", env=env)
    children = services(layout)
    start_all(children, READY_TIMEOUT_SECONDS)
    yield layout
    stop_all(children)

