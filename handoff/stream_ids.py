"""Stream ids that clients send to read on from (`after=`), checked before Redis sees them.

Redis answers an id it cannot parse with an error, which would reach the client as a 500. So an id
is accepted only in the form Redis takes: `<milliseconds>-<sequence>` (or, where a route allows it,
`<milliseconds>` alone), ASCII digits only, each part within 64-bit unsigned (Redis's limit).
"""

from __future__ import annotations

import re

MAX_PART = 2**64 - 1
_PARTS = re.compile(r"([0-9]{1,20})(?:-([0-9]{1,20}))?")


def is_stream_id(raw: object, *, sequence_optional: bool = False) -> bool:
    """Whether `raw` is a stream id Redis accepts; `sequence_optional` allows `<milliseconds>` alone.
    `fullmatch`, not `$`: `$` also matches before a trailing newline."""
    if not isinstance(raw, str):
        return False
    parts = _PARTS.fullmatch(raw)
    if parts is None or (parts[2] is None and not sequence_optional):
        return False
    return all(int(part) <= MAX_PART for part in parts.groups() if part is not None)
