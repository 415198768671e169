"""The trained model meets its quality gates on held-out messages it was never trained on (each the
first message of a new conversation, run in-process through NLU and policies), and every test
conversation in `tests/test_stories.yml` runs as written.

The issue's targets are `rasa_bot.quality.metrics.TARGETS`; `make quality` prints every figure
against them with each miss. While a target is out of reach this test holds the figure at its
regression floor (`FLOORS`), which is not the target."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from handoff.settings import HandoffSettings, get_handoff_settings
from rasa_bot.quality.evaluate import Outcome, evaluate
from rasa_bot.quality.examples import load_examples
from rasa_bot.quality.metrics import TARGETS, QualityMeasure, gate
from rasa_bot.quality.report import misses
from rasa_bot.settings import PROJECT_ROOT
from rasa_bot.system import MODEL_PATH
from tests.model_paths import NLU_TEST_DIR, TEST_STORIES
from tests.settings_env import forget_loaded_settings, use_default_settings

RASA = str(Path(sys.executable).parent / "rasa")

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def settings() -> Iterator[HandoffSettings]:
    """The shipped defaults (the thresholds `make tune` chose), whatever the environment says."""
    with pytest.MonkeyPatch.context() as patch:
        use_default_settings(patch)
        yield get_handoff_settings()
    forget_loaded_settings()


@pytest.fixture(scope="module")
def outcomes(settings: HandoffSettings) -> list[Outcome]:
    return evaluate(MODEL_PATH, load_examples(NLU_TEST_DIR), progress=False)


@pytest.mark.parametrize("name", list(TARGETS))
def test_held_out_figure_meets_its_gate(name: str, outcomes: list[Outcome], settings: HandoffSettings) -> None:
    figure = QualityMeasure(settings).figures(outcomes)[name]
    bar = gate(name)
    print(f"\n{name}: {figure.value:.3f} (gate {bar}, target {TARGETS[name]}), {figure.misses} misses of {figure.count}")
    assert figure.count > 0
    assert bar.met(figure.value), json.dumps(misses(outcomes, settings).get(name, [])[:30], indent=1)


def test_every_test_story_passes(tmp_path: Path) -> None:
    result = subprocess.run(
        [RASA, "test", "core", "--model", str(MODEL_PATH), "--stories", str(TEST_STORIES),
         "--out", str(tmp_path), "--fail-on-prediction-errors"],
        check=False, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=900,
    )
    failed = tmp_path / "failed_test_stories.yml"
    details = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:] + details
    report = json.loads((tmp_path / "story_report.json").read_text())
    conversation_accuracy = report["conversation_accuracy"]["accuracy"]
    print(f"\nstory tests: {report['conversation_accuracy']['total']} conversations, "
          f"accuracy {conversation_accuracy:.3f}")
    assert conversation_accuracy == 1.0, details
