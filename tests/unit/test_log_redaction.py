"""No identifier that grants access reaches a log line: conversation ids become short hashes that still
follow one conversation, tokens are cut out, in messages, arguments and tracebacks alike."""

from __future__ import annotations

import logging

import pytest

import handoff  # noqa: F401  (importing the plugin installs the redaction)
from handoff.channels.session_ids import SessionIds
from handoff.log_redaction import log_id, redact

CONVERSATION = SessionIds("secret-of-this-test").issue()


def test_the_plugin_redacts_every_loggers_records(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.INFO, logger="rasa")  # an earlier test may have quietened Rasa's loggers
    logging.getLogger("sanic.error").error("Exception occurred while handling uri: 'http://h/x?c=%s'", CONVERSATION)
    logging.getLogger("rasa.core.processor").info(f"Handing off conversation {CONVERSATION}")
    text = caplog.text
    assert CONVERSATION not in text
    assert text.count(log_id(CONVERSATION)) == 2


def test_a_traceback_is_redacted_too(caplog: pytest.LogCaptureFixture) -> None:
    try:
        raise KeyError(f"no such conversation {CONVERSATION}")
    except KeyError:
        logging.getLogger("handoff.test").exception("lookup failed")
    assert CONVERSATION not in caplog.text
    assert log_id(CONVERSATION) in caplog.text


def test_the_same_id_gets_the_same_log_id_and_another_id_another() -> None:
    other = SessionIds("secret-of-this-test").issue()
    assert log_id(CONVERSATION) == log_id(CONVERSATION) != log_id(other)
    assert len(log_id(CONVERSATION)) == len("conv-") + 12


@pytest.mark.parametrize("text, hidden", [
    ("GET /api/ws?token=alice-test-token-0123456789&x=1", "alice-test-token-0123456789"),
    ("Authorization: Bearer abc.def-ghi", "abc.def-ghi"),
    ("jwt eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyIjp7fX0.c2lnbmF0dXJl sent", "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyIjp7fX0.c2lnbmF0dXJl"),
])
def test_tokens_are_cut_out(text: str, hidden: str) -> None:
    assert hidden not in redact(text)


def test_text_without_identifiers_is_left_alone() -> None:
    text = "handoff of slack:T1:C1:U1 reason=frustration priority=3 KL-100001 a.b"
    assert redact(text) == text
