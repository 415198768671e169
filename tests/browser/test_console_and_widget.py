"""The agent console and the shop's chat widget in a real browser (Chromium through Playwright),
against the whole running system: what the customer and the agent see, side by side."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from rasa_bot.system import SystemLayout
from tests.browser.pages import ConsolePage, ShopPage, screenshots
from tests.integration.agent_client import AgentClient
from tests.integration.domain_texts import response_text
from tests.integration.rest_client import RestCustomer
from tests.system_fixtures import AGENTS

pytestmark = pytest.mark.model

ALICE, BOB = AGENTS[0], AGENTS[1]
FRUSTRATED_MESSAGES = [
    "that's not what I asked, this is useless!!",
    "THIS IS RIDICULOUS, WHY IS IT SO HARD TO GET MY MONEY BACK???",
]
MARKUP = "<img src=x onerror=alert(1)>"


def test_customer_and_agent_from_handoff_to_rating(
        shop: ShopPage, console_for: Callable[[str], ConsolePage], bot_system: SystemLayout,
        artifacts: Path) -> None:
    agent = console_for(ALICE["token"])

    assert shop.ask("how long does a refund take?") == [response_text("utter_faq/refund_timeline")]
    shop.ask(FRUSTRATED_MESSAGES[0])
    shop.ask(FRUSTRATED_MESSAGES[1], replies=2)  # the handoff apology, then the queue message
    expect(shop.log).to_contain_text(response_text("utter_handoff_frustration"))
    expect(shop.status).to_contain_text(re.compile(r"Connecting you to a person… You're number \d+ in the "
                                                   r"queue, about \d+ min"))
    conversation_id = shop.conversation_id

    ticket = agent.ticket(conversation_id)  # pushed to the open console, no reload
    expect(ticket).to_contain_text("Frustration")
    expect(ticket).to_contain_text("MONEY BACK")
    expect(ticket).to_contain_text("handoff_socketio")
    agent.claim(conversation_id)
    expect(shop.status).to_have_text("You're chatting with Alice Martin.")

    transcript = agent.page.locator("#bot-transcript")
    expect(transcript).to_contain_text(FRUSTRATED_MESSAGES[1])
    expect(transcript).to_contain_text("faq/refund_timeline")
    # The FAQ answer's row shows the confidence that decided it and that the bot was sure of it.
    faq_row = transcript.locator("tr.bot").filter(has_text=response_text("utter_faq/refund_timeline")[:40])
    expect(faq_row.locator('td[data-label="Confidence"]')).to_contain_text(re.compile(r"^\d\.\d\d · sure$"))
    expect(agent.page.locator("#ticket-summary")).to_contain_text("Frustrated customer")

    agent.composer.press_sequentially("Hi, I'm Alice")
    expect(shop.typing_line).to_have_text("Alice Martin is typing…")
    agent.composer.press_sequentially(". Let me look at your refund.")
    agent.composer.press("Enter")
    agent_reply = shop.log.locator(".chat-message.agent").last
    expect(agent_reply).to_contain_text("Alice Martin")
    expect(agent_reply).to_contain_text("Hi, I'm Alice. Let me look at your refund.")
    expect(shop.typing_line).to_have_text("")

    shop.input.press_sequentially("thank you, it's order")
    expect(agent.page.locator("#customer-typing")).to_have_text("The customer is typing…")
    shop.input.press_sequentially(" KL-100002")
    shop.input.press("Enter")
    expect(agent.messages).to_contain_text("thank you, it's order KL-100002")

    agent.send("Refund KL-100002 is waiting for the warehouse scan", note=True)
    agent.page.get_by_role("button", name="One moment").click()
    expect(agent.composer).to_have_value(re.compile("give me a moment"))
    agent.composer.press("Enter")
    expect(shop.log).to_contain_text("give me a moment")
    expect(shop.log).not_to_contain_text("warehouse scan")
    expect(shop.log.locator(".chat-message.bot")).to_have_count(4)  # the bot stayed silent

    screenshots(shop.page, artifacts, "shop-chatting-with-agent")
    screenshots(agent.page, artifacts, "console-chatting")

    agent.page.get_by_label("Verified order number (optional)").fill("KL-100002")
    agent.page.get_by_role("button", name=re.compile("^Resolve")).click()
    expect(shop.log).to_contain_text("You are back with the assistant.")
    expect(shop.log).to_contain_text(response_text("utter_welcome_back"))
    expect(shop.status).to_have_text("You're chatting with our assistant.")

    # The verdict row, after the resolve (which already happened): a wrong answer, the right FAQ topic picked.
    verdict_row = agent.page.locator("#verdict-form")
    expect(verdict_row).to_be_visible()
    expect(agent.page.get_by_role("button", name="Needed", exact=True)).to_be_focused()
    agent.page.get_by_role("button", name="Wrong answer").click()
    picker = agent.page.get_by_label("The right intent or FAQ topic")
    expect(picker).to_be_focused()
    expect(picker.locator("optgroup").first).to_have_attribute("label", "Ranked for the customer's last messages")
    screenshots(agent.page, artifacts, "console-verdict")
    picker.select_option("faq/refund_timeline")
    agent.page.get_by_role("button", name="Save verdict").click()
    expect(verdict_row).to_be_hidden()
    expect(agent.page.locator("#history")).to_contain_text("verdict: wrong answer (faq/refund_timeline)")

    assert shop.ask("which payment methods can I use?") == [response_text("utter_faq/payment_methods")]
    shop.rate(4)
    expect(shop.log).to_contain_text("Thank you for your rating!")
    expect(shop.page.locator("#chat-rating")).to_be_hidden()

    closed = AgentClient(bot_system, ALICE["token"]).conversation(conversation_id)["closed_tickets"]
    assert [(record["agent_id"], record["satisfaction"], record["ticket"]["reason"]) for record in closed] == [
        ("alice", 4, "frustration")]
    assert {key: closed[0]["verdict"][key] for key in ("kind", "intent", "agent_id")} == {
        "kind": "wrong_answer", "intent": "faq/refund_timeline", "agent_id": "alice"}
    screenshots(shop.page, artifacts, "shop-back-with-bot")


def test_console_reload_mid_chat_loses_nothing_then_transfer(
        shop: ShopPage, console_for: Callable[[str], ConsolePage]) -> None:
    agent = console_for(ALICE["token"])
    shop.ask("I want to talk to a real person", replies=2)
    conversation_id = shop.conversation_id
    agent.claim(conversation_id)
    shop.say("my order KL-100005 shows an overdue instalment")
    expect(agent.messages).to_contain_text("overdue instalment")
    agent.send("Let me check that for you.")
    agent.send("instalment 3 overdue since last week", note=True)
    before = agent.live_texts()

    agent.page.reload()
    expect(agent.page.locator("#connection")).to_have_text("Live")
    expect(agent.messages.locator(".message")).to_have_count(len(before))
    assert agent.live_texts() == before
    expect(agent.page.locator("#bot-transcript")).to_contain_text("I want to talk to a real person")

    shop.say("are you still there?")
    expect(agent.messages).to_contain_text("are you still there?")
    agent.send("Yes, still here.")
    expect(shop.log).to_contain_text("Yes, still here.")

    colleague = console_for(BOB["token"])
    agent.page.get_by_label("Transfer to").select_option(BOB["id"])
    agent.page.get_by_role("button", name="Transfer").click()
    expect(agent.page.locator("#conversation-notice")).to_contain_text("Transferred")
    colleague.page.locator("#mine").get_by_role("button", name=re.compile("Explicit request")).click()
    expect(colleague.messages).to_contain_text("are you still there?")
    expect(colleague.messages).to_contain_text("instalment 3 overdue")  # notes travel with the chat
    expect(shop.status).to_have_text("You're chatting with Bob Keller.")
    colleague.send("Hi, Bob here, I'll take it from here.")
    expect(shop.log).to_contain_text("Bob here")
    colleague.page.get_by_role("button", name=re.compile("^Resolve")).click()
    expect(shop.log).to_contain_text("You are back with the assistant.")


def test_console_resumes_after_a_dropped_connection(
        shop: ShopPage, new_page: Callable[[], Page], bot_system: SystemLayout) -> None:
    """The console's WebSocket is cut and refused for a while (a network drop); what the customer
    wrote meanwhile is on screen once it is back, without a reload."""
    links: list[WebSocketRoute] = []
    network = {"up": True}

    def link(route: WebSocketRoute) -> None:
        if not network["up"]:
            route.close()
            return
        route.connect_to_server()
        links.append(route)

    agent = ConsolePage(new_page(), bot_system)
    agent.page.route_web_socket(re.compile(r"/api/ws\?"), link)
    agent.log_in(ALICE["token"])
    shop.ask("I want to talk to a real person", replies=2)
    agent.claim(shop.conversation_id)

    network["up"] = False
    links[-1].close()
    expect(agent.page.locator("#connection")).to_contain_text("reconnecting")
    shop.say("hello? my payment failed twice")
    agent.page.wait_for_timeout(1500)  # the message is stored while the console is cut off
    expect(agent.messages).not_to_contain_text("payment failed twice")
    network["up"] = True
    expect(agent.page.locator("#connection")).to_have_text("Live", timeout=20_000)
    expect(agent.messages).to_contain_text("payment failed twice")
    shop.say("still there?")
    expect(agent.messages).to_contain_text("still there?")
    agent.page.get_by_role("button", name=re.compile("^Resolve")).click()
    expect(shop.log).to_contain_text("You are back with the assistant.")


def test_two_agents_race_for_one_ticket_and_only_one_wins(
        bot_system: SystemLayout, console_for: Callable[[str], ConsolePage], expected_errors: list[str]) -> None:
    expected_errors.append("status of 409 (Conflict)")  # the loser's refused claim
    alice, bob = console_for(ALICE["token"]), console_for(BOB["token"])
    customer = RestCustomer(bot_system)
    customer.say("I want to talk to a real person")
    buttons = [console.claim_button(customer.conversation_id) for console in (alice, bob)]
    for button in buttons:
        expect(button).to_be_visible()
    handles = [button.element_handle() for button in buttons]
    for handle in handles:  # both click before either hears of the other's claim
        handle.evaluate("button => button.click()")

    views = [console.page.locator("#conversation") for console in (alice, bob)]
    errors = [console.page.locator("#queue-error") for console in (alice, bob)]
    expect(alice.page.locator("#conversation:visible, #queue-error:not(:empty)")).to_have_count(1)
    expect(bob.page.locator("#conversation:visible, #queue-error:not(:empty)")).to_have_count(1)
    won = [view.is_visible() for view in views]
    assert sorted(won) == [False, True]
    loser = won.index(False)
    expect(errors[loser]).to_have_text("Another agent claimed this conversation first.")
    winner = (ALICE, BOB)[won.index(True)]
    state = AgentClient(bot_system, winner["token"]).conversation(customer.conversation_id)["state"]
    assert state["agent_id"] == winner["id"]
    assert AgentClient(bot_system, winner["token"]).resolve(customer.conversation_id).status_code == 200


def test_customer_markup_is_shown_as_text_and_never_runs(
        shop: ShopPage, console_for: Callable[[str], ConsolePage]) -> None:
    agent = console_for(ALICE["token"])
    dialogs: list[str] = []
    for page in (agent.page, shop.page):
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    shop.ask(MARKUP)
    shop.ask("I want to talk to a real person", replies=2)
    conversation_id = shop.conversation_id
    expect(agent.ticket(conversation_id)).to_be_visible()
    agent.claim(conversation_id)
    shop.say(MARKUP)
    expect(agent.messages.locator(".text").last).to_have_text(MARKUP)
    expect(agent.page.locator("#bot-transcript")).to_contain_text(MARKUP)
    expect(shop.log.locator(".chat-message.customer").first).to_have_text(re.compile(re.escape(MARKUP)))

    agent.page.wait_for_timeout(500)  # time for a broken image's onerror to fire, if one existed
    assert agent.page.locator("img").count() == 0
    assert shop.page.locator("img").count() == 0
    assert dialogs == []
    agent.page.get_by_role("button", name=re.compile("^Resolve")).click()
    expect(shop.log).to_contain_text("You are back with the assistant.")


def test_a_bot_only_conversation_ends_with_a_thumb(shop: ShopPage, bot_system: SystemLayout,
                                                   artifacts: Path) -> None:
    assert shop.ask("which payment methods can I use?") == [response_text("utter_faq/payment_methods")]
    thumbs = shop.page.locator("#chat-bot-feedback")
    expect(thumbs).to_be_hidden()
    assert shop.ask("goodbye") == [response_text("utter_goodbye")]
    expect(thumbs).to_be_visible()
    screenshots(shop.page, artifacts, "shop-bot-feedback")
    shop.page.get_by_role("button", name="Yes, it helped").focus()
    shop.page.keyboard.press("Enter")
    expect(shop.log).to_contain_text("Thank you for your feedback!")
    expect(thumbs).to_be_hidden()
