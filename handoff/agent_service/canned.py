"""Canned replies: ready answers an agent inserts with one click, from the YAML file named by the
`canned_replies_file` setting, read once when the service starts.

The file is a list of `{id, title, text}`; a missing file means no canned replies, a malformed one
stops the service with a clear message (like the agents file), so a typo is found at start-up.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, json

ID_PATTERN = re.compile(r"^[a-z0-9_-]{1,64}$")


class CannedRepliesError(ValueError):
    """The canned replies file cannot be used."""


@dataclass(frozen=True)
class CannedReply:
    id: str
    title: str
    text: str


def load_canned_replies(path: Path) -> list[CannedReply]:
    if not path.exists():
        return []
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CannedRepliesError(f"{path} is not valid YAML: {exc}") from None
    if loaded is None:
        return []
    if not isinstance(loaded, list):
        raise CannedRepliesError(f"{path} must hold a list of {{id, title, text}}")
    replies = [_reply(path, index, item) for index, item in enumerate(loaded)]
    ids = [reply.id for reply in replies]
    if len(set(ids)) != len(ids):
        raise CannedRepliesError(f"{path}: canned reply ids must be unique")
    return replies


def _reply(path: Path, index: int, item: Any) -> CannedReply:
    if not isinstance(item, dict) or not all(isinstance(item.get(key), str) and item[key].strip()
                                             for key in ("id", "title", "text")):
        raise CannedRepliesError(f"{path}: entry {index} needs the strings id, title and text")
    if not ID_PATTERN.match(item["id"]):
        raise CannedRepliesError(f"{path}: entry {index}: id must be 1-64 of a-z, 0-9, _ and -")
    return CannedReply(item["id"], item["title"].strip(), item["text"].strip())


def blueprint() -> Blueprint:
    bp = Blueprint("canned_replies")
    bp.add_route(canned_replies, "/api/canned-replies", methods=["GET"])
    return bp


async def canned_replies(request: Request) -> HTTPResponse:
    return json({"canned_replies": [asdict(reply) for reply in request.app.ctx.canned_replies]})
