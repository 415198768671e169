"""`bench/drift.py retrain`: does teaching the bot from the review queue work? Every proposal of one
seed's drift run is accepted as labelled (a new-topic proposal as the scenario's new FAQ topic, with
the scenario's answer), written as `data/reviewed.yml` into a copy of the project's training inputs,
a model is trained from that copy into a temporary directory, the new topic's messages are recorded
with it, and the held-out quality report runs on it. The project's own data and model stay untouched.

The accepted examples are written here in the NLU format `python -m handoff.review export` writes
(one `intent:` block per label); the review queue's acceptance is a lead's action in the console,
so this benchmark accepts in its place. Trains a model: 15+ minutes. Not a script; bench/drift.py runs it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

from bench.drift_record import record
from bench.drift_replay import ProposedCluster
from bench.drift_scenario import NEW_TOPIC, Scenario
from bench.drift_stream import RecordedOutput
from bench.system import ONE_ADDRESS_LOAD_LIMITS, bench_system
from rasa_bot.settings import PROJECT_ROOT

TRAINING_INPUTS = ("config.yml", "domain", "data")
REVIEWED = Path("data") / "reviewed.yml"
FAQ_PREFIX = "faq/"


def accepted_examples(proposals: Sequence[ProposedCluster], new_topic_label: str) -> dict[str, list[str]]:
    """Every proposal accepted as labelled; a new topic as `new_topic_label`."""
    accepted: dict[str, list[str]] = {}
    for proposal in proposals:
        accepted.setdefault(proposal.label or new_topic_label, []).extend(proposal.texts)
    return accepted


def reviewed_yaml(accepted: Mapping[str, Sequence[str]]) -> str:
    """Rasa NLU training data of the accepted examples, one block per intent or FAQ topic."""
    nlu = [{"intent": label, "examples": "".join(f"- {text}\n" for text in sorted(set(texts)))}
           for label, texts in sorted(accepted.items())]
    return yaml.safe_dump({"version": "3.1", "nlu": nlu}, sort_keys=False, allow_unicode=True, width=1000)


def training_copy(scenario: Scenario, accepted: Mapping[str, Sequence[str]], work: Path) -> Path:
    """The project's training inputs copied into `work`, with the reviewed examples and the new topic's answer."""
    if not scenario.new_topic_label.startswith(FAQ_PREFIX) or not scenario.new_topic_answer:
        raise SystemExit("retrain teaches the new topic as a FAQ topic: the scenario needs new_topic.answer")
    for name in TRAINING_INPUTS:
        source = PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, work / name, symlinks=False)
        else:
            shutil.copy(source, work / name)
    (work / REVIEWED).write_text(reviewed_yaml(accepted), encoding="utf-8")
    response = f"utter_{scenario.new_topic_label}"
    (work / "domain" / "reviewed.yml").write_text(yaml.safe_dump(
        {"version": "3.1", "responses": {response: [{"text": scenario.new_topic_answer}]}}, sort_keys=False))
    return work


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
    accepted = accepted_examples(proposals, scenario.new_topic_label)
    print(f"accepting {sum(map(len, accepted.values()))} examples under {len(accepted)} labels", flush=True)
    with tempfile.TemporaryDirectory(prefix="drift-retrain-") as temporary:
        work = training_copy(scenario, accepted, Path(temporary))
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
