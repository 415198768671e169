"""`python -m handoff.insights report` on a filled SQLite file: one self-contained HTML file with the
figures, its plots inline PNGs, every included text escaped."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine

from handoff.insights.reading import utc_now
from handoff.insights.schema import handoffs
from rasa_bot.settings import PROJECT_ROOT
from tests.insights.known_rows import fill_database

MARKUP = "judgement:<img src=x onerror=alert(1)>"
PNG = b"\x89PNG\r\n\x1a\n"


def test_the_report_is_one_html_file_with_the_figures_and_nothing_unescaped(tmp_path: Path) -> None:
    url = fill_database(tmp_path / "insights.sqlite3", now=utc_now())
    with create_engine(url).begin() as connection:  # a trigger name carrying markup
        connection.execute(handoffs.insert().values(event_id="h-x", last_event_id="h-x", conversation_id="conv-x",
                                                    reason=MARKUP, requested_at=utc_now(),
                                                    ended_how="resolved", verdict={"kind": "not_needed"}))
    out = tmp_path / "out" / "report.html"
    # The known rows' confidences were set around these thresholds, not whatever `make tune` ships.
    environment = {**{key: value for key, value in os.environ.items() if not key.startswith("HANDOFF_")},
                   "HANDOFF_INSIGHTS_DATABASE_URL": url, "PYTHONPATH": str(PROJECT_ROOT), "MPLBACKEND": "Agg",
                   "HANDOFF_INTENT_THRESHOLD": "0.70", "HANDOFF_ANSWER_THRESHOLD": "0.30"}
    done = subprocess.run([sys.executable, "-m", "handoff.insights", "report", "--since", "7d", "--out", str(out)],
                          cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == f"wrote {out.resolve()}"

    page = out.read_text(encoding="utf-8")
    assert "10.0% of 20 finished conversations contained (1 still open" in page
    assert "<td>frustration</td><td>12</td><td>4</td><td>33.3%</td><td>13.8% – 60.9%</td>" \
           "<td>frustration_threshold</td>" in page
    assert "Abandoned: 2 of 16 ended handoffs" in page  # 15 of the known rows, and the one added here
    assert "2 of 7 answered turns (28.6%)" in page
    assert MARKUP not in page and "judgement:&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<script" not in page and not re.search(r"(src|href)=['\"]https?:", page)
    images = re.findall(r"<img src='data:image/png;base64,([A-Za-z0-9+/=]+)'", page)
    assert len(images) == 3 and all(base64.b64decode(data).startswith(PNG) for data in images)


def test_a_bad_since_and_a_missing_database_fail_with_a_message(tmp_path: Path) -> None:
    environment = {**{key: value for key, value in os.environ.items() if not key.startswith("HANDOFF_")},
                   "HANDOFF_INSIGHTS_DATABASE_URL": f"sqlite:///{tmp_path / 'none.sqlite3'}",
                   "PYTHONPATH": str(PROJECT_ROOT)}
    command = [sys.executable, "-m", "handoff.insights", "report", "--out", str(tmp_path / "r.html")]
    bad = subprocess.run([*command, "--since", "7x"], cwd=tmp_path, env=environment, capture_output=True,
                         text=True, timeout=120, check=False)
    assert bad.returncode == 2 and "since must be" in bad.stderr
    missing = subprocess.run(command, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=120,
                             check=False)
    assert missing.returncode == 1 and "cannot read the insights database" in missing.stderr
    assert not (tmp_path / "r.html").exists() and not (tmp_path / "none.sqlite3").exists()
