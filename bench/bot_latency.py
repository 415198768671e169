"""Reply latency of the running assistant through its REST channel (`handoff_rest`).

Sends a bounded number of messages (default 200) at concurrency 1 and 10, each simulated customer
with its own conversation, and prints p50/p99 latency and messages per second. Loopback only.

    python bench/bot_latency.py [--url http://127.0.0.1:5005] [--messages 200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid

import aiohttp

MESSAGES = [
    "hi",
    "how does paying later work?",
    "what happens if I pay late",
    "can I change my payment date",
    "how long does a refund take",
    "which payment methods do you accept",
    "thanks",
    "are you a bot?",
    "what is my spending limit",
    "bye",
]


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile of `samples` (seconds)."""
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


async def customer(session: aiohttp.ClientSession, url: str, jobs: asyncio.Queue, latencies: list[float]) -> None:
    """One simulated customer: takes messages from the shared queue until it is empty."""
    async with session.post(f"{url}/session") as reply:
        sender = (await reply.json())["conversation_id"]
    while True:
        try:
            index = jobs.get_nowait()
        except asyncio.QueueEmpty:
            return
        started = time.perf_counter()
        message = {"sender": sender, "message": MESSAGES[index % len(MESSAGES)], "message_id": uuid.uuid4().hex}
        async with session.post(f"{url}/webhook", json=message) as reply:
            body = await reply.json()
            if reply.status != 200 or not body:
                raise RuntimeError(f"bad reply {reply.status}: {body}")
        latencies.append(time.perf_counter() - started)


async def run_level(url: str, messages: int, concurrency: int) -> dict:
    """Sends `messages` messages with `concurrency` customers and returns the figures."""
    jobs: asyncio.Queue = asyncio.Queue()
    for index in range(messages):
        jobs.put_nowait(index)
    latencies: list[float] = []
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        started = time.perf_counter()
        await asyncio.gather(*(customer(session, url, jobs, latencies) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {
        "concurrency": concurrency,
        "messages": len(latencies),
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000,
        "msg_per_s": len(latencies) / elapsed,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:5005")
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()
    if not args.url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        raise SystemExit("this benchmark only targets loopback addresses")
    endpoint = f"{args.url}/webhooks/handoff_rest"
    await run_level(endpoint, args.warmup, 2)
    rows = [await run_level(endpoint, args.messages, level) for level in (1, 10)]
    print(f"{'concurrency':>11} {'messages':>8} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8} {'msg/s':>7}")
    for row in rows:
        print(f"{row['concurrency']:>11} {row['messages']:>8} {row['p50_ms']:>8.1f} {row['p99_ms']:>8.1f} "
              f"{row['mean_ms']:>8.1f} {row['msg_per_s']:>7.1f}")


if __name__ == "__main__":
    asyncio.run(main())
