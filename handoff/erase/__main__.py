"""`python -m handoff.erase --conversation ID | --slack-user TEAM:USER | --email ADDR [--dry-run] [--force]`:
erases one customer's data from Redis and the insights database, and prints what went (JSON). Settings come from
`HandoffSettings` (`HANDOFF_REDIS_URL`, `HANDOFF_KEY_PREFIX`, `HANDOFF_RASA_KEY_PREFIX` for Rasa's
trackers and locks). Exit status: 0 done (or reported, with --dry-run), 1 refused because a person
has one of the conversations (repeat with --force to close it first), 2 a bad identifier or Redis
unreachable."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import Sequence

from handoff.erase.eraser import Eraser, WithAPerson
from handoff.erase.subjects import CONVERSATION, EMAIL, SLACK_USER, BadSubject, Subject
from handoff.insights.database import erase_conversations, open_database
from handoff.settings import HandoffSettings
from handoff.store import StoreUnavailable, open_store

COMMAND = "python -m handoff.erase"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=COMMAND, description="Erase one customer's data (conversations, "
                                     "trackers, tickets) from Redis, with an audit record.")
    subject = parser.add_mutually_exclusive_group(required=True)
    subject.add_argument("--conversation", metavar="ID", help="one conversation id")
    subject.add_argument("--slack-user", metavar="TEAM:USER", help="every conversation of this Slack user")
    subject.add_argument("--email", metavar="ADDR", help="every conversation with a slot holding this address")
    parser.add_argument("--dry-run", action="store_true", help="report what would go; change nothing")
    parser.add_argument("--force", action="store_true",
                        help="also erase conversations a person has now (they are closed as abandoned first)")
    return parser


def _subject(args: argparse.Namespace) -> Subject:
    for kind, given in ((CONVERSATION, args.conversation), (SLACK_USER, args.slack_user), (EMAIL, args.email)):
        if given is not None:
            return Subject.parse(kind, given)
    raise BadSubject("name the customer with --conversation, --slack-user or --email")


async def _run(settings: HandoffSettings, subject: Subject, dry_run: bool, force: bool) -> int:
    async with open_store(settings) as store:
        eraser = Eraser(store, settings.rasa_key_prefix)
        try:
            report = await eraser.erase(subject, by=f"cli:{getpass.getuser()}", dry_run=dry_run, force=force)
        except WithAPerson as refused:
            print(json.dumps({"error": str(refused), "with_a_person": refused.conversations}, indent=2))
            print(f"{COMMAND}: nothing erased; add --force to close those conversations first", file=sys.stderr)
            return 1
    result = report.to_dict()
    if not dry_run:
        result["insights_rows"] = erase_captured(settings.insights_database_url, report.conversations)
    print(json.dumps(result, indent=2))
    return 0


def erase_captured(database_url: str, conversations: list[str]) -> int:
    """Removes the conversations' captured turns and handoffs (handoff/insights); returns the rows."""
    engine = open_database(database_url)
    try:
        with engine.begin() as connection:
            return erase_conversations(connection, conversations)
    finally:
        engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        subject = _subject(args)
    except BadSubject as exc:
        print(f"{COMMAND}: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_run(HandoffSettings(), subject, args.dry_run, args.force))
    except StoreUnavailable as exc:
        print(f"{COMMAND}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
