"""Two delivery guarantees seen in a real browser against the running system: the console shows a
conversation in the order Redis stored it, also when a message reaches it late, and the shop's
widget sends a refused message again with the same id until it is stored, exactly once."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from playwright.sync_api import APIResponse, Page, Route, WebSocket, expect

from rasa_bot.processes import ManagedProcess
from rasa_bot.system import SystemLayout
from tests.browser.pages import ConsolePage, ShopPage
from tests.system_fixtures import AGENTS

pytestmark = pytest.mark.model

ALICE = AGENTS[0]
REDIS_RESTART_TIMEOUT_SECONDS = 60.0


def stream_id_key(stream_id: str) -> tuple[int, int]:
    milliseconds, sequence = stream_id.split("-")
    return int(milliseconds), int(sequence)


def shown_in_stream_order(agent: ConsolePage) -> None:
    """The console's messages, top to bottom, have rising stream ids (inbox and outbox share a clock)."""
    shown = agent.messages.locator(".message").evaluate_all("items => items.map(item => item.dataset.streamId)")
    assert shown == sorted(shown, key=stream_id_key)


def test_an_agent_reply_that_arrives_after_a_newer_customer_message_is_shown_in_its_place(
        shop: ShopPage, console_for: Callable[[str], ConsolePage]) -> None:
    """The service stores the agent's reply, but its answer reaches the console only after the
    customer's next message (stored later, pushed at once) is on screen: the reply goes above it."""
    agent = console_for(ALICE["token"])
    shop.ask("I want to talk to a real person", replies=2)
    agent.claim(shop.conversation_id)
    shop.say("my instalment was charged twice")
    expect(agent.messages).to_contain_text("charged twice")

    held: list[tuple[Route, APIResponse]] = []

    def hold_answer(route: Route) -> None:
        held.append((route, route.fetch()))  # stored by the service now; the console hears of it later

    agent.page.route(re.compile(r"/api/conversations/[^/]+/messages$"), hold_answer)
    agent.composer.fill("Let me check the charges.")
    agent.composer.press("Enter")
    while not held:
        agent.page.wait_for_timeout(100)
    shop.say("the second charge is from today")
    expect(agent.messages).to_contain_text("the second charge is from today")
    expect(agent.messages).not_to_contain_text("Let me check the charges.")

    route, response = held[0]
    route.fulfill(response=response)
    expect(agent.messages).to_contain_text("Let me check the charges.")
    assert agent.live_texts() == ["my instalment was charged twice", "Let me check the charges.",
                                  "the second charge is from today"]
    shown_in_stream_order(agent)

    agent.page.unroute(re.compile(r"/api/conversations/[^/]+/messages$"))
    before = agent.live_texts()
    agent.page.reload()  # read back from the server: the same order
    expect(agent.page.locator("#connection")).to_have_text("Live")
    expect(agent.messages.locator(".message")).to_have_count(len(before))
    assert agent.live_texts() == before
    shown_in_stream_order(agent)
    agent.page.get_by_role("button", name=re.compile("^Resolve")).click()
    expect(shop.log).to_contain_text("You are back with the assistant.")


def sent_message_ids(page: Page, text: str) -> list[str]:
    """Collects the message id of every `user_uttered` frame carrying `text` the page sends."""
    ids: list[str] = []

    def on_frame(payload: str | bytes) -> None:
        if isinstance(payload, str) and payload.startswith("42") and '"user_uttered"' in payload:
            frame = json.loads(payload[payload.index("["):])
            if frame[1].get("message") == text:
                ids.append(frame[1]["message_id"])

    def on_socket(socket: WebSocket) -> None:
        socket.on("framesent", on_frame)

    page.on("websocket", on_socket)
    return ids


def test_a_message_refused_while_redis_is_down_is_retried_with_its_id_and_lands_once(
        new_page: Callable[[], Page], console_for: Callable[[str], ConsolePage], bot_system: SystemLayout,
        system_processes: dict[str, ManagedProcess], expected_errors: list[str]) -> None:
    expected_errors.extend(["status of 503", "WebSocket connection"])  # the console, while Redis is away
    text = "my card was declined at checkout"
    customer_page = new_page()
    ids = sent_message_ids(customer_page, text)  # listening before the widget opens its socket
    shop = ShopPage(customer_page, bot_system)
    agent = console_for(ALICE["token"])
    shop.ask("I want to talk to a real person", replies=2)
    conversation_id = shop.conversation_id
    agent.claim(conversation_id)
    expect(shop.status).to_have_text("You're chatting with Alice Martin.")

    redis = system_processes["redis-server"]
    redis.stop()
    try:
        shop.say(text)
        mine = shop.log.locator(".chat-message.customer").filter(has_text=text)
        expect(mine.locator(".chat-pending")).to_have_text("Not delivered, retrying…", timeout=20_000)
        expect(mine).to_have_class(re.compile("undelivered"))
    finally:
        redis.start()
        redis.wait_ready(REDIS_RESTART_TIMEOUT_SECONDS)

    expect(mine.locator(".chat-pending")).to_have_count(0, timeout=60_000)
    expect(mine).not_to_have_class(re.compile("undelivered"))
    expect(agent.messages.locator(".message.customer .text").filter(has_text=text)).to_have_count(
        1, timeout=30_000)
    assert len(ids) >= 2 and set(ids) == {ids[0]}, f"sent {len(ids)} times with ids {set(ids)}"
    agent.page.reload()  # what the service stored, read back: once
    expect(agent.page.locator("#connection")).to_have_text("Live")
    expect(agent.messages.locator(".message.customer .text").filter(has_text=text)).to_have_count(1)
    agent.page.get_by_role("button", name=re.compile("^Resolve")).click()
    expect(shop.log).to_contain_text("You are back with the assistant.")
