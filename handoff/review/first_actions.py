"""What the bot does first for each intent when a conversation starts with it, read from the rules
and stories of data/: the next action a reviewed example's test conversation expects."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from rasa.shared.utils.io import read_yaml_file

DATA = Path("data")


def first_actions(project: Path) -> dict[str, str]:
    """intent -> the action the first rule or story without a condition that opens with the intent
    answers it with (intents no such rule or story opens with are missing)."""
    actions: dict[str, str] = {}
    for steps in _unconditional_steps(project / DATA):
        if len(steps) >= 2 and "intent" in steps[0] and "action" in steps[1]:
            actions.setdefault(str(steps[0]["intent"]), str(steps[1]["action"]))
    return actions


def _unconditional_steps(folder: Path) -> Iterator[list[Mapping[str, Any]]]:
    """The steps of every rule and story in `folder` that neither has a condition nor continues
    another one (`...`)."""
    for path in sorted(folder.glob("*.yml")):
        content = read_yaml_file(path) or {}
        for item in [*(content.get("rules") or []), *(content.get("stories") or [])]:
            steps = item.get("steps") or []
            if "condition" not in item and steps and steps[0] != "...":
                yield steps
