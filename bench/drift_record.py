"""Records what the real bot does with every distinct message of a drift scenario: each is sent once,
as the first message of a new conversation, through the REST channel of a system started on free
loopback ports (bench/system.py), and the bot's output is read back from the `turns` rows its
capture wrote to the insights database: the same fields production's detectors read.

Not a script; `bench/drift.py record` runs it.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import create_engine, select

from bench.drift_scenario import Message
from bench.system import BenchSystem
from handoff.insights.schema import turns

ROWS_TIMEOUT_SECONDS = 120.0  # for the capture to store the last turns' rows


async def _send(session: aiohttp.ClientSession, endpoint: str, text: str, gate: asyncio.Semaphore) -> str:
    """Sends `text` as a new conversation's first message; returns the conversation id."""
    async with gate:
        async with session.post(f"{endpoint}/session") as reply:
            sender = (await reply.json())["conversation_id"]
        body = {"sender": sender, "message": text, "message_id": uuid.uuid4().hex}
        async with session.post(f"{endpoint}/webhook", json=body) as reply:
            if reply.status != 200:
                raise RuntimeError(f"the bot answered {reply.status} to a scenario message")
            await reply.read()
    return sender


async def send_all(rasa_url: str, texts: Sequence[str], concurrency: int) -> dict[str, str]:
    """Conversation id per text, at most `concurrency` messages in flight."""
    endpoint = f"{rasa_url}/webhooks/handoff_rest"
    gate = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        senders = await asyncio.gather(*(_send(session, endpoint, text, gate) for text in texts))
    return dict(zip(texts, senders, strict=True))


def read_rows(database_url: str, conversations: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The first turn row of each conversation, waiting for the capture to store them."""
    engine = create_engine(database_url, future=True)
    wanted, rows = set(conversations), dict[str, dict[str, Any]]()
    deadline = time.monotonic() + ROWS_TIMEOUT_SECONDS
    try:
        while wanted - set(rows) and time.monotonic() < deadline:
            with engine.connect() as connection:
                for row in connection.execute(select(turns).order_by(turns.c.id)).mappings():
                    if row["conversation_id"] in wanted and row["conversation_id"] not in rows:
                        rows[row["conversation_id"]] = dict(row)
            time.sleep(0.5)
    finally:
        engine.dispose()
    missing = len(wanted - set(rows))
    if missing:
        raise SystemExit(f"{missing} turns never reached the insights database within {ROWS_TIMEOUT_SECONDS:.0f} s")
    return rows


def output_of(row: dict[str, Any]) -> dict[str, Any]:
    """The recorded output of one turn row (no conversation id: the recording is of messages)."""
    return {"intent": row["intent"], "confidence": row["confidence"], "top_intents": row["top_intents"] or [],
            "fallback": bool(row["fallback"]), "handed_off": row["handoff_trigger"] is not None,
            "answer": row["answer"], "answer_version": row["answer_version"], "model_id": row["model_id"]}


def record(system: BenchSystem, messages: Sequence[Message], concurrency: int) -> dict[str, Any]:
    """The recording of `messages` on `system`: the bot's output per message text."""
    if system.insights_database_url is None:
        raise SystemExit("recording reads the captured turns: start the system with its capture")
    texts = [message.text for message in messages]
    started = time.monotonic()
    senders = asyncio.run(asyncio.wait_for(send_all(system.rasa_url, texts, concurrency), 3600))
    rows = read_rows(system.insights_database_url, list(senders.values()))
    print(f"recorded {len(texts)} messages in {time.monotonic() - started:.0f} s", flush=True)
    return {"recorded_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "outputs": {text: output_of(rows[sender]) for text, sender in senders.items()}}


def save(recording: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(recording, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
