"""The export on a copy of the project: accepted examples land in data/reviewed.yml with realistic
shapes, copies of held-out messages and unknown labels stay out, a new FAQ topic's examples and answer
(domain/reviewed.yml) go in, and `rasa data validate` passes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.nlu.training_data.loading import load_data

from handoff.insights.database import open_database
from handoff.review.__main__ import main
from handoff.review.export import EMPTY_NLU, REVIEWED_CONVERSATIONS, REVIEWED_DATA, REVIEWED_DOMAIN, export
from handoff.review.store import record_decision
from rasa_bot.quality.regression import reviewed_conversations
from rasa_bot.settings import PROJECT_ROOT

RASA = str(Path(sys.executable).parent / "rasa")
ACCEPTED = {
    "check_order_status": ["my parcel for <order> never turned up, where is it", "where is <order> my friend"],
    "request_human": ["i need a proper person, this bot is going in circles"],
    "faq/late_fees": ["what does it cost me if my payment comes a few days late"],
    "complaint": ["I'm <name> and your service is a disgrace, call me on <phone>"],
    "pay_with_bitcoin": ["can i pay with bitcoin"],  # a label the domain does not know
    "greet": ["hi", "instalments spread over a longer period, is there some way to get my"],
    "faq/gift_cards": ["can i buy a gift card with pay later", "do you sell gift cards"],  # a new topic
    "faq/spread_out": ["is there some way to get my instalments spread over a longer period"],  # held out only
}
# The lead's new FAQ topics (YAML's special characters in the answer); spread_out has no example left.
NEW_TOPICS = {"faq/gift_cards": 'Gift cards: yes, "Kleo" cards can\'t be paid later though.\n- not in instalments',
              "faq/spread_out": "Write to us."}


def test_an_export_adds_what_is_new_and_teachable_and_rasa_validates_it(project: Path) -> None:
    assert (project / REVIEWED_DATA).read_text() == EMPTY_NLU  # the shipped file: empty but valid
    assert not (project / REVIEWED_DOMAIN).exists()
    report = export(ACCEPTED, project, new_topic_answers=NEW_TOPICS)
    assert (report.added, report.unknown_label, report.already_trained, report.held_out_copy) == (7, 1, 1, 2)
    assert report.new_topics == 1
    examples = load_data(str(project / REVIEWED_DATA)).intent_examples
    by_text = {message.get("text"): message for message in examples}
    assert len(by_text) == 7
    assert {m.get("text") for m in examples if m.get("intent_response_key") == "faq/gift_cards"} == set(
        ACCEPTED["faq/gift_cards"])
    domain = Domain.load(str(project / "domain"))
    assert domain.responses["utter_faq/gift_cards"] == [{"text": NEW_TOPICS["faq/gift_cards"]}]
    assert "utter_faq/spread_out" not in domain.responses  # no example: no answer either
    assert "utter_faq/late_fees" in domain.responses  # the shipped domain is merged with it
    [order] = [m for m in examples if m.get("text").startswith("my parcel for KL-")]
    assert order.get("intent") == "check_order_status"
    assert [(e["entity"], e["value"][:3]) for e in order.get("entities")] == [("order_number", "KL-")]
    [faq] = [m for m in examples if m.get("intent_response_key", "").startswith("faq/late")]
    assert faq.get("intent_response_key") == "faq/late_fees"
    [complaint] = [m.get("text") for m in examples if m.get("intent") == "complaint"]
    assert "<" not in complaint and "07700 900" in complaint
    stories = YAMLStoryReader().read_from_file(project / REVIEWED_CONVERSATIONS)
    assert len(stories) == 7
    conversations = reviewed_conversations(project)
    assert {(c.example.label, c.action) for c in conversations} == {
        ("check_order_status", "order_lookup_form"), ("request_human", "action_handoff"),
        ("faq/late_fees", "utter_faq"), ("complaint", "action_handoff"), ("faq/gift_cards", "utter_faq")}
    written_domain = (project / REVIEWED_DOMAIN).read_text()
    again = export(ACCEPTED, project, new_topic_answers={"faq/gift_cards": "A changed answer."})
    assert again.added == 0 and again.written == report.written  # a repeated export changes nothing
    assert (project / REVIEWED_DOMAIN).read_text() == written_domain  # the exported answer stays
    assert export({}, project).written == report.written  # the new topic is known from its files now
    result = subprocess.run([RASA, "data", "validate", "--domain", "domain", "--data", "data", "--config",
                             "config.yml", "--fail-on-warnings"], cwd=project, capture_output=True, text=True,
                            timeout=600, env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_the_command_exports_what_the_lead_accepted(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = f"sqlite:///{project / 'insights.sqlite3'}"
    engine = open_database(database)
    record_decision(engine, "k1", "accept", "request_human", ["i need a proper person, this bot is going in circles"],
                    "lead-1")
    record_decision(engine, "k2", "dismiss", None, ["where is <order> my friend"], "lead-1")
    record_decision(engine, "k3", "relabel", "faq/gift_cards", ["do you sell gift cards"], "lead-1",
                    answer="Not yet.")
    engine.dispose()
    assert main(["export", "--database", database, "--project", str(project)]) == 0
    assert '"added": 2' in capsys.readouterr().out
    messages = load_data(str(project / REVIEWED_DATA)).intent_examples
    assert sorted(m.get("intent_response_key") or m.get("intent") for m in messages) == ["faq/gift_cards",
                                                                                          "request_human"]
    assert Domain.load(str(project / "domain")).responses["utter_faq/gift_cards"] == [{"text": "Not yet."}]
