"""Reply latency of the running assistant through its REST channel (`handoff_rest`).

Simulated customers hold realistic conversations: each opens a session, sends a conversation of
`--turns` messages (default 10: greeting, FAQ questions, thanks, goodbye), then starts a new
conversation, until the bounded number of messages (default 200) is used up. It runs at
concurrency 1 and 10 and prints p50/p99 latency and messages per second, plus the latency by turn
position, because Rasa's per-turn cost grows with the length of the conversation (every turn
loads, featurises and saves the whole tracker). Loopback only.

With `--compare OLD_MODEL NEW_MODEL` it starts two systems on free loopback ports instead, one per
model, and measures them interleaved (round after round, alternating which goes first) so both see
the same machine load; it prints each model's figures and the p50 ratio new/old.

    PYTHONPATH=. .venv/bin/python bench/bot_latency.py [--url http://127.0.0.1:5005] [--messages 200] [--turns 10]
    PYTHONPATH=. .venv/bin/python bench/bot_latency.py --compare OLD.tar.gz NEW.tar.gz [--rounds 6]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import time
import uuid
from collections import defaultdict
from pathlib import Path

import aiohttp

from bench.report import percentile
from bench.system import bench_system

MESSAGES = [
    "hi",
    "how does paying later work?",
    "what happens if I pay late",
    "can I change my payment date",
    "how long does a refund take",
    "which payment methods do you accept",
    "what is my spending limit",
    "are you a bot?",
    "thanks",
    "bye",
]


class Samples:
    """Latencies (seconds) overall and by turn position within a conversation."""

    def __init__(self) -> None:
        self.all: list[float] = []
        self.by_turn: dict[int, list[float]] = defaultdict(list)

    def add(self, turn: int, seconds: float) -> None:
        self.all.append(seconds)
        self.by_turn[turn].append(seconds)


async def new_conversation(session: aiohttp.ClientSession, url: str) -> str:
    async with session.post(f"{url}/session") as reply:
        return (await reply.json())["conversation_id"]


async def customer(session: aiohttp.ClientSession, url: str, jobs: asyncio.Queue, turns: int,
                   samples: Samples) -> None:
    """One simulated customer: takes messages from the shared queue until it is empty, starting a
    fresh conversation every `turns` messages."""
    sender, turn = "", turns
    while True:
        try:
            jobs.get_nowait()
        except asyncio.QueueEmpty:
            return
        if turn == turns:
            sender, turn = await new_conversation(session, url), 0
        started = time.perf_counter()
        message = {"sender": sender, "message": MESSAGES[turn % len(MESSAGES)], "message_id": uuid.uuid4().hex}
        async with session.post(f"{url}/webhook", json=message) as reply:
            body = await reply.json()
            if reply.status != 200 or not body:
                raise RuntimeError(f"bad reply {reply.status}: {body}")
        samples.add(turn, time.perf_counter() - started)
        turn += 1


async def run_level(url: str, messages: int, concurrency: int, turns: int) -> tuple[dict, Samples]:
    """Sends `messages` messages with `concurrency` customers and returns the figures."""
    jobs: asyncio.Queue = asyncio.Queue()
    for index in range(messages):
        jobs.put_nowait(index)
    samples = Samples()
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        started = time.perf_counter()
        await asyncio.gather(*(customer(session, url, jobs, turns, samples) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {
        "concurrency": concurrency,
        "messages": len(samples.all),
        "p50_ms": percentile(samples.all, 0.50) * 1000,
        "p99_ms": percentile(samples.all, 0.99) * 1000,
        "mean_ms": statistics.fmean(samples.all) * 1000,
        "msg_per_s": len(samples.all) / elapsed,
    }, samples


async def compare(urls: dict[str, str], messages: int, turns: int, rounds: int) -> None:
    """Both systems measured in alternating rounds, so neither gets a quieter machine."""
    endpoints = {name: f"{url}/webhooks/handoff_rest" for name, url in urls.items()}
    for endpoint in endpoints.values():
        await run_level(endpoint, 20, 2, turns)
    per_round = max(1, messages // rounds)
    samples: dict[tuple[str, int], list[float]] = defaultdict(list)
    order = list(endpoints)
    for round_number in range(rounds):
        for name in order if round_number % 2 == 0 else order[::-1]:
            for level in (1, 10):
                _, measured = await run_level(endpoints[name], per_round, level, turns)
                samples[(name, level)] += measured.all
    print(f"{turns} messages per conversation, {rounds} interleaved rounds of {per_round} messages per level")
    print(f"{'model':>6} {'concurrency':>11} {'messages':>8} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
    for (name, level), times in sorted(samples.items(), key=lambda item: (item[0][1], item[0][0] != "old")):
        print(f"{name:>6} {level:>11} {len(times):>8} {percentile(times, 0.5) * 1000:>8.1f} "
              f"{percentile(times, 0.99) * 1000:>8.1f} {statistics.fmean(times) * 1000:>8.1f}")
    for level in (1, 10):
        ratio = percentile(samples[("new", level)], 0.5) / percentile(samples[("old", level)], 0.5)
        print(f"p50 ratio new/old at concurrency {level}: {ratio:.2f}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:5005")
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--turns", type=int, default=10, help="messages per conversation (10)")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("OLD_MODEL", "NEW_MODEL"),
                        help="start one system per model and measure them interleaved")
    parser.add_argument("--rounds", type=int, default=6, help="interleaved rounds with --compare (6)")
    args = parser.parse_args()
    if not args.url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        raise SystemExit("this benchmark only targets loopback addresses")
    if not 1 <= args.messages <= 5000 or not 1 <= args.turns <= 500 or not 1 <= args.rounds <= 50:
        raise SystemExit("keep --messages within 1..5000, --turns within 1..500 and --rounds within 1..50")
    if args.compare:
        with contextlib.ExitStack() as stack:
            urls = {}
            for name, model in zip(("old", "new"), args.compare, strict=True):
                system_args = argparse.Namespace(rasa_url=None, agent_url=None, redis_url=None, agent_token=[],
                                                 key_prefix="handoff", model=model, keep_logs=False)
                urls[name] = stack.enter_context(bench_system(system_args, needs_agent=False)).rasa_url
            await compare(urls, args.messages, args.turns, args.rounds)
        return
    endpoint = f"{args.url}/webhooks/handoff_rest"
    await run_level(endpoint, args.warmup, 2, args.turns)
    results = [await run_level(endpoint, args.messages, level, args.turns) for level in (1, 10)]
    print(f"{args.turns} messages per conversation")
    print(f"{'concurrency':>11} {'messages':>8} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8} {'msg/s':>7}")
    for row, _ in results:
        print(f"{row['concurrency']:>11} {row['messages']:>8} {row['p50_ms']:>8.1f} {row['p99_ms']:>8.1f} "
              f"{row['mean_ms']:>8.1f} {row['msg_per_s']:>7.1f}")
    _, single = results[0]
    print("\nconcurrency 1, p50 by turn position: " + ", ".join(
        f"{turn + 1}: {percentile(times, 0.5) * 1000:.0f} ms" for turn, times in sorted(single.by_turn.items())))


if __name__ == "__main__":
    asyncio.run(main())
