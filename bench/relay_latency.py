"""Relay latency between customers and an agent while a human owns the conversations.

Through the real processes: customers are connected over socket.io (WebSocket transport) to the
Rasa server's `handoff_socketio` channel; their conversations are put in human mode directly in
the store (request_handoff + claim for a bench agent; the bot is not measured here).

- customer -> agent: from emitting `user_uttered` to the `message` push on the agent's console
  WebSocket (`/api/ws`);
- agent -> customer: from the agent's `send` on the console WebSocket (or, with `--agent-send
  http`, from starting `POST /api/conversations/{id}/messages`) to `bot_uttered` on the
  customer's socket.

Open-loop paced load (messages are sent on schedule whatever the replies do), each direction on
its own, spread round-robin over the conversations: first the fixed rates (targets for a 2-core
machine: p99 <= 10 ms at 100 msg/s, <= 50 ms at 1,000 msg/s, nothing lost or doubled), then a
ramp of rising rates per direction that stops at the first rate whose p99 exceeds the limit
(100 ms) or that loses messages. Every message carries a unique id, so losses and duplicates are
counted. Loopback only; every phase is bounded in messages and time.

    PYTHONPATH=. .venv/bin/python bench/relay_latency.py [--duration 5]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import uvloop
from typing_extensions import Self

from bench.clients import AgentConsole, WebchatSocket
from bench.report import millis, percentile, print_table, verdict
from bench.system import ONE_ADDRESS_LOAD_LIMITS, BenchSystem, add_system_arguments, bench_system
from handoff.store import HandoffStore

TO_AGENT = "customer->agent"
TO_CUSTOMER = "agent->customer"
TARGETS_MS = {100: 10.0, 1000: 50.0}  # rate (msg/s) -> p99 target


@dataclass
class Ledger:
    """When each message was sent and every time it arrived (perf_counter), and for the split of
    the first arrival: wall-clock seconds from sending to the message being stored in Redis."""

    sent: dict[str, float] = field(default_factory=dict)
    arrivals: dict[str, list[float]] = field(default_factory=dict)
    sent_wall: dict[str, float] = field(default_factory=dict)
    to_redis: dict[str, float] = field(default_factory=dict)
    unknown: int = 0

    def expect(self, message_id: str) -> None:
        self.arrivals[message_id] = []
        self.sent_wall[message_id] = time.time()
        self.sent[message_id] = time.perf_counter()

    def arrived(self, message_id: str, at: float, stored_at: float) -> None:
        if message_id not in self.arrivals:
            self.unknown += 1
            return
        if not self.arrivals[message_id]:
            self.to_redis[message_id] = stored_at - self.sent_wall[message_id]
        self.arrivals[message_id].append(at)


@dataclass
class PhaseResult:
    direction: str
    rate: int
    sent: int
    achieved_rate: float
    latencies: list[float]
    to_redis: list[float]
    lost: list[str]
    duplicates: int
    errors: int
    worst_lag: float

    def p99(self) -> float:
        return percentile(self.latencies, 0.99)

    def holds(self, limit_ms: float) -> bool:
        return not self.lost and not self.duplicates and not self.errors and self.p99() * 1000 <= limit_ms


async def paced(count: int, rate: float, send: Callable[[int], Awaitable[None]]) -> tuple[float, float]:
    """Calls `send(k)` at start + k/rate for k < count; returns (seconds taken, worst lag behind
    the schedule). Late sends go out at once (open loop) but still yield to the event loop."""
    start = time.perf_counter()
    worst = 0.0
    for k in range(count):
        delay = start + k / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            worst = max(worst, -delay)
            await asyncio.sleep(0)
        await send(k)
    return time.perf_counter() - start, worst


class RelayBench:
    """Customers, one agent console and an agent HTTP session around one running system."""

    def __init__(self, system: BenchSystem, conversations: int, agent_send: str) -> None:
        self.system = system
        self.agent_send = agent_send
        self.count = conversations
        self.run_id = uuid.uuid4().hex[:8]
        self.ledger = Ledger()
        self.customers: list[WebchatSocket] = []
        self.store: HandoffStore = system.open_store()
        self.console = AgentConsole(system.agent_url, system.agent_tokens[0], self._on_push)
        self.http: aiohttp.ClientSession | None = None
        self.pending: set[asyncio.Task] = set()
        self.phases = 0
        self.errors: Counter[str] = Counter()

    def _on_push(self, push: dict[str, Any], at: float) -> None:
        if push.get("type") == "error":
            self.errors[f"refused ({push.get('status')}): {str(push.get('error'))[:120]}"] += 1
        elif push.get("type") == "message":  # `ts`: when the channel stored the message (wall clock)
            self.ledger.arrived(push["message"]["id"], at, float(push["message"]["ts"]))

    def _on_customer_event(self, event: str, data: Any, at: float) -> None:
        if event == "bot_uttered":  # the stream id starts with Redis's wall clock in milliseconds
            metadata = (data or {}).get("metadata") or {}
            stored_at = int(str(metadata.get("stream_id", "0-0")).split("-")[0]) / 1000
            self.ledger.arrived(metadata.get("message_id", ""), at, stored_at)

    async def __aenter__(self) -> Self:
        try:
            await self._connect_all()
        except BaseException:
            await self.__aexit__()
            raise
        return self

    async def _connect_all(self) -> None:
        """Connects the console and the customers and gives every conversation to the agent."""
        hello = await self.console.connect()
        agent_id = hello["agent"]["id"]
        for _ in range(self.count):
            customer = WebchatSocket(self.system.rasa_url)
            await customer.connect()
            conversation_id = await customer.request_session()
            customer.on_event = self._on_customer_event
            handed = await self.store.request_handoff(conversation_id, {"reason": "bench"}, 0, "handoff_socketio")
            claimed = await self.store.claim(conversation_id, agent_id, -1)
            if not (handed.ok and claimed.ok):
                raise RuntimeError(f"could not hand {conversation_id} to {agent_id}: {handed} {claimed}")
            self.customers.append(customer)
        headers = {"Authorization": f"Bearer {self.system.agent_tokens[0]}"}
        self.http = aiohttp.ClientSession(headers=headers, connector=aiohttp.TCPConnector(limit=200),
                                          timeout=aiohttp.ClientTimeout(total=30))

    async def __aexit__(self, *exc_info: object) -> None:
        await asyncio.gather(*self.pending, return_exceptions=True)
        for customer in self.customers:
            await customer.close()
            await self.store.abandon(customer.session_id or "")
        await self.console.close()
        if self.http is not None:
            await self.http.close()
        await self.store.close()

    async def _to_agent(self, customer: WebchatSocket, message_id: str) -> None:
        self.ledger.expect(message_id)
        await customer.say(f"bench message {message_id}", message_id)

    async def _to_customer(self, customer: WebchatSocket, message_id: str) -> None:
        text = f"bench reply {message_id}"
        if self.agent_send == "ws":
            self.ledger.expect(message_id)
            await self.console.send({"type": "send", "conversation_id": customer.session_id, "id": message_id,
                                     "text": text})
            return
        assert self.http is not None
        url = f"{self.system.agent_url}/api/conversations/{customer.session_id}/messages"
        self.ledger.expect(message_id)
        request = self.http.post(url, json={"id": message_id, "text": text})
        task = asyncio.create_task(self._post(request))
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def _post(self, request: Any) -> None:
        try:
            async with request as reply:
                if reply.status != 201:
                    self.errors[f"HTTP {reply.status}: {(await reply.text())[:120]}"] += 1
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            self.errors[type(error).__name__] += 1

    async def phase(self, direction: str, rate: int, duration: float, drain: float) -> PhaseResult:
        """Sends rate x duration messages on schedule, then waits until every one has arrived or
        `drain` seconds have passed (what is still missing then counts as lost)."""
        count = max(1, round(rate * duration))
        self.phases += 1
        prefix = f"{self.run_id}-{self.phases}-"
        send = self._to_agent if direction == TO_AGENT else self._to_customer
        errors_before = self.errors.total()

        async def one(k: int) -> None:
            await send(self.customers[k % len(self.customers)], f"{prefix}{k}")

        took, worst_lag = await paced(count, rate, one)
        ids = [f"{prefix}{k}" for k in range(count)]
        arrivals = self.ledger.arrivals
        deadline = time.perf_counter() + drain
        while time.perf_counter() < deadline and (self.pending or any(not arrivals[i] for i in ids)):
            await asyncio.sleep(0.01)
        latencies = [arrivals[i][0] - self.ledger.sent[i] for i in ids if arrivals[i]]
        to_redis = [self.ledger.to_redis[i] for i in ids if arrivals[i]]
        return PhaseResult(direction, rate, count, count / took if took else 0.0, latencies, to_redis,
                           [i for i in ids if not arrivals[i]],
                           sum(max(0, len(arrivals[i]) - 1) for i in ids),
                           self.errors.total() - errors_before, worst_lag)


HEADERS = ["phase", "direction", "msg/s", "sent", "sent/s", "p50 ms", "redis p50", "p99 ms", "max ms", "lost",
           "dup", "errors", "lag ms", "p99 target", "result"]


def row(result: PhaseResult, target_ms: float, kind: str) -> list[object]:
    lat = result.latencies
    return [kind, result.direction, result.rate, result.sent, f"{result.achieved_rate:.0f}",
            millis(percentile(lat, 0.5)), millis(percentile(result.to_redis, 0.5)), millis(percentile(lat, 0.99)),
            millis(max(lat, default=float("nan"))),
            len(result.lost), result.duplicates, result.errors, millis(result.worst_lag),
            f"<= {target_ms:.0f}", verdict(result.holds(target_ms))]


async def fixed_rates(bench: RelayBench, args: argparse.Namespace) -> list[PhaseResult]:
    results = []
    for rate in args.rates:
        for direction in (TO_AGENT, TO_CUSTOMER):
            results.append(await bench.phase(direction, rate, args.duration, args.drain))
            print(f"  {direction} at {rate} msg/s: p99 {millis(results[-1].p99())} ms", flush=True)
    return results


async def ramp(bench: RelayBench, direction: str, args: argparse.Namespace) -> tuple[list[PhaseResult], int | None]:
    """Rising rates until one misses the p99 limit, loses a message or cannot be sent on time;
    returns the phases and the highest rate that held."""
    results: list[PhaseResult] = []
    highest = None
    for rate in args.ramp[: args.ramp_steps]:
        results.append(await bench.phase(direction, rate, args.ramp_duration, args.drain))
        print(f"  ramp {direction} at {rate} msg/s: p99 {millis(results[-1].p99())} ms", flush=True)
        if not results[-1].holds(args.limit_ms) or results[-1].achieved_rate < 0.9 * rate:
            break
        highest = rate
    return results, highest


async def run(args: argparse.Namespace, system: BenchSystem) -> None:
    async with RelayBench(system, args.conversations, args.agent_send) as bench:
        # The client's own full collections would stall its clock reads, not the system: what
        # exists now (connections, clients) leaves garbage collection, as in the servers.
        gc.collect()
        gc.freeze()
        print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
        for direction in (TO_AGENT, TO_CUSTOMER):  # warm-up, not reported
            await bench.phase(direction, 50, 1.0, args.drain)
        fixed = await fixed_rates(bench, args)
        rows = [row(result, TARGETS_MS.get(result.rate, args.limit_ms), "fixed") for result in fixed]
        lost = [i for result in fixed for i in result.lost]
        highest: dict[str, int | None] = {}
        for direction in (TO_AGENT, TO_CUSTOMER):
            ramped, highest[direction] = await ramp(bench, direction, args)
            rows += [row(result, args.limit_ms, "ramp") for result in ramped]
            lost += [i for result in ramped for i in result.lost]
        print()
        print_table(HEADERS, rows)
        print(f"\nload average after: {os.getloadavg()[0]:.2f} (cores: {os.cpu_count()}); "
              f"{args.conversations} conversations; agent sends over {args.agent_send}; sent/s: achieved send rate; "
              f"lag: worst delay of a send behind its schedule")
        print("redis p50: median time from sending until the message was stored in Redis (by the Rasa "
              "channel for customer->agent, by the agent service for agent->customer); wall clock, 1 ms steps")
        doubled = sum(max(0, len(times) - 1) for times in bench.ledger.arrivals.values())
        print(f"duplicates over the whole run (also those after their phase): {doubled}; "
              f"arrivals with unknown ids: {bench.ledger.unknown}; "
              f"console closed by the server: {bench.console.close_code or 'no'}")
        dropped = [c.closed_by_server for c in bench.customers if c.closed_by_server]
        if dropped:
            print(f"{len(dropped)} customer socket(s) closed by the server: {Counter(dropped)}")
        for error, times in bench.errors.most_common(5):
            print(f"agent send error x{times}: {error}")
        if lost:
            late = sum(1 for i in lost if bench.ledger.arrivals[i])
            print(f"{len(lost)} message(s) missing {args.drain:.0f} s after their phase ended; "
                  f"{late} of them arrived later")
    for direction, rate in highest.items():
        shown = f"{rate} msg/s" if rate else f"none of {args.ramp[: args.ramp_steps]}"
        print(f"highest rate with p99 <= {args.limit_ms:.0f} ms and nothing lost, {direction}: {shown}")


def rate_list(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--conversations", type=int, default=40, help="customers connected (default 40)")
    parser.add_argument("--agent-send", choices=("ws", "http"), default="ws",
                        help="how the agent sends: console WebSocket or one HTTP POST per message (ws)")
    parser.add_argument("--rates", type=rate_list, default=[100, 1000], help="fixed rates, msg/s (100,1000)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per fixed-rate phase (5)")
    parser.add_argument("--ramp", type=rate_list, default=[200, 400, 600, 800, 1000, 1250, 1500, 2000, 2500, 3000],
                        help="rising rates tried per direction, msg/s (200,400,600,800,1000,1250,1500,2000,2500,3000)")
    parser.add_argument("--ramp-steps", type=int, default=10, help="at most this many ramp rates (10)")
    parser.add_argument("--ramp-duration", type=float, default=3.0, help="seconds per ramp step (3)")
    parser.add_argument("--limit-ms", type=float, default=100.0, help="p99 a ramp rate must hold (100)")
    parser.add_argument("--drain", type=float, default=20.0,
                        help="seconds after a phase to wait for stragglers; later counts as lost (20)")
    add_system_arguments(parser)
    args = parser.parse_args()
    if not 1 <= args.conversations <= 500 or args.duration > 60 or args.ramp_duration > 60:
        raise SystemExit("keep --conversations within 1..500 and phase durations at most 60 s")
    # Every customer here shares 127.0.0.1 and each conversation sends far faster than a person
    # types: the rate limits stay on but are raised above the load, as the docs say.
    print("rate limits raised for this load (all customers share one address):", ONE_ADDRESS_LOAD_LIMITS)
    with bench_system(args, env=ONE_ADDRESS_LOAD_LIMITS) as system:
        # uvloop, as in the servers: the load generator shares the 2 cores with the system it measures.
        uvloop.run(asyncio.wait_for(run(args, system), timeout=900))


if __name__ == "__main__":
    main()
