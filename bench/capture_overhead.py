"""What capturing every turn costs: bot reply latency with the capture on and off, and how far the
insights database trails the customers while agents and customers relay 1,000 messages a second.

1. Overhead. Two systems start on free loopback ports with the same model: one as `make run` starts
   it (the event broker in Rasa's endpoints, the insights consumer running), one without the event
   broker and without the consumer. Simulated REST customers hold the conversations of
   bench/bot_latency.py in interleaved rounds (alternating which system goes first, so both see the
   same machine load); it prints p50/p90 per system and the on/off p50 ratio (target <= 1.05).
2. Capture lag, on the capturing system: agents and customers relay messages at `--relay-rate`
   (1,000 msg/s: every agent message is a handoff milestone on the capture stream) with the relay
   bench's clients, while REST customers talk to the bot at a person's pace. For each turn, the lag
   is from its user event's stream id (Redis's clock when Rasa published it) to the moment its row
   is visible in the insights database, polled every `--poll-ms` (the resolution); the consumer
   group's lag (entries not yet delivered) is sampled as well.

Loopback only, bounded in messages and seconds.

    PYTHONPATH=. .venv/bin/python bench/capture_overhead.py [--messages 400] [--rounds 8] [--lag-seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import statistics
import time
import uuid
from collections import defaultdict
from pathlib import Path

import aiohttp
import redis.asyncio as aioredis
from sqlalchemy import create_engine, select
from sqlalchemy.engine import Engine

from bench.bot_latency import run_level
from bench.relay_latency import RELAY_RATE_LIMITS, TO_AGENT, TO_CUSTOMER, RelayBench
from bench.report import millis, percentile, print_table, verdict
from bench.system import BenchSystem, bench_system
from handoff.insights.consumer import GROUP
from handoff.insights.schema import turns
from handoff.store_scripts import Keys
from rasa_bot.system import MODEL_PATH

RATIO_TARGET = 1.05
# One bot message per customer this often during the lag phase: a person's pace, within the
# conversation limit the systems keep.
TALK_INTERVAL_SECONDS = 1.0


def system_args(model: Path) -> argparse.Namespace:
    """Arguments that make `bench_system` start a system of its own."""
    return argparse.Namespace(rasa_url=None, agent_url=None, redis_url=None, agent_token=[], key_prefix="handoff",
                              model=model, keep_logs=False)


async def overhead(urls: dict[str, str], messages: int, rounds: int, concurrency: int) -> float:
    """Reply latency on both systems in alternating rounds; prints them and returns the p50 ratio on/off."""
    endpoints = {name: f"{url}/webhooks/handoff_rest" for name, url in urls.items()}
    for endpoint in endpoints.values():  # warm-up, not reported
        await run_level(endpoint, 20, 2, 10)
    per_round = max(1, messages // rounds)
    samples: dict[str, list[float]] = defaultdict(list)
    order = list(endpoints)
    for number in range(rounds):
        for name in order if number % 2 == 0 else order[::-1]:
            _, measured = await run_level(endpoints[name], per_round, concurrency, 10)
            samples[name] += measured.all
    print(f"\nbot reply latency, REST, concurrency {concurrency}, {rounds} interleaved rounds of {per_round} "
          "messages per system (10 messages per conversation)")
    rows = [[name, len(times), millis(percentile(times, 0.5)), millis(percentile(times, 0.9)),
             millis(percentile(times, 0.99)), millis(statistics.fmean(times))] for name, times in samples.items()]
    print_table(["capture", "messages", "p50 ms", "p90 ms", "p99 ms", "mean ms"], rows)
    ratio = percentile(samples["on"], 0.5) / percentile(samples["off"], 0.5)
    print(f"p50 ratio on/off: {ratio:.3f} (target <= {RATIO_TARGET}): {verdict(ratio <= RATIO_TARGET)}")
    return ratio


class TurnWatcher:
    """Polls the insights database for new turn rows of the `watched` conversations and records
    each one's capture lag."""

    def __init__(self, engine: Engine, poll_seconds: float) -> None:
        self.engine = engine
        self.poll_seconds = poll_seconds
        self.last_id = self._max_id()
        self.watched: set[str] = set()
        self.lags: list[float] = []

    def _max_id(self) -> int:
        with self.engine.connect() as connection:
            rows = connection.execute(select(turns.c.id).order_by(turns.c.id.desc()).limit(1)).first()
        return int(rows[0]) if rows else 0

    def poll(self) -> None:
        with self.engine.connect() as connection:
            rows = connection.execute(select(turns.c.id, turns.c.event_id, turns.c.conversation_id)
                                      .where(turns.c.id > self.last_id)).all()
        now = time.time()
        for row_id, event_id, conversation_id in rows:
            self.last_id = max(self.last_id, int(row_id))
            if conversation_id in self.watched:
                self.lags.append(now - int(str(event_id).split("-")[0]) / 1000)

    async def watch(self, until: asyncio.Event) -> None:
        while not until.is_set():
            await asyncio.to_thread(self.poll)
            await asyncio.sleep(self.poll_seconds)


