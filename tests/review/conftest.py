"""Shared pieces of the review queue's tests: messages as the capture stores them, the known examples."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest

from handoff.review.clusters import load_known_examples
from handoff.review.utterances import Utterance
from rasa_bot.settings import PROJECT_ROOT

HELD_OUT_MESSAGE = "is there some way to get my instalments spread over a longer period"  # made up for the tests


def message(text: str, bot_ranked_first: str, reason: str = "handoff", conversation: str = "c1",
            answer: str | None = None) -> Utterance:
    """A captured message whose bot ranking put `bot_ranked_first` first (after the fallback), with the
    FAQ answer the bot chose for it when `answer` is given."""
    chosen = {"answer": answer} if answer else {}
    return Utterance(text=text, conversation_id=conversation, at=datetime(2026, 11, 1, 12),
                     top_intents=[{"name": "nlu_fallback", "confidence": 0.5},
                                  {"name": bot_ranked_first, "confidence": 0.4, **chosen}], reason=reason)


@pytest.fixture(scope="session")
def known() -> dict[str, list[str]]:
    return load_known_examples(PROJECT_ROOT)


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    """The training inputs copied (symlinks followed), with a held-out set of one made-up message."""
    copy = tmp_path / "project"
    shutil.copytree(PROJECT_ROOT / "data", copy / "data")
    shutil.copytree(PROJECT_ROOT / "domain", copy / "domain")
    shutil.copy(PROJECT_ROOT / "config.yml", copy / "config.yml")
    (copy / "tests" / "nlu").mkdir(parents=True)
    (copy / "tests" / "nlu" / "made_up.yml").write_text(
        f'version: "3.1"\nnlu:\n- intent: faq/change_payment_date\n  examples: |\n    - {HELD_OUT_MESSAGE}\n')
    return copy
