"""Reads labelled texts from Rasa NLU YAML files: the labels the review queue proposes, and the
messages an export must not copy."""

from __future__ import annotations

import logging
from pathlib import Path

from rasa.shared.data import get_data_files, is_nlu_file
from rasa.shared.nlu.training_data.loading import load_data


def labelled_texts(location: Path) -> list[tuple[str, str]]:
    """(label, text) of every intent example in the NLU files at `location` (a file or a folder), in
    file order; the label is the full intent ("faq/late_fees"), entity annotations are stripped."""
    logging.getLogger("rasa.shared.utils.io").setLevel(logging.ERROR)
    return [(message.get("intent_response_key") or message.get("intent"), message.get("text"))
            for path in sorted(get_data_files([str(location)], is_nlu_file))
            for message in load_data(path).intent_examples]
