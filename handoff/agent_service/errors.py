"""Every failure of the API becomes `{"error": "<clear message>"}` with a fitting status, never a
traceback page; and the small body-reading helpers that raise those failures."""

from __future__ import annotations

import json
import logging
from typing import Any

from sanic import Sanic
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from handoff.store import StoreUnavailable

logger = logging.getLogger(__name__)


STORE_UNAVAILABLE = "the handoff store (Redis) is unavailable; try again shortly"

class ApiError(Exception):
    """A request the service refuses on purpose; `status` is the HTTP status to answer with and
    `details` extra fields for programs (e.g. `reason: already_claimed`)."""

    def __init__(self, status: int, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details


def error_response(status: int, message: str, **details: Any) -> HTTPResponse:
    return json_response({"error": message, **details}, status=status)


def install_error_handlers(app: Sanic) -> None:
    """Maps refusals, Sanic's own errors (404 route, 405, 413 body) and a lost Redis to JSON."""

    def on_api_error(_request: Request, exc: ApiError) -> HTTPResponse:
        return error_response(exc.status, exc.message, **exc.details)

    def on_store_unavailable(request: Request, exc: StoreUnavailable) -> HTTPResponse:
        logger.warning("redis unavailable during %s %s: %s", request.method, request.path, exc)
        return error_response(503, STORE_UNAVAILABLE)

    def on_sanic_error(_request: Request, exc: SanicException) -> HTTPResponse:
        return error_response(exc.status_code, str(exc) or "request failed")

    def on_unexpected(request: Request, exc: Exception) -> HTTPResponse:
        logger.error("unexpected error during %s %s", request.method, request.path, exc_info=exc)
        return error_response(500, "internal error of the agent service")

    app.error_handler.add(ApiError, on_api_error)
    app.error_handler.add(StoreUnavailable, on_store_unavailable)
    app.error_handler.add(SanicException, on_sanic_error)
    app.error_handler.add(Exception, on_unexpected)


def json_body(request: Request, *, required: bool = True) -> dict[str, Any]:
    """The request's JSON object; an absent body counts as `{}` unless `required`."""
    if not request.body:
        if required:
            raise ApiError(400, "request body must be a JSON object")
        return {}
    try:
        body = json.loads(request.body)
    except ValueError as exc:
        raise ApiError(400, f"request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise ApiError(400, "request body is nested too deeply") from None
    if not isinstance(body, dict):
        raise ApiError(400, "request body must be a JSON object")
    return body


def text_field(body: dict[str, Any], name: str, *, max_length: int | None = None) -> str:
    """A required, non-empty string field."""
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, f"field '{name}' is required and must be a non-empty string")
    if max_length is not None and len(value) > max_length:
        raise ApiError(400, f"field '{name}' must be at most {max_length} characters")
    return value
