"""Start-up objects leave garbage collection once, and cycles made later are still collected."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from handoff import heap_freeze


@pytest.fixture
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As in a process that froze nothing yet (an in-process server of an earlier test may have)."""
    gc.unfreeze()
    monkeypatch.setattr(heap_freeze, "_frozen", False)
    yield
    gc.unfreeze()


class Node:
    def __init__(self) -> None:
        self.partner: Node | None = None


def test_freezes_what_exists_once_and_still_collects_later_cycles(fresh_process: None) -> None:
    assert gc.get_freeze_count() == 0
    heap_freeze.freeze_startup_heap()
    frozen = gc.get_freeze_count()
    assert frozen > 1000  # everything pytest and the imports made
    made_later = [[] for _ in range(1000)]  # tracked containers made after the freeze
    heap_freeze.freeze_startup_heap()
    assert gc.get_freeze_count() <= frozen  # not frozen again (a frozen object may have been freed)
    assert len(made_later) == 1000

    first, second = Node(), Node()
    first.partner, second.partner = second, first  # a cycle made while serving
    del first, second
    assert gc.collect() >= 2
