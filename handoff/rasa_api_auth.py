"""Credentials for Rasa's HTTP API, which `rasa run --jwt-secret` guards.

Rasa accepts a JWT (HS256) whose `user.role` is `admin` for every conversation. Each caller signs a
fresh token that expires within `rasa_token_seconds`, so a token that leaks (into a proxy's log, say)
is useless soon after; the shared secret itself never leaves the processes that hold it.
"""

from __future__ import annotations

import math
import time

import jwt

JWT_ALGORITHM = "HS256"
SERVICE_USERNAME = "handoff-agent-service"


class MissingRasaSecret(ValueError):
    """No secret is configured, so no call to Rasa's API could be authorised."""


def rasa_api_token(secret: str, lifetime_seconds: float, username: str = SERVICE_USERNAME) -> str:
    """A JWT that Rasa's API accepts for any conversation until it expires."""
    if not secret:
        raise MissingRasaSecret("HANDOFF_RASA_JWT_SECRET is not set: Rasa's HTTP API needs a credential")
    now = int(time.time())
    claims = {"user": {"username": username, "role": "admin"}, "iat": now, "exp": now + math.ceil(lifetime_seconds)}
    return jwt.encode(claims, secret, algorithm=JWT_ALGORITHM)


def rasa_api_headers(secret: str, lifetime_seconds: float) -> dict[str, str]:
    """The Authorization header of one call to Rasa's HTTP API."""
    return {"Authorization": f"Bearer {rasa_api_token(secret, lifetime_seconds)}"}
