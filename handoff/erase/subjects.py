"""Whose data to erase: one conversation, one Slack user, or one email address, checked and put in
one canonical form, so the same request always finds the same data and hashes the same way."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from handoff.slack.address import SLACK_ID, SlackAddress
from handoff.utf8_text import NOT_UTF8, is_utf8_text

CONVERSATION = "conversation"
SLACK_USER = "slack_user"
EMAIL = "email"
KINDS = (CONVERSATION, SLACK_USER, EMAIL)

MAX_CONVERSATION_ID_LENGTH = 256
MAX_EMAIL_LENGTH = 254  # RFC 5321's limit on a forward path


class BadSubject(ValueError):
    """An identifier that cannot name a customer (empty, malformed, too long)."""


@dataclass(frozen=True)
class Subject:
    """A customer as the erasure request names them; `value` is canonical (see `parse`)."""

    kind: str
    value: str

    @classmethod
    def parse(cls, kind: str, text: str) -> Subject:
        """Checks `text` as an identifier of `kind`: a conversation id as it is; a Slack user as
        `TEAM:USER` (Slack's ids); an email address trimmed and lower-cased (addresses are compared
        without case)."""
        if not is_utf8_text(text):
            raise BadSubject(f"an identifier {NOT_UTF8}")
        if kind == CONVERSATION:
            if not text or len(text) > MAX_CONVERSATION_ID_LENGTH or "{" in text or "}" in text:
                raise BadSubject(f"a conversation id is 1-{MAX_CONVERSATION_ID_LENGTH} characters without braces")
            return cls(kind, text)
        if kind == SLACK_USER:
            team, _, user = text.strip().partition(":")
            if not (SLACK_ID.match(team) and SLACK_ID.match(user)):
                raise BadSubject("a Slack user is given as TEAM:USER, e.g. T0123ABC:U0456DEF")
            return cls(kind, f"{team}:{user}")
        if kind == EMAIL:
            address = text.strip().lower()
            local, _, domain = address.partition("@")
            if not local or not domain or len(address) > MAX_EMAIL_LENGTH or any(c.isspace() for c in address):
                raise BadSubject("not an email address")
            return cls(kind, address)
        raise BadSubject(f"unknown kind of identifier {kind!r}; one of {', '.join(KINDS)}")

    @property
    def digest(self) -> str:
        """What the audit record keeps instead of the identifier: its SHA-256 (with its kind).
        Whoever already knows the identifier can confirm it was erased; the record alone names nobody."""
        return identifier_digest(f"{self.kind}:{self.value}")

    def names_slack_conversation(self, conversation_id: str) -> bool:
        """True when `conversation_id` is a Slack conversation of this Slack user (any channel or
        thread of the workspace)."""
        address = SlackAddress.parse(conversation_id)
        return address is not None and f"{address.team}:{address.user}" == self.value


def identifier_digest(identifier: str) -> str:
    return hashlib.sha256(identifier.encode()).hexdigest()


def holds_address(value: Any, address: str) -> bool:
    """True when a slot value (a string, or a list or mapping of them, at any depth) is the email
    `address` (lower-case), ignoring case and surrounding spaces."""
    if isinstance(value, str):
        return value.strip().lower() == address
    if isinstance(value, dict):
        return any(holds_address(item, address) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(holds_address(item, address) for item in value)
    return False
