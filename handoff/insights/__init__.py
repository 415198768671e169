"""Capture of every customer turn and every handoff into a database (docs/insights.md).

The hot path only publishes: Rasa's event broker (`broker.py`) and the handoff stores
(`milestones.py`) offer small events to one bounded Redis stream, never waiting for it
(`publisher.py`). A separate process (`consumer.py`) turns them into rows (`turns.py`,
`database.py`, tables in `schema.py`, Alembic migrations in `migrations/`).
"""
