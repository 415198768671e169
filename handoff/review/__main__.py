"""`python -m handoff.review export [--database URL] [--project DIR]`: writes the lead's accepted
examples to data/reviewed.yml and tests/test_reviewed_conversations.yml, and the answers of new FAQ topics
to domain/reviewed.yml (handoff/review/export.py), then prints what it wrote and left out (counts only).
Retrain (`make model`) and commit the files."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from handoff.insights.database import open_database
from handoff.review.export import export, report_json
from handoff.review.store import accepted_examples, new_topic_answers
from handoff.settings import HandoffSettings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m handoff.review", description="The lead's review queue.")
    commands = parser.add_subparsers(dest="command", required=True)
    exporting = commands.add_parser("export", help="write accepted examples to data/reviewed.yml")
    exporting.add_argument("--database", metavar="URL", help="insights database (default: the setting "
                           "insights_database_url)")
    exporting.add_argument("--project", metavar="DIR", type=Path, default=Path.cwd(),
                           help="the assistant's project (data/, domain/, tests/) to write into (default: the "
                           "current directory)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    engine = open_database(args.database or HandoffSettings().insights_database_url)
    try:
        report = export(accepted_examples(engine), args.project, new_topic_answers=new_topic_answers(engine))
    finally:
        engine.dispose()
    print(report_json(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
