"""What a person does on each page, for the browser tests: the customer on the shop page's chat
widget, an agent in the console. Locators go by role and label where the page offers them, the way
a screen reader user finds things."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from rasa_bot.system import SystemLayout

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def screenshots(page: Page, folder: Path, name: str) -> list[Path]:
    """Full-page screenshots at desktop and phone width, saved as `<name>-1280.png` / `-390.png`."""
    saved = []
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        # Pages that lay out again on a resize (charts redraw in an animation frame) settle first.
        page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
        path = folder / f"{name}-{size['width']}.png"
        page.screenshot(path=str(path), full_page=True)
        saved.append(path)
    page.set_viewport_size(DESKTOP)
    return saved


class ShopPage:
    """A customer on the demo shop, chatting through the widget."""

    def __init__(self, page: Page, layout: SystemLayout) -> None:
        self.page = page
        page.goto(f"{layout.agent_url}/shop")
        page.get_by_role("button", name="Chat with us").click()
        self.input = page.get_by_label("Your message")
        self.log = page.locator("#chat-log")
        self.status = page.locator("#chat-status")
        self.typing_line = page.locator("#chat-typing")
        expect(self.status).to_contain_text("assistant")

    @property
    def conversation_id(self) -> str:
        return self.page.evaluate("window.localStorage.getItem('paylaterChatSession')")

    def say(self, text: str) -> None:
        self.input.fill(text)
        self.input.press("Enter")

    def replies(self) -> Locator:
        """Every message shown from the assistant or an agent."""
        return self.log.locator(".chat-message.bot, .chat-message.agent")

    def ask(self, text: str, replies: int = 1) -> list[str]:
        """Says `text` and returns the texts of the next `replies` answers."""
        before = self.replies().count()
        self.say(text)
        expect(self.replies()).to_have_count(before + replies, timeout=30_000)
        return [self.replies().nth(index).locator(".chat-text").inner_text()
                for index in range(before, before + replies)]

    def rate(self, rating: int) -> None:
        self.page.get_by_role("group", name=re.compile("How happy")).get_by_role(
            "button", name=str(rating), exact=True).click()


class ConsolePage:
    """An agent in the console."""

    def __init__(self, page: Page, layout: SystemLayout) -> None:
        self.page = page
        self.url = f"{layout.agent_url}/console"
        self.messages = page.locator("#messages")
        self.composer = page.get_by_label("Message to the customer")

    def log_in(self, token: str) -> None:
        self.page.goto(self.url)
        self.page.get_by_label("Agent token").fill(token)
        self.page.get_by_role("button", name="Log in").click()
        expect(self.page.locator("#connection")).to_have_text("Live")

    def ticket(self, conversation_id: str) -> Locator:
        return self.page.locator(f'#queue li[data-conversation="{conversation_id}"]')

    def claim_button(self, conversation_id: str) -> Locator:
        return self.ticket(conversation_id).get_by_role("button", name=re.compile("^Claim"))

    def claim(self, conversation_id: str) -> None:
        self.claim_button(conversation_id).click()
        expect(self.page.locator("#conversation")).to_be_visible()

    def send(self, text: str, *, note: bool = False) -> None:
        if note:
            self.page.get_by_label(re.compile("Internal note")).check()
        self.composer.fill(text)
        self.composer.press("Enter")
        expect(self.composer).to_have_value("")

    def live_texts(self) -> list[str]:
        return self.messages.locator(".text").all_inner_texts()
