"""Fixtures every test directory may use: the whole running system (`tests/system_fixtures.py`),
started only by the tests that ask for it."""

import pytest

pytest_plugins = ["tests.system_fixtures"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `runs_last` (checks over what the whole run left behind, such as the logs) run
    after every other test, in their collected order."""
    items.sort(key=lambda item: item.get_closest_marker("runs_last") is not None)
