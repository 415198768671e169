"""docs/settings.md is what the generator makes of the settings classes now, and the generator reads
every setting it should."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from handoff.settings import HandoffSettings
from handoff.slack.config import SlackConfig
from rasa_bot import settings_doc
from rasa_bot.settings import Settings


def test_docs_settings_md_is_up_to_date() -> None:
    current = settings_doc.DOC_PATH.read_text(encoding="utf-8") if settings_doc.DOC_PATH.exists() else ""
    assert current == settings_doc.render(), (
        f"docs/settings.md is out of date with the settings classes; regenerate it with {settings_doc.REGENERATE}")


@pytest.mark.parametrize("cls", [Settings, HandoffSettings])
def test_every_pydantic_setting_is_on_the_page_with_a_description(cls: type) -> None:
    page = settings_doc.render()
    prefix = cls.__config__.env_prefix
    for name, field in cls.__fields__.items():
        assert field.field_info.description, f"{cls.__name__}.{name} needs a description"
        assert f"| `{name}` | `{prefix}{name.upper()}` |" in page


def test_every_slack_setting_is_on_the_page_with_a_description() -> None:
    page = settings_doc.render()
    for field in dataclasses.fields(SlackConfig):
        assert field.metadata.get("description"), f"SlackConfig.{field.name} needs a description"
        assert f"| `{field.name}` |" in page


def test_config_settings_reads_the_key_after_each_setting_comment() -> None:
    text = """pipeline:
  # the SETTINGS of the gate are handoff settings (not a SETTING line)
  - name: AnswerGate
policies:
  - name: RulePolicy
    # SETTING action confidence: below this the bot hands off.
    # (more comment)
    core_fallback_threshold: 0.3  # trailing note
    enable_fallback_prediction: true
"""
    assert settings_doc.config_settings(text) == [
        ("RulePolicy.core_fallback_threshold", "0.3", "action confidence: below this the bot hands off.")]


def test_a_setting_comment_without_a_key_is_an_error() -> None:
    with pytest.raises(ValueError, match="SETTING"):
        settings_doc.config_settings("policies:\n  # SETTING orphan\n  - plain list item\n")


def test_long_defaults_are_summarised_and_machine_paths_made_relative() -> None:
    long_mapping = {f"intent_{n}": ["a pattern"] * 5 for n in range(3)}
    assert settings_doc.show_default(long_mapping, "x.py") == "for `intent_0`, `intent_1`, `intent_2` (see `x.py`)"
    inside = settings_doc.PROJECT_ROOT / "var" / "shop.sqlite3"
    assert settings_doc.show_default(inside, "x.py") == "`<project>/var/shop.sqlite3`"
    assert settings_doc.show_default(None, "x.py") == "unset"
    assert settings_doc.show_default("a|b", "x.py") == "`a|b`"
    assert settings_doc.cell("`a|b`") == "`a\\|b`"


def test_check_reports_a_stale_page_and_the_command_that_regenerates_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "docs" / "settings.md"
    monkeypatch.setattr(settings_doc, "DOC_PATH", page)
    page.parent.mkdir()
    page.write_text("stale\n", encoding="utf-8")
    assert settings_doc.main(["--check"]) == 1
    assert "make docs" in capsys.readouterr().out
    assert settings_doc.main([]) == 0
    assert settings_doc.main(["--check"]) == 0
