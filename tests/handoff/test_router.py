"""The customer router: bot or human, duplicates, oversized messages, Redis going away (the bot
answers only a conversation last seen with the bot; any other message is refused, not lost)."""

from __future__ import annotations

import pytest

from handoff.channels.router import CustomerMessage, CustomerRouter, MessageRejected
from handoff.models import INBOX
from handoff.settings import HandoffSettings
from handoff.store import HandoffStore, StoreUnavailable
from tests.handoff.conftest import StoreFactory

pytestmark = pytest.mark.asyncio


class CountingBot:
    """Stands in for Rasa's on_new_message: counts calls and says how many replies it sent."""

    def __init__(self, replies: int = 1) -> None:
        self.calls = 0
        self.replies = replies

    async def __call__(self) -> int:
        self.calls += 1
        return self.replies


def message(text: str = "hello", message_id: str = "m1", conversation: str = "c1") -> CustomerMessage:
    return CustomerMessage(conversation, text, message_id, "test")


async def test_bot_mode_goes_to_the_bot_once_per_message_id(store: HandoffStore) -> None:
    router, bot = CustomerRouter(store, HandoffSettings()), CountingBot()
    assert await router.route(message(), bot) == "bot"
    assert await router.route(message(), bot) == "duplicate"
    assert bot.calls == 1


async def test_human_mode_bypasses_the_bot_and_stores_the_message(store: HandoffStore) -> None:
    router, bot = CustomerRouter(store, HandoffSettings()), CountingBot()
    await store.request_handoff("c1", {"reason": "explicit_request"}, 3, "test")
    assert await router.route(message("<b>still there?</b>"), bot) == "human"
    assert await router.route(message("<b>still there?</b>"), bot) == "duplicate"
    assert bot.calls == 0
    stored = await store.read_messages("c1", INBOX)
    assert [m.text for m in stored] == ["<b>still there?</b>"]


async def test_message_sent_while_the_bot_hands_over_reaches_the_agent(store: HandoffStore) -> None:
    router = CustomerRouter(store, HandoffSettings())

    async def bot_hands_over_meanwhile() -> int:
        await store.request_handoff("c1", {"reason": "frustration"}, 2, "test")
        return 0  # Rasa's tracker was paused: the bot said nothing

    assert await router.route(message("hello?"), bot_hands_over_meanwhile) == "human"
    assert [m.text for m in await store.read_messages("c1", INBOX)] == ["hello?"]


async def test_abandoned_conversation_returns_to_the_bot(store: HandoffStore) -> None:
    router, bot = CustomerRouter(store, HandoffSettings()), CountingBot()
    await store.request_handoff("c1", {"reason": "explicit_request"}, 3, "test")
    await store.abandon("c1")
    assert await router.route(message(), bot) == "bot"
    assert (await store.get_state("c1")).mode == "bot"


@pytest.mark.parametrize("text", ["", "   ", None, 42])
async def test_missing_text_is_rejected(store: HandoffStore, text: object) -> None:
    with pytest.raises(MessageRejected) as rejected:
        await CustomerRouter(store, HandoffSettings()).route(message(text), CountingBot())  # type: ignore[arg-type]
    assert rejected.value.status == 400


async def test_oversized_message_is_rejected_with_its_size(store: HandoffStore) -> None:
    router = CustomerRouter(store, HandoffSettings(max_message_bytes=4096))
    await router.route(message("é" * 2048), CountingBot())  # exactly 4096 bytes: accepted
    with pytest.raises(MessageRejected) as rejected:
        await router.route(message("x" * 4097, "m2"), CountingBot())
    assert rejected.value.status == 413
    assert "4097" in rejected.value.error and "4096" in rejected.value.error


async def test_redis_down_refuses_a_conversation_this_process_never_saw(make_store: StoreFactory) -> None:
    unreachable = make_store(url="redis://127.0.0.1:1/0", socket_timeout=0.3, connect_timeout=0.3)
    bot = CountingBot()
    with pytest.raises(StoreUnavailable):
        await CustomerRouter(unreachable, HandoffSettings()).route(message(), bot)
    assert bot.calls == 0  # a person may own it: neither stored nor given to the bot


