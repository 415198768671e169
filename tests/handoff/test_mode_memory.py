"""The router's memory of conversation modes for Redis outages: bounded, and trusted only while fresh."""

from __future__ import annotations

from handoff.channels.mode_memory import ModeMemory
from handoff.models import ASSIGNED, BOT
from tests.handoff.conftest import FakeClock


def test_only_a_recent_bot_mode_counts_as_surely_with_the_bot(clock: FakeClock) -> None:
    memory = ModeMemory(max_entries=10, max_age_seconds=60, clock=clock)
    memory.remember("c1", BOT)
    memory.remember("c2", ASSIGNED)
    assert memory.surely_with_bot("c1")
    assert not memory.surely_with_bot("c2") and not memory.surely_with_bot("never-seen")
    clock.advance(60.5)
    assert not memory.surely_with_bot("c1")
    memory.remember("c1", BOT)  # confirmed again by Redis
    assert memory.surely_with_bot("c1")


def test_forgetting_makes_a_conversation_unknown(clock: FakeClock) -> None:
    memory = ModeMemory(max_entries=10, max_age_seconds=60, clock=clock)
    memory.remember("c1", BOT)
    memory.forget("c1")
    memory.forget("c1")  # twice is harmless
    assert not memory.surely_with_bot("c1")


def test_the_least_recently_confirmed_go_first_when_full(clock: FakeClock) -> None:
    memory = ModeMemory(max_entries=2, max_age_seconds=60, clock=clock)
    for conversation_id in ("c1", "c2"):
        memory.remember(conversation_id, BOT)
    memory.remember("c1", BOT)  # c1 is now the most recent
    memory.remember("c3", BOT)
    assert len(memory) == 2
    assert memory.surely_with_bot("c1") and memory.surely_with_bot("c3")
    assert not memory.surely_with_bot("c2")


def test_no_room_means_no_memory(clock: FakeClock) -> None:
    memory = ModeMemory(max_entries=0, max_age_seconds=60, clock=clock)
    memory.remember("c1", BOT)
    assert len(memory) == 0 and not memory.surely_with_bot("c1")