async def group_lag(system: BenchSystem, until: asyncio.Event, samples: list[int]) -> None:
    """Samples the consumer group's lag (entries added but not yet delivered) every 100 ms."""
    client = aioredis.Redis.from_url(system.redis_url)
    key = Keys(system.key_prefix).insights
    try:
        while not until.is_set():
            for group in await client.xinfo_groups(key):
                if group["name"] in (GROUP, GROUP.encode()) and group.get("lag") is not None:
                    samples.append(int(group["lag"]))
            await asyncio.sleep(0.1)
    finally:
        await client.close()


async def talk(rasa_url: str, until: asyncio.Event, customers: int, watcher: TurnWatcher) -> int:
    """REST customers each sending one bot message a second until `until`, their conversations
    watched; returns the turns sent."""
    endpoint = f"{rasa_url}/webhooks/handoff_rest"
    sent = 0

    async def one(session: aiohttp.ClientSession) -> None:
        nonlocal sent
        async with session.post(f"{endpoint}/session") as reply:
            sender = (await reply.json())["conversation_id"]
        watcher.watched.add(sender)
        while not until.is_set():
            body = {"sender": sender, "message": "how does paying later work?", "message_id": uuid.uuid4().hex}
            async with session.post(f"{endpoint}/webhook", json=body) as reply:
                if reply.status == 200:
                    sent += 1
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(until.wait(), TALK_INTERVAL_SECONDS)

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        await asyncio.gather(*(one(session) for _ in range(customers)))
    return sent


