"""Fixtures every test directory may use: a redis-server, and the whole running system
(`tests/system_fixtures.py`); each started only by the tests that ask for it."""

from collections.abc import Iterator

import pytest

from tests.redis_server import RedisServer

pytest_plugins = ["tests.system_fixtures"]


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One real redis-server (with a password) for the test session; tests keep to key prefixes of
    their own. Tests that count clients or stop Redis start their own."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `runs_last` (checks over what the whole run left behind, such as the logs) run
    after every other test, in their collected order."""
    items.sort(key=lambda item: item.get_closest_marker("runs_last") is not None)
