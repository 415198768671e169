"""`bench/drift.py retrain`: does teaching the bot from the review queue work? Every proposal of one
seed's drift run is decided as a lead would in the console (accepted as labelled; a new-topic proposal
relabelled as the scenario's new FAQ topic) with `handoff.review.store.record_decision` into a
temporary insights database, and `python -m handoff.review export` writes them into a temporary copy
of the project. A model is trained from that copy, the new topic's messages are recorded with it, and
the held-out quality report runs on it. The project's own data and model stay untouched.

The export leaves out labels the bot does not know (docs/review.md): a lead adds a new topic's answer
and its first examples by hand before exporting, so the copy gets the scenario's answer for it and the
new-topic proposal's two most typical messages as its first training examples. Trains a model: 15+
minutes. Not a script; bench/drift.py runs it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import yaml

from bench.drift_record import record
from bench.drift_replay import ProposedCluster
from bench.drift_scenario import NEW_TOPIC, Scenario
from bench.drift_stream import RecordedOutput
from bench.system import ONE_ADDRESS_LOAD_LIMITS, bench_system
from handoff.insights.database import open_database
from handoff.review.closeness import HELD_OUT_FOLDERS
from handoff.review.clusters import proposal_key
from handoff.review.store import ACCEPT, RELABEL, record_decision
from rasa_bot.settings import PROJECT_ROOT

# Copied into the temporary project: what training reads, and the held-out sets the export keeps out.
PROJECT_INPUTS = ("config.yml", "domain", "data", *HELD_OUT_FOLDERS)
FAQ_PREFIX = "faq/"
FIRST_EXAMPLES = 2  # new-topic messages the lead writes into the training data by hand
LEAD = "drift-bench"


def project_copy(work: Path) -> Path:
    """The project's training inputs and held-out sets copied into `work`."""
    for name in PROJECT_INPUTS:
        source = PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, work / name, symlinks=False)
        elif source.exists():
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, work / name)
    return work


def add_new_topic_by_hand(scenario: Scenario, proposals: Sequence[ProposedCluster], work: Path) -> None:
    """What a lead does before exporting a new topic: its answer in the domain and its first examples."""
    if not scenario.new_topic_label.startswith(FAQ_PREFIX) or not scenario.new_topic_answer:
        raise SystemExit("retrain teaches the new topic as a FAQ topic: the scenario needs new_topic.answer")
    new_topics = [proposal for proposal in proposals if proposal.label is None]
    if not new_topics:
        raise SystemExit("the run proposed no new topic: nothing to teach")
    response = f"utter_{scenario.new_topic_label}"
    (work / "domain" / "reviewed_topics.yml").write_text(yaml.safe_dump(
        {"version": "3.1", "responses": {response: [{"text": scenario.new_topic_answer}]}}, sort_keys=False))
    first = max(new_topics, key=lambda proposal: len(proposal.texts)).texts[:FIRST_EXAMPLES]
    (work / "data" / "reviewed_topics.yml").write_text(yaml.safe_dump(
        {"version": "3.1", "nlu": [{"intent": scenario.new_topic_label,
                                    "examples": "".join(f"- {text}\n" for text in first)}]},
        sort_keys=False, allow_unicode=True, width=1000))


def decide_and_export(scenario: Scenario, proposals: Sequence[ProposedCluster], work: Path) -> None:
    """Every proposal decided into a temporary insights database, then exported into `work`."""
    database = f"sqlite:///{work / 'insights.sqlite3'}"
    engine = open_database(database)
    try:
        for proposal in proposals:
            action, label = (ACCEPT, proposal.label) if proposal.label else (RELABEL, scenario.new_topic_label)
            record_decision(engine, proposal_key(proposal.texts), action, label, proposal.texts, LEAD)
    finally:
        engine.dispose()
    print(f"decided {len(proposals)} proposals ({sum(len(p.texts) for p in proposals)} messages)", flush=True)
    subprocess.run([sys.executable, "-m", "handoff.review", "export", "--database", database, "--project", str(work)],
                   cwd=PROJECT_ROOT, check=True, env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})


def train(work: Path) -> Path:
    """A model trained from the copy in `work` (the plugin's code from the project)."""
    out = work / "models"
    subprocess.run([sys.executable, "-m", "rasa", "train", "--domain", "domain", "--data", "data",
                    "--config", "config.yml", "--out", str(out), "--fixed-model-name", "drift-retrained"],
                   cwd=work, check=True, env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
    return out / "drift-retrained.tar.gz"


def outcome(output: RecordedOutput, label: str) -> str:
    """What the retrained bot did with a new-topic message: answered as labelled, handed off, or else."""
    if output.label == label and not output.fallback:
        return "answered as labelled"
    return "handed off" if output.handed_off else "other"


def retrain_and_check(args: argparse.Namespace, scenario: Scenario, proposals: Sequence[ProposedCluster]) -> None:
    with tempfile.TemporaryDirectory(prefix="drift-retrain-") as temporary:
        work = project_copy(Path(temporary))
        add_new_topic_by_hand(scenario, proposals, work)
        decide_and_export(scenario, proposals, work)
        model = train(work)
        args.model = model
        with bench_system(args, env=dict(ONE_ADDRESS_LOAD_LIMITS), needs_agent=False) as system:
            outputs = record(system, scenario.messages[NEW_TOPIC], args.concurrency)["outputs"]
        outcomes = Counter(outcome(RecordedOutput.from_json(raw), scenario.new_topic_label)
                           for raw in outputs.values())
        print(f"new topic ({scenario.new_topic_label}), {len(outputs)} messages with the retrained model: "
              + ", ".join(f"{name} {count}" for name, count in outcomes.most_common()))
        subprocess.run([sys.executable, "-m", "rasa_bot.quality", "report", "--model", str(model),
                        "--out", str(work / "quality")], cwd=PROJECT_ROOT, check=True)
