"""The one settings-file loader: which file it reads, and what a missing or malformed file does, the same
for both settings objects."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff.settings import HandoffSettings
from handoff.settings_file import read_settings_file
from rasa_bot.settings import Settings

VARIABLE = "TEST_SETTINGS_FILE"


def test_no_named_file_and_no_default_file_means_no_values(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(VARIABLE, raising=False)
    assert read_settings_file(VARIABLE) == {}
    assert read_settings_file(VARIABLE, default=tmp_path / "settings.yml") == {}


def test_the_default_file_is_read_when_it_exists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(VARIABLE, raising=False)
    default = tmp_path / "settings.yml"
    default.write_text("rasa_port: 6000\n")
    assert read_settings_file(VARIABLE, default=default) == {"rasa_port": 6000}


def test_a_named_file_wins_over_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    default, named = tmp_path / "default.yml", tmp_path / "named.yml"
    default.write_text("rasa_port: 6000\n")
    named.write_text("rasa_port: 7000\n")
    monkeypatch.setenv(VARIABLE, str(named))
    assert read_settings_file(VARIABLE, default=default) == {"rasa_port": 7000}


def test_an_empty_file_means_no_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty.yml"
    empty.write_text("")
    monkeypatch.setenv(VARIABLE, str(empty))
    assert read_settings_file(VARIABLE) == {}


@pytest.mark.parametrize(("variable", "settings_class"), [
    ("HANDOFF_SETTINGS", HandoffSettings), ("PAYLATER_SETTINGS", Settings)])
def test_a_named_file_must_exist_for_every_settings_object(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, settings_class: type) -> None:
    monkeypatch.setenv(variable, str(tmp_path / "missing.yml"))
    with pytest.raises(FileNotFoundError):
        settings_class()


@pytest.mark.parametrize(("variable", "settings_class"), [
    ("HANDOFF_SETTINGS", HandoffSettings), ("PAYLATER_SETTINGS", Settings)])
def test_a_file_that_is_not_a_mapping_is_refused_by_every_settings_object(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, settings_class: type) -> None:
    path = tmp_path / "list.yml"
    path.write_text("- rasa_port\n- 6000\n")
    monkeypatch.setenv(variable, str(path))
    with pytest.raises(TypeError, match="mapping of setting names"):
        settings_class()


def test_the_assistant_reads_its_file_below_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "settings.yml"
    path.write_text("rasa_port: 6000\naction_port: 6001\n")
    monkeypatch.setenv("PAYLATER_SETTINGS", str(path))
    monkeypatch.setenv("PAYLATER_ACTION_PORT", "6002")
    assert (Settings().rasa_port, Settings().action_port) == (6000, 6002)
