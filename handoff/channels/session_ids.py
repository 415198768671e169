"""Conversation ids that the server issues and signs.

A customer's conversation id is their only key to it. Letting clients pick ids (as Rasa's stock
channels do) would let anyone who guesses or copies an id read someone else's chat with an agent,
so every id carries an HMAC of its random part and ids without a valid signature are refused.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import TypeGuard

SIGNATURE_CHARS = 24


class MissingSecret(RuntimeError):
    """The channels cannot run without a signing secret."""


class SessionIds:
    """Issues and checks signed conversation ids of the form `<random>.<signature>`."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise MissingSecret(
                "the handoff channels need a session secret: set HANDOFF_SESSION_SECRET "
                "(any long random string, e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
            )
        self._key = secret.encode()

    def _sign(self, random_part: str) -> str:
        return hmac.new(self._key, random_part.encode(), hashlib.sha256).hexdigest()[:SIGNATURE_CHARS]

    def issue(self) -> str:
        """A new, unguessable conversation id."""
        random_part = secrets.token_hex(16)
        return f"{random_part}.{self._sign(random_part)}"

    def is_valid(self, conversation_id: object) -> TypeGuard[str]:
        """True only for ids this server issued (checked in constant time). Issued ids are ASCII, and
        any other text could not be compared (compare_digest refuses non-ASCII str) nor signed (a lone
        surrogate has no UTF-8)."""
        if (not isinstance(conversation_id, str) or len(conversation_id) > 100 or not conversation_id.isascii()
                or "." not in conversation_id):
            return False
        random_part, _, signature = conversation_id.partition(".")
        return bool(random_part) and hmac.compare_digest(signature, self._sign(random_part))

    def resume_or_issue(self, requested: object) -> str:
        """The id a returning client presents if this server issued it, else a new one (so a
        made-up or copied-and-altered id never joins anyone's conversation)."""
        return requested if isinstance(requested, str) and self.is_valid(requested) else self.issue()
