"""Whether a string can travel on as it is: Redis stores text as UTF-8 and every reply is UTF-8 JSON.

JSON's `\\ud800` escapes let a client send a lone surrogate, a str Python holds but UTF-8 cannot
carry: storing it fails deep in the store, far from where a clear refusal belongs. Each entry point
refuses such text at once, with `NOT_UTF8` in its answer.
"""

from __future__ import annotations

NOT_UTF8 = "must be valid UTF-8 text (a lone surrogate such as \\ud800 is not)"


def is_utf8_text(text: str) -> bool:
    """False for a str that UTF-8 cannot encode (a lone surrogate)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
