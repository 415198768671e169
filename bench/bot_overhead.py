"""Overhead of the `handoff_socketio` channel over Rasa's stock socket.io channel on bot replies.

One Rasa server serves both: the handoff channel at /socket.io and the stock `socketio` channel at
/stock-socket.io (with `session_persistence: false`; with `true`, Rasa 3.6.21's stock channel
never delivers replies under python-socketio 5, see docs/architecture.md). The same fixed list of
greeting/FAQ messages goes through both, one message at a time (concurrency 1), interleaved
message by message with alternating order so that both see the same load. Each customer speaks
socket.io over a WebSocket.

Per message: the time from `user_uttered` to the first `bot_uttered`, and to the last one (the
bot's turn is over when no further reply came for `--quiet` seconds; that wait is not counted).
Printed: p50/p99 per channel and the overhead of the handoff channel at p50 (target for a
2-core machine: <= 5 %). Loopback only; bounded by the message count.

    PYTHONPATH=. .venv/bin/python bench/bot_overhead.py [--conversations 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from dataclasses import dataclass, field

from bench.clients import WebchatSocket
from bench.report import millis, percentile, print_table, verdict
from bench.system import BenchSystem, add_system_arguments, bench_system

HANDOFF = "handoff_socketio"
STOCK = "socketio (stock)"
PATHS = {HANDOFF: "/socket.io", STOCK: "/stock-socket.io"}
STOCK_CHANNEL = {"socketio": {"user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered",
                              "socketio_path": PATHS[STOCK], "session_persistence": False}}
TARGET_PERCENT = 5.0
MESSAGES = [
    "hi",
    "how does paylater work?",
    "which payment methods do you accept",
    "what happens if I pay late",
    "can I change my payment date",
    "can I pay early",
    "how long does a refund take",
    "how do I return an item",
    "do you do a credit check",
    "what is my spending limit",
    "why was my purchase declined",
    "how do I update my card",
    "are you a bot?",
    "what are your opening hours",
    "are there any interest or fees",
    "how old do I have to be",
    "where can I use paylater",
    "is there a minimum order value",
    "thanks",
    "bye",
]


@dataclass
class ChannelFigures:
    first: list[float] = field(default_factory=list)
    last: list[float] = field(default_factory=list)
    replies: list[int] = field(default_factory=list)
    silent: int = 0


async def turn(customer: WebchatSocket, text: str, timeout: float, quiet: float) -> tuple[float, float, int]:
    """Sends `text`; returns seconds to the first and to the last reply and the reply count."""
    sent = await customer.say(text)
    _, first = await customer.next_event("bot_uttered", timeout)
    last, count = first, 1
    while True:
        try:
            _, last = await customer.next_event("bot_uttered", quiet)
            count += 1
        except asyncio.TimeoutError:
            return first - sent, last - sent, count


async def conversation_pair(system: BenchSystem, messages: list[str], figures: dict[str, ChannelFigures],
                            timeout: float, quiet: float, swap: bool) -> None:
    """One conversation on each channel, fed the same messages turn by turn."""
    customers = {}
    for channel, path in PATHS.items():
        customers[channel] = WebchatSocket(system.rasa_url, path)
        await customers[channel].connect()
        await customers[channel].request_session()
    try:
        for number, text in enumerate(messages):
            order = [HANDOFF, STOCK] if (number % 2 == 0) != swap else [STOCK, HANDOFF]
            for channel in order:
                try:
                    first, last, count = await turn(customers[channel], text, timeout, quiet)
                except asyncio.TimeoutError:
                    figures[channel].silent += 1
                    continue
                figures[channel].first.append(first)
                figures[channel].last.append(last)
                figures[channel].replies.append(count)
    finally:
        for customer in customers.values():
            await customer.close()


async def run(args: argparse.Namespace, system: BenchSystem) -> None:
    warmup = {channel: ChannelFigures() for channel in PATHS}
    await conversation_pair(system, MESSAGES[:5], warmup, args.timeout, args.quiet, swap=False)
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    figures = {channel: ChannelFigures() for channel in PATHS}
    for number in range(args.conversations):
        await conversation_pair(system, MESSAGES[: args.messages], figures, args.timeout, args.quiet,
                                swap=number % 2 == 1)
    report(figures, args, await store_round_trips(system))


async def store_round_trips(system: BenchSystem, repeat: int = 200) -> float:
    """Median seconds of two Redis round trips through HandoffStore (a state read and a ping) from
    this process: about what the handoff channel adds before Rasa (a state read and a SET NX)."""
    store = system.open_store()
    timings = []
    try:
        for _ in range(repeat):
            started = time.perf_counter()
            await store.get_state("bench-overhead-probe")
            await store.ping()
            timings.append(time.perf_counter() - started)
    finally:
        await store.close()
    return statistics.median(timings)


def report(figures: dict[str, ChannelFigures], args: argparse.Namespace, round_trips: float) -> None:
    rows = []
    for channel, values in figures.items():
        rows.append([channel, len(values.first), millis(percentile(values.first, 0.5)),
                     millis(percentile(values.first, 0.99)), millis(percentile(values.last, 0.5)),
                     millis(percentile(values.last, 0.99)), sum(values.replies), values.silent])
    print()
    print_table(["channel", "messages", "first p50 ms", "first p99 ms", "last p50 ms", "last p99 ms",
                 "replies", "no reply"], rows)
    ours, stock = figures[HANDOFF], figures[STOCK]
    overhead = {name: 100 * (percentile(getattr(ours, name), 0.5) / percentile(getattr(stock, name), 0.5) - 1)
                for name in ("first", "last")}
    # Paired as far as both channels answered.
    paired = [a - b for a, b in zip(ours.first, stock.first, strict=False)]
    print(f"\noverhead of {HANDOFF} at p50: first reply {overhead['first']:+.1f} % "
          f"(target <= {TARGET_PERCENT:.0f} %: {verdict(overhead['first'] <= TARGET_PERCENT)}), "
          f"last reply {overhead['last']:+.1f} %")
    if paired:
        print(f"median of per-message differences (handoff - stock), first reply: "
              f"{statistics.median(paired) * 1000:+.2f} ms")
    print(f"for reference, two Redis round trips through HandoffStore from this process: "
          f"{round_trips * 1000:.2f} ms (median)")
    if ours.replies != stock.replies:
        print("note: the channels got different numbers of replies for the same messages")
    print(f"load average after: {os.getloadavg()[0]:.2f} (cores: {os.cpu_count()}); "
          f"{args.conversations} conversations x {args.messages} messages per channel, concurrency 1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--conversations", type=int, default=10, help="conversations per channel (10)")
    parser.add_argument("--messages", type=int, default=len(MESSAGES),
                        help=f"messages per conversation, from a fixed list of {len(MESSAGES)} ({len(MESSAGES)})")
    parser.add_argument("--quiet", type=float, default=0.2,
                        help="seconds without a further reply that end the bot's turn (0.2)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for a first reply (30)")
    add_system_arguments(parser)
    args = parser.parse_args()
    if not 1 <= args.conversations <= 100 or not 1 <= args.messages <= len(MESSAGES):
        raise SystemExit(f"--conversations must be within 1..100 and --messages within 1..{len(MESSAGES)}")
    budget = 120 + args.conversations * args.messages * 2 * (args.quiet + 2.0)
    with bench_system(args, extra_channels=STOCK_CHANNEL, needs_agent=False) as system:
        asyncio.run(asyncio.wait_for(run(args, system), timeout=budget))


if __name__ == "__main__":
    main()
