"""Shared fixtures: the documented settings, a private shop database per test and helpers that run
actions the way Rasa does."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from rasa.shared.core.domain import Domain
from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.engine import Engine

from actions.failed_checks import failed_checks as action_server_counter
from actions.shop.demo_data import seed_demo_data
from actions.shop.queries import engine_for
from actions.shop.schema import create_schema
from handoff.store_scripts import Keys
from tests.model_paths import DOMAIN_DIR
from tests.redis_server import RedisServer
from tests.settings_env import forget_loaded_settings, use_default_settings

CUSTOMER = "test-customer"


def _use_database(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """Points the settings at `url`."""
    monkeypatch.setenv("PAYLATER_DATABASE_URL", url)
    forget_loaded_settings()


@pytest.fixture(autouse=True)
def default_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts from the documented settings and reads them afresh, and none leaks its own."""
    use_default_settings(monkeypatch)
    yield
    forget_loaded_settings()


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A SQLite file of this test's own, set as the configured database (not yet created)."""
    url = f"sqlite:///{tmp_path / 'shop.sqlite3'}"
    _use_database(monkeypatch, url)
    return url


@pytest.fixture
def seeded_engine(db_url: str) -> Engine:
    """The configured database, with schema and demo data."""
    engine = engine_for(db_url)
    create_schema(engine)
    seed_demo_data(engine)
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


def _tracker(slots: dict[str, Any] | None = None, candidates: dict[str, Any] | None = None,
             sender_id: str = CUSTOMER) -> Tracker:
    """A tracker like the one the form sends to its validation action.

    `slots` are values from earlier turns; `candidates` are the values extracted this turn, which
    Rasa appends as SlotSet events right after running the form and also shows in the slots.
    """
    candidates = candidates or {}
    all_slots = {"order_number": None, "email": None, "lookup_type": None, "verified_order": None,
                 "requested_slot": None, **(slots or {}), **candidates}
    events = [ActionExecuted("order_lookup_form")] + [SlotSet(name, value) for name, value in candidates.items()]
    return Tracker(
        sender_id=sender_id,
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


class FailedCheckCounts:
    """Reads and sets the failed-check counts the action server keeps in Redis."""

    def __init__(self, url: str, keys: Keys) -> None:
        self._redis = redis.Redis.from_url(url, decode_responses=True)
        self._keys = keys

    def __call__(self, sender_id: str = CUSTOMER) -> int:
        return int(self._redis.get(self._keys.failed_checks(sender_id)) or 0)

    def set(self, count: int, sender_id: str = CUSTOMER) -> None:
        self._redis.set(self._keys.failed_checks(sender_id), count)


@pytest.fixture
def failed_checks(redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[FailedCheckCounts]:
    """The actions count failed checks in the test Redis, below a key prefix of this test's own."""
    prefix = f"test-{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("HANDOFF_REDIS_URL", redis_server.url)
    monkeypatch.setenv("HANDOFF_KEY_PREFIX", prefix)
    forget_loaded_settings()
    action_server_counter.cache_clear()
    yield FailedCheckCounts(redis_server.url, Keys(prefix))
    action_server_counter.cache_clear()


@pytest.fixture
def run_action(domain: DomainDict, failed_checks: FailedCheckCounts) -> Iterator[RunAction]:
    """Runs actions in one event loop (as the action server does) and returns (slot values each
    set, texts it sent)."""
    loop = asyncio.new_event_loop()

    def run(action: Action, tracker: Tracker) -> tuple[dict[str, Any], list[str]]:
        dispatcher = CollectingDispatcher()
        events = loop.run_until_complete(action.run(dispatcher, tracker, domain))
        slots = {event["name"]: event["value"] for event in events if event["event"] == "slot"}
        return slots, [message["text"] for message in dispatcher.messages]

    yield run
    loop.run_until_complete(action_server_counter().close())
    loop.close()
