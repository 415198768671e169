"""Shared fixtures: a private shop database per test and helpers that run actions the way Rasa does."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa.shared.core.domain import Domain
from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.engine import Engine

from actions import shop_db
from rasa_bot.settings import PROJECT_ROOT, get_settings
from tests.model_paths import DOMAIN_DIR


def _use_database(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """Points the settings at `url`, ignoring any local settings.yml."""
    monkeypatch.setenv("PAYLATER_SETTINGS", str(PROJECT_ROOT / "tests" / "no-such-settings.yml"))
    monkeypatch.setenv("PAYLATER_DATABASE_URL", url)
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    """Makes every test read settings again, so environment changes of one test never leak."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A SQLite file of this test's own, set as the configured database (not yet created)."""
    url = f"sqlite:///{tmp_path / 'shop.sqlite3'}"
    _use_database(monkeypatch, url)
    return url


@pytest.fixture
def seeded_engine(db_url: str) -> Engine:
    """The configured database, with schema and demo data."""
    engine = shop_db.engine_for(db_url)
    shop_db.create_schema(engine)
    shop_db.seed_demo_data(engine)
    return engine


@pytest.fixture
def unreachable_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Configures a SQLite file inside a folder that does not exist, so every connection fails."""
    url = f"sqlite:///{tmp_path / 'missing-folder' / 'shop.sqlite3'}"
    _use_database(monkeypatch, url)
    return url


@pytest.fixture
def corrupt_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Configures a file that is not a SQLite database at all."""
    path = tmp_path / "corrupt.sqlite3"
    path.write_bytes(b"this is not a database\x00" * 200)
    url = f"sqlite:///{path}"
    _use_database(monkeypatch, url)
    return url


@pytest.fixture(scope="session")
def domain() -> DomainDict:
    """The project's real domain, as the action server receives it."""
    return Domain.load(str(DOMAIN_DIR)).as_dict()


def _tracker(slots: dict[str, Any] | None = None, candidates: dict[str, Any] | None = None) -> Tracker:
    """A tracker like the one the form sends to its validation action.

    `slots` are values from earlier turns; `candidates` are the values extracted this turn, which
    Rasa appends as SlotSet events right after running the form and also shows in the slots.
    """
    candidates = candidates or {}
    all_slots = {"order_number": None, "email": None, "lookup_type": None, "verified_order": None,
                 "requested_slot": None, **(slots or {}), **candidates}
    events = [ActionExecuted("order_lookup_form")] + [SlotSet(name, value) for name, value in candidates.items()]
    return Tracker(
        sender_id="test-customer",
        slots=all_slots,
        latest_message={"text": "", "intent": {}, "entities": []},
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": "order_lookup_form"},
        latest_action_name="order_lookup_form",
    )


MakeTracker = Callable[..., Tracker]
RunAction = Callable[[Action, Tracker], tuple[dict[str, Any], list[str]]]


@pytest.fixture
def make_tracker() -> MakeTracker:
    """Builds trackers: `make_tracker(slots={...}, candidates={...})`."""
    return _tracker


@pytest.fixture
def run_action(domain: DomainDict) -> RunAction:
    """Runs an action and returns (slot values it set, texts it sent)."""

    def run(action: Action, tracker: Tracker) -> tuple[dict[str, Any], list[str]]:
        dispatcher = CollectingDispatcher()
        events = asyncio.run(action.run(dispatcher, tracker, domain))
        slots = {event["name"]: event["value"] for event in events if event["event"] == "slot"}
        return slots, [message["text"] for message in dispatcher.messages]

    return run
