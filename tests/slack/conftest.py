"""Fixtures for the Slack tests: a real redis-server and the loopback Slack Web API stand-in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.redis_server import running_redis
from tests.slack_api import FakeSlackApi, running_slack_api

SLACK_TOKEN = "xoxb-slack-tests"


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_redis(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(scope="session")
def slack_api() -> Iterator[FakeSlackApi]:
    with running_slack_api(SLACK_TOKEN) as api:
        yield api
