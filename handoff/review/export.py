"""Writes the lead's accepted examples where training and `make test` read them.

`data/reviewed.yml` (Rasa NLU YAML, one block per label, placeholders filled with synthetic values)
is merged: what it held stays, new texts are added. `tests/test_reviewed_conversations.yml` holds each
example as a one-turn test conversation with its expected intent and the bot's first action for it
(named `test_*` so Rasa reads it as test stories, where full retrieval intents belong). A new FAQ topic
the lead created (a label with an answer) is known from then on: its answer is merged into
`domain/reviewed.yml` as the response `utter_faq/<topic>` once the topic has an example. A text is left
out when its label is unknown to the domain, the training data and the new topics, when it is already a training example, or when it is
a near-copy of a held-out or tuning message (tests/nlu, tests/nlu_tuning: the quality gates must stay
measured on messages never trained on). Those folders are read only to compare, never printed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from rasa.shared.core.domain import Domain
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.utils.io import read_yaml_file

from handoff.review.closeness import HELD_OUT_FOLDERS, is_copy, tokens
from handoff.review.clusters import load_known_examples
from handoff.review.first_actions import first_actions
from handoff.review.synthetic import fill
from handoff.review.training_data import labelled_texts
from handoff.review.utterances import normalise

REVIEWED_DATA = Path("data/reviewed.yml")
REVIEWED_CONVERSATIONS = Path("tests/test_reviewed_conversations.yml")
DOMAIN = Path("domain")
REVIEWED_DOMAIN = DOMAIN / "reviewed.yml"
RESPONSE_PREFIX = "utter_"
NOT_TEACHABLE = frozenset({"nlu_fallback"})  # the gate's verdict, not an intent a customer has
HEADER = "# Written by `python -m handoff.review export` from the lead's accepted review proposals (docs/review.md).\n"
EMPTY_NLU = f'{HEADER}version: "3.1"\nnlu: []\n'
DOMAIN_HEADER = ("# Written by `python -m handoff.review export`: the answers of the FAQ topics the lead created\n"
                 "# in the review page (docs/review.md). Edit an answer here; the export keeps it.\n")


@dataclass
class ExportReport:
    """What an export wrote and what it left out, by reason (counts only: no customer words)."""

    written: dict[str, int] = field(default_factory=dict)  # label -> examples now in data/reviewed.yml
    added: int = 0
    unknown_label: int = 0
    already_trained: int = 0
    held_out_copy: int = 0
    new_topics: int = 0  # answers of new FAQ topics now in domain/reviewed.yml


def export(accepted: Mapping[str, Sequence[str]], project: Path, held_out_root: Path | None = None,
           new_topic_answers: Mapping[str, str] | None = None) -> ExportReport:
    """Merges `accepted` (label -> scrubbed texts) into the project's data/reviewed.yml and writes
    tests/test_reviewed_conversations.yml; `held_out_root` holds tests/nlu and tests/nlu_tuning (the
    project's own by default). `new_topic_answers` (`faq/<topic>` -> answer) are the lead's new FAQ
    topics: their examples are exported and their answers merged into domain/reviewed.yml."""
    report = ExportReport()
    reviewed = _reviewed_examples(project / REVIEWED_DATA)
    trained = {normalise(text) for texts in load_known_examples(project).values() for text in texts}
    answers = dict(new_topic_answers or {})
    teachable = _teachable_labels(project) | set(answers)
    held_out = [tokens(text) for folder in HELD_OUT_FOLDERS
                if (root := (held_out_root or project) / folder).is_dir() for _, text in labelled_texts(root)]
    for label, texts in accepted.items():
        for text in texts:
            example = fill(text, annotate=False)
            if label not in teachable:
                report.unknown_label += 1
            elif normalise(example) in trained:  # data/reviewed.yml included: exported before
                report.already_trained += 1
            elif is_copy(example, held_out):
                report.held_out_copy += 1
            else:
                reviewed.setdefault(label, []).append(fill(text, annotate=True))
                trained.add(normalise(example))
                report.added += 1
    _write(project / REVIEWED_DATA, _nlu_yaml(reviewed))
    _write(project / REVIEWED_CONVERSATIONS, _stories_yaml(reviewed, first_actions(project)))
    report.new_topics = _merge_answers(project / REVIEWED_DOMAIN, answers, reviewed)
    report.written = {label: len(texts) for label, texts in sorted(reviewed.items())}
    return report


def _merge_answers(path: Path, answers: Mapping[str, str], reviewed: Mapping[str, Sequence[str]]) -> int:
    """Adds the answers of the new topics that have examples in data/reviewed.yml (a response without
    examples would teach nothing) to the responses `path` holds, which stay as they are; writes the file
    only when it has something to hold. Returns how many responses it holds."""
    responses = dict((read_yaml_file(path) or {}).get("responses") or {}) if path.exists() else {}
    for label, answer in answers.items():
        if reviewed.get(label):
            responses.setdefault(f"{RESPONSE_PREFIX}{label}", [{"text": answer}])
    if responses:
        _write(path, _domain_yaml(responses))
    return len(responses)


def _domain_yaml(responses: Mapping[str, Any]) -> str:
    body = yaml.safe_dump({"responses": dict(sorted(responses.items()))}, allow_unicode=True, width=1000,
                          sort_keys=False, default_flow_style=False)
    return f'{DOMAIN_HEADER}version: "3.1"\n\n{body}'


def ensure_reviewed_file(project: Path) -> None:
    """Creates an empty, valid data/reviewed.yml when there is none."""
    path = project / REVIEWED_DATA
    if not path.exists():
        _write(path, EMPTY_NLU)


def _reviewed_examples(path: Path) -> dict[str, list[str]]:
    """What data/reviewed.yml holds, by label, with its entity annotations."""
    if not path.exists():
        return {}
    examples: dict[str, list[str]] = {}
    for message in load_data(str(path)).intent_examples:
        label = message.get("intent_response_key") or message.get("intent")
        examples.setdefault(label, []).append(_annotated(message.get("text"), message.get("entities") or []))
    return examples


def _annotated(text: str, entities: Sequence[Mapping]) -> str:
    """The text with its entities marked again as [value](entity)."""
    for entity in sorted(entities, key=lambda found: found["start"], reverse=True):
        start, end = entity["start"], entity["end"]
        text = f"{text[:start]}[{text[start:end]}]({entity['entity']}){text[end:]}"
    return text


def _teachable_labels(project: Path) -> set[str]:
    """Labels the domain knows and the bot was trained on: intents, and "faq/<topic>" topics."""
    intents = set(Domain.load(str(project / DOMAIN)).intents) - NOT_TEACHABLE
    return {label for label in load_known_examples(project) if label.split("/", 1)[0] in intents}


def _nlu_yaml(examples: Mapping[str, Sequence[str]]) -> str:
    if not examples:
        return EMPTY_NLU
    blocks = [f"- intent: {label}\n  examples: |\n" + "".join(f"    - {_one_line(text)}\n" for text in texts)
              for label, texts in sorted(examples.items())]
    return f'{HEADER}version: "3.1"\n\nnlu:\n' + "\n".join(blocks)


def _stories_yaml(examples: Mapping[str, Sequence[str]], actions: Mapping[str, str]) -> str:
    """One conversation per example: the message, its intent, and the action the bot's rules answer
    that intent with first (none for an intent no rule or story opens with)."""
    stories = [f"- story: reviewed {label} {number}\n  steps:\n  - user: |\n      {_one_line(text)}\n"
               f"    intent: {label}\n" + _action_step(actions.get(label.split('/', 1)[0]))
               for label, texts in sorted(examples.items()) for number, text in enumerate(texts, start=1)]
    body = "".join(stories) if stories else ""
    return f'{HEADER}version: "3.1"\n\nstories:' + ("\n" + body if body else " []\n")


def _action_step(action: str | None) -> str:
    return f"  - action: {action}\n" if action else ""


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _write(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")


def report_json(report: ExportReport) -> str:
    """The report as JSON for the command line."""
    return json.dumps(report.__dict__, indent=2, sort_keys=True)
