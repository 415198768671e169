"""`python -m actions.shop.seed`: creates the shop database at `settings.database_url` and fills it with demo data.

Safe to run on every start: missing tables are created, and an already seeded database is left as
it is after one quick check.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy.engine import make_url

from actions.shop.demo_data import seed_demo_data
from actions.shop.queries import engine_for
from actions.shop.schema import create_schema
from rasa_bot.settings import get_settings

logger = logging.getLogger(__name__)


def ensure_sqlite_directory(url: str) -> None:
    """Creates the folder of a SQLite database file, because SQLite will not create it itself."""
    parsed = make_url(url)
    database = parsed.database
    in_a_file = database and database != ":memory:" and not database.startswith("file:")
    if parsed.get_backend_name() == "sqlite" and in_a_file:
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def seed(url: str) -> int:
    """Creates the schema and demo data at `url`; returns how many demo orders were added."""
    ensure_sqlite_directory(url)
    engine = engine_for(url)
    create_schema(engine)
    return seed_demo_data(engine)


def main() -> None:
    """Seeds the configured database and says what it did."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    url = get_settings().database_url
    shown = make_url(url).render_as_string(hide_password=True)
    added = seed(url)
    if added:
        logger.info("Seeded %d demo orders into %s", added, shown)
    else:
        logger.info("Shop database %s already has orders; nothing to seed", shown)


if __name__ == "__main__":
    main()