async def test_redis_down_lets_the_bot_answer_a_conversation_last_seen_with_the_bot(
        store: HandoffStore, make_store: StoreFactory) -> None:
    router, bot = CustomerRouter(store, HandoffSettings()), CountingBot()
    assert await router.route(message("hi", "m1"), bot) == "bot"
    router.store = make_store(url="redis://127.0.0.1:1/0", socket_timeout=0.3, connect_timeout=0.3)
    assert await router.route(message("still there?", "m2"), bot) == "bot"
    assert bot.calls == 2


async def test_redis_down_never_gives_a_persons_conversation_to_the_bot(
        store: HandoffStore, make_store: StoreFactory) -> None:
    router, bot = CustomerRouter(store, HandoffSettings()), CountingBot()
    assert await router.route(message("hi", "m1"), bot) == "bot"
    await store.request_handoff("c1", {"reason": "explicit_request"}, 3, "test")  # by another process
    assert await router.route(message("agent?", "m2"), bot) == "human"
    router.store = make_store(url="redis://127.0.0.1:1/0", socket_timeout=0.3, connect_timeout=0.3)
    with pytest.raises(StoreUnavailable):
        await router.route(message("are you there?", "m3"), bot)
    assert bot.calls == 1

    router.store = store  # Redis is back: the client's retry with the same id lands once
    assert await router.route(message("are you there?", "m3"), bot) == "human"
    assert await router.route(message("are you there?", "m3"), bot) == "duplicate"
    assert [m.text for m in await store.read_messages("c1", INBOX)] == ["agent?", "are you there?"]


async def test_a_bot_turn_that_hands_over_is_remembered_as_a_persons(
        store: HandoffStore, make_store: StoreFactory) -> None:
    router = CustomerRouter(store, HandoffSettings())

    async def bot_hands_over() -> int:
        await store.request_handoff("c1", {"reason": "explicit_request"}, 3, "test")
        return 1  # "Connecting you to a person..."

    assert await router.route(message("a person please"), bot_hands_over) == "bot"
    router.store = make_store(url="redis://127.0.0.1:1/0", socket_timeout=0.3, connect_timeout=0.3)
    bot = CountingBot()
    with pytest.raises(StoreUnavailable):
        await router.route(message("hello?", "m2"), bot)
    assert bot.calls == 0


async def test_a_bot_mode_seen_too_long_ago_is_not_trusted_in_an_outage(
        store: HandoffStore, make_store: StoreFactory) -> None:
    router, bot = CustomerRouter(store, HandoffSettings(outage_mode_max_age_seconds=0)), CountingBot()
    assert await router.route(message("hi", "m1"), bot) == "bot"
    router.store = make_store(url="redis://127.0.0.1:1/0", socket_timeout=0.3, connect_timeout=0.3)
    with pytest.raises(StoreUnavailable):
        await router.route(message("hi again", "m2"), bot)
    assert bot.calls == 1


async def test_metadata_keeps_only_allowed_keys_and_has_a_size_cap(store: HandoffStore) -> None:
    router = CustomerRouter(store, HandoffSettings(customer_metadata_keys=["page"]))
    assert router.check_metadata({"page": "/", "is_external": True, "lookup_failures": 0}) == {"page": "/"}
    assert router.check_metadata(None) == {} and router.check_metadata(["page"]) == {}
    router = CustomerRouter(store, HandoffSettings(customer_metadata_keys=["page"], max_metadata_bytes=20))
    assert router.check_metadata({"page": "éééé!"}) == {"page": "éééé!"}  # 20 bytes of JSON: accepted
    for too_large in ({"page": "ééééé"}, "x" * 300_000):
        with pytest.raises(MessageRejected) as rejected:
            router.check_metadata(too_large)
        assert rejected.value.status == 413 and "at most 20 bytes" in rejected.value.error


def test_customers_may_never_send_is_external() -> None:
    assert "is_external" not in HandoffSettings().customer_metadata_keys
    with pytest.raises(ValueError, match="is_external may never come from a customer"):
        HandoffSettings(customer_metadata_keys=["page", "is_external"])
