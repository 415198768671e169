"""The lead's figures on a SQLite file filled with known rows: every value worked out by hand."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from handoff.insights.period import DAY, HOUR, Period, SinceError, parse_since
from handoff.insights.precision import SETTINGS_TO_LOOK_AT, settings_for
from handoff.insights.reading import figures_since, open_read_only
from handoff.insights.stats import percentile, wilson_interval
from handoff.settings import HandoffSettings
from tests.insights.known_rows import NOW, fill_database

SETTINGS = HandoffSettings(intent_threshold=0.65, answer_threshold=0.45)


@pytest.fixture(scope="module")
def figures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    url = fill_database(tmp_path_factory.mktemp("insights") / "insights.sqlite3")
    return figures_since(open_read_only(url), "7d", SETTINGS, now=NOW)


def test_the_period_is_cut_into_days_and_its_buckets_are_listed(figures: dict[str, Any]) -> None:
    period = figures["period"]
    assert period["bucket"] == DAY and period["start"] == "2025-03-03T12:00:00"
    assert period["buckets"] == [f"2025-03-{day:02d}T00:00:00" for day in range(3, 11)]


def test_containment_counts_finished_conversations_and_why_the_others_failed(figures: dict[str, Any]) -> None:
    containment = figures["containment"]
    # 6 hand-placed conversations + 14 handed off for frustration finished; one is still open.
    assert (containment["n"], containment["contained"], containment["open"]) == (20, 2, 1)
    assert containment["share"] == pytest.approx(0.1)
    assert containment["not_contained"] == {"handoff": 15, "fallback": 1, "negative_feedback": 1, "left": 1}
    by_bucket = {entry["bucket"][:10]: (entry["n"], entry["contained"]) for entry in containment["series"]}
    assert by_bucket["2025-03-05"] == (2, 1) and by_bucket["2025-03-07"] == (2, 1)
    assert by_bucket["2025-03-08"] == (14, 0) and by_bucket["2025-03-10"] == (0, 0)


def test_handoff_rate_per_trigger_and_bucket(figures: dict[str, Any]) -> None:
    rate = figures["handoff_rate"]
    assert (rate["n_turns"], rate["n_conversations"], rate["n_handoffs"]) == (23, 21, 15)
    assert rate["per_turn"] == pytest.approx(15 / 23)
    assert rate["turns"] == [0, 0, 3, 2, 3, 14, 0, 1]
    frustration = rate["triggers"]["frustration"]
    assert frustration["n"] == 14 and frustration["handoffs"][5] == 14
    assert frustration["per_turn"][5] == 1.0 and frustration["per_turn"][0] is None  # no turns: no rate
    assert rate["triggers"]["explicit_request"]["per_conversation"][3] == 0.5  # conv-c of conv-c, conv-d


def test_precision_with_the_wilson_interval_names_the_setting_where_low(figures: dict[str, Any]) -> None:
    frustration, explicit = figures["precision"]
    assert frustration["trigger"] == "frustration" and frustration["n"] == 12
    assert frustration["verdicts"] == {"needed": 3, "not_needed": 8, "wrong_answer": 1, "outdated": 0}
    assert frustration["counted_needed"] == 4
    assert frustration["precision"] == pytest.approx(1 / 3)
    # By hand: p = 1/3, z = 1.96: centre (p + z²/24) / (1 + z²/12) = 0.37375, half 0.23563.
    assert frustration["interval"] == pytest.approx([0.13812, 0.60938], abs=1e-4)
    assert frustration["look_at"] == ["frustration_threshold"]
    assert explicit["trigger"] == "explicit_request" and explicit["n"] == 1
    assert explicit["interval"] == pytest.approx([0.20656, 1.0], abs=1e-4)
    assert explicit["look_at"] == []  # one verdict says little: nothing is named


def test_times_to_a_person_handle_times_and_abandonment(figures: dict[str, Any]) -> None:
    times = figures["times"]
    assert times["wait"] == {"n": 13, "median": 60.0, "p90": 110.0}
    assert times["first_response"] == {"n": 13, "median": 65.0, "p90": 115.0}
    assert times["handle"] == {"n": 13, "median": 360.0, "p90": 660.0}
    assert times["abandonment"]["n"] == 15 and times["abandonment"]["abandoned"] == 2
    assert times["abandonment"]["share"] == pytest.approx(2 / 15)


def test_ratings_of_bot_only_and_human_conversations(figures: dict[str, Any]) -> None:
    bot, human = figures["ratings"]["bot"], figures["ratings"]["human"]
    assert (bot["n"], bot["helpful"]) == (3, 2) and bot["share"] == pytest.approx(2 / 3)
    assert (human["n"], human["mean"], human["good"], human["share_good"]) == (4, 3.5, 2, 0.5)


def test_low_confidence_answers_are_those_within_the_band_above_their_threshold(figures: dict[str, Any]) -> None:
    low = figures["low_confidence"]
    # Answered by the bot: conv-a (2), conv-d, conv-e (2), conv-g, conv-f; 0.35 < 0.45 + 0.1 and 0.7 < 0.65 + 0.1.
    assert (low["n"], low["low"]) == (7, 2)
    assert low["share"] == pytest.approx(2 / 7)


def test_an_empty_period_has_counts_of_zero_and_no_shares(tmp_path: Path) -> None:
    url = fill_database(tmp_path / "insights.sqlite3")
    empty = figures_since(open_read_only(url), "24h", SETTINGS, now=NOW + timedelta(days=60))
    assert empty["containment"]["n"] == 0 and empty["containment"]["share"] is None
    assert empty["times"]["handle"] == {"n": 0, "median": None, "p90": None}
    assert empty["precision"] == [] and empty["ratings"]["human"]["mean"] is None


def test_the_reader_never_writes_nor_creates_a_database(tmp_path: Path) -> None:
    missing = tmp_path / "missing.sqlite3"
    with pytest.raises(OperationalError):
        figures_since(open_read_only(f"sqlite:///{missing}"), "7d", SETTINGS)
    assert not missing.exists()
    engine = open_read_only(fill_database(tmp_path / "insights.sqlite3"))
    with pytest.raises(OperationalError, match="readonly"), engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM turns")


@pytest.mark.parametrize(("since", "length", "bucket"), [
    ("24h", timedelta(hours=24), HOUR), ("48h", timedelta(hours=48), HOUR), ("2d", timedelta(days=2), HOUR),
    ("49h", timedelta(hours=49), DAY), ("30d", timedelta(days=30), DAY)])
def test_since_and_its_buckets(since: str, length: timedelta, bucket: str) -> None:
    assert parse_since(since) == length
    assert Period.ending(since, NOW).bucket == bucket


def test_a_day_by_the_hour_has_one_bucket_per_hour_both_ends_included() -> None:
    buckets = Period.ending("24h", datetime(2025, 3, 10, 12, 30)).buckets()
    assert len(buckets) == 25 and buckets[0] == datetime(2025, 3, 9, 12) and buckets[-1] == datetime(2025, 3, 10, 12)


@pytest.mark.parametrize("since", ["", "7", "d", "0d", "7w", "-1d", "1.5d", "367d", "7d; drop"])
def test_a_bad_since_is_refused(since: str) -> None:
    with pytest.raises(SinceError):
        parse_since(since)


def test_wilson_and_percentile_against_hand_computed_values() -> None:
    assert wilson_interval(0, 0) is None
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.27753), abs=1e-4)
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 0.9) == 5.0 and percentile([1.0, 2.0], 0.5) == 1.0


def test_every_setting_the_precision_names_exists() -> None:
    named = {name for names in SETTINGS_TO_LOOK_AT.values() for name in names} | set(settings_for("judgement:x"))
    assert {name for name in named if " " not in name} <= set(HandoffSettings.__fields__)
