"""Both long-running servers leave their start-up heap out of garbage collection once they serve,
so a full collection no longer pauses them for hundreds of milliseconds (handoff/heap_freeze.py)."""

from __future__ import annotations

import re

import pytest

from rasa_bot.processes import ManagedProcess
from rasa_bot.system import SystemLayout

pytestmark = pytest.mark.model


@pytest.mark.parametrize("name", ["rasa server", "agent service"])
def test_the_server_froze_its_startup_heap(bot_system: SystemLayout, system_processes: dict[str, ManagedProcess],
                                           name: str) -> None:
    log = system_processes[name].log_path.read_text(encoding="utf-8", errors="replace")
    frozen = [int(count) for count in re.findall(r"froze (\d+) start-up objects", log)]
    assert frozen, f"the {name} never froze its start-up heap; log: {system_processes[name].log_path}"
    assert min(frozen) > 10_000
