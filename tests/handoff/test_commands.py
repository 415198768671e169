"""Customer text never steers the bot by itself: which texts are commands, what Rasa gets of a
command the bot did not offer, and where the offered buttons are read from."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.nlu.training_data.message import Message

from handoff.channels.commands import (
    ONLY_SLASHES,
    TrackerButtons,
    as_plain_words,
    is_command,
    offered_payloads,
    text_for_bot,
)
from handoff.channels.router import MessageRejected

DENY_OFFER = BotUttered("Anything else?", {"buttons": [{"title": "No", "payload": " /deny "},
                                                         {"title": "Link", "url": "https://example.org"}]})


async def deny_offered(_conversation_id: str) -> set[str]:
    return {"/deny"}


def unpacked_intent(text: str) -> str | None:
    """The intent Rasa itself would read from the text (its last predict-graph step)."""
    domain = Domain.from_dict({"intents": ["deny", "inform", "handoff_resolved", "request_human"],
                               "entities": ["lookup_failures"]})
    intent = YAMLStoryReader.unpack_regex_message(Message({"text": text}), domain).get("intent")
    return intent.get("name") if intent else None


@pytest.mark.parametrize("text", ["/deny", "  /deny", "\u00a0/inform{\"lookup_failures\": 0}", "/", "//x"])
def test_texts_rasa_would_unpack_are_commands(text: str) -> None:
    assert is_command(text)


@pytest.mark.parametrize("text", ["deny", "and/or", "1/2 of my order", "deny /deny"])
def test_other_texts_are_not_commands(text: str) -> None:
    assert not is_command(text)


@pytest.mark.parametrize("text, words", [
    ("/help", "help"), (" / / help", "help"), ('/inform{"lookup_failures": 0}', 'inform{"lookup_failures": 0}'),
    ("//handoff_resolved", "handoff_resolved"), ("/", ""),
])
def test_plain_words_are_the_text_without_its_leading_slashes(text: str, words: str) -> None:
    assert as_plain_words(text) == words
    assert unpacked_intent(words) is None


def test_rasa_would_obey_the_commands_left_as_they_are() -> None:
    """The reason for the check: without it each of these selects its intent in Rasa."""
    assert unpacked_intent("/handoff_resolved") == "handoff_resolved"
    assert unpacked_intent(' /inform{"lookup_failures": 0}') == "inform"


@pytest.mark.asyncio
async def test_only_offered_commands_reach_rasa_as_sent() -> None:
    assert await text_for_bot("/deny", "c1", deny_offered) == "/deny"
    assert await text_for_bot(" /deny ", "c1", deny_offered) == " /deny "
    assert await text_for_bot("/handoff_resolved", "c1", deny_offered) == "handoff_resolved"
    assert await text_for_bot('/deny{"lookup_failures": 0}', "c1", deny_offered) == 'deny{"lookup_failures": 0}'
    assert await text_for_bot("how do refunds work?", "c1", deny_offered) == "how do refunds work?"
    with pytest.raises(MessageRejected) as rejected:
        await text_for_bot(" / ", "c1", deny_offered)
    assert (rejected.value.status, rejected.value.error) == (400, ONLY_SLASHES)


def test_offered_payloads_are_those_of_the_bots_buttons_and_quick_replies() -> None:
    events = [UserUttered("/request_human", metadata={"payload": "/x"}), DENY_OFFER,
              BotUttered("Pick one", {"quick_replies": [{"title": "Yes", "payload": "/affirm"}]}),
              BotUttered("odd", {"buttons": "not a list"}), BotUttered("plain text")]
    assert offered_payloads(events) == {"/deny", "/affirm"}


@pytest.mark.asyncio
async def test_tracker_buttons_read_the_current_agents_tracker_store() -> None:
    store = InMemoryTrackerStore(Domain.empty())
    await store.save(DialogueStateTracker.from_events("c1", [UserUttered("hi"), DENY_OFFER]))
    buttons = TrackerButtons()
    assert await buttons.payloads("c1") == set(), "before the server started nothing is known"
    app = SimpleNamespace(ctx=SimpleNamespace())
    await buttons.attach(app)  # type: ignore[arg-type]
    assert await buttons.payloads("c1") == set(), "no agent (no model loaded yet)"
    app.ctx.agent = SimpleNamespace(tracker_store=store)
    assert await buttons.payloads("c1") == {"/deny"}
    assert await buttons.payloads("someone-else") == set()
