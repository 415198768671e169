"""The hand-written OpenAPI document describes exactly the routes the app serves, and the public /
private split the auth middleware applies."""

from __future__ import annotations

import re

import pytest
import yaml

from handoff.agent_service.app import OPENAPI_FILE, create_app
from handoff.agent_service.auth import PUBLIC
from handoff.settings import HandoffSettings
from handoff.store import HandoffStore

SPEC = yaml.safe_load(OPENAPI_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def routes(tmp_path_factory: pytest.TempPathFactory, agent_pool) -> dict[tuple[str, str], str | None]:
    """(method, OpenAPI path) -> the route's auth mode, from an app built in this process (it never
    starts, so its store never connects)."""
    settings = HandoffSettings(agents_file=agent_pool[0], redis_url="redis://127.0.0.1:1/0")
    app = create_app(settings, HandoffStore(settings.redis_url))
    served = {}
    for route in app.router.routes:
        path = "/" + re.sub(r"<(\w+)(:[^>]*)?>", r"{\1}", route.path)
        for method in route.methods:
            served[(method.lower(), path)] = getattr(route.ctx, "auth", None)
    return served


def test_every_route_is_documented_and_nothing_else(routes) -> None:
    documented = {(method, path) for path, item in SPEC["paths"].items() for method in item
                  if method in ("get", "post", "put", "patch", "delete")}
    assert documented == set(routes)


def test_public_routes_are_exactly_those_documented_without_security(routes) -> None:
    documented_public = {(method, path)
                         for path, item in SPEC["paths"].items() for method, operation in item.items()
                         if isinstance(operation, dict) and operation.get("security") == []}
    assert documented_public == {key for key, auth in routes.items() if auth == PUBLIC}


def test_every_operation_documents_its_responses_and_refs_resolve() -> None:
    text = OPENAPI_FILE.read_text(encoding="utf-8")
    for reference in set(re.findall(r'\$ref: "#/([^"]+)"', text)):
        node = SPEC
        for part in reference.split("/"):
            node = node[part]
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            assert operation["responses"], (method, path)
            if operation.get("security") != []:
                assert "401" in operation["responses"], (method, path)
