"""The record of every erasure: a Redis stream that outlives the data it speaks of.

`<prefix>:{audit}:erasures` (stream, never trimmed or expired: erasures are rare and the record
proves each request was carried out). An entry names no customer: the erased identifier and the
conversations appear only as SHA-256 digests, beside who asked, when, and how many keys and
entries of which kinds went.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass

from redis.asyncio import Redis

from handoff.erase.keyspace import AUDIT_TAG
from handoff.erase.subjects import Subject, identifier_digest


def audit_key(prefix: str) -> str:
    return f"{prefix}:{{{AUDIT_TAG}}}:erasures"


@dataclass(frozen=True)
class AuditRecord:
    """One erasure as the audit stream keeps it."""

    by: str  # the lead's agent id, or `cli:<user>`
    subject_kind: str
    subject_hash: str
    conversation_hashes: list[str]
    keys: int
    key_kinds: dict[str, int]
    entries: dict[str, int]
    closed: int  # conversations a person still had, closed first (forced)
    ts: float

    @classmethod
    def of(cls, by: str, subject: Subject, conversations: list[str], key_kinds: Mapping[str, int],
           entries: Mapping[str, int], closed: int) -> AuditRecord:
        return cls(by=by, subject_kind=subject.kind, subject_hash=subject.digest,
                   conversation_hashes=sorted(identifier_digest(f"conversation:{c}") for c in conversations),
                   keys=sum(key_kinds.values()), key_kinds=dict(key_kinds), entries=dict(entries),
                   closed=closed, ts=round(time.time(), 3))

    def to_fields(self) -> dict[str, str]:
        return {"by": self.by, "subject_kind": self.subject_kind, "subject_hash": self.subject_hash,
                "conversation_hashes": json.dumps(self.conversation_hashes), "keys": str(self.keys),
                "key_kinds": json.dumps(self.key_kinds, sort_keys=True),
                "entries": json.dumps(self.entries, sort_keys=True), "closed": str(self.closed),
                "ts": str(self.ts)}

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> AuditRecord:
        return cls(by=fields["by"], subject_kind=fields["subject_kind"], subject_hash=fields["subject_hash"],
                   conversation_hashes=json.loads(fields["conversation_hashes"]), keys=int(fields["keys"]),
                   key_kinds=json.loads(fields["key_kinds"]), entries=json.loads(fields["entries"]),
                   closed=int(fields["closed"]), ts=float(fields["ts"]))


async def append_record(redis: Redis, prefix: str, record: AuditRecord) -> str:
    """Adds the record; returns its stream id."""
    return str(await redis.xadd(audit_key(prefix), record.to_fields()))


async def read_records(redis: Redis, prefix: str) -> list[tuple[str, AuditRecord]]:
    """Every erasure recorded, oldest first, with its stream id."""
    return [(stream_id, AuditRecord.from_fields(fields))
            for stream_id, fields in await redis.xrange(audit_key(prefix))]
