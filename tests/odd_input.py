"""Hypothesis strategies for odd input, shared by the fuzz tests of every entry point (REST channel,
socket.io, agent HTTP API, console WebSocket), plus the helpers to put such input on the wire and
to check a log for tracebacks.

Odd means what a careless or hostile client can send: any Unicode text including lone surrogates
(JSON escapes such as "\\ud800" carry them), digits that are not ASCII, numbers beyond 64 bits,
NaN and infinities, trailing newlines, and JSON of any shape in place of what a route expects.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Deterministic, modest and without a deadline: a fuzz test is a regular test of the suite.
FUZZ_SETTINGS = settings(derandomize=True, max_examples=150, deadline=None,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
FEW_FUZZ_SETTINGS = settings(FUZZ_SETTINGS, max_examples=80)

# Values known to have broken a route, and their neighbours, tried first among the drawn ones.
KNOWN_ODD_TEXTS = (
    "", " ", "\n", "\x00", "\ud800", "a\udfffb", "é", "²", "٣", "١٢", "nan", "NaN", "inf", "-inf", "1e400",
    "-1", "0", "1.5", "0x10", "1_000", "0-0\n", "0-0%0A", "0-0 ", " 0-0", "-0-0", "0--0", "0-", "-0", "0-0-0",
    "99999999999999999999-0", "18446744073709551616-0", "0-18446744073709551616", "18446744073709551615-18446744073709551615",
    "00000000000000000000000001-0", "$", "*", "+", "-", ">", "<", "{}", "[]", "null", "true", "%", "%ZZ", "../..",
    "a" * 300, "\u202e", "\ufeff", "\U0001f600",
)

_all_characters = st.characters(exclude_categories=())
any_text = st.one_of(
    st.sampled_from(KNOWN_ODD_TEXTS),
    st.text(_all_characters, max_size=40),
    st.tuples(st.text(max_size=10), st.characters(categories=["Cs"]), st.text(max_size=10)).map("".join),
)
"""Any str, often with a lone surrogate (Hypothesis leaves those out unless asked)."""

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                         st.floats(), any_text)
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(any_text, inner, max_size=4)), max_leaves=12)
"""Any JSON value Python's json module writes (NaN and Infinity included, as it allows them)."""


def objects_with(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """JSON objects with the named fields (often all of them, each a drawn value, often a plausible
    one) and perhaps another key: what a route expects, nearly."""
    named = st.one_of(st.fixed_dictionaries(fields), st.fixed_dictionaries({}, optional=fields))
    return named.flatmap(lambda chosen: st.dictionaries(any_text, json_values, max_size=1).map(
        lambda extra: {**extra, **chosen}))


def field(*plausible: Any, likely: st.SearchStrategy[Any] | None = None) -> st.SearchStrategy[Any]:
    """A JSON field's value: one of the plausible values (or drawn from `likely`), odd text, or anything."""
    return st.one_of(likely if likely is not None else st.sampled_from(plausible), any_text, json_values)


def text_or(*plausible: str) -> st.SearchStrategy[str]:
    """A text value (a query parameter's): one of the plausible ones, or odd text."""
    return st.one_of(st.sampled_from(plausible), any_text)


def query_params(params: dict[str, st.SearchStrategy[str]]) -> st.SearchStrategy[dict[str, str]]:
    """Query parameters: some of the route's own (`params`, name to values) and perhaps a stray one."""
    return st.fixed_dictionaries({}, optional=params).flatmap(
        lambda named: st.dictionaries(any_text, any_text, max_size=1).map(lambda stray: {**stray, **named}))


def json_body(value: Any) -> bytes:
    """`value` as the JSON bytes a client sends: lone surrogates as escapes, NaN as Python writes it."""
    return json.dumps(value).encode("ascii")


def url_quoted(text: str) -> str:
    """`text` percent-encoded for a URL; a lone surrogate becomes the (invalid UTF-8) bytes it stands for."""
    return quote(text.encode("utf-8", errors="surrogatepass"), safe="")


def query_string(params: dict[str, str]) -> str:
    return "&".join(f"{url_quoted(name)}={url_quoted(value)}" for name, value in params.items())


class LogWatch:
    """What a process writes to its log from now on: a fuzz run must add no traceback."""

    def __init__(self, *logs: Path) -> None:
        self._start = {log: log.stat().st_size if log.exists() else 0 for log in logs}

    def written(self) -> str:
        parts = []
        for log, start in self._start.items():
            with log.open("rb") as opened:
                opened.seek(start)
                parts.append(opened.read().decode("utf-8", errors="replace"))
        return "".join(parts)

    def assert_no_traceback(self) -> None:
        written = self.written()
        assert "Traceback" not in written, f"a traceback was logged:\n{written[written.index('Traceback'):][:3000]}"
