"""Writes docs/settings.md from the settings classes themselves, so the page cannot drift from the code.

Every setting comes with its environment variable, default, type and description (the field's own
description); the model settings are the `# SETTING` lines of config.yml. A test fails when
docs/settings.md differs from what this produces, so a new or changed setting updates the page.

    python -m rasa_bot.settings_doc           # rewrite docs/settings.md (what `make docs` runs)
    python -m rasa_bot.settings_doc --check   # exit 1 when docs/settings.md is out of date
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseSettings

from handoff.settings import HandoffSettings
from handoff.slack import config as slack_config
from rasa_bot.settings import PROJECT_ROOT, Settings

DOC_PATH = PROJECT_ROOT / "docs" / "settings.md"
CONFIG_PATH = PROJECT_ROOT / "config.yml"
REGENERATE = "make docs (or: PYTHONPATH=. .venv/bin/python -m rasa_bot.settings_doc)"
LONG_DEFAULT = 120  # characters; a longer default is summarised and left to its source file
SETTING_COMMENT = re.compile(r"^\s*#\s*SETTING\b\s*(?P<what>.*)$")
YAML_KEY = re.compile(r"^\s*(?:-\s*)?(?P<key>\w+):\s*(?P<value>.*?)\s*(?:#.*)?$")
POLICY_OR_COMPONENT = re.compile(r"^\s*-\s*name:\s*(?P<name>\S+)")


def cell(text: str) -> str:
    """Text that stays inside one Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def code(text: str) -> str:
    """Inline code that survives backticks inside the text."""
    fence = "``" if "`" in text else "`"
    padding = " " if fence == "``" else ""
    return f"{fence}{padding}{text}{padding}{fence}"


def source_path(obj: Any) -> str:
    """Where an object is defined, relative to the project root."""
    return Path(inspect.getfile(obj)).resolve().relative_to(PROJECT_ROOT).as_posix()


def show_default(value: Any, source: str) -> str:
    """A default as a reader would write it: machine paths made relative, long values summarised."""
    if value is None:
        return "unset"
    if value == "":
        return "empty"
    if isinstance(value, Path):
        text = str(value).replace(str(PROJECT_ROOT), "<project>")
    elif isinstance(value, (list, dict)):
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = str(value).replace(str(PROJECT_ROOT), "<project>")
    if len(text) <= LONG_DEFAULT:
        return code(text)
    if isinstance(value, Mapping):
        return f"for {', '.join(code(str(key)) for key in value)} (see `{source}`)"
    return f"long (see `{source}`)"


def show_type(annotation: Any, bounds: Iterable[tuple[str, Any]] = ()) -> str:
    """The annotation as written in the class, with any numeric bounds."""
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    limits = [f"{sign} {limit}" for sign, limit in bounds if limit is not None]
    return code(text) + (", " + ", ".join(limits) if limits else "")


def module_notes(cls: type) -> str:
    """The settings module's docstring: where values come from and in which order."""
    return inspect.getdoc(sys.modules[cls.__module__]) or ""


def pydantic_section(title: str, cls: type[BaseSettings]) -> list[str]:
    """One table row per field of a pydantic settings class."""
    source = source_path(cls)
    prefix = cls.__config__.env_prefix
    annotations = _annotations(cls)
    lines = [f"## {title}", "", f"`{cls.__name__}` in `{source}`.", "", module_notes(cls), "",
             "| setting | environment variable | default | type | what it does |", "|---|---|---|---|---|"]
    for name, field in cls.__fields__.items():
        info = field.field_info
        bounds = [(">", info.gt), (">=", info.ge), ("<", info.lt), ("<=", info.le)]
        row = [code(name), code(prefix + name.upper()), show_default(field.default, source),
               show_type(annotations.get(name, field.outer_type_), bounds), info.description or ""]
        lines.append("| " + " | ".join(cell(part) for part in row) + " |")
    return lines + [""]


def _annotations(cls: type) -> dict[str, Any]:
    """Field annotations of a class and its bases (strings under `from __future__ import annotations`)."""
    merged: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        merged.update(getattr(klass, "__annotations__", {}))
    return merged


