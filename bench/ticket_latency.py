"""Ticket latency: from the bot's handoff decision to the ticket on an agent's console.

An agent is online with its console WebSocket (`/api/ws`) open. One customer at a time connects
over socket.io to the `handoff_socketio` channel and says "I want to talk to a human": Rasa's
HandoffPolicy predicts `action_handoff`, the action writes the ticket and queues the conversation
(`request_handoff`, which stamps `queued_at` with the wall clock), the agent service pushes
`{"type": "queue"}`. Measured per conversation (all clocks on this machine):

- decision -> push: the `queued_at` of the pushed queue entry to the push's arrival (wall clock;
  `queued_at` is kept to the millisecond). Target for a 2-core machine: p99 <= 50 ms;
- message -> ticket: the customer's message to `queued_at` (Rasa, the policy and the action);
- message -> push: end to end, the customer's message to the push;
- message -> bot reply: the customer's message to the bot's first answer on the socket.

Conversations run one after another (default 50, after 2 warm-ups) and each is abandoned after
its ticket arrived, so the queue stays short. Loopback only.

    PYTHONPATH=. .venv/bin/python bench/ticket_latency.py [--conversations 50]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from bench.clients import AgentConsole, WebchatSocket
from bench.report import millis, percentile, print_table, verdict
from bench.system import BenchSystem, add_system_arguments, bench_system
from handoff.store import HandoffStore

REQUEST = "I want to talk to a human"
TARGET_MS = 50.0
HEARTBEAT_SECONDS = 10.0


@dataclass(frozen=True)
class Sighting:
    """The first queue push that listed a conversation."""

    arrived: float  # perf_counter
    arrived_wall: float  # time.time()
    queued_at: float


@dataclass(frozen=True)
class Sample:
    to_ticket: float
    decision_to_push: float
    end_to_end: float
    bot_reply: float | None


class TicketWatch:
    """Remembers when each conversation first appeared in a queue push."""

    def __init__(self) -> None:
        self.seen: dict[str, Sighting] = {}
        self.changed = asyncio.Event()

    def on_push(self, push: dict[str, Any], arrived: float) -> None:
        wall = time.time()
        if push.get("type") != "queue":
            return
        for entry in push.get("queue", []):
            conversation_id = entry.get("conversation_id")
            if conversation_id not in self.seen:
                self.seen[conversation_id] = Sighting(arrived, wall, float(entry["queued_at"]))
        self.changed.set()

    async def wait_for(self, conversation_id: str, timeout: float) -> Sighting:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while conversation_id not in self.seen:
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), max(0.0, deadline - loop.time()))
        return self.seen[conversation_id]


async def heartbeat(http: aiohttp.ClientSession, agent_url: str) -> None:
    """Keeps the bench agent online (presence expires without a heartbeat); runs until cancelled."""
    while True:
        async with http.post(f"{agent_url}/api/presence", json={"status": "online"}) as reply:
            reply.raise_for_status()
        await asyncio.sleep(HEARTBEAT_SECONDS)


async def one_conversation(system: BenchSystem, store: HandoffStore, watch: TicketWatch,
                           timeout: float) -> Sample:
    """One customer asks for a human; the conversation is abandoned afterwards, ticket or not."""
    customer = WebchatSocket(system.rasa_url)
    await customer.connect()
    conversation_id = await customer.request_session()
    try:
        sent_wall = time.time()
        sent = await customer.say(REQUEST)
        sighting = await watch.wait_for(conversation_id, timeout)
        try:
            _, replied = await customer.next_event("bot_uttered", timeout)
            bot_reply: float | None = replied - sent
        except asyncio.TimeoutError:
            bot_reply = None
    finally:
        await customer.close()
        await store.abandon(conversation_id)
    return Sample(sighting.queued_at - sent_wall, sighting.arrived_wall - sighting.queued_at,
                  sighting.arrived - sent, bot_reply)


async def run(args: argparse.Namespace, system: BenchSystem) -> None:
    watch = TicketWatch()
    console = AgentConsole(system.agent_url, system.agent_tokens[0], watch.on_push)
    headers = {"Authorization": f"Bearer {system.agent_tokens[0]}"}
    samples: list[Sample] = []
    missing = 0
    store = system.open_store()
    async with aiohttp.ClientSession(headers=headers, timeout=aiohttp.ClientTimeout(total=10)) as http:
        beating = asyncio.create_task(heartbeat(http, system.agent_url))
        await console.connect()
        print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
        try:
            for number in range(args.warmup + args.conversations):
                try:
                    sample = await one_conversation(system, store, watch, args.timeout)
                except asyncio.TimeoutError:
                    missing += 1
                    continue
                if number >= args.warmup:
                    samples.append(sample)
        finally:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating
            await console.close()
            await store.close()
    report(samples, missing, args)


def report(samples: list[Sample], missing: int, args: argparse.Namespace) -> None:
    replies = [s.bot_reply for s in samples if s.bot_reply is not None]
    series = [
        ("decision -> push", [s.decision_to_push for s in samples], TARGET_MS),
        ("message -> ticket", [s.to_ticket for s in samples], None),
        ("message -> push", [s.end_to_end for s in samples], None),
        ("message -> bot reply", replies, None),
    ]
    rows = []
    for name, values, target in series:
        p99 = percentile(values, 0.99)
        rows.append([name, len(values), millis(percentile(values, 0.5)), millis(p99),
                     millis(max(values, default=float("nan"))),
                     f"<= {target:.0f}" if target else "-",
                     verdict(bool(values) and p99 * 1000 <= target) if target else "-"])
    print()
    print_table(["measure", "n", "p50 ms", "p99 ms", "max ms", "p99 target", "result"], rows)
    print(f"\nload average after: {os.getloadavg()[0]:.2f} (cores: {os.cpu_count()}); "
          f"conversations without a ticket within {args.timeout:.0f} s: {missing}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--conversations", type=int, default=50, help="measured conversations (50)")
    parser.add_argument("--warmup", type=int, default=2, help="conversations run first, not measured (2)")
    parser.add_argument("--timeout", type=float, default=15.0, help="seconds to wait for a ticket (15)")
    add_system_arguments(parser)
    args = parser.parse_args()
    if not 1 <= args.conversations <= 1000:
        raise SystemExit("--conversations must be within 1..1000")
    with bench_system(args) as system:
        asyncio.run(asyncio.wait_for(run(args, system), timeout=60 + args.timeout * (args.conversations + 5)))


if __name__ == "__main__":
    main()
