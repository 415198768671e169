"""The `/metrics` answer both services give: Prometheus's text format for a credential, 401 JSON
without one.

The credential is the bearer token of the `metrics_token` setting (compared in constant time); the
agent service also takes an agent's token (see `handoff/agent_service/metrics.py`). An empty
`metrics_token` matches nothing, so metrics are never open by mistake.
"""

from __future__ import annotations

import hmac

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sanic.response import HTTPResponse, json, raw

METRICS_PATH = "/metrics"


def is_metrics_token(token: str | None, expected: str) -> bool:
    """Whether `token` is the configured metrics token; never when none is configured."""
    if not token or not expected:
        return False
    return hmac.compare_digest(token.encode(), expected.encode())


def unauthorized(token: str | None) -> HTTPResponse:
    reason = "wrong token" if token else "missing token"
    return json({"error": f"authentication required ({reason}): send 'Authorization: Bearer <metrics token>'"},
                status=401)


def metrics_response(registry: CollectorRegistry) -> HTTPResponse:
    """The registry's metrics in Prometheus's text format."""
    return raw(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
