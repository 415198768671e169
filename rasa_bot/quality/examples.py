"""Labelled customer messages the model was never trained on, read from Rasa NLU YAML files.

Each intent block may carry `metadata: {kind: ...}`: plain, angry, mixed, near_miss, gibberish,
other_language or unknown_product (a question about something PayLater does not offer, worded like
the FAQ topics it does). The label is the full intent ("faq/late_fees" for an FAQ topic).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from rasa.shared.data import get_data_files, is_nlu_file
from rasa.shared.nlu.training_data.loading import load_data

PLAIN = "plain"
ANGRY = "angry"
MIXED = "mixed"
NEAR_MISS = "near_miss"
GIBBERISH = "gibberish"
OTHER_LANGUAGE = "other_language"
UNKNOWN_PRODUCT = "unknown_product"
KINDS = (PLAIN, ANGRY, MIXED, NEAR_MISS, GIBBERISH, OTHER_LANGUAGE, UNKNOWN_PRODUCT)


@dataclass(frozen=True)
class LabelledExample:
    """One customer message, its true (full) intent, and what kind of message it is."""

    text: str
    label: str
    kind: str = PLAIN

    @property
    def intent(self) -> str:
        """The intent without the retrieval part: "faq" for "faq/late_fees"."""
        return self.label.split("/", 1)[0]


def load_examples(folder: Path) -> list[LabelledExample]:
    """Every intent example under `folder`, in file order.

    Raises:
        ValueError: a block names a kind that is not one of `KINDS`.
    """
    logging.getLogger("rasa.shared.utils.io").setLevel(logging.ERROR)
    examples = []
    messages = [message for path in sorted(get_data_files([str(folder)], is_nlu_file))
                for message in load_data(path).intent_examples]
    for message in messages:
        metadata = (message.data.get("metadata") or {}).get("intent") or {}
        kind = metadata.get("kind", PLAIN)
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r} for {message.get('text')!r} in {folder}")
        label = message.get("intent_response_key") or message.get("intent")
        examples.append(LabelledExample(text=message.get("text"), label=label, kind=kind))
    return examples
