"""The training data is consistent: `rasa data validate` passes and finds no story conflicts.

(Rasa 3.6 itself warns that `faq` is listed twice when a retrieval intent is both in the domain, as
its docs require, and in the NLU data; that warning is not a conflict and does not fail validation.)"""

import subprocess
import sys
from pathlib import Path

from rasa_bot.settings import PROJECT_ROOT

RASA = str(Path(sys.executable).parent / "rasa")


def test_rasa_data_validate_finds_no_conflicts() -> None:
    result = subprocess.run(
        [RASA, "data", "validate", "--domain", "domain", "--fail-on-warnings", "--max-history", "5"],
        check=False,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "No story structure conflicts found" in output, output
