"""`bench/drift.py retrain`: does teaching the bot from the review queue work? Every proposal of one
seed's drift run is decided as a lead would in the console with `handoff.review.store.record_decision`
into a temporary insights database: a labelled proposal accepted; the largest new-topic proposal made
a new FAQ topic (the console's "New FAQ topic": the topic named after the scenario's new_topic label,
checked as the API checks it, with the scenario's answer), any other new-topic proposal relabelled to
it. `python -m handoff.review export` then writes the examples and the new topic's answer into a
temporary copy of the project. A model is trained from that copy, the new topic's messages are
recorded with it, and the held-out quality report runs on it; `--training-seeds` trains one model per
seed instead, to tell the exported examples' effect from one training's draw. The project's own data and
model stay untouched. Trains a model: 15+ minutes each. Not a script; bench/drift.py runs it.
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

from rasa.shared.core.domain import Domain

from bench.drift_record import record
from bench.drift_replay import ProposedCluster
from bench.drift_scenario import NEW_TOPIC, Scenario
from bench.drift_stream import RecordedOutput
from bench.seed_sweep import config_with_seed
from bench.system import ONE_ADDRESS_LOAD_LIMITS, bench_system
from handoff.insights.database import open_database
from handoff.review.closeness import HELD_OUT_FOLDERS
from handoff.review.clusters import load_known_examples, proposal_key
from handoff.review.new_topics import FAQ_INTENT, new_topic_label
from handoff.review.store import ACCEPT, RELABEL, record_decision
from rasa_bot.settings import PROJECT_ROOT

# Copied into the temporary project: what training reads, and the held-out sets the export keeps out.
PROJECT_INPUTS = ("config.yml", "domain", "data", *HELD_OUT_FOLDERS)
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


def new_topic(scenario: Scenario, work: Path) -> tuple[str, str]:
    """(`faq/<topic>`, answer) the lead creates for the new topic, its name checked as the review API
    checks it against the bot's intents and FAQ topics (those of the project copy in `work`)."""
    topic = scenario.new_topic_label.removeprefix(f"{FAQ_INTENT}/")
    if topic == scenario.new_topic_label or not scenario.new_topic_answer:
        raise SystemExit("retrain teaches the new topic as a FAQ topic: the scenario needs new_topic.answer")
    taken = {*Domain.load(str(work / "domain")).intents, *load_known_examples(work)}
    return new_topic_label(topic, taken), scenario.new_topic_answer


def decide_and_export(scenario: Scenario, proposals: Sequence[ProposedCluster], work: Path) -> None:
    """Every proposal decided into a temporary insights database, then exported into `work`: the
    largest new-topic proposal becomes the new FAQ topic, the other new-topic ones join it."""
    new_topics = sorted((proposal for proposal in proposals if proposal.label is None),
                        key=lambda proposal: len(proposal.texts), reverse=True)
    if not new_topics:
        raise SystemExit("the run proposed no new topic: nothing to teach")
    label, answer = new_topic(scenario, work)
    database = f"sqlite:///{work / 'insights.sqlite3'}"
    engine = open_database(database)
    try:
        for proposal in proposals:
            key = proposal_key(proposal.texts)
            if proposal.label:
                record_decision(engine, key, ACCEPT, proposal.label, proposal.texts, LEAD)
            else:
                record_decision(engine, key, RELABEL, label, proposal.texts, LEAD,
                                answer=answer if proposal is new_topics[0] else None)
    finally:
        engine.dispose()
    print(f"decided {len(proposals)} proposals ({sum(len(p.texts) for p in proposals)} messages), new FAQ topic "
          f"{label}", flush=True)
    subprocess.run([sys.executable, "-m", "handoff.review", "export", "--database", database, "--project", str(work)],
                   cwd=PROJECT_ROOT, check=True, env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})


def train(work: Path, seed: int | None) -> Path:
    """A model trained from the copy in `work` (the plugin's code from the project), with config.yml's
    `random_seed` or `seed` in its place."""
    out = work / "models"
    name = "drift-retrained" if seed is None else f"drift-retrained-seed-{seed}"
    config = "config.yml" if seed is None else str(config_with_seed(seed, work / f"config-{seed}.yml"))
    subprocess.run([sys.executable, "-m", "rasa", "train", "--domain", "domain", "--data", "data",
                    "--config", config, "--out", str(out), "--fixed-model-name", name],
                   cwd=work, check=True, env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
    return out / f"{name}.tar.gz"


def outcome(output: RecordedOutput, label: str) -> str:
    """What the retrained bot did with a new-topic message: answered as labelled, handed off, or else."""
    if output.label == label and not output.fallback:
        return "answered as labelled"
    return "handed off" if output.handed_off else "other"


def retrain_and_check(args: argparse.Namespace, scenario: Scenario, proposals: Sequence[ProposedCluster]) -> None:
    with tempfile.TemporaryDirectory(prefix="drift-retrain-") as temporary:
        work = project_copy(Path(temporary))
        decide_and_export(scenario, proposals, work)
        for seed in args.training_seeds or [None]:
            check_retrained(args, scenario, train(work, seed), work / f"quality-{seed or 'config'}")


def check_retrained(args: argparse.Namespace, scenario: Scenario, model: Path, report: Path) -> None:
    """How the retrained `model` treats the new topic's messages, and its held-out quality report."""
    args.model = model
    with bench_system(args, env=dict(ONE_ADDRESS_LOAD_LIMITS), needs_agent=False) as system:
        outputs = record(system, scenario.messages[NEW_TOPIC], args.concurrency)["outputs"]
    outcomes = Counter(outcome(RecordedOutput.from_json(raw), scenario.new_topic_label) for raw in outputs.values())
    print(f"new topic ({scenario.new_topic_label}), {len(outputs)} messages with {model.name}: "
          + ", ".join(f"{name} {count}" for name, count in outcomes.most_common()), flush=True)
    subprocess.run([sys.executable, "-m", "rasa_bot.quality", "report", "--model", str(model), "--out", str(report)],
                   cwd=PROJECT_ROOT, check=True)
