"""Keeps the identifiers that grant access out of every log line a plugin process writes.

A customer's signed conversation id is their only key to the conversation, and logs are read by more
people (and kept longer) than Redis. So each id is replaced by a short hash of it, which still
follows one conversation through the logs of every process but opens nothing. Bearer tokens and
`token=` query values are cut out too.

It hooks the log record factory, not a handler: Rasa, Sanic and rasa-sdk configure their own
handlers, and the factory sees every record of every logger before any of them.
"""

from __future__ import annotations

import hashlib
import logging
import re
from typing import Any

SIGNED_CONVERSATION_ID = re.compile(r"\b[0-9a-f]{32}\.[0-9a-f]{24}\b")
BEARER_TOKEN = re.compile(r"\b(Bearer\s+)[\w.~+/=-]+", re.IGNORECASE)
TOKEN_PARAMETER = re.compile(r"\b(token=)[^&\s'\"]+", re.IGNORECASE)
JWT = re.compile(r"\beyJ[\w-]*\.eyJ[\w-]*\.[\w-]+")


def log_id(conversation_id: str) -> str:
    """The stand-in for a conversation id in logs (the id has 128 random bits: the hash cannot be
    turned back into it)."""
    return "conv-" + hashlib.sha256(conversation_id.encode()).hexdigest()[:12]


def redact(text: str) -> str:
    """`text` with conversation ids replaced by their log ids and tokens removed."""
    text = SIGNED_CONVERSATION_ID.sub(lambda found: log_id(found[0]), text)
    text = JWT.sub("<jwt>", text)
    text = BEARER_TOKEN.sub(r"\1<token>", text)
    return TOKEN_PARAMETER.sub(r"\1<token>", text)


def install_log_redaction() -> None:
    """Makes every log record of this process carry its message redacted; calling it again is a no-op."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "redacts", False):
        return

    def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except (TypeError, ValueError, KeyError):  # a malformed call: logging reports it on emit
            return record
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            # Formatters use a set exc_text as it is: the traceback's messages are redacted too.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return record

    redacting_factory.redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(redacting_factory)
