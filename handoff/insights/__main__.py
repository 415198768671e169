"""`python -m handoff.insights report --since 7d [--out report.html]`: writes the lead's figures as one
self-contained HTML file (handoff/insights/report.py) and prints where."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from handoff.insights.period import SinceError, parse_since
from handoff.insights.reading import figures_since, open_read_only
from handoff.insights.report import render
from handoff.settings import get_handoff_settings

DEFAULT_OUT = Path("var/insights-report.html")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m handoff.insights")
    commands = parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser("report", help="write the figures as one HTML file")
    report.add_argument("--since", default="7d", help="period back from now: 24h, 7d, 30d, ... (default 7d)")
    report.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"the file to write (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    try:
        parse_since(args.since)
    except SinceError as error:
        parser.error(str(error))
    settings = get_handoff_settings()
    try:
        figures = figures_since(open_read_only(settings.insights_database_url), args.since, settings)
    except SQLAlchemyError as error:
        print(f"cannot read the insights database ({settings.insights_database_url}): {error}", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(figures), encoding="utf-8")
    print(f"wrote {args.out.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
