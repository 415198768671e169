"""Fixtures every test directory may use: the whole running system (`tests/system_fixtures.py`),
started only by the tests that ask for it."""

pytest_plugins = ["tests.system_fixtures"]