def slack_section() -> list[str]:
    """The Slack set-up: environment variable or credentials.yml key per field of SlackConfig."""
    cls = slack_config.SlackConfig
    source = source_path(cls)
    lines = ["## Slack", "", f"`{cls.__name__}` in `{source}`.", "", module_notes(cls), "",
             "| setting | environment variable | `credentials.yml` key | default | what it is |",
             "|---|---|---|---|---|"]
    for field in dataclasses.fields(cls):
        env, key = slack_config.SOURCES[field.name]
        default = "none" if field.default is dataclasses.MISSING else show_default(field.default, source)
        row = [code(field.name), code(env), code(key), default, field.metadata.get("description", "")]
        lines.append("| " + " | ".join(cell(part) for part in row) + " |")
    lines += ["", ("The channel's `credentials.yml` section also takes Rasa's own `slack_channel` key: a "
              "channel where the bot answers every message, not only mentions.")]
    return lines + [""]


def config_settings(config_text: str) -> list[tuple[str, str, str]]:
    """(component or policy.key, value, description) for each `# SETTING` comment in config.yml;
    the comment describes the key on the next line that is not a comment."""
    found = []
    owner = ""
    pending: str | None = None
    for line in config_text.splitlines():
        if match := POLICY_OR_COMPONENT.match(line):
            owner = match["name"]
        if match := SETTING_COMMENT.match(line):
            pending = match["what"]
            continue
        if pending is not None and line.strip() and not line.lstrip().startswith("#"):
            key = YAML_KEY.match(line)
            if key is None:
                raise ValueError(f"config.yml: a SETTING comment is not followed by a key: {line!r}")
            found.append((f"{owner}.{key['key']}" if owner else key["key"], key["value"], pending))
            pending = None
    return found


def model_section(config_text: str) -> list[str]:
    """The settings of the trained model: changing one means `make model` (a retrain)."""
    lines = ["## Model (`config.yml`)", "",
             ("Lines of `config.yml` marked `# SETTING`. The model is trained with them, so a change "
             "retrains it (`make model`, run by `make run` and `make test` when needed)."), "",
             "| setting | value | what it does |", "|---|---|---|"]
    for name, value, what in config_settings(config_text):
        lines.append("| " + " | ".join(cell(part) for part in (code(name), code(value), what)) + " |")
    return lines + [""]


def render(config_text: str | None = None) -> str:
    """The whole of docs/settings.md."""
    text = CONFIG_PATH.read_text(encoding="utf-8") if config_text is None else config_text
    lines = [
        "# Settings",
        "",
        "<!-- Generated by rasa_bot/settings_doc.py from the settings classes; do not edit by hand. -->",
        f"<!-- Regenerate with: {REGENERATE} -->",
        "",
        ("Every setting the assistant and the handoff plugin read, with its environment variable and "
        "default. Environment variables win over the YAML settings files; lists and mappings are "
        "given as JSON in the environment. `make run` sets the Redis URL, the agents file, the "
        "Rasa URL and the session secret for every process it starts; with `REDIS_URL` set it uses "
        "that Redis instead of starting its own redis-server."),
        "",
        *pydantic_section("Assistant (`PAYLATER_*`)", Settings),
        *pydantic_section("Handoff plugin (`HANDOFF_*`)", HandoffSettings),
        *slack_section(),
        *model_section(text),
    ]
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    """Writes docs/settings.md, or with --check reports whether it is up to date."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when out of date")
    args = parser.parse_args(argv)
    wanted = render()
    if args.check:
        current = DOC_PATH.read_text(encoding="utf-8") if DOC_PATH.exists() else ""
        if current != wanted:
            print(f"{DOC_PATH} is out of date; regenerate it with {REGENERATE}")
            return 1
        return 0
    DOC_PATH.parent.mkdir(exist_ok=True)
    DOC_PATH.write_text(wanted, encoding="utf-8")
    print(f"wrote {DOC_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
