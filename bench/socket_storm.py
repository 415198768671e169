"""A socket storm against one Rasa process: `--sockets` widget customers (default 2,000) connect,
each asks for a conversation, and all leave at once, as after a busy site's restart or a burst of
visitors. Prints the Rasa process's memory (RSS) and its Redis connections before, during and
after, and the bot's reply latency (REST channel, `--replies` turns) before and after. Loopback only.

    PYTHONPATH=. .venv/bin/python bench/socket_storm.py [--sockets 2000] [--rasa-url ... --redis-url ...]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from urllib.parse import urlparse

import aiohttp

from bench.report import percentile
from bench.system import ONE_ADDRESS_LOAD_LIMITS, add_system_arguments, bench_system
from tests.socket_storm import SocketStorm, pid_listening_on, redis_connections, rss_bytes


async def reply_latencies(rasa_url: str, turns: int) -> list[float]:
    """Seconds per bot reply to "hi" over the REST channel, one turn at a time."""
    rest = f"{rasa_url}/webhooks/handoff_rest"
    latencies = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        for _ in range(turns):
            async with http.post(f"{rest}/session") as reply:
                sender = (await reply.json())["conversation_id"]
            started = time.perf_counter()
            async with http.post(f"{rest}/webhook", json={"sender": sender, "message": "hi"}) as reply:
                assert await reply.json(), "no reply"
            latencies.append(time.perf_counter() - started)
    return latencies


def show_latency(when: str, latencies: list[float]) -> None:
    print(f"reply latency {when}: p50 {statistics.median(latencies) * 1000:.0f} ms, "
          f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms ({len(latencies)} turns)")


async def watch_connections(pid: int, redis_port: int, most: list[int]) -> None:
    while True:
        most[0] = max(most[0], redis_connections(pid, redis_port))
        await asyncio.sleep(0.05)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=2_000)
    parser.add_argument("--parallel", type=int, default=100, help="HTTP requests in flight at once")
    parser.add_argument("--replies", type=int, default=30)
    add_system_arguments(parser)
    args = parser.parse_args()
    print("rate limits raised for this load (all customers share one address):", ONE_ADDRESS_LOAD_LIMITS)
    with bench_system(args, needs_agent=False, env=ONE_ADDRESS_LOAD_LIMITS) as system:
        rasa_port, redis_port = urlparse(system.rasa_url).port, urlparse(system.redis_url).port
        assert rasa_port and redis_port
        pid = pid_listening_on(rasa_port)
        show_latency("before", await reply_latencies(system.rasa_url, args.replies))
        print(f"before: RSS {rss_bytes(pid) / 2**20:.0f} MiB, Redis connections {redis_connections(pid, redis_port)}")
        most = [0]
        watcher = asyncio.create_task(watch_connections(pid, redis_port, most))
        async with SocketStorm(system.rasa_url, args.sockets, args.parallel) as storm:
            started = time.perf_counter()
            await storm.open_all()
            opened = time.perf_counter() - started
            print(f"{args.sockets} sockets open after {opened:.1f} s: RSS {rss_bytes(pid) / 2**20:.0f} MiB, "
                  f"Redis connections {redis_connections(pid, redis_port)}")
            started = time.perf_counter()
            await storm.drop_all()
            print(f"all dropped in {time.perf_counter() - started:.1f} s")
        await asyncio.sleep(5)  # the departures being stored
        watcher.cancel()
        print(f"most Redis connections during the storm: {most[0]}")
        print(f"after: RSS {rss_bytes(pid) / 2**20:.0f} MiB, Redis connections {redis_connections(pid, redis_port)}")
        show_latency("after", await reply_latencies(system.rasa_url, args.replies))


if __name__ == "__main__":
    asyncio.run(main())
