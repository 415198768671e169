"""docs/adopting.md's steps, done by code to Rasa's own starter assistant (what `rasa init` creates),
so the test proves the guide and the plugin fit an assistant that is not the PayLater shop."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from rasa.cli.scaffold import create_initial_project

PLUGIN_SOURCE = Path(__file__).resolve().parents[2] / "handoff"

# The starter's own pipeline and policies (its config.yml leaves them to Rasa's defaults), with fewer
# epochs so the test trains in well under a minute.
STARTER_PIPELINE: list[dict[str, Any]] = [
    {"name": "WhitespaceTokenizer"},
    {"name": "CountVectorsFeaturizer"},
    {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4},
    {"name": "DIETClassifier", "epochs": 60, "random_seed": 1},
]
STARTER_POLICIES: list[dict[str, Any]] = [
    {"name": "MemoizationPolicy"},
    {"name": "RulePolicy"},
    {"name": "TEDPolicy", "max_history": 5, "epochs": 20, "random_seed": 1},
]
HANDOFF_CHANNELS = {
    "handoff.channels.socketio.HandoffSocketIOInput": {
        "user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered", "socketio_path": "/socket.io",
        "cors_allowed_origins": []},
    "handoff.channels.rest.HandoffRestInput": None,
}
ASSISTANT_RESPONSES = {
    "utter_handoff_offline": [{"text": "Nobody is online right now; a person will answer here when back."}],
    "utter_handoff_unavailable": [{"text": "I can't reach a person right now; I can still help myself."}],
    "utter_please_rephrase": [{"text": "Sorry, could you say that another way?"}],
}
REQUEST_HUMAN_EXAMPLES = ["I want to talk to a person", "can I speak to a human", "get me an agent",
                          "let me talk to someone real", "connect me to customer support staff"]


def _read(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _write(path: Path, content: Any) -> None:
    path.write_text(yaml.safe_dump(content, sort_keys=False, allow_unicode=True))


def plugin_only_path(root: Path) -> Path:
    """A folder holding nothing but a copy of `handoff/`, to put on PYTHONPATH."""
    shutil.copytree(PLUGIN_SOURCE, root / "handoff", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def create_starter(bot: Path) -> None:
    """The files `rasa init --no-prompt` scaffolds (without the training it does next), with its pipeline
    and policies written out."""
    create_initial_project(str(bot))
    config = _read(bot / "config.yml")
    config.update(pipeline=[dict(step) for step in STARTER_PIPELINE],
                  policies=[dict(policy) for policy in STARTER_POLICIES])
    _write(bot / "config.yml", config)


def add_to_config(bot: Path) -> None:
    """Step 1: the frustration scorer and the answer gate last in the pipeline; the handoff policy and
    the core fallback to action_handoff."""
    config = _read(bot / "config.yml")
    config["pipeline"] += [{"name": "handoff.nlu_frustration.FrustrationScorer"},
                           {"name": "handoff.nlu_answer_gate.AnswerGate"}]
    for policy in config["policies"]:
        if policy["name"] == "RulePolicy":
            policy.update(core_fallback_threshold=0.3, core_fallback_action_name="action_handoff",
                          enable_fallback_prediction=True)
    config["policies"].append({"name": "handoff.policy.HandoffPolicy"})
    _write(bot / "config.yml", config)


def add_domain_fragment(bot: Path, plugin: Path) -> None:
    """Step 2: the domain becomes a directory with the plugin's fragment (linked) and the assistant's
    own handoff responses."""
    domain_dir = bot / "domain"
    domain_dir.mkdir()
    own = _read(bot / "domain.yml")
    own["responses"].update(ASSISTANT_RESPONSES)
    _write(domain_dir / "assistant.yml", own)
    (bot / "domain.yml").unlink()
    (domain_dir / "handoff.yml").symlink_to(plugin / "handoff" / "domain" / "handoff.yml")


def add_training_data(bot: Path) -> None:
    """Step 3: request_human examples, and the rules for a resolved handoff and an unsure message."""
    nlu = _read(bot / "data" / "nlu.yml")
    nlu["nlu"].append({"intent": "request_human",
                       "examples": "".join(f"- {example}\n" for example in REQUEST_HUMAN_EXAMPLES)})
    _write(bot / "data" / "nlu.yml", nlu)
    rules = _read(bot / "data" / "rules.yml")
    rules["rules"] += [
        {"rule": "Welcome the customer back", "steps": [{"intent": "handoff_resolved"},
                                                        {"action": "utter_welcome_back"}]},
        {"rule": "Ask to rephrase", "steps": [{"intent": "nlu_fallback"}, {"action": "utter_please_rephrase"}]},
    ]
    _write(bot / "data" / "rules.yml", rules)


def add_action(bot: Path) -> None:
    """Step 4: the action package the action server loads imports the plugin's action."""
    init = bot / "actions" / "__init__.py"
    init.write_text(init.read_text() + "from handoff.actions import ActionHandoff  # noqa: F401\n")


def add_channels(bot: Path) -> None:
    """Step 5: the handoff channels in place of Rasa's REST channel."""
    credentials = _read(bot / "credentials.yml") or {}
    credentials.pop("rest", None)
    credentials.update(HANDOFF_CHANNELS)
    _write(bot / "credentials.yml", credentials)


def add_endpoints(bot: Path, action_url: str, redis_url: str) -> None:
    """Step 6: the action server, and the plugin's Redis tracker and lock stores (with the password)."""
    parts = urlsplit(redis_url)
    redis = {"url": parts.hostname, "port": parts.port, "db": 0, "password": parts.password, "key_prefix": "rasa"}
    _write(bot / "endpoints.yml", {
        "action_endpoint": {"url": f"{action_url}/webhook"},
        "tracker_store": {"type": "handoff.tracker_store.AppendOnlyRedisTrackerStore", **redis,
                          "record_exp": 2592000},
        "lock_store": {"type": "handoff.lock_store.FailSafeRedisLockStore", **redis},
    })


def write_settings(bot: Path) -> Path:
    """Step 7: the settings that are the starter's own (it has no judgement intents); the per-run ones
    (Redis, URLs, secret, agents file) go in the environment."""
    path = bot / "handoff_settings.yml"
    _write(path, {"judgement_intents": [], "judgement_cues": {}, "ticket_slots": [],
                  "widget_storage_key": "starterChat"})
    return path
