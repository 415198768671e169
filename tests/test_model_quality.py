"""The trained model meets its quality bars on data it was not trained on, and every test
conversation in `tests/test_stories.yml` runs as written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rasa_bot.settings import PROJECT_ROOT
from tests.model_paths import MODEL, NLU_TEST_DIR, TEST_STORIES

RASA = str(Path(sys.executable).parent / "rasa")
MIN_INTENT_MACRO_F1 = 0.90
MIN_RESPONSE_SELECTOR_ACCURACY = 0.90

pytestmark = pytest.mark.model


def run_rasa(*args: str) -> subprocess.CompletedProcess:
    """Runs a `rasa` sub-command in the project and returns its completed process."""
    return subprocess.run(
        [RASA, *args], check=False, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=900
    )


@pytest.fixture(scope="module")
def nlu_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("nlu-results")
    result = run_rasa("test", "nlu", "--model", str(MODEL), "--nlu", str(NLU_TEST_DIR), "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def test_intent_macro_f1_on_held_out_examples(nlu_results: Path) -> None:
    report = json.loads((nlu_results / "intent_report.json").read_text())
    macro_f1 = report["macro avg"]["f1-score"]
    weak = {name: round(row["f1-score"], 2) for name, row in report.items()
            if isinstance(row, dict) and "f1-score" in row and row["f1-score"] < 0.8}
    print(f"\nintent macro F1 on held-out examples: {macro_f1:.3f}; intents below 0.8: {weak}")
    assert macro_f1 >= MIN_INTENT_MACRO_F1, weak


def test_response_selector_accuracy_on_held_out_examples(nlu_results: Path) -> None:
    report = json.loads((nlu_results / "response_selection_report.json").read_text())
    accuracy = report["accuracy"]
    weak = {name: round(row["f1-score"], 2) for name, row in report.items()
            if isinstance(row, dict) and "f1-score" in row and row["f1-score"] < 0.8}
    print(f"\nresponse-selector accuracy on held-out FAQ examples: {accuracy:.3f}; weak topics: {weak}")
    assert accuracy >= MIN_RESPONSE_SELECTOR_ACCURACY, weak


def test_every_test_story_passes(tmp_path: Path) -> None:
    result = run_rasa(
        "test", "core", "--model", str(MODEL), "--stories", str(TEST_STORIES),
        "--out", str(tmp_path), "--fail-on-prediction-errors",
    )
    failed = tmp_path / "failed_test_stories.yml"
    details = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:] + details
    report = json.loads((tmp_path / "story_report.json").read_text())
    conversation_accuracy = report["conversation_accuracy"]["accuracy"]
    print(f"\nstory tests: {report['conversation_accuracy']['total']} conversations, "
          f"accuracy {conversation_accuracy:.3f}")
    assert conversation_accuracy == 1.0, details