async def capture_lag(system: BenchSystem, args: argparse.Namespace) -> None:
    """Relay traffic at `--relay-rate` in both directions, bot turns beside it, and the capture's lag."""
    assert system.insights_database_url is not None
    engine = create_engine(system.insights_database_url, future=True)
    watcher = TurnWatcher(engine, args.poll_ms / 1000)
    async with RelayBench(system, args.conversations, "ws") as relay:
        gc.collect()
        gc.freeze()
        for direction in (TO_AGENT, TO_CUSTOMER):  # warm-up, not reported
            await relay.phase(direction, 50, 1.0, 10.0)
        stop, watched = asyncio.Event(), asyncio.Event()
        lag_entries: list[int] = []
        background = [asyncio.create_task(watcher.watch(watched)),
                      asyncio.create_task(group_lag(system, watched, lag_entries))]
        talking = asyncio.create_task(talk(system.rasa_url, stop, args.talkers, watcher))
        relay_results = []
        started = time.perf_counter()
        while time.perf_counter() - started < args.lag_seconds:
            for direction in (TO_CUSTOMER, TO_AGENT):
                relay_results.append(await relay.phase(direction, args.relay_rate, args.phase_seconds, 10.0))
        stop.set()
        turns_sent = await talking
        deadline = time.monotonic() + 10.0  # the last turns' rows, still watched
        while len(watcher.lags) < turns_sent and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        watched.set()
        await asyncio.gather(*background)
    engine.dispose()
    print(f"\ncapture lag while relaying at {args.relay_rate} msg/s ({args.conversations} conversations, "
          f"{len(relay_results)} phases of {args.phase_seconds:.1f} s, agent->customer and customer->agent "
          f"alternating) with {args.talkers} REST customers talking to the bot")
    rows = [[result.direction, result.rate, result.sent, f"{result.achieved_rate:.0f}",
             millis(percentile(result.latencies, 0.5)), millis(percentile(result.latencies, 0.99)),
             len(result.lost), result.duplicates] for result in relay_results]
    print_table(["relay", "msg/s", "sent", "sent/s", "p50 ms", "p99 ms", "lost", "dup"], rows)
    lags = watcher.lags
    print(f"turns sent {turns_sent}, rows seen {len(lags)}; lag from the user event's stream id to its row, "
          f"polled every {args.poll_ms:.0f} ms: p50 {millis(percentile(lags, 0.5))} ms, "
          f"p99 {millis(percentile(lags, 0.99))} ms, max {millis(max(lags, default=float('nan')))} ms")
    print(f"consumer group lag (entries not yet delivered), {len(lag_entries)} samples: "
          f"p50 {percentile(lag_entries, 0.5):.0f}, p99 {percentile(lag_entries, 0.99):.0f}, "
          f"max {max(lag_entries, default=0)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--model", type=Path, default=MODEL_PATH, help="model both systems load")
    parser.add_argument("--messages", type=int, default=400, help="bot messages per system (400)")
    parser.add_argument("--rounds", type=int, default=8, help="interleaved rounds (8)")
    parser.add_argument("--concurrency", type=int, default=1, help="customers at once in the overhead rounds (1)")
    parser.add_argument("--relay-rate", type=int, default=1000, help="relayed messages per second (1000)")
    parser.add_argument("--conversations", type=int, default=40, help="relayed conversations (40)")
    parser.add_argument("--lag-seconds", type=float, default=10.0, help="seconds of relay traffic (10)")
    parser.add_argument("--phase-seconds", type=float, default=2.5, help="seconds per relay phase (2.5)")
    parser.add_argument("--talkers", type=int, default=10, help="REST customers talking to the bot meanwhile (10)")
    parser.add_argument("--poll-ms", type=float, default=20.0, help="how often the database is polled (20)")
    parser.add_argument("--batch-seconds", type=float, default=None,
                        help="the consumer's insights_batch_seconds (default: the setting's)")
    parser.add_argument("--skip-overhead", action="store_true", help="measure the capture lag only")
    args = parser.parse_args()
    if not (1 <= args.messages <= 5000 and 1 <= args.rounds <= 50 and 1 <= args.concurrency <= 20
            and 1 <= args.relay_rate <= 5000 and 1 <= args.conversations <= 500 and args.lag_seconds <= 120
            and 0.5 <= args.phase_seconds <= 30 and 1 <= args.talkers <= 50 and args.poll_ms >= 5):
        raise SystemExit("keep the figures within the bounds --help shows")
    env = dict(RELAY_RATE_LIMITS)
    if args.batch_seconds is not None:
        env["HANDOFF_INSIGHTS_BATCH_SECONDS"] = str(args.batch_seconds)
    print(f"load average before: {os.getloadavg()[0]:.2f} (cores: {os.cpu_count()}); extra settings: {env}",
          flush=True)
    with contextlib.ExitStack() as stack:
        systems = {name: stack.enter_context(bench_system(system_args(args.model), env=env,
                                                          capture=name == "on", needs_agent=False))
                   for name in (("on",) if args.skip_overhead else ("on", "off"))}
        if not args.skip_overhead:
            urls = {name: system.rasa_url for name, system in systems.items()}
            asyncio.run(asyncio.wait_for(overhead(urls, args.messages, args.rounds, args.concurrency), 900))
        asyncio.run(asyncio.wait_for(capture_lag(systems["on"], args), 900))
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
