"""Reading the insights database for figures, without ever writing to it: a SQLite file is opened
read-only (a missing file is an error, not a new empty database); another database should give the
reader an account that may only SELECT (docs/insights.md)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.engine.url import make_url

from handoff.insights.figures import compute_figures
from handoff.insights.period import Period
from handoff.settings import HandoffSettings


def open_read_only(url: str) -> Engine:
    """An engine on `url` that cannot change a SQLite file (nor create one)."""
    return open_existing(url, "ro")


def open_existing(url: str, sqlite_mode: str) -> Engine:
    """An engine on `url` that never creates a SQLite file; `sqlite_mode` "ro" also keeps it unchanged,
    "rw" lets it change rows."""
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database).resolve()
        return create_engine(f"sqlite:///file:{path}?mode={sqlite_mode}&uri=true", future=True)
    return create_engine(url, future=True, pool_pre_ping=True)


def utc_now() -> datetime:
    """Now as the database stores times: naive UTC."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def figures_since(engine: Engine, since: str, settings: HandoffSettings,
                  now: datetime | None = None) -> dict[str, Any]:
    """The figures of the period `since` back from `now` (SinceError for a bad `since`; SQLAlchemy's
    errors when the database cannot be read)."""
    period = Period.ending(since, now or utc_now())
    with engine.connect() as connection:
        return compute_figures(connection, period, settings)
